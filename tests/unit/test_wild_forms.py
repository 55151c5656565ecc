"""Phone numbers and addresses as real systems write them (issue 21), measured against the recogniser.

Each row is a text in a form seen in a public source (cited per class) with what a person reading it
finds there: E.164 numbers and normalised addresses, or nothing (a distractor). ``identifiers_of``
must find exactly that, and ``replace_identifiers`` must remove it and change nothing else. A row
the code gets wrong today stays in the table and is listed in ``KNOWN_GAPS`` (or ``ERASURE_GAPS``,
``LURE_GAPS``) with what happens; its test asserts that it still fails, so a fix shows up.

The forms the team's own corpora already hold (tests/corpus/hard_forms.py: Unicode dashes, spaces and
digits, glued labels, quoted-reply wraps, HTML entities, percent-encoding, tel:/sip:/wa.me links,
stored encodings, Proofpoint) are not repeated here.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from collections.abc import Iterator

import phonenumbers
import pytest

from archivist.identifiers import parse_email
from archivist.identifiers_text import identifiers_of, replace_identifiers
from archivist.reading import read
from tests.corpus.wild_forms import BY_ID, CASES, CLASSES, KARI, KARI_MAIL, LURES, Wild

X = "[X]"


# ---------------------------------------------------------------------------------------------
# What the code gets wrong today (measured, not assumed): the tests assert these still fail.
# ---------------------------------------------------------------------------------------------

# identifiers_of(text, country) != the reader's set, grouped by cause.
KNOWN_GAPS: dict[str, str] = {
    # The reading view does not decode a container or an escape.
    "ser-11": "Python bytes escapes decoded, but the address is also read with the literal's prefix "
    "('b\\'bjørn.nordmann@…', an extra index row; the erasure replaces the address without it)",
    # Folded lines (vCard/iCalendar: CRLF + one space is removed when unfolded).
    "ical-03": "fold inside the local part after 'mailto:': the address is read whole, and the fragment on the "
    "folded line ('ann@example.no') is indexed too (an extra index row, never a replacement)",
    # Over-indexing: identifiers shaped like addresses (a row each, never a wrong replacement).
    "dist-id-02": "a Message-ID indexed as an address",
    "dist-id-03": "a git send-email Message-ID indexed as an address",
    "dist-id-04": "a SIP Call-ID indexed as an address",
}

# replace_identifiers(text, the reader's identifiers, …) leaves the person in the text or changes more.
# Every one follows from a row of KNOWN_GAPS: what the scanner does not read, erasure cannot find.
ERASURE_GAPS: dict[str, str] = {}

# replace_identifiers(text, (lure,), …) replaces something in a distractor: a request for a number
# whose digits stand there as something else erases them.
LURE_GAPS: dict[str, str] = {}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@functools.cache
def _renderings(e164: str) -> tuple[str, ...]:
    """The digit strings a number may be written with: national (with and without its trunk prefix),
    with the country code (also after "00"), and with the "(0)" some write after the code."""
    number = phonenumbers.parse(e164, None)
    cc = str(number.country_code)
    nsn = phonenumbers.national_significant_number(number)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_number(number) or "")
    trunk = (metadata.national_prefix or "") if metadata is not None else ""
    return tuple(dict.fromkeys((nsn, trunk + nsn, cc + nsn, "00" + cc + nsn, cc + "0" + nsn, "00" + cc + "0" + nsn)))


def _nsn(e164: str) -> str:
    return phonenumbers.national_significant_number(phonenumbers.parse(e164, None))


_KEYPAD = {
    c: d
    for d, letters in zip("23456789", ("ABC", "DEF", "GHI", "JKL", "MNO", "PQRS", "TUV", "WXYZ"), strict=True)
    for c in letters
}
# Words an obfuscated or spelt-out address writes for "@" and ".".
_SPELT = frozenset(("at", "dot", "a", "snabel", "punkt", "punktum", "prikk", "krøllalfa", "alfakrøll"))
_WORD = re.compile(r"[^\W_]+")
# Digits with what may stand between the groups of one number.
_DIGIT_CHUNK = re.compile(r"[0-9](?:[0-9 \t\u00a0\-./()]*[0-9])?")
_TAGS_AT_START = re.compile(r"^(?:<[^<>]*>)+")
# Address characters glued to a replacement on each side.
_GLUED_BEFORE = re.compile(r"[\w.+'\\-]+$")
_GLUED_AFTER = re.compile(r"^[\w.+'\\-]+")


def _address_words(case: Wild) -> set[str]:
    """The words of the case's addresses, lower case, with their domains also in punycode."""
    words: set[str] = set()
    for address in case.emails:
        local, _, domain = unicodedata.normalize("NFC", address).partition("@")
        words.update(w.lower() for w in _WORD.findall(f"{local} {domain}"))
        with contextlib.suppress(UnicodeError):
            words.update(w.lower() for w in _WORD.findall(domain.encode("idna").decode("ascii")))
    return words


