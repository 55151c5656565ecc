"""Crash safety: a run killed at any point leaves each request all-or-nothing, and the next run finishes.

The failure is injected at every statement the run sends (just before it and just after it)
and between the commit and the blob deletions. The injected exception is a BaseException,
as a killed process would be: the run's per-request error handling must not be what saves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, NoReturn

import pytest
from sqlalchemy import Engine, delete, event, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.anonymize.requests import create_request
from archivist.archive.models import Interaction, RawEvent
from archivist.archive.recordings import attach_recording, new_blob_key
from archivist.blobs.memory import MemoryBlobStore
from archivist.models import Base
from archivist.times import months_before
from tests.functional.anonymization_support import WAV, archive, archive_state, call, chat, night, oslo

ENTERED = oslo(2026, 3, 10, 12, 0)
NIGHT = oslo(2026, 3, 11, 2, 0)
# Rows that belong to the test's accounts, not to the scenario.
KEEP = {"solutions", "users", "api_tokens"}


class SimulatedCrash(BaseException):
    """The process dies here."""


def reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in KEEP:
                conn.execute(delete(table))


def seed(factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore) -> dict[str, list[str]]:
    """Three requests over disjoint interactions, plus an old done row to purge; returns the groups.

    Two transactions, through the real services: the test seeds 80-odd times.
    """
    bodies = [
        call("91234567", oslo(2026, 3, 1, 9), external_id="p1", events=2, variables={"cb": "91234567"}),
        call("+4791234567", oslo(2026, 3, 2, 9), external_id="p2", events=1),
        chat("kari@example.com", oslo(2026, 3, 4, 9), external_id="e1", events=1),
        chat("KARI@example.com", oslo(2026, 3, 5, 9), external_id="e2"),
        call("98765432", oslo(2026, 3, 6, 9), external_id="n1", events=1),
        call("41234567", oslo(2026, 3, 6, 10), external_id="x1"),  # nobody asked: never touched
    ]
    ids = archive(factory, solution, *bodies)
    with factory() as session, session.begin():
        recorded = session.get(Interaction, ids[0])
        assert recorded is not None
        key = new_blob_key(solution.id, recorded.id, "audio/wav")
        blobs.put(key, WAV, "audio/wav")
        attach_recording(session, recorded, key, "audio/wav", len(WAV), ENTERED)
        session.add(
            RawEvent(
                solution_id=solution.id,
                at=oslo(2026, 3, 3, 9),
                type="callback",
                customer="91234567",
                customer_norm="+4791234567",
            )
        )
        for when, phone, email, raw, content in (
            (ENTERED, "91234567", None, True, True),
            (ENTERED, None, "kari@example.com", False, True),
            (ENTERED + timedelta(minutes=5), "98765432", None, False, False),
            (months_before(NIGHT, 13), None, "old@example.com", False, False),
        ):
            request, _ = create_request(
                session,
                solution,
                phone=phone,
                email=email,
                raw_data=raw,
                delete_content=content,
                created_by="officer",
                now=when,
            )
        # The last one was done long ago.
        request.status, request.email_norm, request.result = RequestStatus.DONE, None, {"interactions": 0}
    return {"+4791234567": ["p1", "p2"], "kari@example.com": ["e1", "e2"], "+4798765432": ["n1"]}


def requests_state(factory: sessionmaker[Session]) -> dict[Any, Any]:
    with factory() as session:
        return {
            (r.phone_masked, r.email_masked): (r.status, r.phone_e164, r.email_norm, r.processed_at, r.result)
            for r in session.scalars(select(AnonymizationRequest))
        }


def full_state(factory: sessionmaker[Session], blobs: MemoryBlobStore) -> dict[str, Any]:
    return {"archive": archive_state(factory, blobs), "requests": requests_state(factory)}


def crashed_run(factory: sessionmaker[Session], blobs: MemoryBlobStore) -> None:
    """Run the night and expect it to die."""
    try:
        night(factory, blobs, NIGHT)
    except SimulatedCrash:
        pass
    else:
        pytest.fail("the injected crash did not happen")


@contextmanager
def crash_at(engine: Engine, n: int, when: str) -> Iterator[None]:
    """Raise SimulatedCrash just before (or just after) the n-th statement sent to the database."""
    seen = 0

    def die(cursor: Any) -> NoReturn:
        # A dead process's connection goes with it. SQLAlchemy invalidates the connection on a
        # BaseException but leaves this cursor open, and SQLite would keep the dead run's lock
        # until the cursor is garbage-collected; closing it stands in for the process exit.
        cursor.close()
        raise SimulatedCrash

    def before(_conn: Any, cursor: Any, *_: Any) -> None:
        nonlocal seen
        seen += 1
        if when == "before" and seen == n:
            die(cursor)

    def after(_conn: Any, cursor: Any, *_: Any) -> None:
        if when == "after" and seen == n:
            die(cursor)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def crash_points(engine: Engine, blobs: MemoryBlobStore, action: Callable[[], object]) -> list[tuple[int, str]]:
    """Every distinct point to crash at while ``action`` runs: before each statement, and after one
    when something other than a statement follows it (a commit, a blob deletion, the end).

    "After statement n" is the same crash as "before statement n+1" unless such a step lies
    between them, so those duplicates are left out to keep the test fast.
    """
    count = 0
    boundaries: set[int] = set()

    def counter(*_: Any) -> None:
        nonlocal count
        count += 1

    def committed(*_: Any) -> None:
        boundaries.add(count)

    real_delete = blobs.delete

    def deleting(key: str) -> None:
        boundaries.add(count)
        real_delete(key)

    event.listen(engine, "before_cursor_execute", counter)
    event.listen(engine, "commit", committed)
    blobs.delete = deleting  # type: ignore[method-assign]
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
        event.remove(engine, "commit", committed)
        blobs.delete = real_delete  # type: ignore[method-assign]
    boundaries.add(count)
    return sorted([(n, "before") for n in range(1, count + 1)] + [(n, "after") for n in boundaries if n > 0])


def assert_all_or_nothing(
    factory: sessionmaker[Session],
    blobs: MemoryBlobStore,
    groups: dict[str, list[str]],
    seeded: dict[str, Any],
    clean: dict[str, Any],
) -> None:
    """Each request is either waiting with its interactions as seeded, or done with them as a clean run left them."""
    now = archive_state(factory, blobs)["interactions"]
    with factory() as session:
        waiting = {
            r.phone_e164 or r.email_norm
            for r in session.scalars(select(AnonymizationRequest).where(AnonymizationRequest.status == "waiting"))
        }
    for identifier, external_ids in groups.items():
        expected = seeded if identifier in waiting else clean
        for ext in external_ids:
            assert now[ext] == expected["archive"]["interactions"][ext], (identifier, ext)
    assert now["x1"] == seeded["archive"]["interactions"]["x1"]


@pytest.fixture(autouse=True)
def _storage_step_does_not_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    # The crash points are counted in one run and replayed in the next ones, so every run must
    # send the same statements. PostgreSQL's storage step polls for older transactions (another
    # test worker's, in another database, count too) as often as it must wait: here it looks
    # once and goes on, which is the same statements every time.
    from archivist import freed_space

    monkeypatch.setattr(freed_space, "DEFAULT_WAIT_S", 0.0)


@pytest.fixture
def scenario(engine: Engine, session_factory: sessionmaker[Session], solution: Solution) -> dict[str, Any]:
    """The seeded and the clean-run states, and how many statements a clean run sends."""
    if engine.dialect.name == "postgresql":
        # Hundreds of commits follow; not waiting for each WAL flush keeps the test in seconds and
        # changes nothing a test can see (it only matters if the server itself crashes).
        event.listen(engine, "connect", _no_commit_flush)
        engine.dispose()
    blobs = MemoryBlobStore()
    seed(session_factory, solution, blobs)
    seeded = full_state(session_factory, blobs)
    points = crash_points(engine, blobs, lambda: night(session_factory, blobs, NIGHT))
    clean = full_state(session_factory, blobs)
    assert clean["archive"]["blobs"] == 0
    assert len(clean["requests"]) == 3  # the 13-month-old row was purged
    return {"seeded": seeded, "clean": clean, "points": points}


def _no_commit_flush(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    dbapi_connection.commit()


@pytest.mark.slow  # starts processes or runs long: `make test-fast` leaves it out
def test_a_crash_at_any_statement_leaves_requests_whole_and_the_next_run_finishes(
    engine: Engine, session_factory: sessionmaker[Session], solution: Solution, scenario: dict[str, Any]
) -> None:
    assert len(scenario["points"]) > 40
    for n, when in scenario["points"]:
        reset(engine)
        blobs = MemoryBlobStore()
        groups = seed(session_factory, solution, blobs)

        with crash_at(engine, n, when):
            crashed_run(session_factory, blobs)
        assert_all_or_nothing(session_factory, blobs, groups, scenario["seeded"], scenario["clean"])

        # The next run, at the same moment so that even the timestamps must agree.
        night(session_factory, blobs, NIGHT)
        assert full_state(session_factory, blobs) == scenario["clean"], (n, when)


def test_a_crash_between_commit_and_blob_deletion_is_finished_by_the_next_run(
    engine: Engine, session_factory: sessionmaker[Session], solution: Solution, scenario: dict[str, Any]
) -> None:
    reset(engine)
    blobs = MemoryBlobStore()
    seed(session_factory, solution, blobs)
    real_delete = blobs.delete

    def die(key: str) -> None:
        raise SimulatedCrash

    blobs.delete = die  # type: ignore[method-assign]
    crashed_run(session_factory, blobs)
    # The requests are done and their recordings' rows gone; the blob waits in the pending table.
    state = full_state(session_factory, blobs)
    assert state["archive"]["recordings"] == []
    assert (state["archive"]["blobs"], state["archive"]["pending_blob_deletions"]) == (1, 1)

    blobs.delete = real_delete  # type: ignore[method-assign]
    night(session_factory, blobs, NIGHT)

    assert full_state(session_factory, blobs) == scenario["clean"]
