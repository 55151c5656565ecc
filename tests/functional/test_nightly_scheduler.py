"""The in-process scheduler: one job per solution, kept in step with the database, started by the app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.archive.mentions import MentionKeyring
from archivist.blobs.memory import MemoryBlobStore
from archivist.config import Settings
from archivist.nightly.models import NightlyRun
from archivist.nightly.scheduler import MISFIRE_GRACE, NightlyScheduler, NightlyTrigger
from tests.conftest import Clock
from tests.functional.anonymization_support import archive, call, enter, oslo


@pytest.fixture
def scheduler(
    session_factory: sessionmaker[Session], blobs: MemoryBlobStore, clock: Clock, keyring: MentionKeyring
) -> Iterator[NightlyScheduler]:
    nightly = NightlyScheduler(session_factory, blobs, clock, keyring=keyring)
    yield nightly
    nightly.shutdown()


def test_sync_makes_one_job_per_solution_at_its_local_time(
    scheduler: NightlyScheduler, solution: Solution, other_solution: Solution
) -> None:
    scheduler.sync()

    jobs = scheduler.solution_jobs()
    assert set(jobs) == {solution.id, other_solution.id}
    trigger = jobs[solution.id].trigger
    assert isinstance(trigger, NightlyTrigger)
    assert (trigger.nightly_at, trigger.zone_name) == ("02:00", "Europe/Oslo")
    # Job arguments are ids only: nothing personal is handed to the scheduler.
    assert jobs[solution.id].args == (solution.id,)


def test_sync_follows_changed_settings_and_removed_solutions(
    scheduler: NightlyScheduler,
    solution: Solution,
    other_solution: Solution,
    session_factory: sessionmaker[Session],
) -> None:
    scheduler.sync()
    with session_factory() as session, session.begin():
        session.execute(update(Solution).where(Solution.id == solution.id).values(nightly_at="03:30"))
        session.execute(update(Solution).where(Solution.id == other_solution.id).values(nightly_at="25:99"))

    scheduler.sync()

    jobs = scheduler.solution_jobs()
    assert jobs[solution.id].trigger.nightly_at == "03:30"
    # An impossible time is logged and skipped; the solution keeps its last good schedule.
    assert jobs[other_solution.id].trigger.nightly_at == "02:00"


def test_the_job_runs_the_night_for_its_solution(
    scheduler: NightlyScheduler,
    solution: Solution,
    session_factory: sessionmaker[Session],
    clock: Clock,
) -> None:
    (iid,) = archive(session_factory, solution, call("91234567", oslo(2026, 3, 9, 9)))
    request_id = enter(session_factory, solution, oslo(2026, 3, 9, 12), phone="91234567")
    clock.now = oslo(2026, 3, 10, 2, 0)

    scheduler.run_solution(solution.id)

    with session_factory() as session:
        assert session.get(AnonymizationRequest, request_id).status is RequestStatus.DONE  # type: ignore[union-attr]
        run = session.scalars(select(NightlyRun)).one()
    assert (run.trigger, run.as_of) == ("scheduler", datetime(2026, 3, 10, 1, 0, tzinfo=UTC))
    assert iid


def test_a_run_missed_while_no_server_ran_is_caught_up_within_the_grace(
    scheduler: NightlyScheduler, solution: Solution, session_factory: sessionmaker[Session], clock: Clock
) -> None:
    due = oslo(2026, 3, 10, 2, 0)
    assert scheduler.missed_runs(oslo(2026, 3, 10, 1, 59)) == []  # not yet due
    assert scheduler.missed_runs(oslo(2026, 3, 10, 2, 30)) == [(solution.id, due)]
    assert scheduler.missed_runs(due + MISFIRE_GRACE + timedelta(minutes=1)) == []  # too late: the next night
    with session_factory() as session, session.begin():
        session.add(NightlyRun(solution_id=solution.id, as_of=oslo(2026, 3, 10, 2, 0, 5), trigger="scheduler"))
    assert scheduler.missed_runs(oslo(2026, 3, 10, 2, 30)) == []  # it ran


def test_start_runs_a_missed_night_at_once(
    scheduler: NightlyScheduler, solution: Solution, session_factory: sessionmaker[Session], clock: Clock
) -> None:
    archive(session_factory, solution, call("91234567", oslo(2026, 3, 9, 9)))
    request_id = enter(session_factory, solution, oslo(2026, 3, 9, 12), phone="91234567")
    clock.now = oslo(2026, 3, 10, 2, 20)  # the server was down at 02:00

    scheduler.start()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with session_factory() as session:
            run = session.scalars(select(NightlyRun)).first()
            if run is not None and run.finished_at is not None:
                break
        time.sleep(0.1)
    with session_factory() as session:
        assert session.get(AnonymizationRequest, request_id).status is RequestStatus.DONE  # type: ignore[union-attr]
    assert run is not None
    assert (run.trigger, run.as_of) == ("scheduler", clock.now)


def test_a_failing_job_logs_the_error_type_only(scheduler: NightlyScheduler, caplog: pytest.LogCaptureFixture) -> None:
    scheduler.run_solution("no-such-solution")

    assert "nightly run of solution no-such-solution failed (LookupError at lease.py:" in caplog.text


def test_app_starts_the_scheduler_only_when_asked(
    settings: Settings, engine: Engine, blobs: MemoryBlobStore, clock: Clock, solution: Solution
) -> None:
    from archivist.web.app import create_app

    with TestClient(create_app(settings, engine=engine, blobs=blobs, clock=clock, scheduler=True)) as client:
        nightly = client.app.state.nightly_scheduler  # type: ignore[attr-defined]
        assert nightly.scheduler.running
        assert set(nightly.solution_jobs()) == {solution.id}
    assert not nightly.scheduler.running
    with TestClient(create_app(settings, engine=engine, blobs=blobs, clock=clock)) as client:
        assert client.app.state.nightly_scheduler is None  # type: ignore[attr-defined]
