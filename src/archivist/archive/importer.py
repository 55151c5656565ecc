"""Importing interactions from NDJSON: good lines are kept, bad ones reported by number.

The file is cut into chunks of ``IMPORT_BATCH`` lines. Validating a chunk and preparing its
rows (normalising identifiers, scanning texts for mentions) is most of the work and needs no
database, so with ``workers`` it runs in that many other processes while this one writes the
chunks in file order, ``CHUNKS_PER_TRANSACTION`` to a transaction.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import islice
from types import FrameType

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.allocation import bulk_allocation, collect_less
from archivist.archive.ingest import IngestResult, PreparedBatch, plan_write, prepare, write
from archivist.archive.mentions import MentionKeyring
from archivist.archive.schemas import IMPORT_SKIPPED, InteractionIn

IMPORT_BATCH = 1_000
CHUNKS_PER_TRANSACTION = 10


# Writes a prepared batch in a transaction; ``ingest.write`` unless the caller holds writes
# against something first (the erasure ledger: ``anonymize.replay.write_checked``).
Writer = Callable[[Session, PreparedBatch], list[IngestResult]]


def _write(session: Session, batch: PreparedBatch, solution_id: str) -> list[IngestResult]:
    return write(session, solution_id, batch)


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    erased: int = 0  # stored already erased (CONTRACT §16)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # Fields left out of records that were kept (an unreadable customer email), by reason.
    skipped: Counter[str] = field(default_factory=Counter)


class ImportStopped(Exception):  # noqa: N818 - it is not an error of the input: the import stopped
    """An import stopped by a failure (its ``__cause__``) or an interrupt, not by bad lines.

    ``report`` counts what was committed: every line before ``next_line``. Its text holds
    line numbers only — the cause's text may quote the data it failed on.
    """

    def __init__(self, report: ImportReport, next_line: int) -> None:
        super().__init__(f"import stopped before line {next_line}")
        self.report = report
        self.next_line = next_line


@dataclass(frozen=True)
class _Job:
    """What preparing a chunk needs besides its lines; sent to each worker once."""

    solution_id: str
    country: str
    now: datetime
    keyring: MentionKeyring
    dialect: str


@dataclass
class _Chunk:
    first: int  # the number of its first line
    count: int  # lines
    errors: list[tuple[int, str]]
    batch: PreparedBatch
    size: int  # bytes of the lines, for the progress bar
    skipped: Counter[str]


def describe(exc: ValidationError) -> str:
    """The fields and what is wrong with them, without the rejected values (personal data)."""
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error.get("loc", ())) or "line"
        parts.append(f"{loc}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def _prepare_chunk(job: _Job, first: int, lines: list[bytes]) -> _Chunk:
    errors: list[tuple[int, str]] = []
    bodies: list[InteractionIn] = []
    skipped: Counter[str] = Counter()
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        seen: Counter[str] = Counter()
        try:
            bodies.append(InteractionIn.model_validate_json(line, context={IMPORT_SKIPPED: seen}))
        except ValidationError as exc:
            errors.append((number, describe(exc)))
        else:
            skipped.update(seen)
    batch = prepare(bodies, job.solution_id, job.country, job.now, keyring=job.keyring, dialect=job.dialect)
    return _Chunk(first, len(lines), errors, batch, sum(len(line) for line in lines), skipped)


# The job of a worker process, set once by ``_start_worker``.
_worker_job: _Job | None = None


def _start_worker(job: _Job) -> None:
    global _worker_job  # one job per worker process, set at its start
    _worker_job = job
    collect_less()
    # Ctrl-C reaches every process of the terminal's group: the main process stops the import
    # and these workers with it, without a traceback from each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A main process that is killed outright cannot stop its workers, and a worker waiting for
    # its next chunk would wait for ever: each one ends itself when its parent is gone.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


@contextmanager
def _on_sigint(handler: Callable[[int, FrameType | None], None] | signal.Handlers) -> Iterator[None]:
    """``handler`` for SIGINT during the block, then the one before. Only the main thread
    receives signals and may set a handler; elsewhere this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _starting_workers() -> AbstractContextManager[None]:
    """Processes started in this block begin with SIGINT ignored, a disposition that survives
    exec: a Ctrl-C in a worker's first second, before ``_start_worker`` ignores it, would
    otherwise kill the worker mid-start with a fatal error on the terminal. (Blocking the
    signal instead would not do: starting the resource tracker unblocks it.) A Ctrl-C in
    these few milliseconds is lost; the import can be interrupted again right after.
    """
    return _on_sigint(signal.SIG_IGN)


