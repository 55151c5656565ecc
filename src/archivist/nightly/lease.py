"""The nightly lease: one runner of a solution's nightly job at a time, across every process and server.

One row per solution in ``nightly_leases``: who runs the job now and until when, and which
scheduled night it last started and finished. A runner takes the row with one conditional
UPDATE (the database decides, on SQLite under its write lock and on PostgreSQL under the
row lock, which re-checks the condition after a concurrent taker commits), renews it between
requests, and gives it up at the end. A runner that dies stops renewing; once the lease has
expired, any other runner takes it over and finishes the night. Requests themselves are
still claimed one by one (``anonymize.processing._claim``): the lease keeps runs from starting twice, the
claims keep a request from being processed twice even if a slow runner outlives its lease.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.mentions import MentionKeyring
from archivist.blobs import BlobStore
from archivist.config import Settings
from archivist.db import make_engine, make_session_factory, rowcount, transaction, utcnow
from archivist.errors import where
from archivist.nightly.models import NightlyLease
from archivist.nightly.run import resolve_as_of, run_nightly
from archivist.nightly.summary import ErasureProof, RunSummary, RunTrigger

log = logging.getLogger(__name__)

# A free lease expires at the start of time: the first taker finds it free.
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LeasePolicy:
    """How long a lease lasts without renewal, and an optional pause between requests."""

    # Longer than the longest single request (renewal happens between requests) and than any
    # clock skew between servers; a dead runner's night is taken over this long after it died.
    ttl: timedelta = timedelta(seconds=120)
    # Pause after each request of a run, so a long night yields the database to daytime
    # traffic (and a test can kill a runner mid-run). Zero by default.
    pause: timedelta = timedelta(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> LeasePolicy:
        return cls(
            ttl=timedelta(seconds=settings.nightly_lease_seconds),
            pause=timedelta(milliseconds=settings.nightly_request_pause_ms),
        )

    @property
    def renew_every(self) -> timedelta:
        return self.ttl / 3


def new_holder() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _ensure_row(session: Session, solution_id: str, now: datetime) -> None:
    values = {"solution_id": solution_id, "holder": "", "taken_at": now, "expires_at": _NEVER}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(NightlyLease).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(NightlyLease).values(values).on_conflict_do_nothing())
    else:  # pragma: no cover - the two databases we support
        raise ValueError(f"no lease for {dialect}")


def _take(
    session: Session,
    solution_id: str,
    holder: str,
    now: datetime,
    ttl: timedelta,
    conditions: tuple[ColumnElement[bool], ...] = (),
    **values: object,
) -> bool:
    """The one conditional UPDATE that takes a free lease (its holder gone or expired)."""
    _ensure_row(session, solution_id, now)
    result = session.execute(
        update(NightlyLease)
        .where(NightlyLease.solution_id == solution_id, NightlyLease.expires_at <= now, *conditions)
        .values(holder=holder, taken_at=now, expires_at=now + ttl, **values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def take_night(session: Session, solution_id: str, night: date, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take the lease to run the scheduled ``night``: True if this caller now holds it.

    Free, and the night not finished yet: a later night than the last one started, or the
    same night again if its runner died before finishing it.
    """
    day = night.isoformat()
    unfinished = or_(
        NightlyLease.night.is_(None),
        NightlyLease.night < day,
        and_(NightlyLease.night == day, NightlyLease.night_finished_at.is_(None)),
    )
    return _take(session, solution_id, holder, now, ttl, (unfinished,), night=day, night_finished_at=None)


