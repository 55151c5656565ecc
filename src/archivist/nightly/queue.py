"""The distributed tier's job queue (PostgreSQL): solutions' nights, re-indexing and imports as jobs
for ``archivist worker``.

procrastinate keeps the jobs in PostgreSQL, in tables made by migration 0016, so any number of
worker processes on any number of machines share one queue through the archive's own database.
A night's job's arguments are a solution's id and the night's date, nothing else. The job runs
that night through the nightly lease (``lease.run_leased``), which stays what makes it run once:
two workers holding jobs for the same night, a worker that died mid-run and the scheduler of
``archivist serve`` all go through the same conditional take of the same lease row. A
re-indexing job's argument is a solution's id; one runs at a time per solution (a queue lock),
and it can be stopped and run again (``mentions.reindex_solution`` walks in committed batches).
An import's arguments are where to read (format, source, mapping) and the solution; it runs as
``archivist import`` does (``importers.import_source``), and run again it skips what it archived.
SQLite has no queue: ``archivist nightly``, ``archivist serve`` and ``archivist
reindex-mentions`` run in-process.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

import procrastinate
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import JobDeferrer
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.mentions import MentionKeyring, reindex_solution
from archivist.blobs import BlobStore
from archivist.config import Settings
from archivist.db import make_engine, make_session_factory, utcnow
from archivist.errors import where
from archivist.identifiers_text import mask_written
from archivist.nightly.lease import LeasePolicy, lease_of, run_leased
from archivist.nightly.scheduler import NightlyTrigger
from archivist.nightly.summary import ErasureProof, RunTrigger
from archivist.schema import QUEUE_TABLE_PREFIX

log = logging.getLogger(__name__)

NIGHT_TASK = "archivist.nightly.night"
QUEUE = "nightly"
REINDEX_TASK = "archivist.mentions.reindex"
IMPORT_TASK = "archivist.importers.import"
# Long work that is not a night: kept apart so a worker's nights are never queued behind it by name.
MAINTENANCE = "maintenance"
# A re-indexing job logs its progress every this many interactions, an import every this many
# records (NDJSON: bytes, ten times as many).
REINDEX_LOG_EVERY = 10_000
# An import's bad records each get a line in the worker's log, up to this many.
IMPORT_BAD_LOGGED = 100
# The queue's own tables (procrastinate_jobs, _events, _workers, _periodic_defers): made by
# migration 0016 and used through the library's SQL, never through our models.
TABLE_PREFIX = QUEUE_TABLE_PREFIX
# How often a night whose lease another runner holds is tried again, at most: with the retry wait
# of half a lease (``NightRetry``), the default 120 s lease gives a busy night an hour.
NIGHT_ATTEMPTS = 60
# A re-indexing or an import that failed (a deadlock, a lost connection) is tried again a few
# times, a minute apart; an import run again skips what it archived.
REINDEX_ATTEMPTS = 5
IMPORT_ATTEMPTS = 5
NEEDS_POSTGRES = (
    "the job queue needs PostgreSQL (ARCHIVIST_DATABASE_URL=postgresql+psycopg://...); "
    "on SQLite, `archivist nightly` and `archivist serve` run the nights in this process"
)


class QueueUnavailableError(RuntimeError):
    """The archive is on SQLite: the embedded single-machine path has no queue."""


class NightBusyError(Exception):
    """The night's lease is held elsewhere, or this run stopped before the end: try again later.

    A live runner finishes the night and the retry finds it done; a dead one's lease expires
    (after ``nightly_lease_seconds``) and the retry takes the night over.
    """


class NightFailedError(Exception):
    """The run raised: the type and where only (the text may quote a row)."""


class ReindexFailedError(Exception):
    """Re-indexing raised: the type and where only (the text may quote a row). Its batches so far
    are committed; the job's next attempt, or another, starts the walk again."""


class ImportStoppedError(Exception):
    """A queued import stopped part-way (a database or store failure): its position and the
    failure's type only. What it archived stays; the retry skips it and goes on."""


class ImportRefusedError(Exception):
    """A queued import's source cannot be read or its format has no importer: not retried. The
    message names what failed (``SourceUnreadable``'s), never a record's content."""


