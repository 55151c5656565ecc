"""Phone numbers and email addresses: parse user input, normalise archive data, render and mask.

Pure functions only (no I/O, no DNS); every other part of archivist goes through this module.
Finding identifiers written in free text is ``identifiers_text``'s job (the one recogniser).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from typing import Literal
from urllib.parse import unquote

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from phonenumbers import (
    CountryCodeSource,
    NumberParseException,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
)

from archivist import reading

__all__ = [
    "CustomerRead",
    "InvalidField",
    "InvalidIdentifier",
    "Parsed",
    "Typed",
    "mask_email",
    "mask_identifier",
    "mask_phone",
    "mask_phone_e164",
    "normalize_caller",
    "normalize_email_lenient",
    "parse_email",
    "parse_phone",
    "parse_typed",
    "platform_email",
    "platform_phone",
    "read_customer",
    "render_phone",
]


class InvalidIdentifier(ValueError):  # noqa: N818 - name is the agreed public API
    """The text is not a phone number / email address in the expected form.

    The message tells the user what to type and never repeats the input, because the input
    may be personal data and messages end up in logs.
    """


EMAIL_HINT = "Enter an email address such as name@example.com"

# E.164 allows at most 15 digits; fewer than 6 (country code included) is a short code or a typo.
_MIN_E164_DIGITS = 6
_MAX_E164_DIGITS = 15
# Cheap guard before handing text to phonenumbers; generous enough for "(+47) 912 34 567"-style spacing.
_MAX_PHONE_INPUT = 64

_PHONE_CHARS = re.compile(r"[0-9\s+\-.()/]+")
_NON_DIGITS = re.compile(r"[^0-9]")


# ---------------------------------------------------------------------------------------------
# Country metadata (cached: the same handful of solution countries are asked for constantly)
# ---------------------------------------------------------------------------------------------


@functools.cache
def _region(country: str) -> str:
    region = country.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        # Not InvalidIdentifier: the user cannot fix a misconfigured solution country.
        raise ValueError("Unknown solution country; expected an ISO 3166 alpha-2 code such as NO")
    return region


@functools.cache
def _calling_code(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


@functools.cache
def _trunk_prefix_is_country_code(region: str) -> bool:
    # NANP: "1 201 555 0123" is the normal national way to dial, the 1 being the trunk prefix,
    # so the country-code-without-plus ambiguity does not exist there.
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata is not None and metadata.national_prefix == str(_calling_code(region))


def _example(region: str) -> PhoneNumber | None:
    # Mobile first: contact-centre callers mostly use mobiles, and that is what users will type.
    return phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE) or phonenumbers.example_number(region)


@functools.cache
def _phone_hint(region: str) -> str:
    home = _example(region)
    # The foreign example must not be from the solution's own country.
    foreign = _example("SE" if _calling_code(region) != 46 else "NO")
    national = _render(home, region) if home is not None else "12345678"
    international = _international(foreign) if foreign is not None else "004670123456"
    return (
        f"Enter a national number without country code (e.g. {national}) "
        f"or a foreign number with 00 and the country code (e.g. {international})"
    )


# ---------------------------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------------------------


def _e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _international(number: PhoneNumber) -> str:
    return "00" + _e164(number)[1:]


def _national(number: PhoneNumber) -> str:
    return _NON_DIGITS.sub("", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))


def _acceptable(number: PhoneNumber) -> bool:
    digits = len(_e164(number)) - 1
    return _MIN_E164_DIGITS <= digits <= _MAX_E164_DIGITS and phonenumbers.is_possible_number(number)


def _parse(text: str, region: str) -> PhoneNumber | None:
    """The number `text` denotes in the seed convention, or None; `region` is already validated."""
    s = text.strip()
    if not s or len(s) > _MAX_PHONE_INPUT or not _PHONE_CHARS.fullmatch(s):
        return None
    plus = s.count("+")
    # '+' only as the very first sign, possibly inside a bracket: "(+47) 91234567".
    if plus > 1 or (plus == 1 and not s.lstrip("( \t").startswith("+")):
        return None
    digits = _NON_DIGITS.sub("", s)
    if not digits:
        return None
    try:
        if plus or digits.startswith("00"):
            if plus and digits.startswith("0"):
                return None  # "+0047…" is neither form
            number = phonenumbers.parse("+" + (digits if plus else digits[2:]), None)
        else:
            number = phonenumbers.parse(digits, region, keep_raw_input=True)
            # phonenumbers silently reads "4791234567" in NO as +47 91234567. The convention says
            # national numbers carry no country code, so this is ambiguous: accept it only if the
            # whole digit string is itself a possible national number.
            stripped_country_code = number.country_code_source == CountryCodeSource.FROM_NUMBER_WITHOUT_PLUS_SIGN
            if stripped_country_code and not _trunk_prefix_is_country_code(region):
                number = PhoneNumber(country_code=_calling_code(region), national_number=int(digits))
    except NumberParseException:
        return None
    return number if _acceptable(number) else None


def _render(number: PhoneNumber, region: str) -> str:
    if number.country_code == _calling_code(region):
        national = _national(number)
        # Only show the national form if typing it back yields the same number; some plans format
        # numbers in ways that do not parse back (carrier codes, odd trunk prefixes).
        parsed = _parse(national, region)
        if parsed is not None and _e164(parsed) == _e164(number):
            return national
    return _international(number)


def _from_e164(e164: str) -> PhoneNumber:
    s = e164.strip()
    if not s.startswith("+"):
        raise InvalidIdentifier("Expected a stored phone number in E.164 form (e.g. +4791234567)")
    try:
        return phonenumbers.parse(s, None)
    except NumberParseException:
        raise InvalidIdentifier("Expected a stored phone number in E.164 form (e.g. +4791234567)") from None


def parse_phone(text: str, country: str) -> str:
    """Parse a phone number typed by a user in the solution's convention and return it as E.164.

    A national number is written without country code (``91234567`` in NO, ``070-123 45 67`` in SE);
    a foreign number with ``00`` or ``+`` and the country code. Spaces, dashes, dots, slashes and
    parentheses are ignored. A country code without ``00``/``+`` (``4791234567`` in NO) is refused
    as ambiguous unless the digits are also a possible national number. Uses ``is_possible_number``
    rather than ``is_valid_number`` because numbering plans change faster than the metadata.

    Raises InvalidIdentifier (message: the expected form, never the input) or ValueError for an
    unknown country.
    """
    region = _region(country)
    number = _parse(text, region)
    if number is None:
        raise InvalidIdentifier(_phone_hint(region))
    return _e164(number)


def normalize_caller(raw: str | None, country: str) -> str | None:
    """Lenient normalisation of a number from the telephony platform or archive data: E.164 or None.

    Accepts everything parse_phone accepts, also in the forms platforms write (``platform_phone``:
    ``tel:``, ``sip:``, ``whatsapp:``). In addition, a bare digit string that is not a possible
    national number is retried with a ``+`` in front, because platforms commonly deliver the calling
    line identity as E.164 without the plus (``4791234567``). ``anonymous``, ``unknown``, empty and
    anything unparseable give None; this function never raises.
    """
    if raw is None:
        return None
    try:
        region = _region(country)
    except ValueError:
        return None
    raw = platform_phone(raw)
    number = _parse(raw, region)
    if number is None:
        s = raw.strip()
        if s[:1].isdigit() and not s.startswith("0") and "+" not in s:
            number = _parse("+" + s, region)
    return None if number is None else _e164(number)


def render_phone(e164: str, country: str) -> str:
    """Show a stored E.164 number in the convention users type it in, so the result parses back.

    Home-country numbers: the NATIONAL format with non-digits removed (NO ``91234567``, SE
    ``0701234567`` including the trunk 0). Numbers sharing the country calling code count as home
    (NO/SJ, the NANP countries). Foreign numbers: ``00`` + country code + national significant
    number (``004670123456``).
    """
    return _render(_from_e164(e164), _region(country))


def _mask_digits(digits: str) -> str:
    # Reveal at most 2 digits at each end, and never more digits than stay hidden.
    keep = min(2, len(digits) // 4)
    hidden = len(digits) - 2 * keep
    return digits[:keep] + "*" * hidden + (digits[-keep:] if keep else "")


def mask_phone(display: str) -> str:
    """Mask a displayed number: ``91234567`` -> ``91****67``; never more than 4 digits shown."""
    s = display.strip()
    digits = _NON_DIGITS.sub("", s)
    if not digits:
        return "***"
    return ("+" if s.startswith("+") else "") + _mask_digits(digits)


def mask_phone_e164(e164: str, country: str) -> str:
    """Render a stored number for `country`, then mask it (``+4791234567`` in NO -> ``91****67``)."""
    try:
        return mask_phone(render_phone(e164, country))
    except ValueError:
        return mask_phone(e164)


def mask_email(email: str) -> str:
    """Mask an address: ``kari.nordmann@example.com`` -> ``k***@***.com``."""
    local, at, domain = email.strip().rpartition("@")
    if not at:
        return "***"
    labels = domain.rstrip(".").rsplit(".", 1)
    tld = "." + labels[1] if len(labels) == 2 and labels[1] else ""
    return f"{local[:1] or '*'}***@***{tld}"


def mask_identifier(value: str) -> str:
    """Mask an email address or phone number for logs."""
    return mask_email(value) if "@" in value else mask_phone(value)


# ---------------------------------------------------------------------------------------------
# Email addresses
# ---------------------------------------------------------------------------------------------


# An ASCII address of the plain kind (dot-atom local part, letter-digit-hyphen domain labels,
# an alphabetic top-level domain): what nearly every archived address is, and what
# email_validator (about 40 µs an address) accepts and leaves as it is but for the domain's
# case. A property test holds the two to the same answer.
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)


def _plain_email(text: str) -> str | None:
    """The normalised address if ``text`` is a plain one (see above), else None (ask email_validator)."""
    match = _PLAIN_EMAIL.fullmatch(text)
    if match is None or len(match["local"]) > 64 or len(text) > 254 or "--" in match["domain"]:
        return None
    address = text.lower()
    domain = address.rpartition("@")[2]
    if any(domain == name or domain.endswith("." + name) for name in SPECIAL_USE_DOMAIN_NAMES):
        return None
    return address


def parse_email(text: str) -> str:
    """Validate an email address (syntax only, no DNS) and return it trimmed and lower-cased.

    The whole address is lower-cased: local parts are case-sensitive in theory, never in practice,
    and erasure must find ``Kari@X.no`` and ``kari@x.no`` as the same person.
    """
    stripped = text.strip()
    plain = _plain_email(stripped)
    if plain is not None:
        return plain
    try:
        result = validate_email(stripped, check_deliverability=False)
    except EmailNotValidError:
        # email_validator's messages quote parts of the input; ours must not.
        raise InvalidIdentifier(EMAIL_HINT) from None
    return result.normalized.lower()


@dataclass(frozen=True)
class Typed:
    """An identifier as a form names it: the field, whether it is a phone or an email, what was typed."""

    field: str
    kind: Literal["phone", "email"]
    text: str


@dataclass(frozen=True)
class Parsed:
    """A typed identifier read: E.164 or the normalised address, and its masked form."""

    value: str
    masked: str


class InvalidField(InvalidIdentifier):
    """InvalidIdentifier naming the form field it came from (``field``); the message is safe to show."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_typed(typed: Sequence[Typed], country: str) -> list[Parsed]:
    """Each typed identifier read as ``parse_phone``/``parse_email`` read it, with its masked form,
    in order: everything a request's form holds, in one reading. Raises InvalidField for the first
    that does not read (its message never repeats the input)."""
    parsed: list[Parsed] = []
    for item in typed:
        try:
            if item.kind == "phone":
                e164 = parse_phone(item.text, country)
                parsed.append(Parsed(e164, mask_phone_e164(e164, country)))
            else:
                address = parse_email(item.text)
                parsed.append(Parsed(address, mask_email(address)))
        except InvalidIdentifier as exc:
            raise InvalidField(item.field, str(exc)) from None
    return parsed


