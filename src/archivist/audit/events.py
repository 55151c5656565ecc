"""Writing, reading, verifying and purging the audit trail: a hash chain per solution.

Each entry's ``hash`` is the SHA-256 of a canonical JSON of its content and the previous
entry's hash, so editing or deleting an entry breaks the chain and ``verify_chain`` says
where. Entries hold ids, counts and masked identifiers only; callers pass nothing else.
Helpers here take a session and never commit: the entry commits with the change it records,
so an action that rolls back leaves no trace and one that commits cannot lose its entry.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.services import Principal
from archivist.accounts.sessions import purge_stale
from archivist.audit.models import AuditEvent
from archivist.db import serialize

# The actor of entries the system writes on its own (the nightly run, the retention purge).
SYSTEM_ACTOR = "system"

DEFAULT_PAGE = 50
MAX_PAGE = 500
# How many entries ``verify_chain`` loads at a time: the chain may hold millions.
VERIFY_BATCH = 5_000


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
    REQUEST_PROCESSED = "request.processed"
    NIGHTLY_RUN_STARTED = "nightly.run_requested"
    RAW_DATA_READ = "raw_data.read"
    RAW_DATA_EXPORTED = "raw_data.exported"
    USER_CREATED = "user.created"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 - an action name, not a password
    TOKEN_CREATED = "token.created"  # noqa: S105 - an action name, not a secret
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an action name, not a secret
    SETTINGS_CHANGED = "settings.changed"
    AUDIT_PURGED = "audit.purged"


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
    """Append an entry to ``solution_id``'s chain in the caller's transaction.

    ``details`` must hold ids, counts, flags and masked identifiers only; it is stored as
    given (JSON) and covered by the hash.
    """
    _lock_chain(session, solution_id)
    event = AuditEvent(
        solution_id=solution_id,
        at=at.astimezone(UTC),
        actor=actor[:100],
        action=action.value,
        target=target[:100] if target else None,
        details=dict(details) if details else None,
        hash="",
    )
    session.add(event)
    # Insert first (for the id), then read the head below our own id; the lock above keeps
    # everyone else from appending between our read and our hash.
    session.flush()
    event.prev_hash = chain_head(session, solution_id, below=event.id)
    event.hash = _hash_of(event)
    session.flush()
    return event


def chain_head(session: Session, solution_id: str, *, below: int | None = None) -> str | None:
    """The hash of the newest entry of ``solution_id``'s chain (of those with an id under ``below``)."""
    query = select(AuditEvent.hash).where(AuditEvent.solution_id == solution_id)
    if below is not None:
        query = query.where(AuditEvent.id < below)
    return session.scalar(query.order_by(AuditEvent.id.desc()).limit(1))


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

    @property
    def ok(self) -> bool:
        return self.problem is None


def _entries(session: Session, solution_id: str) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.solution_id == solution_id, AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(VERIFY_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id
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
        )
    return ChainReport(solution_id, count, previous)


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
    # By id, not by time alone: the chain is ordered by id, and removing a prefix of it is
    # what keeps the rest verifiable even if clocks ever made ``at`` non-monotonic.
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash)
        .where(AuditEvent.solution_id == solution.id, AuditEvent.at < cutoff)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return 0
    last_id, last_hash = last
    result = session.execute(delete(AuditEvent).where(AuditEvent.solution_id == solution.id, AuditEvent.id <= last_id))
    removed = result.rowcount if isinstance(result, CursorResult) else 0
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


class AuditCursorError(ValueError):
    """A cursor this module did not make."""


def _encode_cursor(event: AuditEvent) -> str:
    raw = _canonical([event.at.astimezone(UTC).isoformat(), event.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at_text, event_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None or not isinstance(event_id, int):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise AuditCursorError("not a cursor this API returned") from None
    return at, event_id


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