def _failure(exc: Exception) -> str:
    """An exception as a job may report it: its type, the database's SQLSTATE (which failure it was,
    a deadlock or a timeout, quoting nothing) and where; never its text, which may quote a row."""
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return f"{type(exc).__name__}{f' ({code})' if code else ''} at {where(exc)}"


def conninfo(database_url: str) -> str:
    """The libpq connection string of the archive's SQLAlchemy URL (``postgresql+psycopg://`` -> ``postgresql://``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise QueueUnavailableError(NEEDS_POSTGRES)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(settings: Settings, *, connections: int = 2) -> procrastinate.App:
    """A procrastinate app on the archive's database, its pool at most ``connections`` wide."""
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(settings.resolved_database_url), min_size=1, max_size=connections
    )
    return procrastinate.App(connector=connector)


def night_due(nightly_at: str, timezone: str, now: datetime) -> date:
    """The night a solution's run starting ``now`` belongs to, as the scheduler names it."""
    trigger = NightlyTrigger(nightly_at, timezone)
    due = trigger.latest_due(now)
    return trigger.night_of(due if due is not None else now)


@dataclass(frozen=True)
class Enqueued:
    solution_id: str
    night: date
    job_id: int | None  # None: a job for this night was queued already and has not started


class _Target(NamedTuple):
    id: str
    nightly_at: str
    timezone: str
    country: str


def _solutions(settings: Settings, solution_id: str | None) -> list[_Target]:
    """Every solution, oldest first, or ``solution_id``; LookupError if there is none."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_session_factory(engine)() as session:
            query = select(Solution.id, Solution.nightly_at, Solution.timezone, Solution.country).order_by(
                Solution.created_at, Solution.id
            )
            if solution_id is not None:
                query = query.where(Solution.id == solution_id)
            targets = [_Target(*row) for row in session.execute(query)]
    finally:
        engine.dispose()
    if not targets:
        raise LookupError("no such solution")
    return targets


def _defer(deferrer: JobDeferrer, **args: str | None) -> int | None:
    """The new job's id, or None when its queueing lock says the same job waits already."""
    try:
        job_id: int = deferrer.defer(**args)
    except queue_errors.AlreadyEnqueued:
        return None
    return job_id


def enqueue_nights(settings: Settings, *, solution_id: str | None, now: datetime) -> list[Enqueued]:
    """One job per solution (or for ``solution_id``) for its current night; LookupError if there is none."""
    app = make_app(settings)  # first: on SQLite it refuses before anything is read
    targets = _solutions(settings, solution_id)
    done = []
    with app.open():
        for sid, nightly_at, timezone, _ in targets:
            night = night_due(nightly_at, timezone, now)
            deferrer = app.configure_task(
                NIGHT_TASK,
                queue=QUEUE,
                # One job of a solution runs at a time (the lease would refuse a second anyway),
                # and a night waiting in the queue is not queued twice.
                lock=f"night:{sid}",
                queueing_lock=f"night:{sid}:{night.isoformat()}",
            )
            done.append(Enqueued(sid, night, _defer(deferrer, solution_id=sid, night=night.isoformat())))
    return done