def normalize_email_lenient(raw: str | None) -> str | None:
    """parse_email for archive data: the normalised address, or None instead of raising."""
    if raw is None:
        return None
    try:
        return parse_email(raw)
    except InvalidIdentifier:
        return None


# ---------------------------------------------------------------------------------------------
# Identifiers as platforms write them (CONTRACT §16, amends §5)
# ---------------------------------------------------------------------------------------------

# A URI scheme a telephony or messaging platform writes a number with (RFC 3966 tel:, RFC 3261
# sip:/sips:, Twilio's and Meta's whatsapp:).
_PHONE_URI = re.compile(r"\s*(?:tel|sips?|whatsapp):(?P<rest>.*)", re.IGNORECASE | re.DOTALL)
# ``"Kari" <sip:+47…@host>``: SIP's name-addr form, the URI in angle brackets.
_NAME_ADDR = re.compile(r'\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<plain>[^<>"]*?))\s*<(?P<inner>[^<>]*)>\s*')
_MAILTO = re.compile(r"\s*mailto:(?P<rest>[^?#]*)(?:[?#].*)?", re.IGNORECASE | re.DOTALL)


def platform_phone(raw: str) -> str:
    """The number in a platform's form of it, or ``raw`` unchanged when it holds none.

    ``tel:+4791234567;phone-context=…`` -> ``+4791234567``; ``sip:+4791234567@pbx.example.com;user=phone``
    and ``<sips:4791234567@…>`` -> their user part; ``whatsapp:+4791234567`` -> ``+4791234567``. A user
    part that is not written with phone characters only (``sip:anonymous@…``, ``tel:+47abc``) leaves
    ``raw`` as it came: §5 keeps what cannot be a number as it arrived, matching nothing.
    """
    text = raw
    name_addr = _NAME_ADDR.fullmatch(text)
    if name_addr is not None:
        text = name_addr["inner"]
    match = _PHONE_URI.fullmatch(text)
    if match is None:
        return raw
    user = match["rest"].partition("@")[0].partition(";")[0]
    user = unquote(user).strip()
    if not user or not _PHONE_CHARS.fullmatch(user) or not _NON_DIGITS.sub("", user):
        return raw
    return user


