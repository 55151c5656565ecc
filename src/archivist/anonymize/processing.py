"""One anonymization request carried out in the caller's transaction (CONTRACT §7).

``process_request`` claims a waiting request, erases what it names through the erasure engine,
writes the ledger entry and marks the request done (or held), all without committing: the
nightly run (``archivist.nightly``) gives each request its own transaction, so a crash leaves it
either waiting with nothing changed or done with everything changed, and two runners never
process it twice. Logs and exceptions carry ids, counts and masked identifiers only.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.anonymize.erasure import Counts, Erased, Person, Scope, erase_person
from archivist.anonymize.ledger import Ledger, LedgerEntry
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.anonymize.operators import rowcount
from archivist.anonymize.replay import remember_erasure
from archivist.anonymize.requests import RETENTION_MONTHS, Also
from archivist.archive.mentions import MentionKeyring
from archivist.blobs import BlobStore
from archivist.db import chunks
from archivist.errors import where
from archivist.identifiers import mask_email, mask_phone_e164
from archivist.times import months_before

log = logging.getLogger(__name__)


# What a run takes up: requests not yet processed, and those a legal hold kept from finishing.
PENDING = (RequestStatus.WAITING, RequestStatus.HELD)


@dataclass(kw_only=True)
class RequestResult(Erased):
    """What one request changed; stored on the request as its ``result`` (never changed once made)."""

    # Interactions a legal hold keeps as they are: while any, the request is "held" (CONTRACT §10).
    held: int = 0
    # How many identifiers the request's ``also`` added, by kind (CONTRACT §19): never which.
    also: dict[str, int] = field(default_factory=lambda: {"phones": 0, "emails": 0, "variables": 0})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def plus(self, earlier: dict[str, Any] | None) -> RequestResult:
        """This run's counts added to what earlier (held) runs of the request did; ``held`` is this run's."""
        if not earlier:
            return self
        total = RequestResult(held=self.held, also=self.also)
        total.add_erased(self)
        total.add_erased(Erased(**{name: int(earlier.get(name, 0)) for name in self.erased()}))
        return total

    @classmethod
    def of(cls, counts: Counts, also: dict[str, int] | None = None) -> RequestResult:
        """The engine's counts without the per-channel split, which a request's result does not show."""
        result = cls(held=counts.held) if also is None else cls(held=counts.held, also=also)
        result.add_erased(counts)
        return result


@dataclass(frozen=True)
class SolutionSettings:
    """What processing a request needs of its solution, read once a run."""

    id: str
    country: str
    replacement: str


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
    solution: SolutionSettings,
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
    entry = LedgerEntry(
        solution_id=solution.id,
        request_id=request_id,
        processed_at=now,
        cutoff=scope.cutoff,
        keys=tuple(keyring.key(solution.id, identifier) for identifier in person.identifiers),
        raw_data=scope.raw_data,
        delete_content=scope.delete_content,
    )
    if ledger is not None:
        # Before the commit: a done request is never missing from the ledger (CONTRACT §11).
        ledger.prepare(entry)
    # The database's copy of the ledger entry: every later write is held against it (CONTRACT §16).
    remember_erasure(session, entry)
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


def mark_committed(ledger: Ledger, solution_id: str, request_id: str) -> None:
    try:
        ledger.commit(solution_id, request_id)
    except Exception as exc:  # noqa: BLE001 - the request is done; the next run writes the marker
        log.warning(
            "nightly: request %s is done but its ledger marker was not written (%s at %s); the next run writes it",
            request_id,
            type(exc).__name__,
            where(exc),
        )


def reconcile_ledger(factory: sessionmaker[Session], ledger: Ledger, solution_id: str) -> None:
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