@dataclass
class JobRunner:
    """What a worker process needs to run its jobs (nights, re-indexing, imports): built once per
    process, used by every job."""

    factory: sessionmaker[Session]
    blobs: BlobStore
    keyring: MentionKeyring
    proof: ErasureProof | None
    policy: LeasePolicy
    clock: Callable[[], datetime] = utcnow
    # Set on shutdown: a run stops between requests and gives its lease up unfinished.
    stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> JobRunner:
        from archivist.blobs import make_blob_store

        return cls(
            factory=make_session_factory(engine),
            blobs=make_blob_store(settings.resolved_blob_url),
            keyring=MentionKeyring.from_settings(settings),
            proof=ErasureProof.from_settings(settings),
            policy=LeasePolicy.from_settings(settings),
        )

    def night_settled(self, solution_id: str, night: date) -> bool:
        """Finished by some runner, or overtaken by a later night (whose run did this one's work)."""
        day = night.isoformat()
        with self.factory() as session:
            lease = lease_of(session, solution_id)
        if lease is None or lease.night is None:
            return False
        return lease.night > day or (lease.night == day and lease.night_finished_at is not None)

    def __call__(self, solution_id: str, night: date) -> None:
        """The job: run the night under its lease; raise NightBusyError while it is not done."""
        try:
            summary = run_leased(
                self.factory,
                self.blobs,
                self.clock(),
                keyring=self.keyring,
                solution_id=solution_id,
                trigger=RunTrigger.SCHEDULER,
                proof=self.proof,
                night=night,
                policy=self.policy,
                clock=self.clock,
                stop=self.stop,
            )
        except LookupError:
            log.warning("nightly: solution %s is gone; its queued night %s is dropped", solution_id, night)
            return
        except Exception as exc:  # noqa: BLE001 - procrastinate would log the text, which may quote a row
            raise NightFailedError(_failure(exc)) from None
        if summary is None:
            if self.night_settled(solution_id, night):
                log.info("nightly: night %s of solution %s is done already", night, solution_id)
                return
            raise NightBusyError(f"night {night} of solution {solution_id} is running elsewhere")
        if summary.stopped:
            raise NightBusyError(f"night {night} of solution {solution_id} stopped before the end")

    def reindex(self, solution_id: str) -> int:
        """The re-indexing job: the solution's whole mention index, progress in the log; how many
        interactions were read (0 if the solution is gone)."""
        with self.factory() as session:
            solution = session.get(Solution, solution_id)
            country = solution.country if solution is not None else None
        if country is None:
            log.warning("reindex: solution %s is gone; its queued re-indexing is dropped", solution_id)
            return 0
        read = 0
        logged = 0

        def progress(batch: int) -> None:
            nonlocal read, logged
            read += batch
            if read - logged >= REINDEX_LOG_EVERY:
                logged = read
                log.info("reindex: solution %s: %d interactions re-indexed so far", solution_id, read)

        try:
            done = reindex_solution(self.factory, self.keyring, solution_id, country, progress)
        except Exception as exc:  # noqa: BLE001 - procrastinate would log the text, which may quote a row
            raise ReindexFailedError(_failure(exc)) from None
        log.info("reindex: solution %s: done, %d interactions re-indexed", solution_id, done)
        return done

    def import_(self, fmt: str, source: str, mapping: str | None, solution_id: str) -> None:
        """The import job: ``archivist import`` as a worker runs it, its summary in the log."""
        from archivist.importers import ImportFormat, ImportInterrupted, ImportJob, SourceUnreadable, import_source

        label = f"import of {fmt} into solution {solution_id}"
        with self.factory() as session:
            country = session.scalar(select(Solution.country).where(Solution.id == solution_id)) or ""
        if self.proof is None:
            raise ImportRefusedError(f"{label}: the worker has no erasure ledger to hold the import against")
        try:
            kind = ImportFormat(fmt)
        except ValueError:
            raise ImportRefusedError(f"{label}: no importer for this format") from None
        unit = "bytes" if fmt == ImportFormat.NDJSON.value else "records"
        every = REINDEX_LOG_EVERY * (10 if unit == "bytes" else 1)
        read = logged = 0

        def progress(n: int) -> None:
            nonlocal read, logged
            read += n
            if read - logged >= every:
                logged = read
                log.info("%s: %d %s read so far", label, read, unit)

        job = ImportJob(
            source=source,
            solution_id=solution_id,
            factory=self.factory,
            blobs=self.blobs,
            keyring=self.keyring,
            now=self.clock(),
            mapping=mapping,
            progress=progress,
            workers=0,  # a worker process is the unit of parallelism here
        )
        try:
            summary = import_source(kind, job, self.proof.ledger)
        except SourceUnreadable as exc:  # its message names what failed, never a record's content
            raise ImportRefusedError(f"{label}: cannot import: {exc}") from None
        except ImportInterrupted as exc:
            cause = exc.__cause__
            why = _failure(cause) if isinstance(cause, Exception) else "interrupted"
            position = mask_written(exc.position, country)
            raise ImportStoppedError(f"{label} stopped at {position} ({why})") from None
        except Exception as exc:  # noqa: BLE001 - procrastinate would log the text, which may quote a row
            raise ImportStoppedError(f"{label} stopped: {_failure(exc)}") from None
        # A file's name can write a person's number or address (a mail saved under its subject):
        # masked, as the log outlives the import.
        for position, reason in summary.bad[:IMPORT_BAD_LOGGED]:
            log.warning("%s: %s: %s", label, mask_written(position, country), reason)
        log.info("%s: done: %s", label, json.dumps(summary.as_json()))


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int = 1
    # A worker that has not beaten its heart for this long is dead: its jobs go back on the queue.
    stalled_after: float = 30.0

    @property
    def heartbeat(self) -> float:
        return self.stalled_after / 3


