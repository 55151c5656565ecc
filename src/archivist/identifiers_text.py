"""Phone numbers and email addresses inside free text: find every mention, and replace one person's.

Pure functions (no I/O), and the one recogniser of identifiers in text: ingestion indexes what
``find_phones``/``find_emails`` report, erasure calls ``replace_identifiers`` on the texts the
index names, and the rule for variable values (``mentions_any``) asks the same scan, so whatever
erasure replaces was indexed at ingestion and every place an identifier can be written is read
alike. ``SCANNER_VERSION`` names this reading; an index built by an older one is out of date.

Every scan reads the text's *reading view* (``archivist.reading``): HTML entities and tags,
percent-encoding, Unicode digits, dashes and spaces, line wraps in quoted replies and ``(at)``
obfuscation read as a person reads them, and a span found there is replaced on the original
characters. Finding and replacing are linear in the length of the text.

How a phone number is recognised. The view is cut into digit *runs* (digits glued by ``-`` or
``.``, optionally led by ``+``); runs separated only by a few spaces, a bracket or a slash form
a *chain*; every window of whole consecutive runs in a chain is a candidate. A run is never
split, so order number ``1912345678`` or ``12-91234567`` never yields ``91234567``; dates
(``2024-03-12``, ``12.03.2024``, ``12/03/2024``, compact ``20240312``), IBANs, organisation
numbers (``… MVA``), KID and card numbers are never numbers. A run glued to a word is an id
(``kunde91234567``) unless the word is a phone label (``tlf.91234567``, ``på91234567``). A
candidate is read:

- with ``+`` or ``00``: as that international number;
- otherwise as a number of the solution's country (valid numbers only); as a country code
  written without ``+`` (``4791234567``); and, only if it is not a valid home number, in the
  national form of a nearby country (``070-123 45 67`` is +46 70 123 45 67 in a NO solution).

Context decides (CONTRACT §9, issue 21): digits a currency stands beside on either side, an IPv4
address, a version are never a number (``_NOT_A_NUMBER``, ``_NOT_A_NUMBER_AT_DIGIT``); a number
with '+' may be glued into a file name by '_' (``voicemail_from_+4791234567_….mp3``) and a local
part that is only a number is one (``4791234567@sms.example.no``); the "(0)" after a country
code is the trunk a caller drops (``+47(0)91234567``). A grouped window of 8+ digits that is no
home number is read in the national form of the neighbours without a trunk 0 too ("20 12 34 56"
is +4520123456 in a NO solution), and erasure, which knows whom it looks for, also reads the
national digits of a requested foreign number where they stand alone (``_wanted``).

A candidate may have several readings; the index records them all (over-indexing costs a row,
never a wrong replacement, because erasure replaces only spans with the request's own number).
A window inside a longer one that reads as a number in national form with its trunk ``0``
is not read alone: ``0151/23456789`` is a German mobile, not the Norwegian ``23456789``.
``phonenumbers.PhoneNumberMatcher`` gets a look at an international chain (``+``/``00``) none of
whose windows could be read; its matches count where they align with whole runs, so its
inner-match heuristics cannot carve a number out of an order number.
"""

from __future__ import annotations

import base64
import bisect
import functools
import itertools
import json
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

import phonenumbers
from phonenumbers import Leniency, NumberParseException, PhoneNumber, PhoneNumberFormat

from archivist.identifiers import mask_email, mask_phone, normalize_email_lenient
from archivist.reading import EncodedSpan, Encoding, ReadingView, read

__all__ = [
    "NEIGHBOUR_REGIONS",
    "SCANNER_VERSION",
    "PhoneSpan",
    "find_emails",
    "find_phones",
    "identifier_spans",
    "mask_written",
    "mentions_any",
    "name_forms",
    "replace_identifier",
    "replace_identifiers",
    "scan_phones",
]

# Bumped whenever what the scanner reads changes: the mention index of an archive scanned by
# an older version misses forms this one finds, and must be rebuilt (``reindex-mentions``).
# 6: an attachment's file name is read as well as its text.
# 7: "(a)" or "(at)" stands for "@" only between a word and a letter: "(a) 912 34 567" is a number.
# 8: an interaction's external id is read as well (a CSV's or a gateway's key can write the customer).
# 9: a call recorder's file name is read field by field ("in-100-4791234567-20260309-080000-….wav").
SCANNER_VERSION = 9

# Countries whose national forms are tried for a candidate that is not a valid home number:
# the Nordic and nearby countries whose numbers turn up in a Nordic contact centre, plus the
# big ones. Each costs one parse per such candidate, so the list stays short.
NEIGHBOUR_REGIONS: tuple[str, ...] = ("SE", "DK", "NO", "FI", "IS", "DE", "GB", "PL", "NL", "FR", "ES", "US")

# A window shorter than this is a postcode, an amount or a time, not a phone number; longer than
# this is not an E.164 number even with a 00 prefix (15 digits + "00").
_MIN_DIGITS = 6
_MAX_DIGITS = 17

# Digits glued by '-' or '.' are one run and are never split; '+' may lead. What may stand
# before it is checked by _starts_free. Letters may follow ("91234567takk": a space forgotten),
# '@' too: "4791234567@sms.example.no" (an SMS gateway's address) writes the number. '_' only
# after a number with '+' ("voicemail_from_+4791234567_0412.mp3", Proofpoint's
# "urldefense.com/v3/__tel:+4791234567__;"); else it is part of an id.
# Each branch starts with a plain class and checks what stands before it after that character:
# the search then skips to digits and '+' in C, where a pattern that starts with a lookbehind is
# tried at every position (a tenth of an email import's CPU). tests/unit/test_run_pattern.py
# holds it to the pattern as it was written before.
_RUN = re.compile(
    r"[+0-9](?<![0-9][+0-9])(?:(?<=\+)[0-9]+|(?<=[0-9])[0-9]*)(?:[.\-][0-9]+)*(?![0-9])(?!_)"
    r"|\+(?<![0-9]\+)[0-9]{6,15}(?=_)"
)
# Digit groups joined by a separator no chain takes ("912_34_567", "912|34|567", "912*34*567",
# "912·34·567", "912. 34. 567"): file names, table exports and people write a number so, and a
# reader reads one number. Not a comma: "912,34" is an amount. The same separator throughout,
# between groups of 1 to 4 digits; read whole (_loose_spans), never a window of it.
# The first character is a plain class so that the search skips to digits and '+' (a pattern
# that starts with a lookbehind is tried at every position: six times slower on a long body).
_LOOSE = re.compile(
    r"[+0-9](?<![0-9][0-9])(?<![0-9]\+)(?:(?<=\+)[0-9]{1,4}|(?<=[0-9])[0-9]{0,3})"
    r"(?P<sep>[ \t]?(?:[_|*~\u00b7\u2022]|\.(?=[ \t]))[ \t]?)[0-9]{1,4}(?:(?P=sep)[0-9]{1,4}){0,6}(?![0-9])"
)
# What may stand between two runs of one number: a few spaces and at most one bracket or
# slash, as in "912 34 567", "(+47) 912 34 567", "+44 (0)20 7946 0958", "0151/23456789", or a
# dash with spaces around it ("912 - 34 - 567").
_GAP = re.compile(r"[ \t]{0,2}[()/]?[ \t]{0,2}|[ \t]{1,2}-[ \t]{1,2}")
# A date is never a phone number, and it ends the chain it stands in. Its year is two digits or
# 19xx/20xx: "0000-1-01" is digits with dashes, not a day anybody wrote.
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_YEAR = r"(?:19|20)[0-9]{2}"
_DATE = re.compile(rf"{_DAY}([.\-]){_DAY}\1(?:{_YEAR}|[0-9]{{2}})|{_YEAR}-(?:0?[1-9]|1[0-2])-{_DAY}")
# A date written without separators, 1990-2039: YYYYMMDD or DDMMYYYY.
_COMPACT_DATE = re.compile(
    r"(?:199[0-9]|20[0-3][0-9])(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])(?:199[0-9]|20[0-3][0-9])"
)


# Numbers that are something else, whatever their digits: an IBAN, an organisation number
# (with "Org.nr." before or "MVA" after it), a KID (payment reference), a payment card, a
# date with slashes, a bank account, an amount, a time range, a post box. Runs inside them
# are never read.
# Every branch starts with one plain character class (its word's first letter in either case, a
# digit, a comma) and its word boundary is a lookbehind after that character: Python's `re`
# then skips a branch whose first character does not fit at the cost of one class test, where a
# branch opening with `\b` or `(?i:` was entered in full at every position of the text (a third of
# the scanner's time on an email body). Branches that shared a word list are split by first
# letter, in their order, so the same text matches the same way (tests/unit/test_not_a_number.py).
def _ci(letter: str) -> str:
    """``letter`` as a case-insensitive search reads it, as one class ("k" is also KELVIN SIGN)."""
    also = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}.get(letter, "")
    return f"[{letter.upper()}{letter}{also}]"


# The literal beginnings of the words the no-number searches look for (lower case): where, with a
# digit-run's start, a match of theirs can begin (``_no_number_starts``).
_WORD_HEADS: set[str] = set()


def _literal_head(word: str) -> str:
    """The characters ``word`` (a pattern) always begins with, lower case: "pb\\." -> "pb.", "NO ?" -> "no"."""
    head: list[str] = []
    i = 0
    while i < len(word):
        escaped = word[i] == "\\"
        char = word[i + 1] if escaped else word[i]
        i += 2 if escaped else 1
        if (not escaped and char in ".?*+()[]{}|^$") or word[i : i + 1] in ("?", "*", "{"):
            break  # a pattern, or optional: not always there
        head.append(char)
    return "".join(head).lower()


