"""The nightly run (CONTRACT §7): anonymize what waiting requests name, then purge old rows.

``run_nightly`` is the one entry point; the scheduler, ``archivist nightly`` and
``POST /api/v1/nightly-runs`` all call it. Each request is processed in its own
transaction, claimed first, so a crash leaves it either waiting with nothing changed or done
with everything changed, and two runners never process it twice. Logs, run records and
exceptions carry ids, counts and masked identifiers only.
"""

from __future__ import annotations

import enum
import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.access.export import purge_expired_exports
from archivist.accounts.models import Solution
from archivist.anonymize.erasure import Counts, Person, Scope, erase_person
from archivist.anonymize.ledger import Ledger, LedgerEntry
from archivist.anonymize.models import AnonymizationRequest, NightlyRun, RequestStatus
from archivist.anonymize.operators import rowcount
from archivist.anonymize.receipts import Signer, has_unsigned, issue_receipts
from archivist.anonymize.replay import remember_erasure
from archivist.anonymize.requests import RETENTION_MONTHS, Also, months_before
from archivist.archive.mentions import MentionKeyring, index_is_current
from archivist.archive.recordings import drain_pending_deletions
from archivist.audit.events import SYSTEM_ACTOR, AuditAction, chain_head, nightly_purge, record, record_processed
from archivist.blobs import BlobStore
from archivist.blobs.interfaces import STAGING_MAX_AGE
from archivist.config import Settings
from archivist.db import chunks, engine_of, forget_freed_space, transaction, utcnow
from archivist.identifiers import mask_email, mask_phone_e164
from archivist.retention.holds import release_expired
from archivist.retention.rules import apply_retention

log = logging.getLogger(__name__)


# What a run takes up: requests not yet processed, and those a legal hold kept from finishing.
PENDING = (RequestStatus.WAITING, RequestStatus.HELD)


class RunTrigger(enum.StrEnum):
    SCHEDULER = "scheduler"
    CLI = "cli"
    API = "api"


@dataclass(frozen=True)
class RequestResult:
    """What one request changed; stored on the request as its ``result``."""

    interactions: int = 0
    recordings_deleted: int = 0
    content_deleted: int = 0
    raw_data_rows: int = 0
    variables_replaced: int = 0
    # Occurrences of the identifiers (and, in their own interactions, the name) replaced in text.
    mentions_replaced: int = 0
    # Interactions a legal hold keeps as they are: while any, the request is "held" (CONTRACT §10).
    held: int = 0
    # Email attachments deleted: those that wrote an erased identifier, and with delete_content all
    # of the person's own (CONTRACT §15).
    attachments_deleted: int = 0
    # Transcript segments whose audio was silenced: the recording said an erased identifier there (CONTRACT §17).
    audio_segments_silenced: int = 0
    # How many identifiers the request's ``also`` added, by kind (CONTRACT §19): never which.
    also: dict[str, int] = field(default_factory=lambda: {"phones": 0, "emails": 0, "variables": 0})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def plus(self, earlier: dict[str, Any] | None) -> RequestResult:
        """This run's counts added to what earlier (held) runs of the request did; ``held`` is this run's."""
        if not earlier:
            return self
        return RequestResult(
            **{
                f.name: getattr(self, f.name) + (0 if f.name == "held" else int(earlier.get(f.name, 0)))
                for f in fields(self)
                if f.name != "also"
            },
            also=self.also,
        )

    @classmethod
    def of(cls, counts: Counts, also: dict[str, int] | None = None) -> RequestResult:
        """The engine's counts without the per-channel split, which a request's result does not show."""
        result = cls(**{f.name: getattr(counts, f.name) for f in fields(cls) if f.name != "also"})
        return result if also is None else replace(result, also=also)