def register_night_task(app: procrastinate.App, runner: JobRunner) -> None:
    # Half a lease between tries: a dead runner's lease has expired after two.
    wait = max(1, math.ceil(runner.policy.ttl.total_seconds() / 2))
    retry = procrastinate.RetryStrategy(max_attempts=NIGHT_ATTEMPTS, wait=wait, retry_exceptions={NightBusyError})

    @app.task(name=NIGHT_TASK, queue=QUEUE, retry=retry)
    def night(solution_id: str, night: str) -> None:
        runner(solution_id, date.fromisoformat(night))


def register_reindex_task(app: procrastinate.App, runner: JobRunner) -> None:
    # A failed walk is tried again from the start (its committed batches are simply redone).
    retry = procrastinate.RetryStrategy(max_attempts=REINDEX_ATTEMPTS, wait=60, retry_exceptions={ReindexFailedError})

    @app.task(name=REINDEX_TASK, queue=MAINTENANCE, retry=retry)
    def reindex(solution_id: str) -> None:
        runner.reindex(solution_id)


def register_import_task(app: procrastinate.App, runner: JobRunner) -> None:
    retry = procrastinate.RetryStrategy(max_attempts=IMPORT_ATTEMPTS, wait=60, retry_exceptions={ImportStoppedError})

    @app.task(name=IMPORT_TASK, queue=MAINTENANCE, retry=retry)
    def import_(format: str, source: str, mapping: str | None, solution_id: str) -> None:
        runner.import_(format, source, mapping, solution_id)


class NamesPersonError(ValueError):
    """A path to be kept in a job's arguments writes a phone number or an email address."""


def enqueue_import(settings: Settings, fmt: str, source: str, *, mapping: str | None, solution_id: str) -> int | None:
    """Queue an import for the workers: its job id, or None when the same import (source, format,
    mapping, solution) waits in the queue already. Imports into one solution run one at a time.

    The queue keeps a job's arguments after it ran, so a source or mapping path that writes a
    person's number or address (``Kari 91234567.mbox``) is refused (NamesPersonError): the
    message says so with the path masked. Without ``--enqueue`` the path is not kept."""
    digest = hashlib.sha256(json.dumps([fmt, source, mapping]).encode()).hexdigest()[:16]
    app = make_app(settings)  # first: on SQLite it refuses before anything is read
    (target,) = _solutions(settings, solution_id)
    for path in (source, mapping):
        if path is not None and (masked := mask_written(path, target.country)) != path:
            raise NamesPersonError(
                f"{masked}: the path writes a phone number or an email address, and a queued job's "
                "arguments are kept; rename it, or import it without --enqueue"
            )
    with app.open():
        deferrer = app.configure_task(
            IMPORT_TASK, queue=MAINTENANCE, lock=f"import:{solution_id}", queueing_lock=f"import:{solution_id}:{digest}"
        )
        return _defer(deferrer, format=fmt, source=source, mapping=mapping, solution_id=solution_id)


def enqueue_import_cli(settings: Settings, fmt: str, source: str, *, mapping: str | None, solution_id: str) -> int:
    """``archivist import --enqueue``: queue the import, one line; the exit code."""
    return _print_queued(
        lambda: [
            f"import of {source} ({fmt}) into solution {solution_id}: "
            f"{_state(enqueue_import(settings, fmt, source, mapping=mapping, solution_id=solution_id))}; "
            "its summary goes to the worker's log"
        ]
    )


