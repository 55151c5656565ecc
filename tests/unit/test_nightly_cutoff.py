"""Cutoffs and retention arithmetic: local calendar days and calendar months, DST included."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from archivist.anonymize.requests import end_of_local_day
from archivist.times import months_after, months_before

OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("entered", "timezone", "cutoff_utc"),
    [
        # Winter in Oslo (UTC+1): local midnight is 23:00 UTC.
        (datetime(2026, 3, 10, 12, 0, tzinfo=OSLO), "Europe/Oslo", datetime(2026, 3, 10, 23, 0, tzinfo=UTC)),
        # One minute before midnight still belongs to that day.
        (datetime(2026, 3, 10, 23, 59, tzinfo=OSLO), "Europe/Oslo", datetime(2026, 3, 10, 23, 0, tzinfo=UTC)),
        # Midnight itself starts the next day.
        (datetime(2026, 3, 11, 0, 0, tzinfo=OSLO), "Europe/Oslo", datetime(2026, 3, 11, 23, 0, tzinfo=UTC)),
        # Spring-forward day (23 hours): ends at midnight CEST, 22:00 UTC.
        (datetime(2026, 3, 29, 1, 30, tzinfo=OSLO), "Europe/Oslo", datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
        # Fall-back day (25 hours): ends at midnight CET, 23:00 UTC; both 02:30s belong to it.
        (datetime(2026, 10, 25, 2, 30, tzinfo=OSLO), "Europe/Oslo", datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
        (datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=OSLO), "Europe/Oslo", datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
        # The entry instant is given in UTC but the day is the solution's: 23:30 UTC is already tomorrow in Oslo.
        (datetime(2026, 3, 10, 23, 30, tzinfo=UTC), "Europe/Oslo", datetime(2026, 3, 11, 23, 0, tzinfo=UTC)),
        # A zone behind UTC: 20:00 in New York on 10 March is 00:00 UTC on the 11th.
        (datetime(2026, 3, 11, 0, 0, tzinfo=UTC), "America/New_York", datetime(2026, 3, 11, 4, 0, tzinfo=UTC)),
        # Havana springs forward at midnight: the day that has no 00:00 starts at 01:00 CDT (05:00 UTC).
        (datetime(2026, 3, 7, 12, 0, tzinfo=UTC), "America/Havana", datetime(2026, 3, 8, 5, 0, tzinfo=UTC)),
    ],
)
def test_cutoff_is_the_first_instant_of_the_next_local_day(
    entered: datetime, timezone: str, cutoff_utc: datetime
) -> None:
    assert end_of_local_day(entered, timezone) == cutoff_utc


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 3, 10, 1, 0, tzinfo=UTC), 12, datetime(2025, 3, 10, 1, 0, tzinfo=UTC)),
        (datetime(2026, 3, 10, 1, 0, tzinfo=UTC), 13, datetime(2025, 2, 10, 1, 0, tzinfo=UTC)),
        # The day is clamped to the shorter month.
        (datetime(2026, 3, 31, 1, 0, tzinfo=UTC), 1, datetime(2026, 2, 28, 1, 0, tzinfo=UTC)),
        (datetime(2024, 3, 31, 1, 0, tzinfo=UTC), 1, datetime(2024, 2, 29, 1, 0, tzinfo=UTC)),
        # Across a year boundary.
        (datetime(2026, 1, 15, 0, 0, tzinfo=UTC), 1, datetime(2025, 12, 15, 0, 0, tzinfo=UTC)),
        # A moment in another zone is counted in UTC (02:00 Oslo in winter is 01:00 UTC).
        (datetime(2026, 3, 10, 2, 0, tzinfo=OSLO), 12, datetime(2025, 3, 10, 1, 0, tzinfo=UTC)),
    ],
)
def test_months_before_counts_calendar_months(moment: datetime, months: int, expected: datetime) -> None:
    assert months_before(moment, months) == expected


def test_months_after_is_the_inverse_where_no_clamping_happens() -> None:
    moment = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    assert months_after(months_before(moment, 12), 12) == moment
