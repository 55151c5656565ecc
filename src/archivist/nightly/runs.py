"""The record of nightly runs (CONTRACT §19): what ran, how it ended, and *Run now* under the lease.

Every way a night starts on demand — the API, the *Nightly runs* page — takes the solution's
nightly lease (CONTRACT §13) through ``run_now``, so an admin's click during a scheduled night
is refused (``NightBusyError``, 409) instead of running retention, purges and VACUUM beside it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from archivist import pagination
from archivist.accounts.services import Principal
from archivist.archive.mentions import MentionKeyring
from archivist.audit.events import AuditAction, record_for
from archivist.blobs import BlobStore
from archivist.db import transaction
from archivist.errors import ConflictError
from archivist.nightly.lease import LeasePolicy, lease_of, run_leased
from archivist.nightly.models import NightlyRun
from archivist.nightly.summary import ErasureProof, RunSummary, RunTrigger

# Runs listed per page at most (and by default).
MAX_RUNS = 100
DEFAULT_RUNS = 20


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    # Ended with failed requests or stopped before the end (a lost lease, a shutdown), or died
    # without finishing (no runner holds the lease any more): the next run picks up the rest.
    FAILED = "failed"


NIGHT_BUSY = (
    "Another nightly run holds this solution's lease (the scheduled night, or another click): try again when it ends"
)


class NightBusyError(ConflictError):
    """Another run holds the solution's nightly lease: nothing was started."""

    def __init__(self) -> None:
        super().__init__(NIGHT_BUSY)


@dataclass(frozen=True)
class RunView:
    id: str
    solution_id: str
    as_of: datetime
    started_at: datetime
    finished_at: datetime | None
    trigger: str
    status: RunStatus
    summary: dict[str, Any] | None


def status_of(run: NightlyRun, *, lease_held: bool) -> RunStatus:
    """How a run ended, from its record: the one rule for the API and the page."""
    if run.finished_at is None:
        return RunStatus.RUNNING if lease_held else RunStatus.FAILED
    summary = run.summary or {}
    if summary.get("requests_failed") or summary.get("stopped"):
        return RunStatus.FAILED
    return RunStatus.DONE


def list_runs(
    session: Session, solution_id: str, now: datetime, *, limit: int = DEFAULT_RUNS, cursor: str | None = None
) -> tuple[list[RunView], str | None]:
    """The solution's runs, newest first, a page at a time; CursorError for a cursor we did not make.

    ``now`` is real time, which the lease keeps, to tell a running run from one that died.
    """
    query = select(NightlyRun).where(NightlyRun.solution_id == solution_id)
    if cursor is not None:
        at, key = pagination.decode_cursor(cursor, str)
        query = query.where(or_(NightlyRun.started_at < at, and_(NightlyRun.started_at == at, NightlyRun.id < key)))
    runs = list(session.scalars(query.order_by(NightlyRun.started_at.desc(), NightlyRun.id.desc()).limit(limit + 1)))
    lease = lease_of(session, solution_id)
    held = lease is not None and lease.expires_at.astimezone(UTC) > now.astimezone(UTC)
    # Only the solution's newest unfinished run can hold the lease (on whatever page it is);
    # older unfinished ones died.
    newest_unfinished = session.scalar(
        select(NightlyRun.id)
        .where(NightlyRun.solution_id == solution_id, NightlyRun.finished_at.is_(None))
        .order_by(NightlyRun.started_at.desc(), NightlyRun.id.desc())
        .limit(1)
    )
    page = runs[:limit]
    views = [
        RunView(
            id=r.id,
            solution_id=r.solution_id,
            as_of=r.as_of,
            started_at=r.started_at,
            finished_at=r.finished_at,
            trigger=r.trigger,
            status=status_of(r, lease_held=held and r.id == newest_unfinished),
            summary=r.summary,
        )
        for r in page
    ]
    next_cursor = pagination.encode_cursor(page[-1].started_at, page[-1].id) if len(runs) > limit else None
    return views, next_cursor


def run_now(
    factory: sessionmaker[Session],
    blobs: BlobStore,
    now: datetime,
    *,
    solution_id: str,
    actor: Principal,
    via: str,
    keyring: MentionKeyring,
    proof: ErasureProof | None,
    policy: LeasePolicy,
    trigger: RunTrigger = RunTrigger.API,
) -> RunSummary:
    """*Run now*: the solution's night under its lease; NightBusyError while another run holds it.

    A task, not a service: the run commits as it goes, so who asked is committed first, in its
    own transaction (what the run did, request by request, the run records itself).
    """
    with transaction(factory) as session:
        details = {"via": via}
        record_for(session, actor, AuditAction.NIGHTLY_RUN_STARTED, solution_id, details, at=now)
    summary = run_leased(
        factory,
        blobs,
        now,
        keyring=keyring,
        solution_id=solution_id,
        trigger=trigger,
        proof=proof,
        night=None,
        policy=policy,
    )
    if summary is None:
        raise NightBusyError
    return summary