def _is_identifier_material(segment: str, case: Wild) -> bool:
    """Whether a replaced stretch of the original, as a reader reads it, holds nothing but the case's
    identifiers: digits of one of its numbers, words of its addresses, and what joins them. Read with
    its spaces and without them: a line break may have split a word of an address ("exam ple.no")."""
    view = unicodedata.normalize("NFC", read(segment).text)
    if _envelope_sender(view) in case.emails or _without_comments(view) in case.emails:
        return True  # the person's address in another form (rewritten, or with an RFC 5322 comment), whole
    return _only_identifiers(view, case) or _only_identifiers(re.sub(r"\s+", "", view), case)


def _without_comments(written: str) -> str:
    """An address as RFC 5322 reads it without its comments ("kari(kundeservice)@x.no")."""
    return re.sub(r"\([^()]*\)", "", written).lower()


def _envelope_sender(written: str) -> str | None:
    """The sender an SRS or VERP envelope address encodes, as a reader decodes it by hand: SRS0 is
    "SRS0=hash=time=domain=local@forwarder", SRS1 keeps an SRS0 address after "==", VERP is
    "list-bounces+local=domain@host"; a BATV "prvs=tag=" before the local part is no part of it."""
    head, at, _ = written.rpartition("@")
    if not at:
        return None
    if head.upper().startswith("SRS1="):
        head = "SRS0=" + head.rpartition("==")[2]  # the SRS0 address it keeps
    if head.upper().startswith("SRS0=") and head.count("=") >= 4:
        _, _, _, domain, local = head.split("=", 4)
    elif "+" in head and "=" in head:
        local, _, domain = head.partition("+")[2].rpartition("=")
    else:
        return None
    if local.lower().startswith("prvs="):
        local = local.split("=", 2)[2]
    return f"{local}@{domain}".lower()


def _only_identifiers(view: str, case: Wild) -> bool:
    address_words = _address_words(case)
    digits = ""
    for word in _WORD.findall(view):
        if word.isdigit():
            digits += word
        elif word.lower() in address_words or word.lower() in _SPELT:
            continue
        elif word.isupper() and all(c in _KEYPAD for c in word):
            digits += "".join(_KEYPAD[c] for c in word)  # a vanity number's letters
        else:
            return False
    if not digits:
        return True
    renderings = [r for e164 in case.phones for r in _renderings(e164)]
    in_address = any(digits in "".join(c for c in a if c.isdigit()) for a in case.emails)
    # A stretch may hold the last digits only: the alternative ending of E.123 ("912 34 567 / 568").
    return in_address or any(r.endswith(digits) for r in renderings)


def _alignments(original: str, new: str, case: Wild) -> Iterator[list[str]]:
    """Every way of reading ``new`` as ``original`` with some stretches replaced by X, each stretch
    identifier material (tags inside a stretch are kept by the replacement and stand after it)."""
    pieces = new.split(X)
    if len(pieces) < 2 or not original.startswith(pieces[0]):
        return
    keys = [_TAGS_AT_START.sub("", piece) for piece in pieces[1:]]

    def align(i: int, position: int) -> Iterator[list[str]]:
        key = keys[i]
        last = i == len(keys) - 1
        if last:
            starts = [len(original) - len(key)] if original.endswith(key) else []
        else:
            starts = [m.start() for m in re.finditer(re.escape(key), original)] if key else []
        for start in starts:
            segment = original[position:start]
            if start <= position or not _is_identifier_material(segment, case):
                continue
            if last:
                yield [segment]
            else:
                for rest in align(i + 1, start + len(key)):
                    yield [segment, *rest]

    yield from align(0, len(pieces[0]))