def take_now(session: Session, solution_id: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take the lease for a run on demand (``archivist nightly``): free is enough; the night is left as it was."""
    return _take(session, solution_id, holder, now, ttl)


def renew(session: Session, solution_id: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Extend the lease; False if another runner has taken it over (this one must stop)."""
    return (
        rowcount(
            session.execute(
                update(NightlyLease)
                .where(NightlyLease.solution_id == solution_id, NightlyLease.holder == holder)
                .values(expires_at=now + ttl)
                .execution_options(synchronize_session=False)
            )
        )
        == 1
    )


def release(session: Session, solution_id: str, holder: str, now: datetime, *, finished: bool) -> bool:
    """Give the lease up now; ``finished`` marks the scheduled night done. False if it was not ours."""
    values: dict[str, object] = {"expires_at": now}
    if finished:
        values["night_finished_at"] = now
    return (
        rowcount(
            session.execute(
                update(NightlyLease)
                .where(NightlyLease.solution_id == solution_id, NightlyLease.holder == holder)
                .values(values)
                .execution_options(synchronize_session=False)
            )
        )
        == 1
    )


@dataclass
class LeaseKeeper:
    """The run's ``keep_going`` hook, asked between requests: renews the lease, pauses, and
    says stop when the lease was lost or the process is shutting down."""

    factory: sessionmaker[Session]
    solution_id: str
    holder: str
    policy: LeasePolicy
    clock: Callable[[], datetime] = utcnow
    stop: threading.Event = field(default_factory=threading.Event)
    lost: bool = False
    _renewed: float = field(default_factory=time.monotonic)

    def __call__(self) -> bool:
        if self.lost or self.stop.is_set():
            return False
        # The pause is interruptible: a shutdown does not wait it out.
        if self.policy.pause and self.stop.wait(self.policy.pause.total_seconds()):
            return False
        if time.monotonic() - self._renewed >= self.policy.renew_every.total_seconds():
            with transaction(self.factory) as session:
                self.lost = not renew(session, self.solution_id, self.holder, self.clock(), self.policy.ttl)
            self._renewed = time.monotonic()
            if self.lost:
                log.warning("nightly: the lease of solution %s was taken over; this run stops", self.solution_id)
                return False
        return True


def run_leased(
    factory: sessionmaker[Session],
    blobs: BlobStore,
    now: datetime,
    *,
    keyring: MentionKeyring,
    solution_id: str,
    trigger: RunTrigger,
    proof: ErasureProof | None,
    night: date | None,
    policy: LeasePolicy,
    clock: Callable[[], datetime] = utcnow,
    stop: threading.Event | None = None,
) -> RunSummary | None:
    """``run_nightly`` for one solution under its lease; None if another runner holds it (or
    the scheduled ``night`` is done already). ``night`` None: a run on demand.

    ``now`` is the run's as-of time; the lease's own times come from ``clock`` (real time,
    also for a run ``--as-of`` another day).
    """
    holder = new_holder()
    with transaction(factory) as session:
        if session.get(Solution, solution_id) is None:
            raise LookupError("no such solution")
        taken_at = clock()
        if night is None:
            taken = take_now(session, solution_id, holder, taken_at, policy.ttl)
        else:
            taken = take_night(session, solution_id, night, holder, taken_at, policy.ttl)
    if not taken:
        return None
    keeper = LeaseKeeper(factory, solution_id, holder, policy, clock, stop or threading.Event())
    finished = False
    try:
        (summary,) = run_nightly(
            factory,
            blobs,
            now,
            keyring=keyring,
            solution_id=solution_id,
            trigger=trigger,
            proof=proof,
            keep_going=keeper,
        )
        finished = not summary.stopped
        return summary
    finally:
        if not keeper.lost:
            try:
                with transaction(factory) as session:
                    release(session, solution_id, holder, clock(), finished=finished and night is not None)
            except Exception as exc:  # noqa: BLE001 - the lease then expires by itself after its ttl
                log.warning(
                    "nightly: could not release the lease of solution %s (%s at %s); it expires in %ss",
                    solution_id,
                    type(exc).__name__,
                    where(exc),
                    int(policy.ttl.total_seconds()),
                )


def lease_of(session: Session, solution_id: str) -> NightlyLease | None:
    return session.scalars(select(NightlyLease).where(NightlyLease.solution_id == solution_id)).first()


# `archivist nightly`'s exit code when another runner held a solution's lease (and nothing failed).
NIGHTLY_BUSY = 3


def run_nightly_cli(settings: Settings, *, solution_id: str | None, as_of: datetime | None) -> int:
    """``archivist nightly``: run, print one summary line per solution; the exit code."""
    from archivist.blobs import make_blob_store

    engine = make_engine(settings.resolved_database_url)
    factory = make_session_factory(engine)
    blobs = make_blob_store(settings.resolved_blob_url)
    keyring = MentionKeyring.from_settings(settings)
    proof = ErasureProof.from_settings(settings)
    try:
        with factory() as session:
            query = select(Solution.id, Solution.timezone).order_by(Solution.created_at, Solution.id)
            if solution_id is not None:
                query = query.where(Solution.id == solution_id)
            targets = list(session.execute(query))
        if not targets:
            print("error: no such solution (run `archivist init` first, or check --solution)", file=sys.stderr)
            return 2
        failed = busy = 0
        # SIGTERM (a service manager stopping us) stops the run between requests, as a server's does.
        stop = threading.Event()
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if main else None
        for sid, timezone in targets:
            summary = run_leased(
                factory,
                blobs,
                resolve_as_of(as_of, timezone),
                keyring=keyring,
                solution_id=sid,
                trigger=RunTrigger.CLI,
                proof=proof,
                night=None,
                policy=LeasePolicy.from_settings(settings),
                stop=stop,
            )
            if summary is None:
                print(f"solution {sid}: another nightly run holds its lease; not started", file=sys.stderr)
                busy += 1
                continue
            print(summary.describe())
            failed += summary.requests_failed + int(summary.stopped)
        if main:
            signal.signal(signal.SIGTERM, previous)
        return 1 if failed else NIGHTLY_BUSY if busy else 0
    finally:
        engine.dispose()
