"""Writing, reading, verifying and purging the audit trail: a hash chain per solution.

Each entry's ``hash`` is the SHA-256 of a canonical JSON of its content and the previous
entry's hash, so editing or deleting an entry breaks the chain and ``verify_chain`` says
where. Entries hold ids, counts and masked identifiers only; callers pass nothing else.
Helpers here take a session and never commit: the entry commits with the change it records,
so an action that rolls back leaves no trace and one that commits cannot lose its entry.

A read's entry (a search, a details view, a recording played: ``READ_ACTIONS``) is inserted
without its place in the chain and takes no lock, so that readers never queue behind each
other (CONTRACT §13); ``chain_pending`` gives such entries their place in batches, under the
chain's lock: every other entry does it before its own, and each server runs it in the
background (``AuditChainer``) every ``CHAIN_EVERY``.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, delete, exists, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.accounts.services import Principal
from archivist.accounts.sessions import purge_stale
from archivist.audit import spool
from archivist.audit.models import AuditEvent
from archivist.db import rowcount, serialize
from archivist.pagination import CursorError, decode_cursor, encode_cursor

# The actor of entries the system writes on its own (the nightly run, the retention purge).
SYSTEM_ACTOR = "system"

DEFAULT_PAGE = 50
MAX_PAGE = 500
# How many entries ``verify_chain`` loads at a time: the chain may hold millions.
VERIFY_BATCH = 5_000
# How many waiting entries one ``chain_pending`` statement loads, and how often each server chains them.
CHAIN_BATCH = 2_000
CHAIN_EVERY = timedelta(seconds=1)

log = logging.getLogger(__name__)


class AuditAction(enum.StrEnum):
    """What happened. Stored by value; the page's action filter lists these."""

    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    LOGOUT = "logout"
    SEARCH = "search"
    INTERACTION_VIEWED = "interaction.viewed"
    CONTENT_READ = "content.read"
    RECORDING_PLAYED = "recording.played"
    RECORDING_DOWNLOADED = "recording.downloaded"
    RECORDING_DELETED = "recording.deleted"
    CONTENT_DELETED = "content.deleted"
    ANONYMIZED_AND_DELETED = "interactions.anonymized_and_deleted"
    REQUEST_ADDED = "request.added"
    REQUEST_PREVIEWED = "request.previewed"
    REQUEST_CANCELLED = "request.cancelled"
    REQUEST_WIDENED = "request.widened"
    REQUEST_PROCESSED = "request.processed"
    REQUESTS_BULK_ADDED = "requests.bulk_added"
    SUBJECT_EXPORT_CREATED = "subject_export.created"
    SUBJECT_EXPORT_PREVIEWED = "subject_export.previewed"
    SUBJECT_EXPORT_DOWNLOADED = "subject_export.downloaded"
    NIGHTLY_RUN_STARTED = "nightly.run_requested"
    RAW_DATA_READ = "raw_data.read"
    RAW_DATA_EXPORTED = "raw_data.exported"
    USER_CREATED = "user.created"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 - an action name, not a password
    USER_RENAMED = "user.renamed"
    TOKEN_CREATED = "token.created"  # noqa: S105 - an action name, not a secret
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an action name, not a secret
    SETTINGS_CHANGED = "settings.changed"
    AUDIT_PURGED = "audit.purged"
    RETENTION_RULE_ADDED = "retention_rule.added"
    RETENTION_RULE_DELETED = "retention_rule.deleted"
    RETENTION_APPLIED = "retention.applied"
    HOLD_PLACED = "legal_hold.placed"
    HOLD_RELEASED = "legal_hold.released"