def enqueue_reindex(settings: Settings, *, solution_id: str | None) -> list[tuple[str, int | None]]:
    """One re-indexing job per solution (or for ``solution_id``): (solution id, job id, or None
    when one is queued already and has not started). LookupError if there is no such solution."""
    app = make_app(settings)  # first: on SQLite it refuses before anything is read
    targets = _solutions(settings, solution_id)
    with app.open():
        return [
            (
                sid,
                _defer(
                    app.configure_task(
                        REINDEX_TASK, queue=MAINTENANCE, lock=f"reindex:{sid}", queueing_lock=f"reindex:{sid}"
                    ),
                    solution_id=sid,
                ),
            )
            for sid, *_ in targets
        ]


def enqueue_reindex_cli(settings: Settings, *, solution_id: str | None) -> int:
    """``archivist reindex-mentions --enqueue``: queue the jobs, one line per solution; the exit code."""
    return _print_queued(
        lambda: [
            f"solution {sid}: re-indexing {_state(job_id)}"
            for sid, job_id in enqueue_reindex(settings, solution_id=solution_id)
        ]
    )


async def requeue_stalled(app: procrastinate.App, options: WorkerOptions) -> int:
    """Put the jobs of dead workers (SIGKILL, a lost machine) back on the queue; how many."""
    requeued = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=options.stalled_after):
        try:
            await app.job_manager.retry_job(job)
        except queue_errors.ConnectorException:
            continue  # another worker requeued it first
        log.warning("worker: job %s of a dead worker is queued again", job.id)
        requeued += 1
    return requeued


async def _work(app: procrastinate.App, runner: JobRunner, options: WorkerOptions) -> None:
    async with app.open_async():
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[QUEUE, MAINTENANCE],
                concurrency=options.concurrency,
                update_heartbeat_interval=options.heartbeat,
                stalled_worker_timeout=options.stalled_after,
                # Ours below: a night in progress must hear of the shutdown, not just be waited for.
                install_signal_handlers=False,
            )
        )

        def shut_down() -> None:
            runner.stop.set()
            worker.cancel()  # procrastinate stops fetching and waits for the jobs in progress

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, shut_down)
        try:
            while not worker.done():
                try:
                    await requeue_stalled(app, options)
                except Exception as exc:  # noqa: BLE001 - the next round tries again
                    log.warning("worker: could not look for stalled jobs (%s)", type(exc).__name__)
                await asyncio.wait({worker}, timeout=options.heartbeat)
            await worker
        except asyncio.CancelledError:
            pass


def run_worker_cli(settings: Settings, options: WorkerOptions) -> int:
    """``archivist worker``: run queued jobs until SIGTERM or SIGINT; the exit code."""
    try:
        app = make_app(settings, connections=options.concurrency + 3)
    except QueueUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.resolved_database_url)
    try:
        runner = JobRunner.from_settings(settings, engine)
        register_night_task(app, runner)
        register_reindex_task(app, runner)
        register_import_task(app, runner)
        asyncio.run(_work(app, runner, options))
        return 0
    finally:
        engine.dispose()


def enqueue_nights_cli(settings: Settings, *, solution_id: str | None) -> int:
    """``archivist nightly --enqueue``: queue the nights, one line per solution; the exit code."""
    return _print_queued(
        lambda: [
            f"solution {item.solution_id}: night {item.night.isoformat()} {_state(item.job_id)}"
            for item in enqueue_nights(settings, solution_id=solution_id, now=utcnow())
        ]
    )


def _state(job_id: int | None) -> str:
    return f"queued as job {job_id}" if job_id is not None else "already queued"


def _print_queued(queue_them: Callable[[], list[str]]) -> int:
    """An ``--enqueue`` command: queue, then print a line for each job; exit 2 without a queue
    (SQLite) or with no such solution."""
    try:
        lines = queue_them()
    except QueueUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except LookupError:
        print("error: no such solution (run `archivist init` first, or check --solution)", file=sys.stderr)
        return 2
    except NamesPersonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0
