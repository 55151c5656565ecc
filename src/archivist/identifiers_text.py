"""Phone numbers and email addresses inside free text: find every mention, and replace one person's.

Pure functions (no I/O). Ingestion indexes what ``find_phones``/``find_emails`` report; erasure
calls ``replace_identifiers`` on exactly the texts the index names. Both go through the same
scan (``scan_phones``), so whatever erasure would replace was indexed at ingestion.

How a phone number is recognised. The text is cut into digit *runs* (digits glued by ``-`` or
``.``, optionally led by ``+``); runs separated only by a few spaces or a bracket form a
*chain*; every window of whole consecutive runs in a chain is a candidate. A run is never
split, so order number ``1912345678`` or ``12-91234567`` never yields ``91234567``; dates
(``2024-03-12``, ``12.03.2024``) break chains and are never numbers. A candidate is read:

- with ``+`` or ``00``: as that international number;
- otherwise as a number of the solution's country (valid numbers only); as a country code
  written without ``+`` (``4791234567``); and, only if it is not a valid home number, in the
  national form of a nearby country (``070-123 45 67`` is +46 70 123 45 67 in a NO solution).

A candidate may have several readings; the index records them all (over-indexing costs a row,
never a wrong replacement, because erasure replaces only spans with the request's own number).
``phonenumbers.PhoneNumberMatcher`` gets a look at an international chain (``+``/``00``) none of
whose windows could be read; its matches count where they align with whole runs, so its
inner-match heuristics cannot carve a number out of an order number.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import Leniency, NumberParseException, PhoneNumber, PhoneNumberFormat

from archivist.identifiers import normalize_email_lenient

__all__ = [
    "NEIGHBOUR_REGIONS",
    "PhoneSpan",
    "find_emails",
    "find_phones",
    "identifier_spans",
    "name_forms",
    "replace_identifier",
    "replace_identifiers",
    "scan_phones",
]

# Countries whose national forms are tried for a candidate that is not a valid home number:
# the Nordic and nearby countries whose numbers turn up in a Nordic contact centre, plus the
# big ones. Each costs one parse per such candidate, so the list stays short.
NEIGHBOUR_REGIONS: tuple[str, ...] = ("SE", "DK", "NO", "FI", "IS", "DE", "GB", "PL", "NL", "FR", "ES", "US")

# A window shorter than this is a postcode, an amount or a time, not a phone number; longer than
# this is not an E.164 number even with a 00 prefix (15 digits + "00").
_MIN_DIGITS = 6
_MAX_DIGITS = 17

# Digits glued by '-' or '.' are one run and are never split; '+' may lead. Not preceded by a
# word character, '@', '.', '%' or '-' (the middle of an identifier or an address) and not
# followed by a word character or '@' ("91234567@sms.example" is an email address).
_RUN = re.compile(r"(?<![\w.@%+\-])\+?[0-9]+(?:[.\-][0-9]+)*(?![\w@])")
# What may stand between two runs of one number: a few spaces and at most one bracket, as in
# "912 34 567", "(+47) 912 34 567", "+44 (0)20 7946 0958".
_GAP = re.compile(r"[ \t\u00a0]{0,2}[()]?[ \t\u00a0]{0,2}")
# A date is never a phone number, and it ends the chain it stands in.
_DATE = re.compile(r"[0-9]{1,2}([.\-])[0-9]{1,2}\1[0-9]{2,4}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
# "+47", "0047": a country code that binds to the run after it, so that run is never read alone
# ("+45 9123 4567" is a Danish number, not the Norwegian 91234567).
_COUNTRY_PREFIX = re.compile(r"\+[0-9]{1,3}|00[0-9]{1,3}")
_NON_DIGITS = re.compile(r"[^0-9]")
_DIGIT = re.compile(r"[0-9]")

# Email addresses: the same boundaries as identifiers.contains_email, so a match is never part
# of a longer address.
_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+(?![\w\-])(?!\.[\w\-])")


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
def _readings(digits: str, plus: bool, region: str, joined: bool = False) -> frozenset[str]:
    """Every E.164 number the digits may denote; cached because customers repeat their numbers."""
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
    # A country code without '+' ("4791234567", "47 91234567"), as platforms and some people
    # write it. Valid numbers only: without the '+' this is a guess; and not when the first run
    # is dashed or dotted ("47-91234567" is a reference, not a country code).
    if not digits.startswith("0") and not joined:
        found = _country_code_reading(digits)
        if found is not None:
            readings.add(found)
    if home is None:
        # A foreign number in its own national form. Only when it is no home number: a Danish
        # "91234567" cannot be told from a Norwegian one, and the home reading must win. Only
        # with the country's trunk prefix where it has a 0 one ("070…" in SE), as people write
        # them; NANP numbers are written without their trunk 1 ("(201) 555-0123").
        for other, trunk in _neighbours(region):
            if trunk.startswith("0") and not digits.startswith(trunk):
                continue
            found = _national_reading(digits, other)
            if found is not None:
                readings.add(found)
    return frozenset(readings)


# ---------------------------------------------------------------------------------------------
# Scanning
# ---------------------------------------------------------------------------------------------


def _chains(text: str) -> list[list[_Run]]:
    chains: list[list[_Run]] = []
    current: list[_Run] = []
    last_end = -1
    for match in _RUN.finditer(text):
        raw = match.group()
        if _DATE.fullmatch(raw):
            if current:
                chains.append(current)
            current, last_end = [], -1
            continue
        digits = _NON_DIGITS.sub("", raw)
        run = _Run(
            start=match.start(),
            end=match.end(),
            digits=digits,
            plus=raw.startswith("+"),
            prefix=_COUNTRY_PREFIX.fullmatch(raw) is not None,
            joined=len(raw) - raw.startswith("+") != len(digits),
        )
        # A '+' starts a new number; otherwise the run continues the chain if only a short gap
        # of spaces/one bracket lies between.
        joined = (
            current
            and not run.plus
            and last_end >= 0
            and run.start - last_end <= 5
            and _GAP.fullmatch(text, last_end, run.start) is not None
        )
        if not joined and current:
            chains.append(current)
            current = []
        current.append(run)
        last_end = run.end
    if current:
        chains.append(current)
    return chains


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


def scan_phones(text: str, country: str) -> list[PhoneSpan]:
    """Every span of ``text`` that may be a phone number, with all its readings (spans may overlap).

    ``country`` is the solution's ISO 3166 code (the home of national numbers).
    """
    if _DIGIT.search(text) is None:
        return []  # most chat lines: cheaper to look once than to set up the scan
    region = country.strip().upper()
    spans: dict[tuple[int, int], set[str]] = {}
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
            if bound:
                continue
            digits = ""
            for j in range(i, len(chain)):
                digits += chain[j].digits
                if len(digits) > _MAX_DIGITS:
                    break
                if len(digits) < _MIN_DIGITS:
                    continue
                readings = _readings(digits, run.plus, region, run.joined)
                if readings:
                    spans.setdefault((_window_start(text, chain, i, j), chain[j].end), set()).update(readings)
        first = chain[0]
        international = first.plus or first.digits.startswith("00")
        if international and len(spans) == found_before and sum(len(r.digits) for r in chain) >= _MIN_DIGITS:
            unread.append(chain)
    # Only where the run scan met an international number it could not read: elsewhere the matcher
    # (about 250 µs a chain) would find again what the scan found. Without '+'/'00' it reads
    # home numbers only, which the windows above have all tried; order numbers and case ids
    # (most of the digits in a contact centre's texts) would each cost a matcher call for nothing.
    for chain in unread:
        for span in _matcher_spans(text, region, chain, starts, ends):
            spans.setdefault((span.start, span.end), set()).update(span.readings)
    return [PhoneSpan(start, end, frozenset(readings)) for (start, end), readings in sorted(spans.items())]


def find_phones(text: str, country: str) -> list[tuple[int, int, str]]:
    """``(start, end, e164)`` for every reading of every phone number in ``text``."""
    return [(span.start, span.end, e164) for span in scan_phones(text, country) for e164 in sorted(span.readings)]


def find_emails(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, address)`` for every email address in ``text``, normalised as requests are."""
    if "@" not in text:
        return []
    found = []
    for match in _EMAIL.finditer(text):
        address = _normalize_email(match.group())
        if address is not None:
            found.append((match.start(), match.end(), address))
    return found