def _display_name(quoted: str | None, plain: str | None) -> str | None:
    name = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else plain or ""
    if "=?" in name:
        # RFC 2047, as mail systems write a name outside ASCII.
        with contextlib.suppress(HeaderParseError, UnicodeError, LookupError):
            name = str(make_header(decode_header(name)))
    name = " ".join(name.split())
    return name or None


def platform_email(raw: str) -> tuple[str, str | None] | None:
    """(the address as written, the display name) from a platform's form of an address, or None.

    ``Kari Nordmann <kari@example.com>``, ``"Nordmann, Kari" <kari@example.com>``,
    ``<kari@example.com>``, ``mailto:kari@example.com`` and the bare address all read; whatever
    is not one address in one of these forms is None. The address is validated (``parse_email``).
    """
    name: str | None = None
    address = raw.strip()
    name_addr = _NAME_ADDR.fullmatch(address)
    if name_addr is not None:
        name = _display_name(name_addr["quoted"], name_addr["plain"])
        address = name_addr["inner"].strip()
    mailto = _MAILTO.fullmatch(address)
    if mailto is not None:
        address = unquote(mailto["rest"]).strip()
    try:
        parse_email(address)
    except InvalidIdentifier:
        return None
    return address, name


@dataclass(frozen=True)
class CustomerRead:
    """A customer as it will be stored: the number and address without scheme or display name.

    ``email_unreadable``: an address was given that is not an address in any accepted form
    (the API refuses it; an import keeps the record without it and counts it).
    """

    phone: str | None
    email: str | None
    name: str | None
    email_unreadable: bool = False


def read_customer(phone: str | None, email: str | None, name: str | None) -> CustomerRead:
    """Read a customer's identifiers in whatever form a platform or an integration wrote them.

    The one home of the rule (CONTRACT §16): the API's bodies and every importer pass through it.
    The phone keeps its number only (``normalize_caller`` then makes it E.164 in the solution's
    country); the address is validated and a display name fills an empty ``name``.

    A field stored still encoded, as texts are (``&#43;47…``, ``\u002b47…``, ``%2B47…``, RFC 2047,
    ``kari&#64;…``, a line separator inside the number), is read through the same reading view
    as texts (``reading.read``, CONTRACT §9) when it is no platform form as it came.
    """
    if phone is not None:
        number = platform_phone(phone)
        if number == phone:
            number = platform_phone(reading.read(phone).text)
        phone = number.strip() or None
    unreadable = False
    if email is not None and email.strip():
        read = platform_email(email) or platform_email(reading.read(email).text)
        if read is None:
            email, unreadable = None, True
        else:
            email, display = read
            if not (name and name.strip()):
                name = display
    else:
        email = None
    return CustomerRead(phone=phone, email=email, name=name, email_unreadable=unreadable)