@dataclass
class RunSummary:
    """One solution's run: counts only, never an identifier."""

    solution_id: str
    run_id: str
    trigger: str
    as_of: datetime
    requests_processed: int = 0
    # Claimed by another runner at the same time (it does the work).
    requests_skipped: int = 0
    # Failed and rolled back: still waiting, retried by the next run.
    requests_failed: int = 0
    # False while the mention index was built by an older scanner: mentions in other people's
    # text written in forms only the current scanner reads may not be found until
    # `archivist reindex-mentions` has run. The person's own interactions are always complete.
    mention_index_current: bool = True
    interactions: int = 0
    raw_data_rows: int = 0
    recordings_deleted: int = 0
    content_deleted: int = 0
    variables_replaced: int = 0
    mentions_replaced: int = 0
    # Transcript segments whose audio was silenced (CONTRACT §17).
    audio_segments_silenced: int = 0
    # Email attachments that wrote an erased identifier, or went with the content (CONTRACT §15).
    attachments_deleted: int = 0
    requests_purged: int = 0
    blobs_deleted: int = 0
    duration_s: float = 0.0
    failed_request_ids: list[str] = field(default_factory=list)
    # What the storage step did after the commits (CONTRACT §11); empty if nothing was erased.
    storage: dict[str, Any] = field(default_factory=dict)
    receipts_issued: int = 0
    # Requests processed but kept "held" by a legal hold, and holds whose `until` passed.
    requests_held: int = 0
    holds_released: int = 0
    # Per retention rule: {rule_id, what, deleted} (CONTRACT §10).
    retention: list[dict[str, Any]] = field(default_factory=list)
    # Stopped between requests (shutdown, or the lease was taken over): the rest waits for the next runner.
    stopped: bool = False

    def add(self, result: RequestResult) -> None:
        self.requests_processed += 1
        self.requests_held += 1 if result.held else 0
        self.interactions += result.interactions
        self.raw_data_rows += result.raw_data_rows
        self.recordings_deleted += result.recordings_deleted
        self.content_deleted += result.content_deleted
        self.variables_replaced += result.variables_replaced
        self.mentions_replaced += result.mentions_replaced
        self.audio_segments_silenced += result.audio_segments_silenced
        self.attachments_deleted += result.attachments_deleted

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data

    def describe(self) -> str:
        return (
            f"nightly run for solution {self.solution_id} as of {self.as_of.isoformat()}: "
            f"{self.requests_processed} requests processed ({self.requests_skipped} taken by another run, "
            f"{self.requests_failed} failed), {self.interactions} interactions anonymized, "
            f"{self.raw_data_rows} raw data rows, {self.recordings_deleted} recordings and "
            f"{self.content_deleted} chat logs/emails deleted, {self.variables_replaced} variable values replaced, "
            f"{self.mentions_replaced} mentions in text replaced, "
            f"{self.audio_segments_silenced} spoken segments silenced, "
            f"{self.attachments_deleted} email attachments deleted, "
            f"{self.requests_held} of them held by a legal hold, {self.holds_released} holds ended, "
            + "".join(f"retention rule {r['rule_id']} deleted {r['deleted']} ({r['what']}), " for r in self.retention)
            + f"{self.requests_purged} old request rows deleted, {self.blobs_deleted} blobs removed, "
            f"{self.receipts_issued} receipts signed, {self.duration_s:.2f}s"
            + (
                ""
                if self.mention_index_current
                else "; the mention index is out of date: run archivist reindex-mentions"
            )
        )


@dataclass(frozen=True)
class ErasureProof:
    """What makes an erasure provable: the receipt signer and the ledger (CONTRACT §11)."""

    signer: Signer
    ledger: Ledger
    # PostgreSQL: VACUUM FULL rather than VACUUM after a run (ARCHIVIST_POSTGRES_VACUUM_FULL).
    vacuum_full: bool = False
    # PostgreSQL: the storage step's wait for older transactions (ARCHIVIST_STORAGE_WAIT_S).
    storage_wait_s: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ErasureProof:
        return cls(
            Signer.from_settings(settings),
            Ledger.from_settings(settings),
            settings.postgres_vacuum_full,
            settings.storage_wait_s,
        )