@functools.lru_cache(maxsize=65_536)
def _normalize_email(raw: str) -> str | None:
    # An ASCII address the pattern matched normalises to itself in lower case, which is what
    # identifiers.parse_email makes of a request's address; email_validator (about 1 ms an
    # address) is kept for internationalised ones. A malformed one indexed here costs a row,
    # never a replacement: no request can carry it.
    if raw.isascii():
        return raw.lower()
    return normalize_email_lenient(raw)


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


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    forms = sorted({n for n in names if n}, key=len, reverse=True)
    if not forms:
        return None
    # Whole words only, so "Ola" never eats into "Olav"; spaces inside a name match any run of
    # whitespace, as names wrap across lines in emails.
    alternatives = [r"\s+".join(re.escape(part) for part in form.split()) for form in forms]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def identifier_spans(
    text: str, identifiers: Collection[str], country: str, names: Iterable[str] = ()
) -> list[tuple[int, int]]:
    """Where ``replace_identifiers`` would replace: sorted, non-overlapping ``(start, end)`` spans."""
    phones = {i for i in identifiers if "@" not in i}
    emails = {i for i in identifiers if "@" in i}
    chosen: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in chosen)

    email_spans = find_emails(text)
    for start, end, address in email_spans:
        if address in emails:
            chosen.append((start, end))
    if phones:
        # Longest first: "0047 912 34 567" rather than its tail "912 34 567".
        candidates = [s for s in scan_phones(text, country) if s.readings & phones]
        for span in sorted(candidates, key=lambda s: (s.start - s.end, s.start)):
            if free(span.start, span.end):
                chosen.append((span.start, span.end))
    pattern = _name_pattern(names)
    if pattern is not None:
        addresses = [(s, e) for s, e, _ in email_spans]
        for match in pattern.finditer(text):
            inside_address = any(s <= match.start() < e for s, e in addresses)
            if not inside_address and free(match.start(), match.end()):
                chosen.append((match.start(), match.end()))
    return sorted(chosen)


def replace_identifiers(
    text: str,
    identifiers: Collection[str],
    country: str,
    replacement: str,
    names: Iterable[str] = (),
) -> tuple[str, int]:
    """Replace every occurrence of the identifiers (and ``names``) in ``text``; ``(new_text, count)``.

    ``identifiers`` are normalised: E.164 phone numbers and lower-case email addresses. A phone
    number is replaced in whichever form it is written ("912 34 567", "+47-912-34-567",
    "0047 91234567"); a number that merely shares digits with it (an order number, a date, a
    number with another country code) is not, because only whole candidates whose reading is
    the number count. ``names`` are replaced as whole words, case-insensitively, but never
    inside an email address (someone else's address may contain the same first name).
    """
    chosen = identifier_spans(text, identifiers, country, names)
    if not chosen:
        return text, 0
    pieces: list[str] = []
    cursor = 0
    for start, end in chosen:
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), len(chosen)


def replace_identifier(
    text: str, identifier: str, country: str, replacement: str, names: Iterable[str] = ()
) -> tuple[str, int]:
    """``replace_identifiers`` for one E.164 number or lower-case address."""
    return replace_identifiers(text, (identifier,), country, replacement, names)