def _words(tail: str, *words: str) -> str:
    """Branches for ``words`` (patterns, each opening with a plain letter) at a word boundary, then
    ``tail``: one branch per first letter, holding that letter's words in their order."""
    by_letter: dict[str, list[str]] = {}
    for word in words:
        by_letter.setdefault(word[0].lower(), []).append(word[1:])
        _WORD_HEADS.add(_literal_head(word))
    return "".join(
        rf"|{_ci(letter)}(?<!\w{_ci(letter)})(?i:(?:{'|'.join(rests)}){tail})" for letter, rests in by_letter.items()
    )


_ORG_TAIL = r"\.? ?(?:nr|nummer|no)?\.?:? ?(?:NO ?)?[0-9]{3}[ .]?[0-9]{3}[ .]?[0-9]{3}\b"
_MVA_TAIL = r"[0-9]{3}[ .]?[0-9]{3}[ .]?[0-9]{3} ?MVA\b"
_CURRENCY_TAIL = r"\.? ?[0-9]{1,3}(?:[ .][0-9]{3})*+(?:,[0-9]{1,2}|,-)?"
_MEETING_TAIL = r"[ -]?(?:id|number|nummer|nr)\b(?: ?\([a-z ]{0,20}\))?\.?:?[ \t]*[0-9](?:[0-9]| (?=[0-9])){3,20}#?"
_PIN_TAIL = r"\b:?[ \t]*[0-9]{3,12}#?"
_NOT_A_NUMBER = re.compile(
    r"[A-Z](?<!\w[A-Z])[A-Z][0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"
    + _words(_ORG_TAIL, "org", "organisasjons", "foretaks")
    + _words(_MVA_TAIL, "NO ?")
    + r"|[0-9](?<!\w[0-9])(?:[0-9]{2}[ .]?[0-9]{3}[ .]?[0-9]{3} ?(?i:MVA)\b)"
    + _words(r"(?:[- ]?(?:nr|nummer))?\.?:? ?[0-9](?:[0-9]| (?=[0-9])){1,30}", "KID")
    + r"|[0-9](?<!\w[0-9])[0-9]{3}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,4}\b"
    + r"|[0-9](?<!\w[0-9])[0-9]?/[0-9]{1,2}/(?:[0-9]{4}|[0-9]{2})\b"
    # A Norwegian bank account (4.2.5), an amount, a time range, a post box.
    + r"|[0-9](?<!\w[0-9])[0-9]{3}[ .][0-9]{2}[ .][0-9]{5}\b"
    # Amounts group thousands by three. The groups are taken possessively and an amount never
    # starts inside a grouped number, so a long list of numbers is read in one pass.
    + _words(_CURRENCY_TAIL, "kr", "nok", "sek", "dkk", "eur", "usd", "kroner", "euro")
    + r"|[0-9](?<![0-9][ .][0-9])(?<!\w[0-9])[0-9]{0,2}(?:[ .][0-9]{3})*+"
    r"(?:,[0-9]{2}\b|,-|(?i: ?(?:kr|nok|sek|dkk|eur|usd)\b))"
    + r"|[0-9](?<!\w[0-9])[0-9]*+(?:,[0-9]{2}\b|,-)"
    + r"|[0-2](?<!\w[0-2])(?:(?<=[01])[0-9]|(?<=2)[0-3])[.:]?[0-5][0-9] ?- ?(?:[01][0-9]|2[0-3])[.:]?[0-5][0-9]\b"
    + _words(r" ?[0-9]+", "postboks", r"pb\.", "boks", r"p\.o\.? box", r"po\.? box")
    # A meeting's id, PIN or passcode ("Meeting ID: 834 5678 9012", a Teams "Phone Conference ID",
    # "Passcode: 123456"), and the digits a dial string sends after its pauses (",,123456789#").
    + _words(_MEETING_TAIL, "phone conference", "conference", "meeting", "webinar", "møte", "konferanse")
    + _words(_PIN_TAIL, "passcode", "password", "passord", "pin", "tilgangskode", "access code")
    + r"|,,+[0-9]{3,20}#?"
)
# More things that are no number, each branch starting with a digit, a currency sign or the
# letter of its word (so the search skips to those, and every other position costs nothing;
# lookbehinds stand after the first character for that reason):
# digits a currency follows however they are grouped ("91234567 kroner", "912 34 567 €"); four
# dotted groups (an IPv4 address if every group is an octet, see _is_not_a_number); a
# version with a one-digit head ("9.12.34.567").
_NOT_A_NUMBER_AT_DIGIT = re.compile(
    r"[0-9](?:(?<![0-9][ .][0-9])(?<!\w[0-9])[0-9]*+(?:[ .][0-9]++)*+ ?"
    r"(?i:(?:kr|kroner|nok|sek|dkk|eur|euro|usd)\b|[€$£])"
    r"|(?<![0-9.][0-9])(?P<dotted>[0-9]{0,2}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?![0-9]|\.[0-9]))"
    r"|(?<![0-9.][0-9])\.[0-9]+(?:\.[0-9]+){2,}(?![0-9]|\.[0-9]))"
    # A currency sign before ("€ 91234567").
    r"|[€$£] ?[0-9]++(?:[ .][0-9]++)*+"
    # An IPv4 address after "IP"; a version ("v1.2.3", "versjon 4.12", "build 4711").
    r"|[Ii](?<!\w[Ii])[Pp](?:[Vv]4)?(?:[ -]?(?i:address|adresse))?:? ?(?:[0-9]{1,3}\.){3}[0-9]{1,3}"
    r"|[Vv](?<!\w[Vv])(?:(?=[0-9])|(?i:er\.?|ersion|ersjon) ?)[0-9]+(?:\.[0-9]+)*"
    r"|(?i:[Bb](?<!\w[Bb])uild|[Rr](?<!\w[Rr])elease|[Ff](?<!\w[Ff])irmware) ?[0-9]+(?:\.[0-9]+)*"
    # A time with fractional seconds, as logs and isoformat() write it ("14:05:33.912345").
    r"|[0-2](?<![0-9][0-2])[0-9](?<![2][4-9]):[0-5][0-9]:[0-5][0-9][.,][0-9]{1,9}"
)
# Its words' beginnings (a "v" right before digits is found with them: ``_no_number_starts``).
_WORD_HEADS.update(("ip", "ver", "build", "release", "firmware"))
# The heads to look for: one that begins with another ("kroner", "kr") is found with it.
_HEADS = tuple(sorted(h for h in _WORD_HEADS if not any(h != o and h.startswith(o) for o in _WORD_HEADS)))


def _is_not_a_number(match: re.Match[str]) -> bool:
    """Four dotted groups are a version when the head is one digit ("9.12.34.567"), an IPv4
    address when every group is an octet, unless grouped in pairs ("91.23.45.67": some write
    their number so; "IP" before it is read by _NOT_A_NUMBER)."""
    if match.group("dotted") is None:
        return True
    groups = match.group().split(".")
    if len(groups[0]) == 1:
        return True
    return all(int(g) <= 255 for g in groups) and not all(len(g) == 2 for g in groups)


# Words after which a glued number is a phone number ("tlf.91234567", "på91234567"), and
# which make a compact-date-like run a number ("tlf 20240119"). Lower case.
_LABELS = frozenset(
    (
        "tlf",
        "tlfnr",
        "tel",
        "telnr",
        "telefon",
        "telefonnr",
        "mob",
        "mobil",
        "mobilnr",
        "mobile",
        "phone",
        "ph",
        "cell",
        "nr",
        "nummer",
        "num",
        "på",
        "pa",
        "til",
        "ring",
        "sms",
        "fax",
        "call",
        "callback",
        "whatsapp",
        "kontakt",
        # Labels seen glued in stored texts and exports (issue 21).
        "telefonnummer",
        "mobilnummer",
        "tlfnummer",
        "kontaktnr",
        "kontaktnummer",
        "mobiltlf",
        "mobtlf",
        "tfn",
        "handy",
        "telephone",
        "phoneno",
        "mobnr",
        "tlph",
        "from",
        "fra",
        # Finnish and Polish labels glued with their dot ("puh.040 123 4567", "tel.kom.512 345 678").
        "puh",
        "puhelin",
        "kom",
    )
)
_LABEL_BEFORE = re.compile(r"([^\W\d_]{2,14})[.:]?[ \t]{0,2}(?:\+)?$")
# "+47", "0047": a country code that binds to the run after it, so that run is never read alone
# ("+45 9123 4567" is a Danish number, not the Norwegian 91234567).
_COUNTRY_PREFIX = re.compile(r"\+[1-9][0-9]{0,2}|00[1-9][0-9]{0,2}")
_NON_DIGITS = re.compile(r"[^0-9]")
_DIGIT = re.compile(r"[0-9]")

# Email addresses: the dot-atom local part (apostrophes and the other legal characters
# included), a domain of letter-digit-hyphen labels in any script; never part of a longer address.
# '=', '?' and '&' are legal too but stand before addresses in links ("?email=kari@x.no"), so
# they end a local part here.
# Combining marks count as part of a letter: decoded escapes may spell "a" + U+030A for "å", and
# the vowel signs of Indic scripts ("अजय@डाटा.भारत") are marks that `\w` leaves out.