@dataclass(frozen=True)
class _SolutionSettings:
    id: str
    country: str
    replacement: str


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
        settings = _SolutionSettings(solution.id, solution.country, solution.replacement)
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

    # Holds whose `until` has passed end first, so that the requests they kept finish tonight.
    with transaction(factory) as session:
        released = release_expired(session, session.get_one(Solution, solution_id), now)
        for hold_id in released:
            record(session, solution_id, SYSTEM_ACTOR, AuditAction.HOLD_RELEASED, hold_id, {"by": "until"}, at=now)
    summary.holds_released = len(released)

    with factory() as session:
        waiting = list(
            session.scalars(
                select(AnonymizationRequest.id)
                .where(
                    AnonymizationRequest.solution_id == solution_id,
                    AnonymizationRequest.status.in_(PENDING),
                    AnonymizationRequest.created_at <= now,
                )
                .order_by(AnonymizationRequest.created_at, AnonymizationRequest.id)
            )
        )

    ledger = proof.ledger if proof is not None else None
    if ledger is not None:
        _reconcile_ledger(factory, ledger, solution_id)
    for request_id in waiting:
        if keep_going is not None and not keep_going():
            summary.stopped = True
            break
        try:
            with transaction(factory) as session:
                result = process_request(
                    session, settings, request_id, now, keyring=keyring, ledger=ledger, blobs=blobs
                )
                if result is not None:  # in the same transaction: done and audited, or neither
                    record_processed(session, solution_id, request_id, result.as_dict(), now)
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
            _mark_committed(ledger, solution_id, request_id)
        summary.add(result)
        log.info(
            "nightly: request %s done: %d interactions, %d raw data rows, %d recordings, %d content deleted",
            request_id,
            result.interactions,
            result.raw_data_rows,
            result.recordings_deleted,
            result.content_deleted,
        )

    if summary.stopped:
        # What is left (the other requests, blobs, purges, storage step, receipts) is the next runner's.
        return _finish(factory, summary, clock_started)

    # After the requests: retention rules, in chunks that each commit (a crash resumes them). A
    # stop between chunks (shutdown, lease lost) leaves the rest to the next run, like requests.
    for outcome in apply_retention(factory, solution_id, now, keyring=keyring, keep_going=keep_going):
        summary.retention.append(outcome.as_dict())
        with transaction(factory) as session:
            record(
                session,
                solution_id,
                SYSTEM_ACTOR,
                AuditAction.RETENTION_APPLIED,
                outcome.rule_id,
                outcome.as_dict(),
                at=now,
            )

    if keep_going is not None and not keep_going():
        summary.stopped = True
        return _finish(factory, summary, clock_started)

    # After the commits: the blobs the requests let go of (and any a crashed run left).
    summary.blobs_deleted = drain_pending_deletions(factory, blobs, now)

    with transaction(factory) as session:
        summary.requests_purged = purge_requests(session, solution_id, now)
        # Subject access exports past their 7 days forget whose data they were (CONTRACT §12).
        purge_expired_exports(session, now, solution_id)
        # Audit entries past the solution's retention, and sessions and failed logins that ended.
        nightly_purge(session, solution_id, now)
        head = chain_head(session, solution_id)
    # Into the log, outside the database: a head noted here and checked later with
    # `archivist audit verify --expect-head` shows whether entries were deleted from the end.
    log.info("nightly: audit chain head of solution %s: %s", solution_id, head or "-")

    # After every commit of the run: what was erased must not stay readable in freed pages. Also
    # when only receipts a crashed run left are to be signed: each says what its storage step did.
    with factory() as session:
        unsigned = proof is not None and has_unsigned(session, solution_id)
    if summary.requests_processed or summary.blobs_deleted or unsigned:
        vacuum_full = proof.vacuum_full if proof is not None else False
        wait_s = proof.storage_wait_s if proof is not None else None
        summary.storage = {
            **forget_freed_space(engine_of(factory), vacuum_full=vacuum_full, wait_s=wait_s),
            "recordings": "deleted in every version",
        }
    if proof is not None:
        with transaction(factory) as session:
            summary.receipts_issued = issue_receipts(session, solution_id, proof.signer, summary.storage)

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


