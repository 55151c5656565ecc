"""The nightly lease: taken once, renewed, expired, taken over — on SQLite and PostgreSQL.

Times are the ``clock`` fixture's; nothing sleeps except the race test, which needs threads.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.archive.mentions import MentionKeyring
from archivist.blobs.memory import MemoryBlobStore
from archivist.nightly.lease import (
    LeaseKeeper,
    LeasePolicy,
    lease_of,
    new_holder,
    release,
    renew,
    run_leased,
    take_night,
    take_now,
)
from archivist.nightly.models import NightlyRun
from archivist.nightly.run import run_nightly
from archivist.nightly.scheduler import NightlyScheduler
from archivist.nightly.summary import RunTrigger
from tests.conftest import Clock
from tests.functional.anonymization_support import archive, call, enter, oslo

pytestmark = pytest.mark.db

TTL = timedelta(seconds=60)
NIGHT = date(2026, 3, 10)


def _take_night(
    factory: sessionmaker[Session], solution: Solution, holder: str, clock: Clock, night: date = NIGHT
) -> bool:
    with factory() as session, session.begin():
        return take_night(session, solution.id, night, holder, clock.now, TTL)


def test_the_first_taker_holds_the_night_and_a_second_is_refused(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    first, second = new_holder(), new_holder()
    assert first != second  # one process taking twice is two holders

    assert _take_night(session_factory, solution, first, clock)
    assert not _take_night(session_factory, solution, second, clock)
    clock.advance(seconds=59)
    assert not _take_night(session_factory, solution, second, clock)  # still within the ttl
    with session_factory() as session:
        lease = lease_of(session, solution.id)
        assert lease is not None
        assert (lease.holder, lease.night, lease.night_finished_at) == (first, "2026-03-10", None)


def test_an_expired_unfinished_night_is_taken_over_and_the_old_holder_loses_it(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    dead, heir = new_holder(), new_holder()
    assert _take_night(session_factory, solution, dead, clock)
    clock.advance(seconds=60)  # expires_at == now: expired

    assert _take_night(session_factory, solution, heir, clock)
    with session_factory() as session, session.begin():
        # The old runner (only slow, not dead) learns it at its next renewal, and stops.
        assert not renew(session, solution.id, dead, clock.now, TTL)
        assert renew(session, solution.id, heir, clock.now, TTL)


def test_renewal_keeps_others_out_past_the_first_ttl(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    holder, other = new_holder(), new_holder()
    assert _take_night(session_factory, solution, holder, clock)
    for _ in range(3):
        clock.advance(seconds=50)
        with session_factory() as session, session.begin():
            assert renew(session, solution.id, holder, clock.now, TTL)
        assert not _take_night(session_factory, solution, other, clock)
    clock.advance(seconds=61)  # it stopped renewing: it died
    assert _take_night(session_factory, solution, other, clock)


def test_a_finished_night_is_not_run_again_but_the_next_night_is(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    holder = new_holder()
    assert _take_night(session_factory, solution, holder, clock)
    with session_factory() as session, session.begin():
        assert release(session, solution.id, holder, clock.now, finished=True)

    assert not _take_night(session_factory, solution, new_holder(), clock)  # same night, any time later
    clock.advance(hours=5)
    assert not _take_night(session_factory, solution, new_holder(), clock)
    assert not _take_night(session_factory, solution, new_holder(), clock, date(2026, 3, 9))  # an earlier night
    assert _take_night(session_factory, solution, new_holder(), clock, date(2026, 3, 11))


def test_a_released_unfinished_night_is_free_at_once(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    holder = new_holder()
    assert _take_night(session_factory, solution, holder, clock)
    with session_factory() as session, session.begin():
        assert release(session, solution.id, holder, clock.now, finished=False)  # a shutdown
    assert _take_night(session_factory, solution, new_holder(), clock)


def test_a_run_on_demand_waits_for_no_night_and_leaves_it_as_it_was(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    night_runner, cli = new_holder(), new_holder()
    assert _take_night(session_factory, solution, night_runner, clock)
    with session_factory() as session, session.begin():
        assert not take_now(session, solution.id, cli, clock.now, TTL)  # a night is running
        assert release(session, solution.id, night_runner, clock.now, finished=True)
        assert take_now(session, solution.id, cli, clock.now, TTL)
    assert not _take_night(session_factory, solution, new_holder(), clock)  # held by the CLI now
    with session_factory() as session, session.begin():
        assert release(session, solution.id, cli, clock.now, finished=False)
        lease = lease_of(session, solution.id)
        assert lease is not None
        assert lease.night == "2026-03-10"
        assert lease.night_finished_at is not None  # the CLI's run did not undo the finished night


def test_racing_takers_get_exactly_one_lease(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    won: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def take() -> None:
        holder = new_holder()
        try:
            start.wait()
            if _take_night(session_factory, solution, holder, clock):
                won.append(holder)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(won) == 1
    with session_factory() as session:
        assert lease_of(session, solution.id).holder == won[0]  # type: ignore[union-attr]


def _requests(factory: sessionmaker[Session], solution: Solution, n: int) -> list[str]:
    archive(factory, solution, *(call(f"9123{i:04d}", oslo(2026, 3, 9, 9)) for i in range(n)))
    return [enter(factory, solution, oslo(2026, 3, 9, 12), phone=f"9123{i:04d}") for i in range(n)]


def test_the_keeper_renews_between_requests_and_says_stop_once_taken_over(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    holder, heir = new_holder(), new_holder()
    assert _take_night(session_factory, solution, holder, clock)
    # renew_every is ttl/3 of wall time; a zero ttl makes every call renew.
    keeper = LeaseKeeper(session_factory, solution.id, holder, LeasePolicy(ttl=timedelta(0)), clock)
    assert keeper()
    with session_factory() as session, session.begin():
        assert take_night(session, solution.id, NIGHT, heir, clock.now, TTL)  # expired at once: taken over
    assert not keeper()
    assert keeper.lost
    assert not keeper()  # and stays stopped


def test_a_run_stops_between_requests_when_told_to(
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    clock: Clock,
    keyring: MentionKeyring,
) -> None:
    ids = _requests(session_factory, solution, 3)
    answers = iter([True, False])

    (summary,) = run_nightly(
        session_factory,
        blobs,
        oslo(2026, 3, 10, 2, 0),
        keyring=keyring,
        solution_id=solution.id,
        keep_going=lambda: next(answers),
    )

    assert (summary.stopped, summary.requests_processed) == (True, 1)
    with session_factory() as session:
        statuses = [session.get(AnonymizationRequest, i).status for i in ids]  # type: ignore[union-attr]
        assert statuses == [RequestStatus.DONE, RequestStatus.WAITING, RequestStatus.WAITING]
        run = session.scalars(select(NightlyRun)).one()
        assert run.finished_at is not None
        assert run.summary is not None
        assert run.summary["stopped"] is True


def test_run_leased_refuses_while_held_and_releases_the_night_finished(
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    clock: Clock,
    keyring: MentionKeyring,
) -> None:
    ids = _requests(session_factory, solution, 2)
    clock.now = oslo(2026, 3, 10, 2, 0)

    def run() -> object:
        return run_leased(
            session_factory,
            blobs,
            clock.now,
            keyring=keyring,
            solution_id=solution.id,
            trigger=RunTrigger.SCHEDULER,
            proof=None,
            night=NIGHT,
            policy=LeasePolicy(ttl=TTL),
            clock=clock,
        )

    other = new_holder()
    assert _take_night(session_factory, solution, other, clock)
    assert run() is None  # held elsewhere: not started
    with session_factory() as session, session.begin():
        release(session, solution.id, other, clock.now, finished=False)
    assert run() is not None
    assert run() is None  # the night is done
    with session_factory() as session:
        assert all(session.get(AnonymizationRequest, i).status is RequestStatus.DONE for i in ids)  # type: ignore[union-attr]
        assert len(session.scalars(select(NightlyRun)).all()) == 1


def test_a_shutdown_stops_the_run_and_another_scheduler_finishes_the_night(
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    clock: Clock,
    keyring: MentionKeyring,
) -> None:
    ids = _requests(session_factory, solution, 3)
    clock.now = oslo(2026, 3, 10, 2, 0)
    first = NightlyScheduler(session_factory, blobs, clock, keyring=keyring, policy=LeasePolicy(ttl=TTL))
    first.stop.set()  # SIGTERM arrived before the first request

    first.run_solution(solution.id)

    with session_factory() as session:
        assert all(session.get(AnonymizationRequest, i).status is RequestStatus.WAITING for i in ids)  # type: ignore[union-attr]
        run = session.scalars(select(NightlyRun)).one()
        assert run.summary is not None
        assert run.summary["stopped"] is True
    second = NightlyScheduler(session_factory, blobs, clock, keyring=keyring, policy=LeasePolicy(ttl=TTL))
    clock.advance(minutes=3)
    # Released unfinished: the watcher sees the night as not done, beyond no grace.
    assert second.missed_runs(clock.now) == [(solution.id, oslo(2026, 3, 10, 2, 0))]
    second.catch_up()
    with session_factory() as session:
        assert all(session.get(AnonymizationRequest, i).status is RequestStatus.DONE for i in ids)  # type: ignore[union-attr]
        assert lease_of(session, solution.id).night_finished_at is not None  # type: ignore[union-attr]
    assert second.missed_runs(clock.now + timedelta(hours=3)) == []  # done: not again


def test_a_dead_runners_night_is_taken_over_after_the_grace_too(
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    clock: Clock,
    keyring: MentionKeyring,
) -> None:
    scheduler = NightlyScheduler(session_factory, blobs, clock, keyring=keyring, policy=LeasePolicy(ttl=TTL))
    clock.now = oslo(2026, 3, 10, 2, 0)
    assert _take_night(session_factory, solution, new_holder(), clock)  # then the runner dies
    assert scheduler.missed_runs(oslo(2026, 3, 10, 2, 0, 30)) == []  # still within its ttl
    late = oslo(2026, 3, 10, 5, 0)  # long after the start grace
    assert scheduler.missed_runs(late) == [(solution.id, oslo(2026, 3, 10, 2, 0))]