def _mark_ranges() -> str:
    """Every combining mark of the Basic Multilingual Plane (Mn, Mc, Me) as class ranges, by this
    interpreter's Unicode tables."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


_MARKS = _mark_ranges()
_LOCAL_CHAR = rf"[\w{_MARKS}!#$%'*+^`~\-]"
_DOMAIN_CHAR = rf"[\w{_MARKS}\-]"
_EMAIL = re.compile(
    rf"(?<![\w.!#$%'*+^`~\-]){_LOCAL_CHAR}+(?:\.{_LOCAL_CHAR}+)*@{_DOMAIN_CHAR}+(?:\.{_DOMAIN_CHAR}+)+"
    r"(?![\w\-])(?!\.[\w\-])"
)


@dataclass(frozen=True)
class PhoneSpan:
    """A place in a text that denotes a phone number: ``text[start:end]``, and every E.164 reading."""

    start: int
    end: int
    readings: frozenset[str]


@dataclass(frozen=True)
class _Run:
    start: int
    end: int
    digits: str
    plus: bool
    prefix: bool
    # Digits joined by '-'/'.' inside the run ("47-91234567", "912.34.567").
    joined: bool


# ---------------------------------------------------------------------------------------------
# Reading a candidate
# ---------------------------------------------------------------------------------------------


def _e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@functools.cache
def _calling_code(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


@functools.cache
def _neighbours(region: str) -> tuple[tuple[str, str], ...]:
    """(region, national prefix) of the neighbours that do not share ``region``'s calling code."""
    home_code = _calling_code(region)
    result = []
    for other in NEIGHBOUR_REGIONS:
        if _calling_code(other) == home_code:
            continue
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(other)
        result.append((other, (metadata.national_prefix or "") if metadata is not None else ""))
    return tuple(result)


def _international_reading(digits: str) -> str | None:
    # The common case without phonenumbers.parse: a country code, then a national number of a
    # possible length for it. Anything else ("+44 (0)20 …" with its trunk 0) goes to parse.
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            nsn = digits[length:]
            if nsn and not nsn.startswith("0"):
                number = PhoneNumber(country_code=code, national_number=int(nsn))
                if phonenumbers.is_possible_number(number):
                    return f"+{digits}"
            break
    try:
        number = phonenumbers.parse("+" + digits, None)
    except NumberParseException:
        return None
    # Possible rather than valid: written with '+'/'00' the number is unambiguous, and numbering
    # plans change faster than the metadata (the same choice as identifiers.parse_phone).
    return _e164(number) if phonenumbers.is_possible_number(number) else None


@functools.cache
def _plan(region: str) -> tuple[int, str, frozenset[int]]:
    """A region's calling code, trunk prefix and possible national number lengths."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return _calling_code(region), "", frozenset()
    return _calling_code(region), metadata.national_prefix or "", frozenset(metadata.general_desc.possible_length)


@functools.lru_cache(maxsize=65_536)
def _national_reading(digits: str, region: str) -> str | None:
    """The valid number of ``region`` that ``digits`` spell in national form, or None.

    Built directly rather than through ``phonenumbers.parse``: the digits are already clean, and
    parsing (normalising, looking for a country code) was most of the cost of ingestion.
    """
    code, trunk, lengths = _plan(region)
    nsn = digits[len(trunk) :] if trunk and digits.startswith(trunk) else digits
    if len(nsn) not in lengths or nsn.startswith("0"):
        return None
    number = PhoneNumber(country_code=code, national_number=int(nsn))
    return f"+{code}{nsn}" if phonenumbers.is_valid_number(number) else None


def _country_code_reading(digits: str) -> str | None:
    """The valid number ``digits`` spell as country code + national number (no '+'), or None."""
    # Country codes are prefix-free, so at most one of the three lengths is a code.
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            nsn = digits[length:]
            lengths = _plan(phonenumbers.region_code_for_country_code(code))[2]
            if not nsn or nsn.startswith("0") or (lengths and len(nsn) not in lengths):
                return None
            number = PhoneNumber(country_code=code, national_number=int(nsn))
            return f"+{digits}" if phonenumbers.is_valid_number(number) else None
    return None


@functools.lru_cache(maxsize=65_536)
def _readings(
    digits: str, plus: bool, region: str, joined: bool = False, bracketed: bool = False, grouped: bool = False
) -> frozenset[str]:
    """Every E.164 number the digits may denote; cached because customers repeat their numbers.

    ``joined``: the first run is dashed or dotted; ``bracketed``: the window opens with "(";
    ``grouped``: the digits are written in groups (several runs, or dashes/dots inside one).
    """
    if plus:
        found = _international_reading(digits)
        return frozenset([found] if found else [])
    if digits.startswith("00"):
        found = _international_reading(digits[2:])
        return frozenset([found] if found else [])
    readings: set[str] = set()
    home = _national_reading(digits, region)
    if home is not None:
        readings.add(home)
    # The home country code without '+' ("4791234567", "47 91234567"), as platforms and some
    # people write it. Valid numbers only: without the '+' this is a guess; never another
    # country's code (an 11-digit account number is often a valid NANP or Austrian number),
    # and not when the first run is dashed or dotted ("47-91234567" is a reference).
    if not joined and digits.startswith(str(_calling_code(region))):
        found = _country_code_reading(digits)
        if found is not None:
            readings.add(found)
    if home is None:
        # A foreign number in its own national form. Only when it is no home number: a Danish
        # "91234567" cannot be told from a Norwegian one, and the home reading must win. Only
        # with the country's trunk 0 ("070…" in SE, "0151…" in DE), as people write them: in
        # countries without one any 9 digits (an order, an amount) would be somebody's number.
        # NANP numbers are the exception people write recognisably: "(201) 555-0123". And a
        # grouped number of 8 or more digits that is no home number ("20 12 34 56" in DK,
        # "512 345 678" in PL, "201-234-5678" in the US, in a NO solution) is read in those
        # countries too: its key is indexed, so a request for it finds the text by a lookup
        # (CONTRACT §9, issue 21). Over-reading costs an index row, never a replacement.
        for other, trunk in _neighbours(region):
            if trunk.startswith("0"):
                if not digits.startswith(trunk):
                    continue
            elif not ((bracketed and trunk == "1") or (grouped and len(digits) >= 8 and not digits.startswith("0"))):
                continue
            found = _national_reading(digits, other)
            if found is not None:
                readings.add(found)
    return frozenset(readings)


# ---------------------------------------------------------------------------------------------
# Scanning (in the reading view)
# ---------------------------------------------------------------------------------------------


def _word_before(text: str, start: int) -> str | None:
    """The label-like word right before ``start`` (letters, an optional '.'/':', spaces), lower case."""
    match = _LABEL_BEFORE.search(text, max(0, start - 18), start)
    if match is None:
        return None
    word_start = match.start(1)
    if word_start > 0 and (text[word_start - 1].isalnum() or text[word_start - 1] == "_"):
        return None
    return match.group(1).lower()


def _starts_free(text: str, start: int) -> bool:
    """Whether a run may start at ``start``: not inside an id, an address or a reference."""
    if start == 0:
        return True
    before = text[start - 1]
    if before == "_" and text[start] == "+":
        return True  # "voicemail_from_+4791234567_…": a file name's field
    if before in "@%_":
        return False
    if before.isalnum():
        # Glued to a word: only a phone label makes it a number ("tlf91234567", "på48211093").
        return _word_before(text, start) in _LABELS and not text[start - 1].isdigit()
    if before in ".-":
        # "tlf.91234567" is labelled; "ORD-91234567", "v2.91234567" are references.
        if start >= 2 and text[start - 2].isalnum():
            return _word_before(text, start - 1) in _LABELS
        return before == "."
    return True


_BATV_TAG = re.compile(r"(?<![\w.+\-])(?i:prvs|btv1)=[^=@\s]{1,64}=")


# Every match of the two no-number searches holds a digit, begins at most _REACH characters
# before its first digit (not counting the spaces, tabs and commas just before it: "Meeting ID:"
# and ",,," may be followed by any number of them) and ends at most _REACH after its last. So
# the searches need only read the windows around the text's digits: a long letter in prose
# holds few, and the searches' many word branches were tried at every letter of it.
_REACH = 64
# "[0-9][0-9]*", not "[0-9]+": a pattern that opens with a class (not a repeat of one) is skipped
# to its first character in C; "[0-9]+" was tried at every position (twice the time on a body).
_DIGIT_RUN = re.compile(r"[0-9][0-9]*")


def _digit_windows(text: str, runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (pos, endpos) windows, disjoint and in order, outside which neither search can match,
    around ``runs``: the spans of the text's runs of digits."""
    windows: list[tuple[int, int]] = []
    for start, run_end in runs:
        while start > 0 and text[start - 1] in " \t,":
            start -= 1
        start, end = max(0, start - _REACH), min(len(text), run_end + _REACH)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


# Where a match of either no-number search can begin: at the start of a run of digits (or a "v"
# right before one), an IBAN's two capitals before a digit, two commas, a currency sign, or a
# word of theirs at a word's start. Python's `re` tries each of their ~30 branches at every letter
# it cannot rule out by its first character, and prose is mostly such letters (36 % of an email
# import's CPU); the searches now run only at these places, found with `str.find` (issue 27). A
# match begins nowhere else, so the spans are those the plain searches give
# (tests/unit/test_not_a_number.py holds them to it).
_IBAN_HEAD = re.compile(r"[A-Z][A-Z][0-9]")  # not [A-Z]{2}: see _DIGIT_RUN
_SHORT_TEXT = 24
# Characters a case-insensitive search reads as a word's letter that ``str.lower`` does not make
# it ("ı" as "i", "ſ" as "s"; "İ" lowers to two characters, which the length check catches).
_FOLDS_APART = re.compile("[\u0131\u017f]")