def where(exc: BaseException) -> str:
    """The innermost archivist frame of a traceback as ``file:line``: enough to find a failure
    without logging its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}archivist{os.sep}" in f.filename] or frames
    if not ours:
        return "?"
    return f"{Path(ours[-1].filename).name}:{ours[-1].lineno}"


def _claim(session: Session, request_id: str, now: datetime) -> bool:
    """Make this transaction the only one processing the request, or report that it is not.

    On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets a second runner pass over a request the
    first is working on instead of queueing behind it. The conditional UPDATE then claims
    it on both databases: it is the transaction's first write, so on SQLite it takes the
    database write lock before anything is read (a second runner waits here, then finds the
    request done and skips it), and on PostgreSQL it re-checks the status under the lock.
    """
    waiting = (AnonymizationRequest.id == request_id, AnonymizationRequest.status.in_(PENDING))
    if session.get_bind().dialect.name == "postgresql":
        locked = session.scalar(select(AnonymizationRequest.id).where(*waiting).with_for_update(skip_locked=True))
        if locked is None:
            return False
    claimed = session.execute(
        update(AnonymizationRequest)
        .where(*waiting)
        .values(processed_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(claimed) == 1


def process_request(
    session: Session,
    solution: _SolutionSettings,
    request_id: str,
    now: datetime,
    *,
    keyring: MentionKeyring,
    ledger: Ledger | None = None,
    blobs: BlobStore | None = None,
) -> RequestResult | None:
    """Carry out one waiting request and mark it done; None if another runner has it.

    Does not commit: the caller's single transaction makes all of it happen, or none.
    """
    if not _claim(session, request_id, now):
        return None
    request = session.get(AnonymizationRequest, request_id)
    if request is None:  # pragma: no cover - the claim just saw it
        return None
    person = Person.of(request.phone_e164, request.email_norm, Also.from_json(request.also))
    scope = Scope(
        solution_id=solution.id,
        country=solution.country,
        replacement=solution.replacement,
        # The end of the entry day, or the run time if a run comes earlier (--as-of, the API).
        cutoff=min(request.cutoff, now),
        delete_content=request.delete_content,
        raw_data=request.raw_data,
    )
    counts = erase_person(session, scope, person, keyring=keyring, now=now, apply=True, blobs=blobs)
    keys = tuple(keyring.key(solution.id, identifier) for identifier in person.identifiers)
    if ledger is not None:
        # Before the commit: a done request is never missing from the ledger (CONTRACT §11).
        ledger.prepare(
            LedgerEntry(
                solution_id=solution.id,
                request_id=request_id,
                processed_at=now,
                cutoff=scope.cutoff,
                keys=keys,
                raw_data=scope.raw_data,
                delete_content=scope.delete_content,
            )
        )
    # The database's copy of the ledger entry: every later write is held against it (CONTRACT §16).
    remember_erasure(
        session,
        LedgerEntry(
            solution_id=solution.id,
            request_id=request_id,
            processed_at=now,
            cutoff=scope.cutoff,
            keys=keys,
            raw_data=scope.raw_data,
            delete_content=scope.delete_content,
        ),
    )
    # A request a hold kept from finishing comes again each night: this run's work adds to its result.
    also = Also.from_json(request.also)
    result = RequestResult.of(counts, also.counts()).plus(
        request.result if request.status is RequestStatus.HELD else None
    )
    # What the receipt lists once the identifiers are forgotten: every one erased, masked.
    erased_masked = {
        "phones": [mask_phone_e164(phone, solution.country) for phone in person.phones],
        "emails": [mask_email(email) for email in person.emails],
    }
    if result.held:
        # Held: everything else is done; the identifiers stay until the holds are released.
        values: dict[str, Any] = {
            "status": RequestStatus.HELD,
            "processed_at": now,
            "result": result.as_dict(),
            "erased_masked": erased_masked,
        }
    else:
        values = {
            "status": RequestStatus.DONE,
            "processed_at": now,
            "result": result.as_dict(),
            "erased_masked": erased_masked,
            # Only the masked forms (made at entry) remain: the row no longer identifies anyone.
            "phone_e164": None,
            "email_norm": None,
            "also": None,
        }
    done = session.execute(
        update(AnonymizationRequest)
        .where(AnonymizationRequest.id == request_id, AnonymizationRequest.status.in_(PENDING))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if rowcount(done) != 1:  # pragma: no cover - the claim holds the row
        raise RuntimeError("anonymization request changed while it was being processed")
    return result


def _mark_committed(ledger: Ledger, solution_id: str, request_id: str) -> None:
    try:
        ledger.commit(solution_id, request_id)
    except Exception as exc:  # noqa: BLE001 - the request is done; the next run writes the marker
        log.warning(
            "nightly: request %s is done but its ledger marker was not written (%s at %s); the next run writes it",
            request_id,
            type(exc).__name__,
            where(exc),
        )


def _reconcile_ledger(factory: sessionmaker[Session], ledger: Ledger, solution_id: str) -> None:
    """Mark entries whose request committed but whose marker a crash kept from being written."""
    pending = ledger.uncommitted(solution_id)
    if not pending:
        return
    with factory() as session:
        done = {
            request_id
            for chunk in chunks(pending)
            for request_id in session.scalars(
                select(AnonymizationRequest.id).where(
                    AnonymizationRequest.id.in_(chunk),
                    AnonymizationRequest.status.in_((RequestStatus.DONE, RequestStatus.HELD)),
                )
            )
        }
    for request_id in sorted(done):
        ledger.commit(solution_id, request_id)


def purge_requests(session: Session, solution_id: str, now: datetime) -> int:
    """Delete done request rows entered more than RETENTION_MONTHS before ``now``.

    Only done ones: the run processes waiting requests before it purges, so an old row is
    still waiting only if processing it failed, and deleting it would silently drop an
    erasure nobody has carried out.
    """
    threshold = months_before(now, RETENTION_MONTHS)
    return rowcount(
        session.execute(
            delete(AnonymizationRequest)
            .where(
                AnonymizationRequest.solution_id == solution_id,
                AnonymizationRequest.status == RequestStatus.DONE,
                AnonymizationRequest.created_at < threshold,
            )
            .execution_options(synchronize_session=False)
        )
    )


def resolve_as_of(as_of: datetime | None, timezone: str) -> datetime:
    """``--as-of`` without an offset is the solution's own local time (02:00 means its night)."""
    if as_of is None:
        return utcnow()
    return as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=ZoneInfo(timezone))