# Entries of reads: written without a lock, chained by the next ``chain_pending``. Everything
# that changes state is chained in its own transaction, after any reads waiting before it.
READ_ACTIONS = frozenset(
    {
        AuditAction.SEARCH,
        AuditAction.INTERACTION_VIEWED,
        AuditAction.CONTENT_READ,
        AuditAction.RECORDING_PLAYED,
        AuditAction.RECORDING_DOWNLOADED,
        AuditAction.RAW_DATA_READ,
        AuditAction.RAW_DATA_EXPORTED,
        AuditAction.REQUEST_PREVIEWED,
    }
)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    # Sorted keys and no whitespace: the same entry always gives the same bytes, on any
    # database and Python version.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    *,
    solution_id: str,
    at: datetime,
    actor: str,
    action: str,
    target: str | None,
    details: Mapping[str, Any] | None,
    prev_hash: str | None,
) -> str:
    """SHA-256 over the canonical JSON of an entry's content and the previous entry's hash."""
    content = {
        "solution_id": solution_id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "target": target,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(_canonical(content).encode()).hexdigest()


def _hash_of(event: AuditEvent) -> str:
    return entry_hash(
        solution_id=event.solution_id,
        at=event.at,
        actor=event.actor,
        action=event.action,
        target=event.target,
        details=event.details,
        prev_hash=event.prev_hash,
    )


def _lock_chain(session: Session, solution_id: str) -> None:
    """Serialise appends to one solution's chain until the transaction ends.

    Two transactions would otherwise both read the same head and fork the chain.
    """
    serialize(session, f"audit:{solution_id}")


def record(
    session: Session,
    solution_id: str,
    actor: str,
    action: AuditAction,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
    *,
    at: datetime,
) -> AuditEvent:
    """Append an entry to ``solution_id``'s trail in the caller's transaction.

    ``details`` must hold ids, counts, flags and masked identifiers only; it is stored as
    given (JSON) and covered by the hash. A read's entry (``READ_ACTIONS``) is only inserted,
    without a lock; any other entry is chained at once, after the reads waiting before it.
    In a server on SQLite a read's entry goes to the server's spool file when the transaction
    commits (``audit.spool``), and the entry returned is not in the session.
    """
    entry = {
        "solution_id": solution_id,
        "at": at.astimezone(UTC),
        "actor": actor[:100],
        "action": action.value,
        "target": target[:100] if target else None,
        "details": dict(details) if details else None,
    }
    event = AuditEvent(**entry, hash="")
    if action in READ_ACTIONS and spool.stage(session, entry):
        return event
    session.add(event)
    session.flush()
    if action not in READ_ACTIONS:
        _lock_chain(session, solution_id)
        chain_pending(session, solution_id, locked=True)  # this entry last: it has the highest id we can see
    return event


def _pending(solution_id: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (AuditEvent.solution_id == solution_id, AuditEvent.seq.is_(None))


def chain_pending(session: Session, solution_id: str, *, locked: bool = False) -> int:
    """Give every entry still waiting (a read's) its place at the end of the chain, oldest
    id first; returns how many. Takes the chain's lock unless the caller holds it (``locked``).

    The order is that of ``seq``, not of ``id``: on PostgreSQL an entry whose transaction
    commits late has a lower id than entries chained before it became visible.
    """
    if not locked:
        if not session.scalar(select(exists().where(*_pending(solution_id)))):
            return 0  # the usual case, without the lock
        _lock_chain(session, solution_id)
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.solution_id == solution_id, AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    seq: int = (head[0] or 0) if head is not None else 0
    prev_hash: str | None = head[1] if head is not None else None
    chained = 0
    while batch := session.scalars(
        select(AuditEvent).where(*_pending(solution_id)).order_by(AuditEvent.id).limit(CHAIN_BATCH)
    ).all():
        for event in batch:
            seq += 1
            event.seq = seq
            event.prev_hash = prev_hash
            event.hash = prev_hash = _hash_of(event)
        session.flush()
        chained += len(batch)
    return chained


def chain_head(session: Session, solution_id: str) -> str | None:
    """The hash of the newest chained entry of ``solution_id``'s chain."""
    return session.scalar(
        select(AuditEvent.hash)
        .where(AuditEvent.solution_id == solution_id, AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )


def chain_all(factory: sessionmaker[Session], read_spool: spool.ReadSpool | None = None) -> int:
    """Move spooled reads' entries in (``read_spool``'s own and any a dead server left), then
    ``chain_pending`` for every solution, one transaction each; returns entries chained."""
    if read_spool is not None:
        read_spool.move(factory)
    else:
        spool.move_spooled(factory)
    with factory() as session:
        solution_ids = list(session.scalars(select(Solution.id)))
    chained = 0
    for solution_id in solution_ids:
        with factory() as session, session.begin():
            chained += chain_pending(session, solution_id)
    return chained


class AuditChainer:
    """A server's background thread that chains read entries every ``CHAIN_EVERY``.

    Every worker of every server runs one; they take the chain's lock per solution, so they
    take turns, and one that finds nothing waiting takes no lock at all. On SQLite it also
    gives the server's sessions a spool for reads' entries and moves them in first
    (``audit.spool``). On stop it chains once more, so what this process wrote is chained
    before it exits.
    """

    def __init__(self, factory: sessionmaker[Session], every: timedelta = CHAIN_EVERY) -> None:
        self.factory = factory
        self.every = every
        bind = factory.kw.get("bind")
        self.spool = spool.ReadSpool.for_engine(bind) if isinstance(bind, Engine) else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="audit-chainer", daemon=True)

    def start(self) -> None:
        if self.spool is not None:
            self.spool.attach(self.factory)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.spool is not None:
            self.spool.detach(self.factory)
        self._pass()

    def _loop(self) -> None:
        while not self._stop.wait(self.every.total_seconds()):
            self._pass()

    def _pass(self) -> None:
        try:
            chain_all(self.factory, self.spool)
        except Exception as exc:  # noqa: BLE001 - the entries stay waiting; the next pass (anyone's) chains them
            log.warning("audit: could not chain waiting entries (%s)", type(exc).__name__)


def record_for(
    session: Session,
    principal: Principal,
    action: AuditAction,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
    *,
    at: datetime,
) -> AuditEvent:
    """``record`` for what a logged-in user or token did, in their own solution."""
    return record(session, principal.solution_id, principal.username, action, target, details, at=at)


def filters_used(**values: object) -> list[str]:
    """The names of the filters a search used, never their values (they may be identifiers)."""
    return sorted(name for name, value in values.items() if value not in (None, "", [], ()))


# ---------------------------------------------------------------------------------------------
# Verifying
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking one solution's chain."""

    solution_id: str
    entries: int
    head: str | None
    broken_at: int | None = None
    problem: str | None = None
    # Read entries not chained yet (``chain_pending`` gives them their place): not checked.
    pending: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None


def _entries(session: Session, solution_id: str) -> Iterator[AuditEvent]:
    """The chained entries in chain order."""
    last_seq = 0
    while True:
        batch = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.solution_id == solution_id, AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(VERIFY_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq or 0
        session.expunge_all()  # keep memory flat over a long chain


def _purge_anchors(session: Session, solution_id: str) -> set[str]:
    """The hashes of the last entry each retention purge removed: legitimate chain starts."""
    details = session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.solution_id == solution_id, AuditEvent.action == AuditAction.AUDIT_PURGED.value
        )
    ).all()
    return {str(d["last_purged_hash"]) for d in details if d and d.get("last_purged_hash")}


def verify_chain(session: Session, solution_id: str, *, expect_head: str | None = None) -> ChainReport:
    """Check every entry's hash and link; report the first entry that breaks the chain.

    The first remaining entry may follow entries that the retention purge removed: its
    ``prev_hash`` must then be the anchor a purge entry recorded. Any other gap (a deleted
    entry, the oldest one included) or any edited field breaks the chain.

    The chain alone cannot show that its newest entries were deleted. ``expect_head``, a
    head noted earlier outside the database, must still be in the chain (or be the anchor
    of a retention purge): if it is gone, entries were removed from the end since.
    """
    anchors = _purge_anchors(session, solution_id)
    pending = session.scalar(select(func.count()).select_from(AuditEvent).where(*_pending(solution_id))) or 0
    previous: str | None = None
    count = 0
    expected_seen = expect_head is None or expect_head in anchors
    for event in _entries(session, solution_id):
        count += 1
        if count == 1:
            if event.prev_hash is not None and event.prev_hash not in anchors:
                return ChainReport(
                    solution_id, count, previous, event.id, "entries before it were deleted outside a retention purge"
                )
        elif event.prev_hash != previous:
            return ChainReport(
                solution_id, count, previous, event.id, "the entry before it was deleted, or its link was edited"
            )
        if _hash_of(event) != event.hash:
            return ChainReport(solution_id, count, previous, event.id, "its content was edited")
        previous = event.hash
        expected_seen = expected_seen or event.hash == expect_head
    if not expected_seen:
        return ChainReport(
            solution_id,
            count,
            previous,
            problem="no entry has the expected head hash: entries were deleted from the end of the chain "
            "since it was noted (or the retention purge has since removed it with older entries)",
            pending=pending,
        )
    return ChainReport(solution_id, count, previous, pending=pending)


# ---------------------------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------------------------


def purge_expired(session: Session, solution: Solution, now: datetime) -> int:
    """Delete entries older than the solution's retention, keeping the chain verifiable.

    The purge records the hash of the last entry it removed; ``verify_chain`` accepts that
    hash as the start of the remaining chain. Returns how many entries were removed.
    """
    cutoff = now - timedelta(days=solution.audit_retention_days)
    _lock_chain(session, solution.id)
    chain_pending(session, solution.id, locked=True)
    # By place, not by time alone: removing a prefix of the chain is what keeps the rest
    # verifiable even if clocks ever made ``at`` non-monotonic.
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.solution_id == solution.id, AuditEvent.at < cutoff)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if last is None:
        return 0
    last_seq, last_hash = last
    result = session.execute(
        delete(AuditEvent).where(AuditEvent.solution_id == solution.id, AuditEvent.seq <= last_seq)
    )
    removed = rowcount(result)
    record(
        session,
        solution.id,
        SYSTEM_ACTOR,
        AuditAction.AUDIT_PURGED,
        details={
            "entries": int(removed),
            "before": cutoff.isoformat(),
            "retention_days": solution.audit_retention_days,
            "last_purged_hash": last_hash,
        },
        at=now,
    )
    return int(removed)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