def _no_number_starts(text: str, runs: list[tuple[int, int]]) -> list[int] | None:
    """The sorted positions at which a no-number match can begin; None where the searches had
    better read every position: a short text (a variable's value, read faster so than its
    starts are found), or one in which case folding makes them uncertain."""
    if len(text) <= _SHORT_TEXT:
        return None
    lowered = text.lower()
    if len(lowered) != len(text) or _FOLDS_APART.search(text):
        return None
    starts = {start for start, _ in runs}
    starts.update(start - 1 for start, _ in runs if start and text[start - 1] in "vV")
    for head in _HEADS:
        at = lowered.find(head)
        while at >= 0:
            if at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_"):  # re's \w
                starts.add(at)
            at = lowered.find(head, at + 1)
    for sign in (",,", "€", "$", "£"):
        at = text.find(sign)
        while at >= 0:
            starts.add(at)
            at = text.find(sign, at + 1)
    starts.update(match.start() for match in _IBAN_HEAD.finditer(text))
    return sorted(starts)


def _matches(
    pattern: re.Pattern[str], text: str, windows: list[tuple[int, int]], starts: list[int] | None
) -> Iterator[re.Match[str]]:
    """``pattern.finditer`` over each window, tried only at ``starts`` (every position if None)."""
    if starts is None:
        for pos, end in windows:
            yield from pattern.finditer(text, pos, end)
        return
    i = 0
    for pos, end in windows:
        i = bisect.bisect_left(starts, pos, i)
        searched_to = pos
        while i < len(starts) and starts[i] < end:
            at = starts[i]
            i += 1
            if at >= searched_to and (match := pattern.match(text, at, end)) is not None:
                yield match
                searched_to = match.end()


def _excluded(text: str) -> list[tuple[int, int]]:
    """The spans of things that are no number, sorted and merged (the two searches may overlap)."""
    runs = [run.span() for run in _DIGIT_RUN.finditer(text)]
    windows = _digit_windows(text, runs)
    return _excluded_in(text, windows, _no_number_starts(text, runs) if windows else None)


def _excluded_in(text: str, windows: list[tuple[int, int]], starts: list[int] | None) -> list[tuple[int, int]]:
    """``_excluded``, searching ``windows`` at ``starts`` (at every position if None)."""
    zones = [match.span() for match in _matches(_NOT_A_NUMBER, text, windows, starts)]
    more = [
        match.span() for match in _matches(_NOT_A_NUMBER_AT_DIGIT, text, windows, starts) if _is_not_a_number(match)
    ]
    if "=" in text and ("prvs=" in (lowered := text.lower()) or "btv1=" in lowered):
        # A BATV tag ("prvs=0067612345=kari@…") is a signature, whatever digits it holds.
        more += [match.span() for match in _BATV_TAG.finditer(text)]
    if not more:
        return zones
    merged: list[tuple[int, int]] = []
    for start, end in sorted(zones + more):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# A call recorder's file name: the parties, then the call's date and time, all one field each,
# joined by '-' or '_'. Asterisk-based PBXs (FreePBX, Issabel) write
# "{type}-{to}-{from}-{YYYYMMDD}-{HHMMSS}-{uniqueid}" ("force-4791234567-3201-20250327-092517-
# 1743042317.12206.wav", https://diditho.com/2025/04/23/understanding-issabel-asterisk-call-
# recording-file-format), other recorders "{number}_{YYYYMMDD}_{HHMMSS}". As one run the fields
# are one long string of digits, and after "in-" a reference's: a number there was never read.
# Each party that is all digits is read on its own.
_RECORDING_NAME = re.compile(
    r"(?<![\w+.\-])(?:(?i:in|out|exten|ext|q|rg|force|ondemand|auto|conf|external|internal|g)(?P<a>[-_]))?"
    r"(?P<parties>(?:[+0-9A-Za-z]{1,40}(?(a)(?P=a)|[-_])){1,3})"
    r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[-_](?:[01][0-9]|2[0-3])[0-5][0-9](?:[0-5][0-9])?(?![0-9])"
)
# What every such name holds, found first (a plain class leads it, so the search skips to it).
_RECORDING_STAMP = re.compile(r"[-_](?:19|20)[0-9]{6}[-_][0-2][0-9]{3}")
_PARTY = re.compile(r"\+?[0-9]{5,17}")


def _recording_parties(text: str) -> list[tuple[list[_Run], tuple[int, int]]]:
    """Each recorder file name's parties written in digits, as one-run chains, with the name's span."""
    found: list[tuple[list[_Run], tuple[int, int]]] = []
    if _RECORDING_STAMP.search(text) is None:
        return found
    for name in _RECORDING_NAME.finditer(text):
        if _is_reference(text, name.start()):
            continue  # "Sak 91234567-20260309-0800": a case's number and date
        typed = name.group("a") is not None
        separator = name.group("a") if typed else text[name.end("parties") - 1]
        start = name.start("parties")
        fields = name.group("parties")[:-1].split(separator)
        for i, field in enumerate(fields):
            plus = field.startswith("+")
            # After a word that names no recorder ("ORD-91234567-…") the digits are a reference's,
            # as they are anywhere else; a '+' starts a number wherever it stands.
            if (typed or plus or i == 0 or fields[i - 1].isdigit()) and _PARTY.fullmatch(field):
                run = _Run(start, start + len(field), field.lstrip("+"), plus, False, False)
                found.append(([run], name.span()))
            start += len(field) + 1
    return found


def _chains(text: str) -> list[list[_Run]]:
    chains: list[list[_Run]] = []
    current: list[_Run] = []
    last_end = -1
    zones = _excluded(text)
    zone_starts = [s for s, _ in zones]
    names = _recording_parties(text)
    named = [span for _, span in names]
    chains.extend(chain for chain, _ in names)

    def in_zone(start: int) -> bool:
        i = bisect.bisect_right(zone_starts, start) - 1
        return i >= 0 and start < zones[i][1]

    def close() -> None:
        nonlocal current, last_end
        if current:
            chains.append(current)
        current, last_end = [], -1

    skip_end = -1  # the end of a reference's digits so far: its later groups are skipped with it
    for match in _RUN.finditer(text):
        raw = match.group()
        start = match.start()
        if named and any(a <= start < b for a, b in named):
            close()  # a recorder's file name: its parties are read above, field by field
            continue
        if _DATE.fullmatch(raw) or (zones and in_zone(start)) or not _starts_free(text, start):
            close()
            continue
        if _AT_ADDRESS_ON_IP.match(text, match.end()):
            close()  # a video room's address on a network address ("76110735@140.252.65.232")
            continue
        if skip_end >= 0 and not raw.startswith("+") and _GAP.fullmatch(text, skip_end, start) is not None:
            skip_end = match.end()
            continue
        skip_end = -1
        digits = _NON_DIGITS.sub("", raw)
        if (
            len(raw) == 8
            and _COMPACT_DATE.fullmatch(raw)
            and not (current and start - last_end <= 5)
            and _word_before(text, start) not in _LABELS
        ):
            close()
            continue
        run = _Run(
            start=start,
            end=match.end(),
            digits=digits,
            plus=raw.startswith("+"),
            prefix=_COUNTRY_PREFIX.fullmatch(raw) is not None,
            joined=len(raw) - raw.startswith("+") != len(digits),
        )
        # A '+' starts a new number; otherwise the run continues the chain if only a short gap
        # of spaces/one bracket or slash lies between.
        joined = (
            current
            and not run.plus
            and last_end >= 0
            and run.start - last_end <= 5
            and _GAP.fullmatch(text, last_end, run.start) is not None
        )
        if not joined:
            close()
            if _is_reference(text, start):
                skip_end = run.end
                continue
        current.append(run)
        last_end = run.end
    if current:
        chains.append(current)
    return chains


_AT_ADDRESS_ON_IP = re.compile(r"@[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![0-9]|\.[0-9])")
# Words that name a reference, not a phone: the number after them is an order's, an invoice's, a
# case's ("Ordrenummer: 4791234567", "Fakturanr. 91234567", "Order no. 12345678"), whatever its
# digits look like. Not "kunde"/"customer": a customer number is often the customer's phone.
_REFERENCE_WORDS = (
    "ordre",
    "order",
    "faktura",
    "invoice",
    "sak",
    "saks",
    "case",
    "referanse",
    "reference",
    "bestilling",
    "bestillings",
    "booking",
    "kvittering",
    "kvitterings",
    "receipt",
    "sporing",
    "sporings",
    "tracking",
    "ticket",
    "transaksjons",
    "transaction",
)
_REFERENCE_SUFFIXES = ("", "nummer", "nr", "no", "number", "id", "num")
_REFERENCES = frozenset(word + suffix for word in _REFERENCE_WORDS for suffix in _REFERENCE_SUFFIXES)
_REFERENCE_BEFORE = re.compile(
    r"(?<![^\W\d_])(?P<word>[^\W\d_]{3,20})\.?(?:[ \t]{1,2}(?:nr|no|number|nummer|id)\.?)?[ \t]{0,2}[:#]?[ \t]{0,2}\Z",
    re.IGNORECASE,
)


def _is_reference(text: str, start: int) -> bool:
    """Whether the digits at ``start`` follow a word that names a reference (``_REFERENCES``)."""
    match = _REFERENCE_BEFORE.search(text, max(0, start - 40), start)
    return match is not None and match.group("word").lower() in _REFERENCES


def _window_start(text: str, chain: list[_Run], i: int, j: int) -> int:
    """Where the span of runs i..j starts: with the "(" of "(+47) 912 34 567" when it is closed inside."""
    start = chain[i].start
    if j > i and start > 0 and text[start - 1] == "(" and ")" in text[chain[i].end : chain[i + 1].start]:
        return start - 1
    return start


# Characters of context the matcher gets on each side of a chain the run scan could not read.
_MATCHER_CONTEXT = 12


