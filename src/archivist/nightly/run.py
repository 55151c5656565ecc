"""The nightly run (CONTRACT §7): for each solution, ``steps.STEPS`` in order.

``run_nightly`` is the one entry point; the scheduler, ``archivist nightly`` and
``POST /api/v1/nightly-runs`` all reach it through ``lease.run_leased``, so a solution's night
runs once at a time. Logs, run records and exceptions carry ids, counts and masked identifiers only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.processing import SolutionSettings
from archivist.archive.mentions import MentionKeyring, index_is_current
from archivist.blobs import BlobStore
from archivist.blobs.interfaces import STAGING_MAX_AGE
from archivist.db import transaction, utcnow
from archivist.errors import where
from archivist.nightly.models import NightlyRun
from archivist.nightly.steps import STEPS, Night
from archivist.nightly.summary import ErasureProof, RunSummary, RunTrigger

log = logging.getLogger(__name__)


def run_nightly(
    session_factory: sessionmaker[Session],
    blobs: BlobStore,
    now: datetime,
    *,
    keyring: MentionKeyring,
    solution_id: str | None = None,
    trigger: RunTrigger = RunTrigger.CLI,
    proof: ErasureProof | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> list[RunSummary]:
    """Run the nightly job as of ``now`` for one solution (or every solution, oldest first).

    Raises LookupError for an unknown ``solution_id``. A request that fails is rolled
    back, counted in ``requests_failed`` and left waiting; the run goes on with the others.
    ``keep_going`` is asked before each request (the lease renews itself there, see
    ``lease.py``); False stops the run there, ``stopped`` in its summary.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    with session_factory() as session:
        if solution_id is not None:
            if session.get(Solution, solution_id) is None:
                raise LookupError("no such solution")
            solution_ids = [solution_id]
        else:
            solution_ids = list(session.scalars(select(Solution.id).order_by(Solution.created_at, Solution.id)))
    summaries = [
        _run_solution(session_factory, blobs, sid, now, trigger, keyring, proof, keep_going) for sid in solution_ids
    ]
    sweep_staging(blobs, utcnow())
    return summaries


def sweep_staging(blobs: BlobStore, wall_clock: datetime) -> int:
    """Remove blob writes a killed process left staged (once a run, for the whole store).

    By the wall clock, not the run's ``now``: staged files carry real times, and a drill
    ``--as-of`` next year must not sweep an upload that is running right now.
    """
    try:
        removed = blobs.sweep_staging(STAGING_MAX_AGE, wall_clock)
    except Exception as exc:  # noqa: BLE001 - housekeeping; the next night tries again
        log.error("nightly: sweeping staged blob writes failed (%s at %s)", type(exc).__name__, where(exc))
        return 0
    if removed:
        log.info("nightly: removed %d staged blob writes left by interrupted uploads", removed)
    return removed


def _run_solution(
    factory: sessionmaker[Session],
    blobs: BlobStore,
    solution_id: str,
    now: datetime,
    trigger: RunTrigger,
    keyring: MentionKeyring,
    proof: ErasureProof | None,
    keep_going: Callable[[], bool] | None = None,
) -> RunSummary:
    clock_started = time.perf_counter()
    with transaction(factory) as session:
        solution = session.get(Solution, solution_id)
        if solution is None:
            raise LookupError("no such solution")
        settings = SolutionSettings(solution.id, solution.country, solution.replacement)
        # Recorded first, in its own transaction, so that a run that dies leaves a trace
        # (a run without finished_at).
        run = NightlyRun(solution_id=solution_id, as_of=now, started_at=utcnow(), trigger=trigger.value)
        session.add(run)
        session.flush()
        summary = RunSummary(solution_id=solution_id, run_id=run.id, trigger=trigger.value, as_of=now)
        summary.mention_index_current = index_is_current(session, solution_id)
    if not summary.mention_index_current:
        log.warning(
            "nightly: the mention index of solution %s was built by an older scanner; "
            "mentions elsewhere may be missed until `archivist reindex-mentions` has run",
            solution_id,
        )
    night = Night(factory, blobs, settings, now, keyring, proof, keep_going, summary)
    for step in STEPS:
        step(night)
        if summary.stopped:
            # What is left (the other requests, blobs, purges, storage step, receipts) is the next runner's.
            break
    return _finish(factory, summary, clock_started)


def _finish(factory: sessionmaker[Session], summary: RunSummary, clock_started: float) -> RunSummary:
    summary.duration_s = round(time.perf_counter() - clock_started, 3)
    with transaction(factory) as session:
        session.execute(
            update(NightlyRun)
            .where(NightlyRun.id == summary.run_id)
            .values(finished_at=utcnow(), summary=summary.as_dict())
            .execution_options(synchronize_session=False)
        )
    log.info("%s", summary.describe())
    return summary


def resolve_as_of(as_of: datetime | None, timezone: str) -> datetime:
    """``--as-of`` without an offset is the solution's own local time (02:00 means its night)."""
    if as_of is None:
        return utcnow()
    return as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=ZoneInfo(timezone))
