"""Local calendar days typed into the pages' date inputs, as the UTC range they cover."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from archivist.archive.search import FilterError


def local_day_start(field_name: str, text: str, timezone: str) -> datetime | None:
    """The start of a local calendar day typed as YYYY-MM-DD (the date input's value)."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(field_name, "Enter a date as YYYY-MM-DD") from None
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))


def day_range(from_text: str, to_text: str, timezone: str) -> tuple[datetime | None, datetime | None]:
    """From the start of *From* to the end of *To* (inclusive of that whole day)."""
    started_from = local_day_start("from", from_text, timezone)
    to_day = local_day_start("to", to_text, timezone)
    started_to = to_day + timedelta(days=1) if to_day else None
    if started_from and started_to and started_to <= started_from:
        raise FilterError("to", "To must be the same day as From or later")
    return started_from, started_to