def _matcher_spans(
    text: str, region: str, chain: list[_Run], starts: dict[int, _Run | None], ends: set[int]
) -> list[PhoneSpan]:
    """The matcher's reading of one chain, aligned with whole runs.

    It sees the chain with a little context rather than the whole text: its cost grows with
    the text, and what it finds must align with the chain's runs anyway.
    """
    offset = max(0, chain[0].start - _MATCHER_CONTEXT)
    snippet = text[offset : chain[-1].end + _MATCHER_CONTEXT]
    spans: list[PhoneSpan] = []
    for match in phonenumbers.PhoneNumberMatcher(snippet, region, leniency=Leniency.VALID):
        raw = match.raw_string
        stripped = raw.lstrip("( \t")
        match_start, match_end = offset + match.start, offset + match.end
        run_start = match_start + len(raw) - len(stripped)
        # Aligned with whole runs, and not the tail of "+45 9123 4567" (a run after a country code).
        run = starts.get(run_start)
        if run is None or match_end not in ends:
            continue
        # The run scan's rule for a country code without '+': never out of a dashed reference.
        digits = _NON_DIGITS.sub("", raw)
        without_plus = not stripped.startswith(("+", "00")) and _national_reading(digits, region) is None
        if not (without_plus and run.joined):
            # "(+47) 91234567" keeps its bracket; "(91234567)" gives up the one it does not close.
            start = match_start if raw.count("(") == raw.count(")") else run_start
            spans.append(PhoneSpan(start, match_end, frozenset([_e164(match.number)])))
    return spans


def _is_bracketed_trunk(text: str, run: _Run) -> bool:
    """Whether ``run`` is the "(0)" written after a country code."""
    return run.digits == "0" and text[run.start - 1 : run.start] == "(" and text[run.end : run.end + 1] == ")"


def _international_head(text: str, chain: list[_Run], region: str, spans: dict[tuple[int, int], set[str]]) -> int:
    """Record the number a chain starting with '+'/'00' spells; the index of its last run, or -1.

    The longest window from the start that is a possible number wins, so "+47 912 34 567" is
    +47 91234567 and not also the shorter "+47 912 34" (another possible length in NO).
    """
    first = chain[0]
    if not (first.plus or first.digits.startswith("00")):
        return -1
    digits = ""
    best: tuple[int, frozenset[str]] | None = None
    for j, run in enumerate(chain):
        if j == 1 and first.prefix and _is_bracketed_trunk(text, run):
            continue  # "+47(0)91234567", "0047 (0) 912 34 567": the trunk a caller drops
        digits += run.digits
        if len(digits) > _MAX_DIGITS:
            break
        if len(digits) >= _MIN_DIGITS:
            readings = _readings(digits, first.plus, region)
            if readings:
                best = (j, readings)
    if best is None:
        return 0
    j, readings = best
    spans.setdefault((_window_start(text, chain, 0, j), chain[j].end), set()).update(readings)
    return j


def _chain_windows(
    text: str,
    chain: list[_Run],
    taken: int,
    region: str,
    spans: dict[tuple[int, int], set[str]],
    wanted: Mapping[str, str] | None = None,
    sure: frozenset[str] = frozenset(),
) -> None:
    """Read every window of the chain after its international head; a window inside a longer
    one read in national form with a trunk 0 ("0151/23456789") is not read alone."""
    # Windows (i, j) whose digits start with a trunk 0 and have a reading.
    trunk_windows: list[tuple[int, int]] = []
    grouping: _Grouping | None = None
    found: list[tuple[int, int, frozenset[str]]] = []
    for i, run in enumerate(chain):
        if i <= taken or (i > 0 and chain[i - 1].prefix):
            continue
        # A number in national form starts its chain: "854 038 966" (an organisation number)
        # holds no Finnish "038 966".
        if run.digits.startswith("0") and i > max(taken, -1) + 1:
            continue
        bracketed = run.start > 0 and text[run.start - 1] == "("
        digits = ""
        for j in range(i, len(chain)):
            digits += chain[j].digits
            if len(digits) > _MAX_DIGITS:
                break
            if len(digits) < _MIN_DIGITS:
                continue
            readings = _readings(digits, run.plus, region, run.joined, bracketed)
            # The grouping is looked at only where it can matter (8+ digits no home number has,
            # or the digits a request looks for): most windows of a long chain are neither.
            foreign = (
                len(digits) >= 8
                and (j > i or run.joined)
                and not run.plus
                and not digits.startswith("0")
                and _national_reading(digits, region) is None
            )
            wanted_here = wanted is not None and digits in wanted
            if (foreign or wanted_here) and _stands_alone(text, chain, i, j):
                if grouping is None:
                    grouping = _Grouping(text, chain)
                phone_like = grouping(i, j)
            else:
                phone_like = False
            if phone_like and foreign:
                readings = _readings(digits, run.plus, region, run.joined, bracketed, True)
            if (
                wanted is not None
                and wanted_here
                and (phone_like or (i == j and not run.joined))
                and (digits in sure or _national_reading(digits, region) is None)
            ):
                # The requested person's own digits, in the national form of their country; a
                # home number with the same digits stays the home number ("91234567" in NO),
                # except in the person's own interaction, whose customer has that number.
                readings = readings | {wanted[digits]}
            if readings:
                found.append((i, j, readings))
                if digits.startswith("0") and not digits.startswith("00"):
                    trunk_windows.append((i, j))
    for i, j, readings in found:
        # Windows span at most _MAX_DIGITS digits, so only a few trunk windows can contain this one.
        inside = any(ti <= i and j <= tj and (ti, tj) != (i, j) for ti, tj in trunk_windows if ti >= i - _MAX_DIGITS)
        if not inside:
            spans.setdefault((_window_start(text, chain, i, j), chain[j].end), set()).update(readings)


_GROUP_SPLIT = re.compile(r"[.\-]")


class _Grouping:
    """Whether windows of a chain are grouped as phone numbers are: every group 2 to 4 digits
    ("20 12 34 56", "512-345-678", "201.234.5678"), not a reference ("31-97735643"); a leading
    "1" is the NANP trunk ("1-201-234-5678"). Each run is looked at once, each window in O(1)."""

    def __init__(self, text: str, chain: list[_Run]) -> None:
        self.ok: list[bool] = []
        self.trunk_ok: list[bool] = []
        self.single: list[bool] = []
        # bad[k]: how many of the first k runs are not grouped as phone numbers are.
        self.bad = [0]
        for run in chain:
            groups = _GROUP_SPLIT.split(text[run.start : run.end].lstrip("+"))
            ok = all(2 <= len(g) <= 4 for g in groups)
            self.ok.append(ok)
            self.trunk_ok.append(groups[0] == "1" and all(2 <= len(g) <= 4 for g in groups[1:]))
            self.single.append(len(groups) == 1)
            self.bad.append(self.bad[-1] + (not ok))

    def __call__(self, i: int, j: int) -> bool:
        first = self.ok[i] or (self.trunk_ok[i] and (j > i or not self.single[i]))
        return first and self.bad[j + 1] - self.bad[i + 1] == 0


def _stands_alone(text: str, chain: list[_Run], i: int, j: int) -> bool:
    """Whether runs i..j are not part of a longer grouping: no run joined by spaces only on either
    side ("20 12 34 56 78" holds no "20 12 34 56"; "20 12 34 56 / 98 76 54 32" holds two)."""

    def spaces_only(left: _Run, right: _Run) -> bool:
        return not text[left.end : right.start].strip()

    return (i == 0 or not spaces_only(chain[i - 1], chain[i])) and (
        j == len(chain) - 1 or not spaces_only(chain[j], chain[j + 1])
    )


def _scan_view(
    text: str, region: str, wanted: Mapping[str, str] | None = None, sure: frozenset[str] = frozenset()
) -> list[PhoneSpan]:
    """``scan_phones`` on a reading view's text: spans in its coordinates.

    ``wanted``: national digits -> E.164 of numbers a request looks for (``_wanted``); a window
    of exactly those digits also reads as that number (``sure``: even where it is a home number).
    """
    # Most chat lines, variables and transcript segments hold no number, or a time or an amount:
    # every window (and the matcher) needs _MIN_DIGITS digits, so fewer read as nothing. Counted
    # up to the sixth digit only: cheaper than setting up the scan.
    spans: dict[tuple[int, int], set[str]] = {}
    if _VANITY_HINT.search(text):
        _vanity_spans(text, region, spans)
    if next(itertools.islice(_DIGIT.finditer(text), _MIN_DIGITS - 1, None), None) is None:
        return [PhoneSpan(start, end, frozenset(readings)) for (start, end), readings in sorted(spans.items())]
    # Run start -> the run, or None if it follows a country code in its chain (never read alone).
    starts: dict[int, _Run | None] = {}
    ends: set[int] = set()
    # A chain with enough digits that the run scan could not read: the matcher gets a look.
    unread: list[list[_Run]] = []
    for chain in _chains(text):
        found_before = len(spans)
        # After an explicit international number ("+44 (0)20 7946 0958", "0047 912 34 567") the
        # runs it took are its own: a window starting inside it would read its tail as another
        # number. A country code alone also binds the run after it ("+45 9123 4567").
        taken = _international_head(text, chain, region, spans)
        for i, run in enumerate(chain):
            bound = i <= taken or (i > 0 and chain[i - 1].prefix)
            starts[run.start] = None if i > 0 and bound else run
            ends.add(run.end)
        _chain_windows(text, chain, taken, region, spans, wanted, sure)
        first = chain[0]
        international = first.plus or first.digits.startswith("00")
        if international and len(spans) == found_before and sum(len(r.digits) for r in chain) >= _MIN_DIGITS:
            unread.append(chain)
    _loose_spans(text, region, spans, wanted, sure)
    # Only where the run scan met an international number it could not read: elsewhere the matcher
    # (about 250 µs a chain) would find again what the scan found. Without '+'/'00' it reads
    # home numbers only, which the windows above have all tried; order numbers and case ids
    # (most of the digits in a contact centre's texts) would each cost a matcher call for nothing.
    for chain in unread:
        for span in _matcher_spans(text, region, chain, starts, ends):
            spans.setdefault((span.start, span.end), set()).update(span.readings)
    if "/" in text:
        _alternative_endings(text, spans)
    return [PhoneSpan(start, end, frozenset(readings)) for (start, end), readings in sorted(spans.items())]


