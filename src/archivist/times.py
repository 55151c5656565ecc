"""The range of times the archive accepts, the one check every time that comes in goes through,
and the calendar arithmetic (months, local days) every rule that counts in them uses.

A time far outside the life of a contact centre is a typo or an attack, never a call: year
9999 with a negative offset is year 10000 in UTC, which PostgreSQL stores but Python cannot
read back, and which then breaks every list that meets the row. So every time that enters —
a body field, a query parameter, a cursor, ``archivist nightly --as-of`` — is checked here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

# Inclusive start and exclusive end of the accepted range.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

RANGE_MESSAGE = "must be from 1970-01-01 and before 2100-01-01 (UTC)"
# What a query parameter or form field that takes a time expects.
DATETIME_HINT = "Enter a date and time in ISO 8601 with an offset, e.g. 2026-03-01T08:00:00+01:00"
# Longer than any ISO 8601 time with microseconds and an offset.
MAX_TIME_TEXT = 40


class TimeOutOfRangeError(ValueError):
    """A time outside ``EARLIEST``..``LATEST``; the message says the range, never the value."""

    def __init__(self) -> None:
        super().__init__(RANGE_MESSAGE)


def in_range(value: datetime) -> bool:
    """Whether an aware ``value`` lies in the accepted range (comparing never overflows)."""
    return EARLIEST <= value < LATEST


def check_time(value: datetime) -> datetime:
    """``value`` unchanged if it is aware and in range; TimeOutOfRangeError otherwise."""
    if value.tzinfo is None or not in_range(value):
        raise TimeOutOfRangeError
    return value


def parse_time_text(text: str) -> datetime:
    """An ISO 8601 time with an offset, in range, as UTC; ValueError with a hint otherwise.

    Lenient about one thing: an unencoded ``+`` in a query string arrives as a space
    (``…T08:00:00 01:00``); that is what the user meant, so it is read as ``+``.
    """
    value = text.strip()
    if len(value) > MAX_TIME_TEXT:
        raise ValueError(DATETIME_HINT)
    if value.count(" ") == 1 and "T" in value:
        value = value.replace(" ", "+")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(DATETIME_HINT) from None
    if parsed.tzinfo is None:
        raise ValueError(DATETIME_HINT)
    return check_time(parsed).astimezone(UTC)


ISO_ONLY = "must be an ISO 8601 string, e.g. 2026-03-01T08:00:00+01:00"


# A number written as a string ("1767225600", " -5.5 "): pydantic reads that as Unix time too.
_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")


def iso_text_only(value: Any) -> Any:
    """Refuse a number where a time or date is expected (CONTRACT §18).

    Pydantic would read ``1767225600`` — and the string ``"1767225600"`` — as Unix time: JSON
    times are ISO 8601 strings. Values made in Python (an importer's ``datetime``) pass unchanged.
    """
    if isinstance(value, bool | int | float):
        raise ValueError(ISO_ONLY)
    # A time has a 'T' or a ':' (a date neither): only a string without them can be a number.
    if isinstance(value, str) and "T" not in value and ":" not in value and _NUMBER_TEXT.fullmatch(value):
        raise ValueError(ISO_ONLY)
    return value


# The type of every time field of a request body.
ArchiveTime = Annotated[AwareDatetime, BeforeValidator(iso_text_only), AfterValidator(check_time)]
# The type of every date field of a request body (a legal hold's ``until``).
ArchiveDate = Annotated[date, BeforeValidator(iso_text_only)]


# ---------------------------------------------------------------------------------------------
# Calendar arithmetic
# ---------------------------------------------------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same UTC wall-clock time ``months`` calendar months earlier (day clamped to the month).

    Counted in UTC so that the answer does not depend on which zone ``moment`` happens to carry.
    """
    moment = moment.astimezone(UTC)
    month_index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, _days_in_month(year, month + 1))
    return moment.replace(year=year, month=month + 1, day=day)


def months_after(moment: datetime, months: int) -> datetime:
    return months_before(moment, -months)


def _days_in_month(year: int, month: int) -> int:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - timedelta(days=1)).day


def local_midnight(day: date, timezone: str) -> datetime:
    """The first instant of a local calendar day, in its zone. A midnight that does not exist (a
    zone that springs forward at 00:00) resolves, with ``fold=0``, to the transition instant."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))


def local_day_start(moment: datetime, timezone: str, days: int = 0) -> datetime:
    """The start of the local calendar day ``days`` after the one ``moment`` falls on, in UTC.

    Built from the local date rather than by adding 24 hours, so that days of 23 and 25 hours
    (daylight-saving changes) begin and end at local midnight.
    """
    local_date = moment.astimezone(ZoneInfo(timezone)).date()
    return local_midnight(local_date + timedelta(days=days), timezone).astimezone(UTC)
