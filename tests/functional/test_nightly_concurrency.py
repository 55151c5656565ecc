"""Two runs at once (two servers, or a server and the CLI) never process one request twice.

Two real processes, started together on a barrier, run the same night against the same
database. On PostgreSQL they share the work through FOR UPDATE SKIP LOCKED; on SQLite the
write lock serialises them. Either way each request is processed by exactly one of them.
"""

from __future__ import annotations

import multiprocessing
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.anonymize.requests import create_request
from tests.conftest import KEYRING
from tests.functional.anonymization_support import archive, call, oslo

# Starts processes (the CLI, servers, workers): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

REQUESTS = 80
CALLS_EACH = 4
ENTERED = oslo(2026, 3, 10, 12, 0)
NIGHT = oslo(2026, 3, 11, 2, 0)


def _worker(url: str, solution_id: str, as_of: str, barrier: Any, results: Any) -> None:
    """One runner in its own process: its own engine, its own connections."""
    from archivist.blobs.memory import MemoryBlobStore
    from archivist.db import make_engine, make_session_factory
    from archivist.nightly.run import run_nightly
    from archivist.nightly.summary import RunTrigger

    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        barrier.wait(timeout=60)
        (summary,) = run_nightly(
            factory,
            MemoryBlobStore(),
            datetime.fromisoformat(as_of),
            keyring=KEYRING,
            solution_id=solution_id,
            trigger=RunTrigger.CLI,
        )
        results.put(summary.as_dict())
    finally:
        engine.dispose()


def seed(factory: sessionmaker[Session], solution: Solution) -> None:
    numbers = [f"9{n:07d}" for n in range(REQUESTS)]
    archive(
        factory,
        solution,
        *[
            call(number, oslo(2026, 3, 1 + day, 9), external_id=f"{number}-{day}")
            for number in numbers
            for day in range(CALLS_EACH)
        ],
    )
    with factory() as session, session.begin():
        for number in numbers:
            create_request(
                session,
                solution,
                phone=number,
                email=None,
                raw_data=False,
                delete_content=False,
                created_by="officer",
                now=ENTERED,
            )


def test_two_processes_running_the_same_night_process_each_request_exactly_once(
    engine: Engine, database_url: str, session_factory: sessionmaker[Session], solution: Solution
) -> None:
    seed(session_factory, solution)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=(database_url, solution.id, NIGHT.isoformat(), barrier, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    summaries = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    assert sum(s["requests_failed"] for s in summaries) == 0
    assert sum(s["requests_processed"] for s in summaries) == REQUESTS
    # A runner did, or found the other had claimed, each request still waiting when it looked.
    assert all(s["requests_processed"] + s["requests_skipped"] <= REQUESTS for s in summaries)
    # Processed twice, a request would have been counted twice (the second time with 0 interactions).
    assert sum(s["interactions"] for s in summaries) == REQUESTS * CALLS_EACH
    with session_factory() as session:
        rows = session.scalars(select(AnonymizationRequest)).all()
    assert {r.status for r in rows} == {RequestStatus.DONE}
    assert {r.result["interactions"] for r in rows if r.result} == {CALLS_EACH}
    if engine.dialect.name == "postgresql":
        # SKIP LOCKED lets the two share the night instead of queueing behind each other.
        assert all(s["requests_processed"] > 0 for s in summaries), summaries