# A NANP toll-free number written with letters for its last seven digits, as the ITU's keypad maps
# them (E.161: ABC 2 … WXYZ 9): "1-800-FLOWERS", "1 (800) GOT-JUNK", "tel:+1-800-FLOWERS". With the
# country code "1" always, except in a solution at home in the NANP; the letters in capitals.
_VANITY_HINT = re.compile(r"8(?:00|33|44|55|66|77|88)\)?[ \-.]?[A-Z0-9]{0,6}[A-Z]")
_VANITY = re.compile(
    r"(?<![\w+])(?P<code>\+?1[ \-.]?)?"
    r"(?:\((?P<bracketed>8(?:00|33|44|55|66|77|88))\)|(?P<area>8(?:00|33|44|55|66|77|88)))"
    r"[ \-.]?(?P<word>(?=[0-9\-]*[A-Z])[A-Z0-9](?:-?[A-Z0-9]){6})(?![\w\-])"
)
_KEYPAD = str.maketrans(
    {
        letter: digit
        for digit, letters in zip("23456789", ("ABC", "DEF", "GHI", "JKL", "MNO", "PQRS", "TUV", "WXYZ"), strict=True)
        for letter in letters
    }
)
_NANP_REGIONS = frozenset(("US", "CA"))


def _vanity_spans(text: str, region: str, spans: dict[tuple[int, int], set[str]]) -> None:
    for match in _VANITY.finditer(text):
        if match.group("code") is None and region not in _NANP_REGIONS:
            continue
        area = match.group("bracketed") or match.group("area")
        reading = _country_code_reading("1" + area + match.group("word").replace("-", "").translate(_KEYPAD))
        if reading is not None:
            spans.setdefault(match.span(), set()).add(reading)


# E.123 (7.1) writes a subscriber's alternative numbers by their differing last digits after a
# slash: "0607 123 4567 / 8", "912 34 567 / 568". One digit only where nothing but punctuation or
# the end follows ("/ 2 dager" is a count of days); never a year ("912 34 567/2024", a case number),
# nor the first group of a second number ("20 12 34 56 / 98 76 54 32").
_ALT_ENDING = re.compile(
    r"[ \t]?/[ \t]?(?!(?:19|20)[0-9]{2}(?![0-9]))([0-9]{2,4}|[0-9](?=[ \t]*(?:$|[\r\n.,;)])))"
    r"(?![0-9]|[ \t.\-]?[0-9])"
)


def _alternative_endings(text: str, spans: dict[tuple[int, int], set[str]]) -> None:
    """A number followed by an alternative ending also reads as the number with that ending; the ending
    reads as both (erasing either number leaves no digits of the other: "[X] / [X]")."""
    for (start, end), readings in list(spans.items()):
        ending = _ALT_ENDING.match(text, end)
        if ending is None:
            continue
        tail = ending.group(1)
        alternatives = {
            alternative
            for reading in readings
            if len(tail) < len(reading) - 4
            and (alternative := _country_code_reading(reading[1 : -len(tail)] + tail)) is not None
        }
        if alternatives:
            both = readings | alternatives
            spans[(start, end)] = both
            spans.setdefault(ending.span(1), set()).update(both)


def _loose_spans(
    text: str,
    region: str,
    spans: dict[tuple[int, int], set[str]],
    wanted: Mapping[str, str] | None,
    sure: frozenset[str],
) -> None:
    """Numbers written with a separator the chains do not take (``_LOOSE``), read as a whole as a
    grouped window is; not where the text is no number (an amount, a version: ``_excluded``)."""
    zones: list[tuple[int, int]] | None = None
    for match in _LOOSE.finditer(text):
        digits = _NON_DIGITS.sub("", match.group())
        if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
            continue
        if zones is None:
            zones = _excluded(text)  # only for a text that has such a number: most have none
        if any(start < match.end() and match.start() < end for start, end in zones):
            continue
        readings = set(_readings(digits, match.group().startswith("+"), region, grouped=True))
        if wanted is not None and digits in wanted and (digits in sure or _national_reading(digits, region) is None):
            readings.add(wanted[digits])  # the requested person's own digits, as the chains read them
        if readings:
            spans.setdefault(match.span(), set()).update(readings)


def scan_phones(text: str, country: str) -> list[PhoneSpan]:
    """Every span of ``text`` that may be a phone number, with all its readings (spans may overlap).

    ``country`` is the solution's ISO 3166 code (the home of national numbers). Spans are in
    ``text``'s own coordinates, whatever the reading view made of it.
    """
    view = read(text)
    return [
        PhoneSpan(*view.original_span(span.start, span.end), span.readings)
        for span in _scan_view(view.text, country.strip().upper())
    ]


def find_phones(text: str, country: str) -> list[tuple[int, int, str]]:
    """``(start, end, e164)`` for every reading of every phone number in ``text``."""
    return [(span.start, span.end, e164) for span in scan_phones(text, country) for e164 in sorted(span.readings)]


def _emails_view(text: str, breaks: tuple[int, ...] = ()) -> list[tuple[int, int, str]]:
    """Every address in a reading view's text, in its coordinates, normalised as requests are.

    Besides the addresses as written: an address glued to the next word ("kari@x.noTakk") is also
    read without it, one wrapped at a line break (``breaks``) also read whole, and one spelt out
    ("kari at x.no", "kari at x dot no") read as the address. These readings are extra: the index
    records them (a row), and only a request for exactly that address replaces them.
    """
    written = "@" in text
    spelt = " at " in text or " AT " in text or " At " in text or "krøllalfa" in text or "alfakrøll" in text
    if not written and not spelt:
        return []
    found = []
    for match in _EMAIL.finditer(text) if written else ():
        start, end = match.span()
        raw = match.group()
        # A quote before the address is punctuation, not part of its local part.
        while raw[0] in "'`":
            raw, start = raw[1:], start + 1
        raw, end = _without_next_sentence(raw, end)
        if raw.endswith("_"):
            # No domain ends with '_': "…@example.no__;!!" is Proofpoint's wrapping (v3).
            kept = raw.rstrip("_")
            raw, end = kept, end - (len(raw) - len(kept))
        envelope = _envelope(text, start, end) if start and text[start - 1] == "=" else None
        if envelope is None and start and text[start - 1] in "&?":
            envelope = _mailto_local(text, start, end, raw)
        if envelope is not None:
            # A rewritten envelope address: the person is the original sender it encodes, and the
            # whole rewritten address is theirs; the part after its last '=' is nobody's address.
            found.append(envelope)
            continue
        address = _normalize_email(raw) if _ON_IP.search(raw) is None else None
        if address is not None:
            found.append((start, end, address))
            if _LITERAL_PREFIX.match(raw) and text.startswith("'", end):
                # A string literal in a log ("b'kari@x.no'", "u'…'"): the prefix is Python's; read
                # without it too (a local part "d'artagnan" is left as it was written).
                found.append((start + 2, end, _normalize_email(raw[2:]) or address))
            glued = _without_glued_word(raw)
            if glued is not None and (address := _normalize_email(glued)) is not None:
                found.append((start, end - (len(raw) - len(glued)), address))
    for match in _RFC5322_LOCAL.finditer(text) if written and ('"@' in text or ")@" in text) else ():
        # RFC 5322 forms of a plain address: a quoted local part that needs no quotes
        # ('"kari.nordmann"@x.no'), a comment before the '@' ("kari.nordmann(kundeservice)@x.no").
        local = match.group("quoted") or match.group("commented")
        address = _normalize_email(f"{local}@{match.group('domain')}")
        if address is not None:
            found.append((match.start(), match.end(), address))
    for at in breaks if written else ():
        found.extend(_wrapped(text, at))
    for match in _SPELT_EMAIL.finditer(text) if spelt else ():
        local, domain = _SPELT_DOT.sub(".", match.group("local")), _SPELT_DOT.sub(".", match.group("domain"))
        address = _normalize_email(f"{local}@{domain}")
        if address is not None:
            found.append((match.start(), match.end(), address))
    if len(found) > 1:
        found.sort()
    return found


_DOT_ATOM = rf"{_LOCAL_CHAR}+(?:\.{_LOCAL_CHAR}+)*"
_RFC5322_LOCAL = re.compile(
    rf'(?:(?<![\w"])"(?P<quoted>{_DOT_ATOM})"'
    rf"|(?<![\w.!#$%'*+^`~\-])(?P<commented>{_DOT_ATOM})\([^()\r\n]{{0,64}}\))"
    rf"@(?P<domain>{_DOMAIN_CHAR}+(?:\.{_DOMAIN_CHAR}+)+)(?![\w\-])(?!\.[\w\-])"
)
# Envelope senders rewritten by mail systems, as Return-Path and Received headers keep them: SRS
# (the Sender Rewriting Scheme, https://www.libsrs2.org/srs/srs.pdf: "SRS0=hash=tt=domain=local@
# forwarder", "SRS1=hash=first-forwarder==hash=tt=domain=local@forwarder"), VERP as Mailman writes
# it ("list-bounces+local=domain@list-host"), and BATV's "prvs=tag=local" inside either.
_ENVELOPE_CHARS = frozenset("!#$%&'*+-/=?^_`{|}~.") | frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)
_SRS = re.compile(
    r"SRS0=[^=@]+=[^=@]+=(?P<domain>[^=@]+)=(?P<local>[^@]+)@|SRS1=[^=@]+=[^=@]+=+[^=@]+=[^=@]+=(?P<domain1>[^=@]+)=(?P<local1>[^@]+)@",
    re.IGNORECASE,
)
_VERP = re.compile(r"[^+=@]+\+(?P<local>[^=@]+)=(?P<domain>[^=@]+\.[^=@]+)@")
_BATV = re.compile(r"(?:prvs|btv1)=[^=@]+=", re.IGNORECASE)


