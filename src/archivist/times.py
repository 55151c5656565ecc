"""The range of times the archive accepts, and the one check every time that comes in goes through.

A time far outside the life of a contact centre is a typo or an attack, never a call: year
9999 with a negative offset is year 10000 in UTC, which PostgreSQL stores but Python cannot
read back, and which then breaks every list that meets the row. So every time that enters —
a body field, a query parameter, a cursor, ``archivist nightly --as-of`` — is checked here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

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


def iso_text_only(value: Any) -> Any:
    """Refuse a number where a time or date is expected (CONTRACT §18).

    Pydantic would read ``1767225600`` as Unix time: JSON times are strings. Values made in
    Python (an importer's ``datetime``) pass unchanged.
    """
    if isinstance(value, bool | int | float):
        raise ValueError(ISO_ONLY)
    return value


# The type of every time field of a request body.
ArchiveTime = Annotated[AwareDatetime, BeforeValidator(iso_text_only), AfterValidator(check_time)]
# The type of every date field of a request body (a legal hold's ``until``).
ArchiveDate = Annotated[date, BeforeValidator(iso_text_only)]