def _problems(case: Wild, new: str, count: int) -> list[str]:
    """What an erasure that made ``new`` of the case's text left of the person or changed besides them."""
    if count == 0:
        return ["nothing replaced"]
    problems: list[str] = []
    phones, emails = identifiers_of(new, case.country)
    if left := (phones | emails) & set(case.identifiers):
        problems.append(f"still found: {sorted(left)}")
    view = read(new).text
    nsns = [_nsn(e164) for e164 in case.phones]
    # The national digits whole, in any grouping ("912 34 567", "91.23.45.67").
    for chunk in _DIGIT_CHUNK.finditer(view):
        digits = re.sub(r"[^0-9]", "", chunk.group())
        problems.extend(f"the digits of a number are still there: {chunk.group()!r}" for nsn in nsns if nsn in digits)
    # An address however it is still written ("bj\\'f8rn.nordmann@…", "kari (a) example.no"): the last
    # word of its local part with its domain's first label shortly after.
    for address in case.emails:
        local, _, domain = address.partition("@")
        last_word, first_label = _WORD.findall(local)[-1], domain.split(".")[0]
        if re.search(re.escape(last_word) + r".{0,24}?" + re.escape(first_label), view, re.IGNORECASE | re.DOTALL):
            problems.append(f"the address {address} is still readable")
    renderings = [r for e164 in case.phones for r in _renderings(e164)]
    local_words = {w.lower() for a in case.emails for w in _WORD.findall(a.partition("@")[0]) if len(w) >= 3}
    for at in (m.start() for m in re.finditer(re.escape(X), view)):
        # Part of a number beside the replacement: its first digits before ("(201) [X]", "912 34 [X]"),
        # its last after ("[X] / 568"). An extension ("[X] #123") or a time ("14:05 - [X]") is neither.
        head, tail = view[max(0, at - 40) : at], view[at + len(X) : at + len(X) + 40]
        before = [m.group() for m in _DIGIT_CHUNK.finditer(head) if len(head) - m.end() <= 3]
        after = [m.group() for m in _DIGIT_CHUNK.finditer(tail) if m.start() <= 3]
        for chunk_text, is_before in [(c, True) for c in before] + [(c, False) for c in after]:
            digits = re.sub(r"[^0-9]", "", chunk_text)
            fits = (r.startswith(digits) if is_before else r.endswith(digits) for r in renderings)
            if len(digits) >= 3 and any(fits):
                problems.append(f"part of a number left beside the replacement: {chunk_text!r}")
        # Part of an address glued to the replacement: "kari\\_[X]".
        glued = " ".join(_GLUED_BEFORE.findall(head)[-1:] + _GLUED_AFTER.findall(tail)[:1])
        if stuck := [w for w in _WORD.findall(glued) if w.lower() in local_words]:
            problems.append(f"part of an address left beside the replacement: {stuck}")
    if next(_alignments(case.text, new, case), None) is None:
        problems.append(f"more than the identifiers changed: {new!r}")
    return problems


def _erasure_problems(case: Wild) -> list[str]:
    new, count = replace_identifiers(case.text, case.identifiers, case.country, X)
    return _problems(case, new, count)


def _ids(cases: tuple[Wild, ...]) -> list[str]:
    return [case.case_id for case in cases]


POSITIVE = tuple(case for case in CASES if case.phones or case.emails)
LURED = tuple(BY_ID[case_id] for case_id in LURES)


# ---------------------------------------------------------------------------------------------
# The table itself
# ---------------------------------------------------------------------------------------------