# A mailto: link's local part holding '&' or '?', which RFC 6068 writes as "%26" and "%3F" and the
# reading view decodes ("mailto:kari%26ola@x.no"): the whole local part from "mailto:" on, if
# nothing in it opens a header field ("mailto:?to=kari@x.no" keeps its '=').
_MAILTO_LOCAL = re.compile(r"(?i:mailto:)(?P<local>[\w.!#$%&'*+/^`{|}~?\-]{1,64})\Z")


def _mailto_local(text: str, start: int, end: int, raw: str) -> tuple[int, int, str] | None:
    """The address whose local part a '&' or '?' just before ``start`` cut, read from "mailto:" on."""
    head = _MAILTO_LOCAL.search(text, max(0, start - 72), start)
    if head is None or head.group("local")[0] in "&?":
        return None
    address = _normalize_email(head.group("local") + raw)
    return None if address is None else (head.start("local"), end, address)


def _envelope(text: str, start: int, end: int) -> tuple[int, int, str] | None:
    """The envelope address that ends at ``end`` and whose last '=' stands before ``start``, read as the
    address it encodes: ``(its start, end, that address)``, or None when it is no SRS or VERP address."""
    first = start - 1
    while first > 0 and text[first - 1] in _ENVELOPE_CHARS:
        first -= 1
    written = text[first:end]
    match = _SRS.match(written) or _VERP.match(written)
    if match is None:
        return None
    groups = match.groupdict()
    local = groups.get("local1") or groups["local"]
    domain = groups.get("domain1") or groups["domain"]
    local = _BATV.sub("", local, count=1) if _BATV.match(local) else local
    address = _normalize_email(f"{local}@{domain}")
    return None if address is None or "=" in local else (first, end, address)


_LITERAL_PREFIX = re.compile(r"[bBuUrRfF]'")
# No top-level domain is digits: "room@140.252.65.232" is a video room on a network address.
_ON_IP = re.compile(r"@[0-9]{1,3}(?:\.[0-9]{1,3}){3}\Z")
# "kari at example.no", "kari AT example dot no": an address spelt out without brackets, as people
# write it and speech-to-text writes what they say ("kari dot nordmann at gmail dot com", Norwegian
# "kari punktum nordmann krøllalfa example punktum no"): "dot" may join the local part's words too.
_SPELT_DOT = re.compile(r"[ \t]+(?:dot|DOT|Dot|punktum|prikk)[ \t]+")
_SPELT_JOIN = r"(?:\.|[ \t]+(?:dot|DOT|Dot|punktum|prikk)[ \t]+)"
_SPELT_EMAIL = re.compile(
    rf"(?<![\w.+\-@])(?P<local>[A-Za-z0-9][\w.+\-]{{0,63}}(?:{_SPELT_JOIN}[A-Za-z0-9][\w+\-]{{0,63}}){{0,3}})"
    r"[ \t]+(?:at|AT|At|krøllalfa|alfakrøll)[ \t]+"
    rf"(?P<domain>[A-Za-z0-9][\w\-]{{0,62}}(?:{_SPELT_JOIN}[A-Za-z0-9][\w\-]{{0,62}}){{0,4}}"
    rf"{_SPELT_JOIN}[A-Za-z]{{2,6}})(?![\w@]|\.[\w])"
)
# Top-level domains a glued word is cut from ("kari@x.nofor spørsmål" -> "kari@x.no").
_COMMON_TLDS = ("com", "net", "org", "no", "se", "dk", "fi", "is", "de", "uk", "eu", "io", "nl", "pl", "fr")
_KNOWN_TLDS = frozenset((*_COMMON_TLDS, "info", "name", "aero", "museum", "travel", "email", "online"))
# Words that follow an address glued to it when a line break was lost ("kari@x.nohilsen").
_CLOSING_WORDS = frozenset(
    (
        "hilsen",
        "mvh",
        "takk",
        "vennlig",
        "vh",
        "hälsningar",
        "mvh.",
        "regards",
        "thanks",
        "best",
        "cheers",
        "sent",
        "sendt",
    )
)
_GLUED_CAPITAL = re.compile(r"(?<=[a-z0-9])(?=[A-ZÆØÅ][a-zæøå])")
_WRAPPED_LOCAL = re.compile(r"[\w'+\-]+[._\-][\w.'+\-]*[\w'+]")
_BEFORE_LOCAL = ":<(\"'=,;"
_PROPERTY_LINE = re.compile(r"(?:[a-z0-9\-]+\.)?[A-Z][A-Z0-9\-]*[:;]")
# How far a wrapped address may reach on each side of its line break.
_WRAP_REACH = 254


def _without_glued_word(raw: str) -> str | None:
    """ "kari@x.noTakk" -> "kari@x.no"; "kari@x.nohilsen" -> "kari@x.no": the address with the
    word glued after its top-level domain cut off, or None when nothing looks glued."""
    local, _, domain = raw.rpartition("@")
    head, dot, last = domain.rpartition(".")
    if not dot or len(last) <= 3 or last.lower() in _KNOWN_TLDS:
        return None  # most addresses: nothing glued
    capital = _GLUED_CAPITAL.search(last)
    if capital is not None and last[: capital.start()].islower():
        return f"{local}@{head}.{last[: capital.start()]}"
    lower = last.lower()
    for tld in _COMMON_TLDS:
        # In lower case only a word that closes a message reads as glued: "example.community"
        # and "example.network" are other people's addresses, never example.com or example.net.
        if lower.startswith(tld) and lower[len(tld) :] in _CLOSING_WORDS:
            return f"{local}@{head}.{last[: len(tld)]}"
    return None


def _wrapped(text: str, at: int) -> list[tuple[int, int, str]]:
    """An address wrapped at the line break read at ``text[at]`` (a space in the view), read whole."""
    left_start = at
    while left_start > 0 and at - left_start < _WRAP_REACH and not text[left_start - 1].isspace():
        left_start -= 1
    right_end = at + 1
    while right_end < len(text) and right_end - at < _WRAP_REACH and not text[right_end].isspace():
        right_end += 1
    left, right = text[left_start:at], text[at + 1 : right_end]
    if not left or not right or ("@" not in left and "@" not in right):
        return []
    if _PROPERTY_LINE.match(right):
        return []  # the next vCard/iCalendar content line ("…@x.no|END:VCARD"), not the address's rest
    if "@" not in left:
        # What stands before a local part on its line: a URI's scheme or a property's name
        # ("ATTENDEE;RSVP=TRUE:mailto:kari.nordm|ann@…", an iCalendar line folded at 75 octets).
        cut = max(left.rfind(mark) for mark in _BEFORE_LOCAL)
        left_start, left = left_start + cut + 1, left[cut + 1 :]
    # A local part wrapped is one with a separator inside its first line ("kari.nord|mann@…"),
    # not a word on the line before an address ("Hei|kari@…", "Takk.|kari@…").
    if "@" not in left and _WRAPPED_LOCAL.fullmatch(left) is None:
        return []
    joined = left + right
    found = []
    for start, end, address in _emails_view(joined):
        # Only an address that the break cuts: the others are read where they stand.
        if start < len(left) < end:
            found.append((left_start + start, left_start + end + 1, address))
    return found


def _without_next_sentence(raw: str, end: int) -> tuple[str, int]:
    """Cut "kari@x.no.Takk" back to "kari@x.no": a capitalised label (the next sentence's first
    word) after at least two lower-case ones."""
    local, _, domain = raw.rpartition("@")
    labels = domain.split(".")
    if len(labels) < 3:
        return raw, end
    for k in range(2, len(labels)):
        capitalised = labels[k][:1].isupper() and labels[k][1:2].islower()
        if capitalised and all(label == label.lower() for label in labels[:k]):
            kept = ".".join(labels[:k])
            return f"{local}@{kept}", end - (len(domain) - len(kept))
    return raw, end


