"""Unit and property tests for archivist.identifiers (phone numbers and email addresses)."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import assume, given
from hypothesis import strategies as st

from archivist.identifiers import (
    EMAIL_HINT,
    InvalidIdentifier,
    _plain_email,
    mask_email,
    mask_identifier,
    mask_phone,
    mask_phone_e164,
    normalize_caller,
    normalize_email_lenient,
    parse_email,
    parse_phone,
    render_phone,
)
from archivist.identifiers_text import identifiers_of, mentions_any, replace_identifiers

NO_NUMBER = "+4791234567"
SE_NUMBER = "+46701234567"


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


# ---------------------------------------------------------------------------------------------
# Accepted phone input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "91234567",  # national, the documented convention
        "  91234567\t",  # surrounding whitespace
        "912 34 567",  # grouped with spaces
        "91 23 45 67",  # pairs
        "912-34-567",  # dashes
        "912.34.567",  # dots
        "(912) 34 567",  # parentheses
        "912/34567",  # slash
        "91\u00a023\u00a045\u00a067",  # non-breaking spaces from copy/paste
        "+4791234567",  # E.164
        "+47 912 34 567",  # E.164 with spaces
        "+47-912-34-567",  # E.164 with dashes
        "004791234567",  # 00 + country code
        "0047 91234567",  # 00 form with space
        "00 47 912 34 567",  # 00 form fully spaced
        "(+47) 91234567",  # bracketed country code
        "(+47)91234567",  # bracketed country code, no space
        "(0047) 912 34 567",  # bracketed 00 form
    ],
)
def test_every_written_form_of_a_norwegian_number_normalises_to_e164(text: str) -> None:
    assert parse_phone(text, "NO") == NO_NUMBER


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        (
            "004670123456",
            "NO",
            "+4670123456",
        ),  # 00 form as written in the brief (8-digit NSN)
        ("0046701234567", "NO", SE_NUMBER),  # 00 form of a 9-digit SE mobile
        ("+46 70 123 45 67", "NO", SE_NUMBER),  # + form with spaces
        (
            "+46 (0)70 123 45 67",
            "NO",
            SE_NUMBER,
        ),  # trunk 0 in brackets after the country code
        (
            "0701234567",
            "SE",
            SE_NUMBER,
        ),  # SE national form with trunk prefix, as render_phone shows it
        ("070-123 45 67", "SE", SE_NUMBER),  # SE national form as Swedes write it
        ("015123456789", "DE", "+4915123456789"),  # DE mobile, national
        ("07400 123456", "GB", "+447400123456"),  # GB mobile, national
        (
            "+44 (0)7400 123456",
            "NO",
            "+447400123456",
        ),  # UK style "(0)" from a NO solution
        (
            "1 201 555 0123",
            "US",
            "+12015550123",
        ),  # NANP trunk prefix 1 equals the country code
    ],
)
def test_foreign_and_other_country_forms_normalise_to_e164(text: str, country: str, expected: str) -> None:
    assert parse_phone(text, country) == expected


def test_country_code_is_case_insensitive() -> None:
    assert parse_phone("91234567", "no") == NO_NUMBER


# ---------------------------------------------------------------------------------------------
# Refused phone input
# ---------------------------------------------------------------------------------------------

NO_HINT_PARTS = ("national number without country code", "with 00 and the country code")


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty
        "   ",  # only whitespace
        "abc",  # letters only
        "9123456a",  # a letter among digits
        "+47 912 34 567 ext 2",  # extension words
        "912_34_567",  # underscore is not an accepted separator
        "123",  # too short
        "98765432109876543210",  # 20 digits
        "004798765432109876543",  # 00 form, too long
        "4670123456",  # foreign number without 00 / +: not a possible NO number
        "4791234567",  # home country code without 00 / +: ambiguous, refused
        "91+234567",  # plus in the middle
        "++4791234567",  # two plus signs
        "+004791234567",  # plus and 00 together
        "0047",  # only the prefix
        "+",  # only a plus
        "-.()/",  # only separators
    ],
)
def test_refused_input_raises_with_expected_form_and_without_the_input(
    text: str,
) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_phone(text, "NO")
    message = str(excinfo.value)
    for part in NO_HINT_PARTS:
        assert part in message
    assert "(e.g. 40612345)" in message  # NO example number, rendered nationally
    assert "(e.g. 0046701234567)" in message  # foreign example in 00 form
    # One fixed message for every refusal, so it cannot carry the input. (A plain "input not in
    # message" check would be wrong here: "4670123456" is part of the hint's own example.)
    assert message == _no_hint()


@pytest.mark.parametrize(
    "text",
    [
        "98765432109876543210",  # distinctive digits
        "call 93 85 27 16 now",  # distinctive digits among words
        "+47 938527161234",  # too long, distinctive
    ],
)
def test_refusal_message_never_contains_the_input(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_phone(text, "NO")
    message = str(excinfo.value)
    assert text not in message
    assert re.sub(r"[^0-9]", "", text) not in re.sub(r"[^0-9]", "", message)


def _no_hint() -> str:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_phone("x", "NO")
    return str(excinfo.value)


def test_invalid_identifier_is_a_value_error() -> None:
    assert issubclass(InvalidIdentifier, ValueError)


@pytest.mark.parametrize(
    ("country", "national_example", "foreign_example"),
    [
        ("NO", "40612345", "0046701234567"),  # NO mobile example, SE as the foreign one
        ("SE", "0701234567", "004740612345"),  # SE gets a non-SE foreign example
        ("DE", "015123456789", "0046701234567"),  # DE national form keeps its trunk 0
        ("GB", "07400123456", "0046701234567"),  # GB national form keeps its trunk 0
    ],
)
def test_hint_uses_the_countrys_own_example_number(country: str, national_example: str, foreign_example: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_phone("not a number", country)
    message = str(excinfo.value)
    assert f"(e.g. {national_example})" in message
    assert f"(e.g. {foreign_example})" in message


def test_unknown_solution_country_is_a_configuration_error_not_an_invalid_identifier() -> None:
    with pytest.raises(ValueError, match="Unknown solution country") as excinfo:
        parse_phone("91234567", "XX")
    assert not isinstance(excinfo.value, InvalidIdentifier)


# ---------------------------------------------------------------------------------------------
# normalize_caller
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),  # no caller information at all
        ("", None),  # empty CLI
        ("   ", None),  # whitespace CLI
        ("anonymous", None),  # withheld number
        ("Anonymous", None),  # platforms vary in case
        ("unknown", None),  # network did not deliver a number
        ("restricted", None),  # another withheld marker
        ("123", None),  # short code, not a subscriber number
        ("+4791234567", NO_NUMBER),  # E.164 as most platforms send it
        ("+47 912 34 567", NO_NUMBER),  # user-style formatting
        ("91234567", NO_NUMBER),  # national form
        ("004791234567", NO_NUMBER),  # 00 form
        # E.164 without '+': platforms often send the CLI like this, so unlike parse_phone the
        # caller path retries with a '+' when the digits are not a possible national number.
        ("4791234567", NO_NUMBER),
        ("46701234567", SE_NUMBER),  # foreign E.164 without '+'
        ("0701234567", None),  # a national number of another country cannot be guessed
    ],
)
def test_normalize_caller_is_lenient_and_never_raises(raw: str | None, expected: str | None) -> None:
    assert normalize_caller(raw, "NO") == expected


def test_normalize_caller_with_unknown_country_returns_none_instead_of_raising() -> None:
    assert normalize_caller("+4791234567", "XX") is None


# ---------------------------------------------------------------------------------------------
# render_phone
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("e164", "country", "expected"),
    [
        (NO_NUMBER, "NO", "91234567"),  # home number: national digits, no country code
        (SE_NUMBER, "NO", "0046701234567"),  # foreign number: 00 + country code + NSN
        ("+4670123456", "NO", "004670123456"),  # the brief's 8-digit SE example
        (
            SE_NUMBER,
            "SE",
            "0701234567",
        ),  # SE home number keeps its trunk 0 (NATIONAL format digits)
        (NO_NUMBER, "SE", "004791234567"),  # NO number seen from a SE solution
        ("+4915123456789", "DE", "015123456789"),  # DE home mobile with trunk 0
        ("+447400123456", "GB", "07400123456"),  # GB home mobile with trunk 0
        (
            "+4779123456",
            "NO",
            "79123456",
        ),  # Svalbard shares +47, so it is a home number in NO
    ],
)
def test_render_phone_uses_the_input_convention(e164: str, country: str, expected: str) -> None:
    rendered = render_phone(e164, country)
    assert rendered == expected
    assert parse_phone(rendered, country) == e164  # what we show can be typed back


@pytest.mark.parametrize(
    "e164",
    [
        "4791234567",  # missing '+'
        "+",  # nothing after '+'
        "hello",  # not a number
    ],
)
def test_render_phone_rejects_values_that_are_not_e164(e164: str) -> None:
    with pytest.raises(InvalidIdentifier):
        render_phone(e164, "NO")


# ---------------------------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("identifiers must not touch the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize(
    "text",
    [
        "kari.nordmann@example.com",  # already normal
        "Kari.Nordmann@Example.COM",  # mixed case
        "KARI.NORDMANN@EXAMPLE.COM",  # upper case
        "  kari.nordmann@example.com  ",  # surrounding spaces
        "\tKari.Nordmann@example.com\n",  # tabs and newline from copy/paste
    ],
)
def test_email_case_and_whitespace_variants_normalise_to_the_same_address(text: str, no_network: None) -> None:
    assert parse_email(text) == "kari.nordmann@example.com"
    assert normalize_email_lenient(text) == "kari.nordmann@example.com"


def test_email_is_checked_for_syntax_only_without_dns(no_network: None) -> None:
    # A domain that surely does not exist is still accepted: deliverability is not checked.
    assert parse_email("kari@no-such-domain-4f9c2e7a.no") == "kari@no-such-domain-4f9c2e7a.no"


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty
        "kari",  # no @
        "kari@",  # no domain
        "@example.com",  # no local part
        "kari@@example.com",  # two @
        "kari nordmann@example.com",  # space in local part
        "Kari <kari@example.com>",  # display name
        "kari@example..com",  # empty domain label
        "kari@example",  # domain without a dot
        "kari@localhost.localhost",  # special-use domain
        "kari.@example.com",  # dot at end of local part
    ],
)
def test_bad_email_syntax_is_refused_without_echoing_the_input(text: str, no_network: None) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_email(text)
    assert str(excinfo.value) == EMAIL_HINT == "Enter an email address such as name@example.com"
    assert normalize_email_lenient(text) is None


_ATOM = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
_LABEL = "abcXYZ019-"
# Plain-looking addresses and their near misses: empty labels, leading/trailing hyphens and dots,
# "--", numeric and special-use top-level domains, over-long parts.
_address_like = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join([*labels, tld])}",
    st.text(alphabet=_ATOM + ".", min_size=0, max_size=70),
    st.lists(st.text(alphabet=_LABEL, min_size=0, max_size=64), min_size=0, max_size=3),
    st.one_of(
        st.text(alphabet="abcXYZ019-", min_size=0, max_size=6),
        st.sampled_from(["test", "local", "localhost", "onion", "invalid", "arpa", "example", "no", "COM"]),
    ),
)


@given(st.one_of(_address_like, st.emails()))
def test_the_fast_path_for_plain_addresses_agrees_with_email_validator(text: str) -> None:
    plain = _plain_email(text)
    try:
        expected: str | None = validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        expected = None
    # The fast path may decline (None) an address email_validator accepts, never answer otherwise.
    assert plain is None or plain == expected
    assert parse_email(text) == expected if expected is not None else normalize_email_lenient(text) is None


def test_the_fast_path_takes_ordinary_addresses() -> None:
    assert _plain_email("Kari.Nordmann+CRM@Example.COM") == "kari.nordmann+crm@example.com"
    assert _plain_email("kari@xn--bcher-kva.example") is None  # Punycode: email_validator decides


def test_normalize_email_lenient_accepts_none() -> None:
    assert normalize_email_lenient(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Kontakt: Kari.Nordmann@Example.com.",
            True,
        ),  # case-insensitive, sentence dot after
        ("mailto:kari.nordmann@example.com", True),  # URI prefix
        ("'kari.nordmann@example.com'", True),  # quoted
        ('{"email": "KARI.NORDMANN@EXAMPLE.COM"}', True),  # inside JSON
        ("bob+kari.nordmann@example.com", False),  # part of a longer local part
        ("xkari.nordmann@example.com", False),  # longer local part
        ("kari.nordmann@example.com.au", False),  # longer domain
        ("kari.nordmann@example.community", False),  # longer TLD
        ("kari.nordmann at example.com", True),  # " at " for "@": a reader reads the address (issue 21)
        ("kari.nordmann at example.community", False),  # the same words, another address
        ("", False),  # empty text
    ],
)
def test_an_address_matches_the_whole_address_case_insensitively(text: str, expected: bool) -> None:
    assert mentions_any(text, ["kari.nordmann@example.com"], "NO") is expected


def test_no_identifiers_match_nothing() -> None:
    assert mentions_any("kari.nordmann@example.com 91234567", [], "NO") is False


# ---------------------------------------------------------------------------------------------
# Masks
# ---------------------------------------------------------------------------------------------


def test_mask_phone_exact_example() -> None:
    assert mask_phone("91234567") == "91****67"


def test_mask_email_exact_example() -> None:
    assert mask_email("kari.nordmann@example.com") == "k***@***.com"


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("91234567", "91****67"),  # the documented example
        ("004670123456", "00********56"),  # 00 form: first 2 and last 2 shown
        ("+4791234567", "+47******67"),  # '+' is kept but is not a digit
        ("0701234567", "07******67"),  # SE national form
        (
            "1234567",
            "1*****7",
        ),  # 7 digits: only 1 each end, so more stays hidden than shown
        ("12345", "1***5"),  # 5 digits
        ("123", "***"),  # too short to reveal anything
        ("", "***"),  # nothing to mask
        ("anonymous", "***"),  # no digits at all
    ],
)
def test_mask_phone_reveals_at_most_two_digits_at_each_end(display: str, expected: str) -> None:
    masked = mask_phone(display)
    assert masked == expected
    assert _digit_count(masked) <= 4


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("kari.nordmann@example.com", "k***@***.com"),  # the documented example
        ("a@b.no", "a***@***.no"),  # short address
        ("ola@mail.example.co.uk", "o***@***.uk"),  # only the last label is shown
        ("root@localhost", "r***@***"),  # no dot in the domain
        ("no-at-sign", "***"),  # not an address: nothing revealed
        ("@example.com", "****@***.com"),  # empty local part still gets a star
    ],
)
def test_mask_email_shows_first_character_and_tld_only(email: str, expected: str) -> None:
    assert mask_email(email) == expected


@pytest.mark.parametrize(
    ("e164", "country", "expected"),
    [
        (NO_NUMBER, "NO", "91****67"),  # rendered nationally, then masked
        (SE_NUMBER, "NO", "00*********67"),  # rendered in 00 form, then masked
        (SE_NUMBER, "SE", "07******67"),  # SE national form
        ("garbage", "NO", "***"),  # unrenderable values are still masked, never raised
    ],
)
def test_mask_phone_e164_renders_then_masks(e164: str, country: str, expected: str) -> None:
    assert mask_phone_e164(e164, country) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("kari.nordmann@example.com", "k***@***.com"),  # '@' means email
        ("91234567", "91****67"),  # otherwise phone
        ("+4791234567", "+47******67"),  # E.164 from logs
    ],
)
def test_mask_identifier_picks_email_or_phone(value: str, expected: str) -> None:
    assert mask_identifier(value) == expected


# ---------------------------------------------------------------------------------------------
# Phone numbers in text: the one recogniser (identifiers_text.mentions_any)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("91234567", True),  # the bare national form
        ("Ring meg på 912 34 567, takk", True),  # spaced, in a sentence
        ("tlf: 91234567.", True),  # sentence dot after the number
        ("+47 912 34 567", True),  # E.164 with spaces
        ("(+47) 91234567", True),  # bracketed country code
        ("0047-912.34.567", True),  # mixed separators
        ("caller=4791234567", True),  # CLI without '+' as platforms log it
        ("91234567/98765432", True),  # slash separates alternatives
        (
            "2024-03-12 91234567",
            True,
        ),  # timestamp directly before, separated by a space
        ("ordre 1912345678", False),  # longer digit run (order number)
        ("912345670", False),  # digit appended
        ("191234567", False),  # digit prepended
        ("91-23-45-67-8", False),  # a dash continues the digit run
        ("9123.4567.1", False),  # a dot continues the digit run
        ("9123456", False),  # one digit short
        ("no number here", False),  # nothing
    ],
)
def test_a_number_matches_as_whole_digit_runs_only(text: str, expected: bool) -> None:
    assert mentions_any(text, [NO_NUMBER], "NO") is expected


def test_a_number_does_not_match_a_foreign_number_by_its_national_digits() -> None:
    # DK +45 91234567 has the same national digits as NO 91234567; from a NO solution only the
    # international forms identify the DK subscriber.
    assert mentions_any("91234567", ["+4591234567"], "NO") is False
    assert mentions_any("0045 91234567", ["+4591234567"], "NO") is True
    # And the other way round: the Norwegian request leaves the Danish number (issue 11).
    assert mentions_any("+45 91234567", [NO_NUMBER], "NO") is False


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------

DIGIT = st.sampled_from("0123456789")


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.lists(DIGIT, min_size=n, max_size=n).map("".join)


# NO mobiles: 8 digits starting with 4 or 9.
no_mobile_nsn = st.builds(lambda first, rest: first + rest, st.sampled_from("49"), _digits(7))
se_mobile_nsn = _digits(8).map(lambda rest: "7" + rest)  # 7xxxxxxxx
de_mobile_nsn = _digits(8).map(lambda rest: "151" + rest)  # 151xxxxxxxx
gb_mobile_nsn = _digits(9).map(lambda rest: "7" + rest)  # 7xxxxxxxxx

any_e164 = st.one_of(
    no_mobile_nsn.map(lambda n: "+47" + n),
    se_mobile_nsn.map(lambda n: "+46" + n),
    de_mobile_nsn.map(lambda n: "+49" + n),
    gb_mobile_nsn.map(lambda n: "+44" + n),
)
solutions = st.sampled_from(["NO", "SE", "DE", "GB"])
separator = st.sampled_from(["", "", "", " ", "-", ".", "\u00a0"])


@st.composite
def formatted(draw: st.DrawFn, digits: str) -> str:
    """`digits` with random separators between them."""
    seps = draw(st.lists(separator, min_size=len(digits) - 1, max_size=len(digits) - 1))
    return digits[0] + "".join(sep + d for sep, d in zip(seps, digits[1:], strict=True))


@given(
    nsn=no_mobile_nsn,
    prefix=st.sampled_from(
        [
            "",
            "+47",
            "+47 ",
            "+47-",
            "0047",
            "0047 ",
            "00 47 ",
            "(+47)",
            "(+47) ",
            "(0047) ",
        ]
    ),
    data=st.data(),
)
def test_property_any_formatting_of_a_no_mobile_gives_the_same_e164(nsn: str, prefix: str, data: st.DataObject) -> None:
    text = prefix + data.draw(formatted(nsn))
    assert parse_phone(text, "NO") == "+47" + nsn


@given(e164=any_e164, country=solutions)
def test_property_render_then_parse_is_identity(e164: str, country: str) -> None:
    rendered = render_phone(e164, country)
    assert parse_phone(rendered, country) == e164
    if not e164.startswith("+" + {"NO": "47", "SE": "46", "DE": "49", "GB": "44"}[country]):
        assert rendered == "00" + e164[1:]  # foreign numbers always in 00 form


@given(e164=any_e164, country=solutions)
def test_property_mask_reveals_at_most_four_digits(e164: str, country: str) -> None:
    masked = mask_phone_e164(e164, country)
    assert _digit_count(masked) <= 4
    assert "*" in masked


# Filler around a number: no digits, so the number's own digit run is what is tested.
filler = st.text(alphabet="abcæøå XYZ:,;!?()[]/'\"\n", max_size=20)


@given(nsn=no_mobile_nsn, before=filler, after=filler, data=st.data())
def test_property_a_number_finds_the_number_embedded_in_text(
    nsn: str, before: str, after: str, data: st.DataObject
) -> None:
    e164 = "+47" + nsn
    # Written without a country code, only valid numbers are read (a possible but unassigned
    # one like 42000000 is nobody's, and reading those would take order numbers).
    assume(phonenumbers.is_valid_number(phonenumbers.parse(e164)))
    form = data.draw(st.sampled_from([e164, "00" + e164[1:], e164[1:], nsn]))
    # Separators go between digits; the '+' stays on the first one.
    written = "+" + data.draw(formatted(form[1:])) if form.startswith("+") else data.draw(formatted(form))
    if form == e164[1:]:
        # The country code without '+' is a guess the scanner makes only for plain digit runs:
        # dashed or dotted ("47-91234567") it is a reference.
        written = written.replace("-", " ").replace(".", " ")
    # Groups shaped like a date ("1-1-00", "12.03.24") are read as one, whatever digits they hold.
    assume(re.search(r"(?<![0-9])[0-9]{1,2}([.-])[0-9]{1,2}\1[0-9]{2,4}(?![0-9])", written) is None)
    # So are dotted groups shaped like an IPv4 address or a version ("0.0.0.0", "1.2.3"): never a
    # number (CONTRACT §9; issue 21), whatever digits they hold.
    assume(re.search(r"[0-9]{1,3}(?:\.[0-9]{1,3}){2,}", written) is None)
    if before[-1:].isalpha():
        before += " "  # glued to a word that is no phone label it is an id ("kunde91234567")
    text = before + written + after
    assert mentions_any(text, [e164], "NO")


@given(
    nsn=no_mobile_nsn,
    extra=st.sampled_from(["before", "after", "both"]),
    d1=DIGIT,
    d2=DIGIT,
)
def test_property_a_number_ignores_longer_digit_runs(nsn: str, extra: str, d1: str, d2: str) -> None:
    run = (d1 if extra in ("before", "both") else "") + nsn + (d2 if extra in ("after", "both") else "")
    assert not mentions_any(f"ordre {run} levert", ["+47" + nsn], "NO")


@given(local=st.from_regex(re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,10}[A-Za-z0-9]"), fullmatch=True))
def test_property_email_normalisation_ignores_case_and_whitespace(local: str) -> None:
    variants: list[Callable[[str], str]] = [str.upper, str.lower, lambda s: f"  {s}\n"]
    address = f"{local}@Example.No"
    try:
        expected = parse_email(address)
    except InvalidIdentifier:
        return  # e.g. consecutive dots; syntax refusals are covered above
    assert expected == expected.lower().strip()
    for variant in variants:
        assert parse_email(variant(address)) == expected


def test_parse_typed_reads_each_entry_in_order_with_its_mask_and_names_the_field_that_fails() -> None:
    from archivist.identifiers import InvalidField, Parsed, Typed, parse_typed

    typed = [
        Typed("phone", "phone", "912 34 567"),
        Typed("email", "email", "Kari@Example.NO"),
        Typed("also.phones[0]", "phone", "0046 70 123 45 67"),
    ]
    assert parse_typed(typed, "NO") == [
        Parsed("+4791234567", "91****67"),
        Parsed("kari@example.no", "k***@***.no"),
        Parsed("+46701234567", mask_phone_e164("+46701234567", "NO")),
    ]
    with pytest.raises(InvalidField) as raised:
        parse_typed([*typed, Typed("also.emails[3]", "email", "41987654 no-at-sign")], "NO")
    assert raised.value.field == "also.emails[3]"
    assert "41987654" not in str(raised.value)  # the message never repeats the input


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        # Found by the property above: "(a)" opening a list item was read as "@", and the number after
        # it as an address's domain, so a request for the number left it in the text.
        ("(a)40000000", "+4740000000"),
        ("(a) 912 34 567", "+4791234567"),
        ("Svar: (a) 912 34 567, (b) kari[at]x.no", "+4791234567"),
        ("X(a)91234567", "+4791234567"),
        # Between a word and a letter it still stands for "@".
        ("Svar: (a) 912 34 567, (b) kari[at]x.no", "kari@x.no"),
        ("kari(a)example.no", "kari@example.no"),
        ("kari (at) example (dot) no", "kari@example.no"),
    ],
)
def test_a_bracketed_at_stands_for_at_only_between_a_word_and_a_letter(text: str, wanted: str) -> None:
    assert mentions_any(text, [wanted], "NO"), text


@pytest.mark.parametrize(
    ("text", "written"),
    [
        # Asterisk-based PBXs (FreePBX, Issabel): {type}-{to}-{from}-{YYYYMMDD}-{HHMMSS}-{uniqueid}.
        ("in-100-4791234567-20260309-080000-1741507200.123.wav", "in-100-[X]-20260309-080000-1741507200.123.wav"),
        ("out-91234567-3201-20260309-080000-1741507200.7.wav", "out-[X]-3201-20260309-080000-1741507200.7.wav"),
        ("force-+4791234567-3201-20250327-092517-1743042317.12206", "force-[X]-3201-20250327-092517-1743042317.12206"),
        ("q-600-91234567-20260309-080000-1741507200.5.wav", "q-600-[X]-20260309-080000-1741507200.5.wav"),
        ("Opptaket: in-100-91234567-20260309-080000-1.2.wav.", "Opptaket: in-100-[X]-20260309-080000-1.2.wav."),
        # Other recorders: {number}_{YYYYMMDD}_{HHMM[SS]}, with or without a word before.
        ("4791234567_20260309_080000.wav", "[X]_20260309_080000.wav"),
        ("91234567_20260309_0800", "[X]_20260309_0800"),
        ("rec_+4791234567_20260309_080000.wav", "rec_[X]_20260309_080000.wav"),
        ("91234567-20260309-080000", "[X]-20260309-080000"),
    ],
)
def test_a_recorders_file_name_is_read_field_by_field(text: str, written: str) -> None:
    # As one run its fields were one string of digits (and after "in-" a reference's): the
    # caller's number in a recording's name survived an erasure.
    assert replace_identifiers(text, ["+4791234567"], "NO", "[X]")[0] == written


@pytest.mark.parametrize(
    "text",
    [
        "in-100-200-20260309-080000-1741507200.123.wav",  # extensions only
        "in-anonymous-100-20260309-080000-1741507200.1.wav",  # a withheld number
        "Sak 91234567-20260309-080000",  # a case's number and its date
        "Ordre 91234567_20260309_0800",
        "order-20260309-080000",
        "ORD-91234567-20260309-0800",  # after a word that names no recorder: a reference's
        "exten-91234567-20260309.wav",  # no time: not a recorder's name, and "exten-" a reference's
    ],
)
def test_what_is_no_recorders_party_is_not_read_as_a_number(text: str) -> None:
    assert identifiers_of(text, "NO") == (set(), set()), text