# A cursor this module did not make (the one codec's error, a 422 wherever it surfaces).
AuditCursorError = CursorError


def _encode_cursor(event: AuditEvent) -> str:
    return encode_cursor(event.at, event.id)


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    return decode_cursor(cursor, int)


@dataclass(frozen=True)
class AuditFilters:
    """All optional, combined with AND; ``started_from`` inclusive, ``started_to`` exclusive."""

    started_from: datetime | None = None
    started_to: datetime | None = None
    action: str | None = None
    actor: str | None = None


def list_events(
    session: Session, solution_id: str, filters: AuditFilters, limit: int, cursor: str | None = None
) -> tuple[list[AuditEvent], str | None]:
    """A page of entries, newest first, and the cursor of the next page (None on the last)."""
    query = select(AuditEvent).where(AuditEvent.solution_id == solution_id)
    if filters.started_from is not None:
        query = query.where(AuditEvent.at >= filters.started_from)
    if filters.started_to is not None:
        query = query.where(AuditEvent.at < filters.started_to)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(AuditEvent.actor == filters.actor)
    if cursor:
        at, event_id = _decode_cursor(cursor)
        query = query.where(AuditEvent.at <= at, or_(AuditEvent.at < at, AuditEvent.id < event_id))
    rows = list(session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit + 1)))
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def nightly_purge(session: Session, solution_id: str, now: datetime) -> int:
    """The nightly run's housekeeping for access control: audit entries past the solution's
    retention, and sessions and failed logins nobody needs any more. Returns rows removed."""
    solution = session.get(Solution, solution_id)
    if solution is None:
        return 0
    return purge_expired(session, solution, now) + purge_stale(session, solution_id, now)


def record_processed(
    session: Session, solution_id: str, request_id: str, result: Mapping[str, Any], at: datetime
) -> None:
    """The nightly run's entry for a request it carried out: its id and counts only."""
    record(session, solution_id, SYSTEM_ACTOR, AuditAction.REQUEST_PROCESSED, request_id, dict(result), at=at)
