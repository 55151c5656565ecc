"""Text stored still encoded (CONTRACT §9): every encoding read as a reader decodes it, and a
replacement written back in that encoding, so the text still decodes and nothing else changed.

One property per encoding: any identifier, inside any text, encoded that way, is gone after the
sweep; the result decodes; decoded, it is the text with the identifier replaced and nothing else.
"""

from __future__ import annotations

import email.charset
import email.header
import html
import json
import quopri

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archivist.identifiers_text import find_emails, find_phones, replace_identifiers
from archivist.reading import Encoding, read

X = "Anonymized"
KARI = "+4791234567"

# ---------------------------------------------------------------------------------------------
# Strategies: an identifier in one of its plain written forms, and text around it
# ---------------------------------------------------------------------------------------------

no_mobile = st.builds(
    lambda first, rest: first + rest, st.sampled_from("49"), st.text(alphabet="0123456789", min_size=7, max_size=7)
).filter(lambda nsn: phonenumbers.is_valid_number(phonenumbers.parse(nsn, "NO")))
SEPARATORS = (" ", "\u00a0", "-", "\u2009", "")


@st.composite
def written_phone(draw: st.DrawFn) -> tuple[str, str]:
    """(E.164, the number as written: any grouping, any separator, with or without +47)."""
    nsn = draw(no_mobile)
    sep = draw(st.sampled_from(SEPARATORS))
    grouping = draw(st.sampled_from(((3, 2, 3), (2, 2, 2, 2), (4, 4), (8,))))
    groups, at = [], 0
    for size in grouping:
        groups.append(nsn[at : at + size])
        at += size
    prefix = draw(st.sampled_from(("", "+47 ", "+47", "0047 ")))
    return "+47" + nsn, prefix + sep.join(groups)


@st.composite
def written_email(draw: st.DrawFn) -> tuple[str, str]:
    local = draw(st.from_regex(r"[a-zø]{1,8}(\.[a-zø]{1,8})?(\+[a-z0-9]{1,4})?", fullmatch=True))
    domain = draw(st.sampled_from(("example.no", "firma.com", "tromsø.no")))
    address = f"{local}@{domain}"
    return address, address


identifier = st.one_of(written_phone(), written_email())
# Words, spaces and punctuation without digits or '@': the identifier's own characters are what is tested.
words = st.text(alphabet="abcdefghij klmnoæøå ABC,.!?:;'()", max_size=120)


def _normalised(ident: str) -> str:
    found = find_emails(ident)
    return found[0][2] if "@" in ident and found else ident


def _swept(encoded: str, ident: str) -> tuple[str, int]:
    return replace_identifiers(encoded, (_normalised(ident),), "NO", X)


# ---------------------------------------------------------------------------------------------
# One property per encoding
# ---------------------------------------------------------------------------------------------


@settings(derandomize=True, max_examples=200)
@given(ident=identifier, before=words, after=words)
def test_property_quoted_printable(ident: tuple[str, str], before: str, after: str) -> None:
    normalised, written = ident
    plain = f"{before} {written} {after}"
    # Soft line breaks every 76 characters land anywhere, inside the identifier too.
    stored = quopri.encodestring(plain.encode()).decode("ascii")
    new, count = _swept(stored, normalised)
    assert count >= 1, stored
    assert quopri.decodestring(new.encode("ascii")).decode() == f"{before} {X} {after}", stored


def _q_header(text: str) -> str:
    charset = email.charset.Charset("utf-8")
    charset.header_encoding = email.charset.QP
    return email.header.Header(text, charset).encode(maxlinelen=60)


def _decoded_header(value: str) -> str:
    return str(email.header.make_header(email.header.decode_header(value)))


@settings(derandomize=True, max_examples=200)
@given(ident=identifier, before=words, after=words, kind=st.sampled_from("QB"))
def test_property_rfc2047_encoded_words(ident: tuple[str, str], before: str, after: str, kind: str) -> None:
    normalised, written = ident
    plain = f"{before} {written} {after}"
    # Folded into several words: the identifier may be split between two of them.
    stored = _q_header(plain) if kind == "Q" else email.header.Header(plain, "utf-8").encode(maxlinelen=60)
    new, count = _swept(stored, normalised)
    assert count >= 1, stored
    assert " ".join(_decoded_header(new).split()) == " ".join(f"{before} {X} {after}".split()), stored


