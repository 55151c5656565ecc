"""What a night does for one solution: ``STEPS``, in order. Adding a step is one line there.

Each step takes the ``Night`` (the solution, the run's time, its summary) and calls one
domain's function; it commits its own transactions, so a crash resumes at the step it
interrupted. A step that finds the run asked to stop (shutdown, or the lease taken over) sets
``summary.stopped`` and the rest waits for the next runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.access.export import purge_expired_exports
from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest
from archivist.anonymize.processing import (
    PENDING,
    SolutionSettings,
    mark_committed,
    process_request,
    purge_requests,
    reconcile_ledger,
)
from archivist.anonymize.receipts import has_unsigned, issue_receipts
from archivist.archive.mentions import MentionKeyring
from archivist.archive.recordings import drain_pending_blobs
from archivist.audit.events import SYSTEM_ACTOR, AuditAction, chain_head, nightly_purge, record, record_processed
from archivist.blobs import BlobStore
from archivist.db import engine_of, forget_freed_space, transaction
from archivist.errors import where
from archivist.nightly.summary import ErasureProof, RunSummary
from archivist.retention.holds import release_expired
from archivist.retention.rules import apply_retention

log = logging.getLogger(__name__)


@dataclass
class Night:
    """One solution's run as the steps see it."""

    factory: sessionmaker[Session]
    blobs: BlobStore
    solution: SolutionSettings
    now: datetime
    keyring: MentionKeyring
    proof: ErasureProof | None
    keep_going: Callable[[], bool] | None
    summary: RunSummary

    def asked_to_stop(self) -> bool:
        """Asked before each unit of work; the lease renews itself there (``lease.LeaseKeeper``)."""
        return self.keep_going is not None and not self.keep_going()


def release_expired_holds(night: Night) -> None:
    """Holds whose ``until`` has passed end first, so that the requests they kept finish tonight."""
    solution_id = night.solution.id
    with transaction(night.factory) as session:
        released = release_expired(session, session.get_one(Solution, solution_id), night.now)
        for hold_id in released:
            record(
                session, solution_id, SYSTEM_ACTOR, AuditAction.HOLD_RELEASED, hold_id, {"by": "until"}, at=night.now
            )
    night.summary.holds_released = len(released)


def _waiting(night: Night) -> list[str]:
    with night.factory() as session:
        return list(
            session.scalars(
                select(AnonymizationRequest.id)
                .where(
                    AnonymizationRequest.solution_id == night.solution.id,
                    AnonymizationRequest.status.in_(PENDING),
                    AnonymizationRequest.created_at <= night.now,
                )
                .order_by(AnonymizationRequest.created_at, AnonymizationRequest.id)
            )
        )


def anonymize_requests(night: Night) -> None:
    """Each waiting request in its own transaction: done and audited, or neither (CONTRACT §7)."""
    summary, solution_id = night.summary, night.solution.id
    ledger = night.proof.ledger if night.proof is not None else None
    waiting = _waiting(night)
    if ledger is not None:
        reconcile_ledger(night.factory, ledger, solution_id)
    for request_id in waiting:
        if night.asked_to_stop():
            summary.stopped = True
            return
        try:
            with transaction(night.factory) as session:
                result = process_request(
                    session,
                    night.solution,
                    request_id,
                    night.now,
                    keyring=night.keyring,
                    ledger=ledger,
                    blobs=night.blobs,
                )
                if result is not None:  # in the same transaction: done and audited, or neither
                    record_processed(session, solution_id, request_id, result.as_dict(), night.now)
        except Exception as exc:  # noqa: BLE001 - one bad request must not stop the others
            # The type and where, never the text: a database error's text quotes the identifiers it was given.
            log.error(
                "nightly: request %s failed (%s at %s); rolled back, it stays waiting for the next run",
                request_id,
                type(exc).__name__,
                where(exc),
            )
            summary.requests_failed += 1
            summary.failed_request_ids.append(request_id)
            continue
        if result is None:
            summary.requests_skipped += 1
            continue
        if ledger is not None:
            mark_committed(ledger, solution_id, request_id)
        summary.add(result)
        log.info(
            "nightly: request %s done: %d interactions, %d raw data rows, %d recordings, %d content deleted",
            request_id,
            result.interactions,
            result.raw_data_rows,
            result.recordings_deleted,
            result.content_deleted,
        )


def apply_retention_rules(night: Night) -> None:
    """Retention rules, in chunks that each commit (a crash resumes them); a stop between chunks
    leaves the rest to the next run, like requests (CONTRACT §10)."""
    solution_id = night.solution.id
    for outcome in apply_retention(
        night.factory, solution_id, night.now, keyring=night.keyring, keep_going=night.keep_going
    ):
        night.summary.retention.append(outcome.as_dict())
        with transaction(night.factory) as session:
            record(
                session,
                solution_id,
                SYSTEM_ACTOR,
                AuditAction.RETENTION_APPLIED,
                outcome.rule_id,
                outcome.as_dict(),
                at=night.now,
            )
    if night.asked_to_stop():
        night.summary.stopped = True


def delete_released_blobs(night: Night) -> None:
    """After the commits: the silence the requests decided is written into their recordings, and the
    blobs they let go of are deleted (and whatever a crashed run left of either)."""
    night.summary.blobs_deleted = drain_pending_blobs(night.factory, night.blobs, night.now)


def purge_expired_rows(night: Night) -> None:
    """Old done requests, subject exports past their 7 days (CONTRACT §12), audit entries past the
    solution's retention, ended sessions and failed logins."""
    solution_id = night.solution.id
    with transaction(night.factory) as session:
        night.summary.requests_purged = purge_requests(session, solution_id, night.now)
        purge_expired_exports(session, night.now, solution_id)
        nightly_purge(session, solution_id, night.now)
        head = chain_head(session, solution_id)
    # Into the log, outside the database: a head noted here and checked later with
    # `archivist audit verify --expect-head` shows whether entries were deleted from the end.
    log.info("nightly: audit chain head of solution %s: %s", solution_id, head or "-")


def forget_erased_bytes(night: Night) -> None:
    """After every commit of the run: what was erased must not stay readable in freed pages (CONTRACT §11).

    Also when only receipts a crashed run left are to be signed: each says what its storage step did.
    """
    summary, proof = night.summary, night.proof
    with night.factory() as session:
        unsigned = proof is not None and has_unsigned(session, night.solution.id)
    if summary.requests_processed or summary.blobs_deleted or unsigned:
        summary.storage = {
            **forget_freed_space(
                engine_of(night.factory),
                vacuum_full=proof.vacuum_full if proof is not None else False,
                wait_s=proof.storage_wait_s if proof is not None else None,
            ),
            "recordings": "deleted in every version",
        }


def sign_receipts(night: Night) -> None:
    """A signed receipt for each request done, naming what the storage step did (CONTRACT §11)."""
    if night.proof is None:
        return
    with transaction(night.factory) as session:
        night.summary.receipts_issued = issue_receipts(
            session, night.solution.id, night.proof.signer, night.summary.storage
        )


# The night, in order: holds end before the requests they kept; blobs go after every commit that
# let go of them; the storage step comes after every commit of the run; receipts last, naming
# what the storage step did.
STEPS: tuple[Callable[[Night], None], ...] = (
    release_expired_holds,
    anonymize_requests,
    apply_retention_rules,
    delete_released_blobs,
    purge_expired_rows,
    forget_erased_bytes,
    sign_receipts,
)