def test_the_table_is_wide_and_its_ground_truth_well_formed() -> None:
    assert len(CASES) >= 150
    assert len(CLASSES) >= 15
    assert len(BY_ID) == len(CASES), "case ids are unique"
    for case in CASES:
        assert re.fullmatch("[A-Z]{2}", case.country), case.case_id
        for e164 in case.phones:
            number = phonenumbers.parse(e164, None)
            assert phonenumbers.is_valid_number(number), (case.case_id, e164)
            assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == e164, case.case_id
        for address in case.emails:
            # Written as a request would name it: parse_email's normalised form.
            assert parse_email(address) == address, (case.case_id, address)
    # Gaps name real rows of the right kind, each with what happens.
    assert all(CLASSES.values())
    for gaps in (KNOWN_GAPS, ERASURE_GAPS, LURE_GAPS):
        assert set(gaps) <= set(BY_ID), set(gaps) - set(BY_ID)
        assert all(why.strip() for why in gaps.values())
    assert set(ERASURE_GAPS) <= {case.case_id for case in POSITIVE}
    assert set(LURE_GAPS) <= set(LURES)
    # A lure is never what the text writes: it is the identifier somebody could mistake it for.
    assert all(LURES[case.case_id] not in case.identifiers for case in LURED)


def test_the_erasure_check_fails_on_a_leftover_or_a_changed_word() -> None:
    # The checker must be able to fail, or the erasure test proves nothing.
    phone = Wild("probe", "probe", "Ring 912 34 567 nå", "NO", frozenset([KARI]), frozenset())
    assert _problems(phone, f"Ring {X} nå", 1) == []
    assert _problems(phone, "Ring 912 34 567 nå", 0) == ["nothing replaced"]
    assert any("more than" in p for p in _problems(phone, f"{X} nå", 1))  # "Ring" went too
    assert any("beside" in p for p in _problems(phone, f"Ring 912 {X} nå", 1))  # "912" was left
    mail = Wild("probe", "probe", f"Skriv til {KARI_MAIL} nå", "NO", frozenset(), frozenset([KARI_MAIL]))
    assert _problems(mail, f"Skriv til {X} nå", 1) == []
    assert any("more than" in p for p in _problems(mail, f"Skriv {X} nå", 1))  # "til" went too
    assert any("address" in p for p in _problems(mail, f"Skriv til kari.{X} nå", 1))  # "kari." was left
    assert any("still found" in p for p in _problems(mail, f"Skriv til {KARI_MAIL} {X}", 1))
    # Written in a form the scanner cannot read, the address is still seen.
    assert any("readable" in p for p in _problems(mail, f"Skriv til {X} eller kari.nordmann(a)example.no", 1))


# ---------------------------------------------------------------------------------------------
# The recogniser on every row
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_identifiers_of_finds_exactly_what_a_reader_finds(case: Wild) -> None:
    found = identifiers_of(case.text, case.country)
    expected = (set(case.phones), set(case.emails))
    if case.case_id in KNOWN_GAPS:
        assert found != expected, f"{case.case_id} now reads right: remove it from KNOWN_GAPS"
    else:
        assert found == expected, f"{case.text!r}: found {found}, a reader finds {expected}"


@pytest.mark.parametrize("case", POSITIVE, ids=_ids(POSITIVE))
def test_erasure_leaves_nothing_of_the_person_and_changes_nothing_else(case: Wild) -> None:
    problems = _erasure_problems(case)
    if case.case_id in ERASURE_GAPS:
        assert problems, f"{case.case_id} is now erased cleanly: remove it from ERASURE_GAPS"
    else:
        assert not problems, f"{case.text!r}: {problems}"


@pytest.mark.parametrize("case", LURED, ids=_ids(LURED))
def test_a_request_for_a_lookalike_replaces_nothing(case: Wild) -> None:
    result = replace_identifiers(case.text, (LURES[case.case_id],), case.country, X)
    if case.case_id in LURE_GAPS:
        assert result != (case.text, 0), f"{case.case_id} is now left alone: remove it from LURE_GAPS"
    else:
        assert result == (case.text, 0), f"{case.text!r} -> {result[0]!r}"