def _json_escaped(text: str, escape: list[bool]) -> str:
    """As serialisers write a string: some characters as \\uXXXX (any may be), '/' as '\\/'."""
    out = []
    for ch, esc in zip(text, escape + [False] * len(text), strict=False):
        if ch == "/":
            out.append("\\/")
        elif esc:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(json.dumps(ch)[1:-1])
    return "".join(out)


@settings(derandomize=True, max_examples=200)
@given(ident=identifier, before=words, after=words, escape=st.lists(st.booleans(), max_size=300))
def test_property_json_string_escapes(ident: tuple[str, str], before: str, after: str, escape: list[bool]) -> None:
    normalised, written = ident
    plain = f"{before} {written} {after}"
    stored = _json_escaped(plain, escape)
    new, count = _swept(stored, normalised)
    assert count >= 1, stored
    assert json.loads(f'"{new}"') == f"{before} {X} {after}", stored


@settings(derandomize=True, max_examples=200)
@given(ident=identifier, before=words, after=words, times=st.integers(min_value=1, max_value=3))
def test_property_html_escaped_again(ident: tuple[str, str], before: str, after: str, times: int) -> None:
    normalised, written = ident
    plain = f"{before} {written} {after}"
    stored = plain.replace("\u00a0", "&nbsp;").replace("+", "&#43;")
    stored = html.escape(stored, quote=False).replace("&amp;nbsp;", "&nbsp;").replace("&amp;#43;", "&#43;")
    for _ in range(times):
        stored = stored.replace("&", "&amp;")
    new, count = _swept(stored, normalised)
    assert count >= 1, stored
    decoded = new
    for _ in range(times + 1):
        decoded = html.unescape(decoded)
    assert decoded == f"{before} {X} {after}", stored


LINE_SEPARATORS = ("\u2028", "\u2029", "\x0b", "\x0c", "\r", "\x85", "\r\n", "\n")


@settings(derandomize=True, max_examples=200)
@given(nsn=no_mobile, before=words, after=words, brk=st.sampled_from(LINE_SEPARATORS), at=st.integers(1, 7))
def test_property_any_line_separator_inside_a_number(nsn: str, before: str, after: str, brk: str, at: int) -> None:
    text = f"{before} {nsn[:at]}{brk}{nsn[at:]} {after}"
    assert replace_identifiers(text, ("+47" + nsn,), "NO", X) == (f"{before} {X} {after}", 1)


# ---------------------------------------------------------------------------------------------
# The forms the issue names, one by one
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "identifier", "expected"),
    [
        ("Ring meg p=C3=A5 912 34=\n567 i dag", KARI, "Ring meg p=C3=A5 Anonymized i dag"),
        ("Skriv til kari.nord=\nmann@example.no=2C takk", "kari.nordmann@example.no", "Skriv til Anonymized=2C takk"),
        ("Adresse: bj=C3=B8rn@example.no", "bjørn@example.no", "Adresse: Anonymized"),
        ('href=3D"tel:+4791234567" ok=\n', KARI, 'href=3D"tel:Anonymized" ok=\n'),
        ("=?UTF-8?Q?Ring_meg_p=C3=A5_912_34_567?=", KARI, "=?UTF-8?Q?Ring_meg_p=C3=A5_Anonymized?="),
        ("=?iso-8859-1?Q?Ring_p=E5_912_34_567?=", KARI, "=?iso-8859-1?Q?Ring_p=E5_Anonymized?="),
        ("912\\u00a034\\u00a0567", KARI, "Anonymized"),
        ("ring \\u002B47 912 34 567!", KARI, "ring Anonymized!"),
        ("mail bj\\u00f8rn@example.no\\nhilsen", "bjørn@example.no", "mail Anonymized\\nhilsen"),
        ("https:\\/\\/x.no\\/ring?tlf=\\u002B4791234567", KARI, "https:\\/\\/x.no\\/ring?tlf=Anonymized"),
        ("tlf&amp;nbsp;912&amp;nbsp;34&amp;nbsp;567", KARI, "tlf&amp;nbsp;Anonymized"),
        ("&amp;#43;47 91234567", KARI, "Anonymized"),
        ("912\u202834\u2029567", KARI, "Anonymized"),
        ("912 34\r567 (ring)", KARI, "Anonymized (ring)"),
        ("912\x0b34 567", KARI, "Anonymized"),
        ("+47(0)91234567", KARI, "Anonymized"),
        ("+47 (0) 912 34 567", KARI, "Anonymized"),
        # Found in bug trackers: a Q word with "=20" for spaces cut short by the column (FreeScout #460),
        (
            "Emne: =?utf-8?Q?Ring=20meg=20p=C3=A5=20912=2034=20567",
            KARI,
            "Emne: =?utf-8?Q?Ring=20meg=20p=C3=A5=20Anonymized",
        ),
        # quoted-printable escaping ASCII punctuation (Apple Mail),
        ("kari=2Enordmann=40example=2Eno skrev", "kari.nordmann@example.no", "Anonymized skrev"),
        # links rewritten by Proofpoint URL Defense, v2 and v3,
        (
            "https://urldefense.proofpoint.com/v2/url?u=mailto-3Akari-40example.no&d=DwMFaQ",
            "kari@example.no",
            "https://urldefense.proofpoint.com/v2/url?u=mailto-3AAnonymized&d=DwMFaQ",
        ),
        (
            "urldefense.proofpoint.com/v2/url?u=tel-3A-2B4791234567&d=x",
            KARI,
            "urldefense.proofpoint.com/v2/url?u=tel-3AAnonymized&d=x",
        ),
        (
            "https://urldefense.com/v3/__tel:+4791234567__;!!Fj$",
            KARI,
            "https://urldefense.com/v3/__tel:Anonymized__;!!Fj$",
        ),
        (
            "https://urldefense.com/v3/__mailto:kari@example.no__;!!Fj$",
            "kari@example.no",
            "https://urldefense.com/v3/__mailto:Anonymized__;!!Fj$",
        ),
        # and .NET's JSON encoders writing '+' as an escape (dotnet/runtime #35281, #50998).
        ("tlf \\u002b4791234567", KARI, "tlf Anonymized"),
    ],
)
def test_a_stored_encoding_is_read_and_the_replacement_written_in_it(
    stored: str, identifier: str, expected: str
) -> None:
    assert replace_identifiers(stored, (identifier,), "NO", X) == (expected, 1)


