"""Local calendar days typed into the pages' date inputs, as the UTC range they cover."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from archivist.archive.search import FilterError
from archivist.times import RANGE_MESSAGE, in_range, local_midnight


def local_day_start(field_name: str, text: str, timezone: str) -> datetime | None:
    """The start of a local calendar day typed as YYYY-MM-DD (the date input's value)."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(field_name, "Enter a date as YYYY-MM-DD") from None
    start = local_midnight(day, timezone)
    if not in_range(start):
        raise FilterError(field_name, f"The date {RANGE_MESSAGE}")
    return start


def day_range(from_text: str, to_text: str, timezone: str) -> tuple[datetime | None, datetime | None]:
    """From the start of *From* to the end of *To* (inclusive of that whole day)."""
    started_from = local_day_start("from", from_text, timezone)
    to_day = local_day_start("to", to_text, timezone)
    started_to = to_day + timedelta(days=1) if to_day else None
    if started_from and started_to and started_to <= started_from:
        raise FilterError("to", "To must be the same day as From or later")
    return started_from, started_to


def local_moment(field_name: str, text: str, timezone: str, *, end_of_day: bool = False) -> datetime | None:
    """A local date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM, a datetime-local input's value).

    A bare date is the start of that day, or with ``end_of_day`` the start of the next, so that
    a *To* date includes the whole day as on the other pages. A time is read in ``timezone``.
    """
    value = text.strip()
    if not value:
        return None
    if len(value) == 10:
        start = local_day_start(field_name, value, timezone)
        return start + timedelta(days=1) if start is not None and end_of_day else start
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FilterError(field_name, "Enter a date as YYYY-MM-DD or a date and time as YYYY-MM-DD HH:MM") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    if not in_range(moment):
        raise FilterError(field_name, f"The time {RANGE_MESSAGE}")
    return moment
