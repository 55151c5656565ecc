"""The nightly trigger: local time in the solution's zone, once a night, DST changes included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from archivist.nightly.scheduler import NightlyTrigger

OSLO = ZoneInfo("Europe/Oslo")


def fire_times(trigger: NightlyTrigger, start: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times after ``start``, as the scheduler asks for them (in UTC)."""
    times: list[datetime] = []
    previous, now = None, start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        times.append(fire.astimezone(UTC))
        previous, now = fire, fire
    return times


def test_fires_daily_at_the_local_time_in_winter_and_summer() -> None:
    trigger = NightlyTrigger("02:00", "Europe/Oslo")

    assert fire_times(trigger, datetime(2026, 1, 10, 12, tzinfo=UTC), 2) == [
        datetime(2026, 1, 11, 1, 0, tzinfo=UTC),  # 02:00 CET
        datetime(2026, 1, 12, 1, 0, tzinfo=UTC),
    ]
    assert fire_times(trigger, datetime(2026, 6, 10, 12, tzinfo=UTC), 1) == [
        datetime(2026, 6, 11, 0, 0, tzinfo=UTC),  # 02:00 CEST
    ]


def test_spring_forward_night_fires_once_at_the_first_valid_instant() -> None:
    # 2026-03-29: clocks go from 02:00 CET straight to 03:00 CEST, so 02:00 does not exist.
    trigger = NightlyTrigger("02:00", "Europe/Oslo")

    assert fire_times(trigger, datetime(2026, 3, 28, 12, tzinfo=UTC), 3) == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 03:00 CEST, the moment 02:00 would have been
        datetime(2026, 3, 30, 0, 0, tzinfo=UTC),  # 02:00 CEST
        datetime(2026, 3, 31, 0, 0, tzinfo=UTC),
    ]


def test_fall_back_night_fires_once_not_in_both_repeated_hours() -> None:
    # 2026-10-25: 02:00-03:00 happens twice (CEST, then CET); a bare CronTrigger fires at both.
    trigger = NightlyTrigger("02:00", "Europe/Oslo")

    assert fire_times(trigger, datetime(2026, 10, 24, 12, tzinfo=UTC), 3) == [
        datetime(2026, 10, 25, 0, 0, tzinfo=UTC),  # the first 02:00 (CEST)
        datetime(2026, 10, 26, 1, 0, tzinfo=UTC),  # next night, 02:00 CET
        datetime(2026, 10, 27, 1, 0, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("nightly_at", "timezone", "expected_utc"),
    [
        ("02:00", "Europe/Stockholm", datetime(2026, 3, 11, 1, 0, tzinfo=UTC)),  # CET
        ("23:30", "America/New_York", datetime(2026, 3, 11, 3, 30, tzinfo=UTC)),  # EDT since 8 March
        ("00:00", "Asia/Tokyo", datetime(2026, 3, 10, 15, 0, tzinfo=UTC)),  # no DST at all
    ],
)
def test_each_solution_runs_in_its_own_zone(nightly_at: str, timezone: str, expected_utc: datetime) -> None:
    trigger = NightlyTrigger(nightly_at, timezone)

    assert fire_times(trigger, datetime(2026, 3, 10, 12, tzinfo=UTC), 1) == [expected_utc]


def test_a_restart_in_the_repeated_hour_may_fire_again_but_never_twice_in_one_process() -> None:
    # A fresh trigger (no previous fire time) inside the second 02:00 hour fires at once;
    # the run is idempotent, and the next computation moves on to the next night.
    trigger = NightlyTrigger("02:00", "Europe/Oslo")
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, before the repeat

    first, second = fire_times(trigger, start, 2)

    assert first == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert second - first > timedelta(hours=23)