def test_a_b_encoded_word_is_replaced_by_a_valid_word_holding_the_rest() -> None:
    stored = "Emne: " + email.header.Header("Ring meg på 912 34 567, hilsen Kari", "utf-8").encode()
    new, count = replace_identifiers(stored, (KARI,), "NO", X)
    assert count == 1
    assert _decoded_header(new) == "Emne: Ring meg på Anonymized, hilsen Kari"


def test_a_replacement_that_needs_escaping_is_escaped_in_each_encoding() -> None:
    replacement = "<slettet=ø>"
    qp, _ = replace_identifiers("Ring 912 34=\n567", (KARI,), "NO", replacement)
    assert quopri.decodestring(qp.encode()).decode() == "Ring <slettet=ø>"
    q, _ = replace_identifiers("=?UTF-8?Q?Ring_912_34_567?=", (KARI,), "NO", "slettet ø?")
    assert _decoded_header(q) == "Ring slettet ø?"
    js, _ = replace_identifiers('912\\u00a034\\u00a0567 "x"', (KARI,), "NO", 'a"b\\')
    assert json.loads(f'"{js.replace(chr(34) + "x" + chr(34), "x")}"') == 'a"b\\ x'


def test_the_reading_view_says_how_a_span_is_encoded() -> None:
    view = read("a =?UTF-8?Q?p=C3=A5?= b")
    encoded = view.encoding_at(4, 8)
    assert encoded is not None
    assert encoded.encoding is Encoding.ENCODED_WORD_Q
    assert read("912=\n34").encoding_at(0, 3) is not None
    assert read("plain 912 34 567").encoding_at(0, 3) is None


@pytest.mark.parametrize(
    "text",
    [
        "https://x.no/skjema?tlf=91234567&side=20",  # '=' in a link's query is no escape
        "?ref=4791234567",
        "x=ab og y=C3",
        "C:\\temp\\nytt",
    ],
)
def test_what_only_looks_like_an_escape_is_read_as_written(text: str) -> None:
    view = read(text)
    assert "=" not in text or view.text.count("=") == text.count("=")


def test_an_escape_that_only_looks_like_one_leaves_the_number_whole() -> None:
    assert find_phones("https://x.no/skjema?tlf=91234567&side=20", "NO") == [(24, 32, KARI)]


def test_a_json_escape_ending_in_a_digit_does_not_make_the_next_plus_a_query_space() -> None:
    # Found by the property above: "\u0020" ends in a digit, and "+47…" after it was read as a
    # link's "+"-for-space between digits, so the '+' stayed behind the replacement.
    stored = "\\u0020+47 400 00 000 "
    new, count = _swept(stored, "+4740000000")
    assert count == 1
    assert json.loads(f'"{new}"') == f" {X} "