@contextmanager
def _interruptible_between_transactions() -> Iterator[Callable[[], bool]]:
    """Yields whether Ctrl-C was pressed; the import checks it after each transaction.

    A KeyboardInterrupt raised wherever the main process happens to be could strike inside a
    COMMIT that has already succeeded (SQLite checkpoints the WAL after making the commit
    durable), and the report would then leave out what was archived. So the first Ctrl-C
    only asks the import to stop after the transaction in progress; a second one stops it
    at once.
    """
    asked = threading.Event()

    def ask_or_stop(signum: int, frame: FrameType | None) -> None:
        if asked.is_set():
            raise KeyboardInterrupt
        asked.set()

    with _on_sigint(ask_or_stop):
        yield asked.is_set


def _exit_with(parent_sentinel: int) -> None:
    multiprocessing.connection.wait([parent_sentinel])
    os._exit(1)


def _prepare_in_worker(first: int, lines: list[bytes]) -> _Chunk:
    assert _worker_job is not None, "worker started without a job"
    return _prepare_chunk(_worker_job, first, lines)


def _chunks(lines: Iterable[bytes]) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, the lines) for every ``IMPORT_BATCH`` lines."""
    iterator = iter(lines)
    first = 1
    while chunk := list(islice(iterator, IMPORT_BATCH)):
        yield first, chunk
        first += len(chunk)


def _prepared(job: _Job, lines: Iterable[bytes], workers: int) -> Generator[_Chunk, None, None]:
    """The chunks of ``lines``, prepared in file order: here, or ahead in ``workers`` processes."""
    if workers <= 0:
        for first, chunk in _chunks(lines):
            yield _prepare_chunk(job, first, chunk)
        return
    # "spawn": a forked child would share this process's database connections.
    context = multiprocessing.get_context("spawn")
    pool: ProcessPoolExecutor | None = None
    try:
        with _starting_workers():
            pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(job,))
            for _ in range(workers):  # with "spawn", each submission starts one more process
                pool.submit(int)
        pending: deque[Future[_Chunk]] = deque()
        for first, chunk in _chunks(lines):
            pending.append(pool.submit(_prepare_in_worker, first, chunk))
            # Bounded read-ahead: enough to keep every worker busy while a transaction's chunks
            # are written, never the whole file in memory.
            if len(pending) > CHUNKS_PER_TRANSACTION + 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def import_lines(
    factory: sessionmaker[Session],
    solution: Solution,
    lines: Iterable[bytes],
    now: datetime,
    progress: Callable[[int], None] = lambda _: None,
    *,
    keyring: MentionKeyring,
    workers: int = 0,
    dry_run: bool = False,
    writer: Writer | None = None,
) -> ImportReport:
    """Validate and ingest NDJSON ``lines``, committing every ``CHUNKS_PER_TRANSACTION`` chunks.

    ``workers`` > 0 prepares chunks in that many processes (worth it from a few thousand
    lines on: each process takes about a second to start). ``progress`` is called with the
    number of bytes written since the last call. A failure stops the import with
    ``ImportStopped``, and so does Ctrl-C once the transaction in progress has committed:
    the chunks committed before it stay, and importing the file again skips them (by
    ``external_id``). ``dry_run`` reads, validates and counts, and writes nothing. ``writer``
    writes each chunk (default: ``ingest.write``).
    """
    writer = writer or partial(_write, solution_id=solution.id)
    report = ImportReport()
    with factory() as session:
        dialect = session.get_bind().dialect.name
    job = _Job(solution.id, solution.country, now, keyring, dialect)
    # Several chunks per transaction: on a large archive most of a commit's cost is writing
    # the index pages it touched, and consecutive chunks touch many of the same pages.
    # closing(): a failed write stops the worker processes at once.
    next_line = 1
    try:
        with (
            _interruptible_between_transactions() as interrupted,
            bulk_allocation(),
            closing(_prepared(job, lines, workers)) as chunks,
        ):
            while group := list(islice(chunks, CHUNKS_PER_TRANSACTION)):
                created = existing = erased = 0
                with factory() as session, session.begin():
                    if dialect == "sqlite":
                        # Index pages stay in memory across chunks: 256 MB for this bulk writer
                        # (other connections keep the engine's 64 MB).
                        session.execute(text("PRAGMA cache_size=-262144"))
                    for chunk in group:
                        if chunk.batch.bodies:
                            if dry_run:
                                results = plan_write(session, solution.id, chunk.batch).results
                            else:
                                results = writer(session, chunk.batch)
                            created += sum(r.created for r in results)
                            existing += sum(not r.created for r in results)
                            erased += sum(r.erased for r in results)
                # Committed: only now does the group count.
                report.created += created
                report.existing += existing
                report.erased += erased
                for chunk in group:
                    report.errors.extend(chunk.errors)
                    report.skipped.update(chunk.skipped)
                    progress(chunk.size)
                next_line = group[-1].first + group[-1].count
                if interrupted():
                    raise KeyboardInterrupt
    except (Exception, KeyboardInterrupt) as exc:
        raise ImportStopped(report, next_line) from exc
    return report