def find_emails(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, address)`` for every email address in ``text``, normalised as requests are."""
    view = read(text)
    return [(*view.original_span(start, end), address) for start, end, address in _emails_view(view.text, view.breaks)]


def mask_written(text: str, country: str) -> str:
    """``text`` with every phone number and address it writes masked (``91****67``, ``k***@***.no``):
    for a log line that must name something only a person's identifier names, a file's path."""
    spans = sorted(  # the longest of spans that start together: an address over its numeric local part
        [(start, end, mask_phone(text[start:end])) for start, end, _ in find_phones(text, country)]
        + [(start, end, mask_email(address)) for start, end, address in find_emails(text)],
        key=lambda span: (span[0], -span[1]),
    )
    out: list[str] = []
    cursor = 0
    for start, end, mask in spans:
        if start < cursor:  # inside a span already masked
            continue
        out += [text[cursor:start], mask]
        cursor = end
    return "".join([*out, text[cursor:]])


def identifiers_of(text: str, country: str) -> tuple[set[str], set[str]]:
    """The phone numbers (E.164) and addresses ``text`` writes: what the mention index keeps.

    ``find_phones`` and ``find_emails`` without their spans, from one reading of the text: the
    reading view is most of a long text's cost, and each of them made its own.
    """
    view = read(text)
    phones = {e164 for span in _scan_view(view.text, country.strip().upper()) for e164 in span.readings}
    emails = {address for _, _, address in _emails_view(view.text, view.breaks)}
    return phones, emails


@functools.lru_cache(maxsize=65_536)
def _normalize_email(raw: str) -> str | None:
    # An ASCII address the pattern matched normalises to itself in lower case, which is what
    # identifiers.parse_email makes of a request's address; email_validator (about 1 ms an
    # address) is kept for internationalised ones and punycode domains (which it reads as
    # Unicode, as it does a request's). A malformed one indexed here costs a row, never a
    # replacement: no request can carry it.
    if raw.isascii() and "xn--" not in raw.lower():
        return raw.lower()
    return normalize_email_lenient(unicodedata.normalize("NFC", raw))


# ---------------------------------------------------------------------------------------------
# Replacing
# ---------------------------------------------------------------------------------------------


def name_forms(name: str | None) -> tuple[str, ...]:
    """The ways a customer name appears in text: the full name, then each capitalised part.

    Lower-case particles ("van", "de") and one-letter initials are left out: alone they are
    ordinary words. ``Anonymized`` (a name already replaced) yields nothing.
    """
    if not name:
        return ()
    full = " ".join(name.split())
    parts = [p for p in re.split(r"[\s,]+", full) if len(p) >= 2 and p[:1].isupper()]
    return tuple(dict.fromkeys([full, *parts])) if full else ()


@functools.lru_cache(maxsize=4096)
def _name_pattern(forms: tuple[str, ...]) -> re.Pattern[str] | None:
    # Read like the text is: a name stored decomposed or with a Unicode hyphen still matches.
    ordered = sorted({read(n).text for n in forms if n}, key=len, reverse=True)
    if not ordered:
        return None
    # Whole words only, so "Ola" never eats into "Olav"; spaces inside a name match any run of
    # whitespace, as names wrap across lines in emails.
    alternatives = [r"\s+".join(re.escape(part) for part in form.split()) for form in ordered]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _view_spans(
    view: ReadingView,
    identifiers: Collection[str],
    country: str,
    names: Iterable[str],
    trusted: Collection[str] = (),
) -> list[tuple[int, int]]:
    """Where to replace, in the view's coordinates: leftmost, then longest, never overlapping.

    ``trusted``: the interaction's own customer identifiers (it is the person's own): there a
    foreign number's national digits are theirs even where they could be a home number.
    """
    phones = {i for i in identifiers if "@" not in i}
    emails = {i for i in identifiers if "@" in i}
    candidates: list[tuple[int, int]] = []
    addresses = _emails_view(view.text, view.breaks)
    candidates.extend((start, end) for start, end, address in addresses if address in emails)
    if phones:
        region = country.strip().upper()
        wanted = _wanted(frozenset(phones), region)
        sure = frozenset(digits for digits, e164 in wanted.items() if e164 in trusted)
        candidates.extend((s.start, s.end) for s in _scan_view(view.text, region, wanted, sure) if s.readings & phones)
    pattern = _name_pattern(tuple(names))
    if pattern is not None:
        address_starts = [start for start, _, _ in addresses]
        for match in pattern.finditer(view.text):
            # Never inside an address: someone else's may contain the same first name.
            i = bisect.bisect_right(address_starts, match.start()) - 1
            if i < 0 or match.start() >= addresses[i][1]:
                candidates.append(match.span())
    # Sorted once and taken left to right: linear in the candidates, however many there are
    # ("0047 912 34 567" rather than its tail, which starts later).
    chosen: list[tuple[int, int]] = []
    last_end = -1
    for start, end in sorted(candidates, key=lambda span: (span[0], span[0] - span[1])):
        if start >= last_end:
            chosen.append((start, end))
            last_end = end
    return chosen


@functools.lru_cache(maxsize=1024)
def _wanted(phones: frozenset[str], region: str) -> dict[str, str]:
    """The national forms of the requested foreign numbers: digits -> E.164.

    Erasure knows whom it looks for: a Danish "20 12 34 56", a Polish "512 345 678", a US
    "201-234-5678" is the requested person's number when the request names exactly that number,
    wherever a reader reads those digits as a number (whole runs, not an amount, a version, an
    address on the network). A country with a trunk prefix is written with it ("070 123 45 67").
    """
    home = _calling_code(region)
    wanted: dict[str, str] = {}
    for e164 in phones:
        try:
            number = phonenumbers.parse(e164, None)
        except NumberParseException:
            continue
        if number.country_code == home:
            continue
        nsn = phonenumbers.national_significant_number(number)
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_number(number) or "")
        trunk = (metadata.national_prefix or "") if metadata is not None else ""
        wanted[trunk + nsn if trunk.startswith("0") else nsn] = e164
        if trunk == "1":
            wanted["1" + nsn] = e164  # "1-201-234-5678"
    return wanted


def identifier_spans(
    text: str,
    identifiers: Collection[str],
    country: str,
    names: Iterable[str] = (),
    trusted: Collection[str] = (),
) -> list[tuple[int, int]]:
    """Where ``replace_identifiers`` would replace: sorted, non-overlapping ``(start, end)`` spans of ``text``."""
    view = read(text)
    return [view.original_span(start, end) for start, end in _view_spans(view, identifiers, country, names, trusted)]


def mentions_any(text: str, identifiers: Collection[str], country: str, trusted: Collection[str] = ()) -> bool:
    """Whether ``text`` writes any of the identifiers, in any form the scanner reads.

    The rule for a variable value that is replaced whole: the same reading as everywhere else.
    """
    return bool(identifiers) and bool(identifier_spans(text, identifiers, country, (), trusted))


def replace_identifiers(
    text: str,
    identifiers: Collection[str],
    country: str,
    replacement: str,
    names: Iterable[str] = (),
    trusted: Collection[str] = (),
) -> tuple[str, int]:
    """Replace every occurrence of the identifiers (and ``names``) in ``text``; ``(new_text, count)``.

    ``identifiers`` are normalised: E.164 phone numbers and lower-case email addresses. A phone
    number is replaced in whichever form it is written ("912 34 567", "+47-912-34-567",
    "0047 91234567", "912&nbsp;34&nbsp;567", "tel:%2B4791234567"); a number that merely shares
    digits with it (an order number, a date, a number with another country code) is not,
    because only whole candidates whose reading is the number count. ``names`` are replaced as
    whole words, case-insensitively, but never inside an email address (someone else's address
    may contain the same first name). ``trusted``: see ``_view_spans``.
    """
    view = read(text)
    chosen = [view.original_span(start, end) for start, end in _view_spans(view, identifiers, country, names, trusted)]
    if not chosen:
        return text, 0
    pieces: list[str] = []
    cursor = 0
    count = 0
    for start, end in chosen:
        if start < cursor:
            continue  # another span inside the same "B" encoded word, replaced with it
        encoded = view.encoding_at(start, end)
        if encoded is not None and encoded.encoding is Encoding.ENCODED_WORD_B:
            # A "B" word is read as a whole: its decoded text (with the words after it that the
            # span reaches into) is replaced and encoded again, as one word.
            words = view.words_within(start, end)
            if all(word.encoding is Encoding.ENCODED_WORD_B for word in words) and end <= words[-1].end:
                decoded = "".join(_decode_b_word(text[w.start : w.end], w.charset) for w in words)
                new, n = replace_identifiers(decoded, identifiers, country, replacement, names, trusted)
                pieces.append(text[cursor : words[0].start])
                pieces.append(_encode_b_word(new, "utf-8"))
                cursor, count = words[-1].end, count + n
                continue
        pieces.append(text[cursor:start])
        # Tags the span reaches over stay ("<b>912</b> 34 567" keeps its "</b>"), so the
        # replacement never breaks the markup around it.
        pieces.append(_encode_replacement(replacement, encoded) + view.markup_within(start, end))
        cursor, count = end, count + 1
    pieces.append(text[cursor:])
    return "".join(pieces), count


def _decode_b_word(word: str, charset: str) -> str:
    payload = word[word.index("?", word.index("?", 2) + 1) + 1 : -2]
    return base64.b64decode(payload).decode(charset, "replace")


def _encode_b_word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset, 'replace')).decode('ascii')}?="


# Characters an RFC 2047 "Q" word may hold as they are (RFC 2047, 5 (3)).
_Q_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def _encode_replacement(replacement: str, encoded: EncodedSpan | None) -> str:
    """The replacement written in the encoding of the text it stands in, so that text still decodes."""
    if encoded is None:
        return replacement
    if encoded.encoding is Encoding.ENCODED_WORD_Q:
        return "".join(
            ch
            if ch in _Q_SAFE
            else "_"
            if ch == " "
            else "".join(f"={b:02X}" for b in ch.encode(encoded.charset, "replace"))
            for ch in replacement
        )
    if encoded.encoding is Encoding.QUOTED_PRINTABLE:
        return "".join(
            ch if " " <= ch <= "~" and ch != "=" else "".join(f"={b:02X}" for b in ch.encode("utf-8"))
            for ch in replacement
        )
    if encoded.encoding is Encoding.JSON_STRING:
        # Plain text, with what a JSON string cannot hold as it is escaped.
        return json.dumps(replacement, ensure_ascii=False)[1:-1]
    return replacement


def replace_identifier(
    text: str, identifier: str, country: str, replacement: str, names: Iterable[str] = ()
) -> tuple[str, int]:
    """``replace_identifiers`` for one E.164 number or lower-case address."""
    return replace_identifiers(text, (identifier,), country, replacement, names)
