"""Benchmark: the nightly retention pass (issue 15), rules that delete 10 % of the recordings and content.

    python -m bench.retention [--interactions 1000000] [--requests 200] [--repeat 3]
                              [--backends sqlite,postgresql] [--postgres URL]

For each backend: one fresh database (SQLite: a temporary file; PostgreSQL: the database of
``--postgres``, dropped and created again, whose name must start with ``archivist_bench``)
with ``--interactions`` demo interactions loaded through the real set-wise ``ingest`` in
batches of 2,000 (chat messages, email bodies, subjects, variables, the generator's 2–6 raw
data rows each, the mention index), generated in chunks of 50,000 from their own seeds as
``bench.nightly`` does. Every tenth interaction is moved to the queue ``Complaints`` (no
other interaction is in it), so the rules below govern exactly 10 % of the archive.

Recordings: a recording row for every call the generator gives one (about half of all
interactions). Blobs are written through the real file blob store (``FsspecBlobStore``, one
fsync each) only for the recordings the rules delete, as tiny WAV files (0.01 s, 204 bytes):
those are the ones the night's drain removes, and writing half a million fsynced files would
take longer than the measurement. The others are rows only; nothing in the run reads them.

The rules: ``recording`` and ``content`` for the queue ``Complaints``, ``keep_days`` 90 (the
archive is from 2025, so all of the queue is older than that): its calls lose their
recordings, its chats and emails their content.

After loading (PostgreSQL: ANALYZE), a copy is taken (SQLite: the file; PostgreSQL:
``CREATE DATABASE … TEMPLATE``; the blob folder: hard links) and ``--requests`` identifiers
are picked with ``bench.nightly``'s helpers (repeat and single callers, emails, a few that
match nothing). Then ``--repeat`` times, alternating, each on a fresh restore of the copy:

- *without rules*: the requests entered the day before, the real ``run_nightly``;
- *with rules*: the same requests and the two rules saved, the real ``run_nightly``.

Per run: the requests' per-request cost (the times between the run's per-request log lines,
as ``bench.nightly`` measures them: median, and the mean over the request loop), and in the
*with* runs the retention pass (``apply_retention``, timed by wrapping it where ``run_nightly``
calls it), the blob drain after it (``drain_pending_blobs``, wrapped the same way), and
the pass's peak resident memory above its start (``/proc/self/statm`` sampled every 5 ms by a
thread). Checked in every *with* run: every request done, the pass deleted exactly the
recordings and content of the queue's interactions that the requests left (counted before),
no recording or content row of the queue is left, every deleted recording's blob is gone.
Then, once more on a fresh restore with the rules saved, the pass alone under ``tracemalloc``
(its peak Python allocation; that run's time is not reported), and ``preview_rule`` for each
rule as a draft, before it is saved (what *Settings* shows), ``--repeat`` times each.

Rows per second: interactions whose recording or content the pass deleted, per second of the
pass; the table also gives the database rows it removed (recordings, chat messages, email
bodies, mention rows) per second.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.archive import recordings as recordings_module
from archivist.archive.ingest import ingest
from archivist.archive.models import ChatMessage, EmailBody, Interaction, Mention, Recording
from archivist.archive.schemas import InteractionIn
from archivist.blobs.fsspec_store import FsspecBlobStore
from archivist.db import make_session_factory, table_of
from archivist.demo.audio import make_wav
from archivist.demo.generator import generate
from archivist.nightly import steps as nightly_module
from archivist.nightly.run import run_nightly
from archivist.nightly.summary import RunTrigger
from archivist.retention.models import RetentionWhat
from archivist.retention.rules import DraftRule, add_rule, apply_retention, preview_rule
from bench.common import POSTGRES_SERVER, engine_for, fresh_database, median, table, write_result
from bench.nightly import (
    BATCH,
    CHUNK,
    COUNTRY,
    DAYS,
    KEYRING,
    NIGHTLY_LOGGER,
    START,
    TIMEZONE,
    Ask,
    _Stamps,
    analyze,
    enter_requests,
    pick,
)
from bench.replay import Backup, check, wrapped

QUEUE = "Complaints"
KEEP_DAYS = 90
# Every SHARE-th interaction is in QUEUE: the rules govern 1 / SHARE of the archive.
SHARE = 10
RULES = (
    DraftRule(channel=None, queue=QUEUE, what=RetentionWhat.RECORDING, keep_days=KEEP_DAYS),
    DraftRule(channel=None, queue=QUEUE, what=RetentionWhat.CONTENT, keep_days=KEEP_DAYS),
)
WAV = make_wav(0.01, seed=1)
RSS_SAMPLE_S = 0.005
BLOB_WRITERS = 8
PAGE = os.sysconf("SC_PAGE_SIZE")
STATM = Path("/proc/self/statm")


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def bodies(count: int) -> Iterator[tuple[InteractionIn, float | None]]:
    """``count`` interactions with their recording length; every SHARE-th in QUEUE."""
    made = 0
    while made < count:
        n = min(CHUNK, count - made)
        seed = 1000 + made
        for index, item in enumerate(generate(n, seed=seed, start=START, days=DAYS)):
            seconds = item.pop("recording_seconds", None)
            item["external_id"] = f"{seed}-{item['external_id']}"
            if (made + index) % SHARE == 0:
                item["queue"] = QUEUE
                for event in item["events"]:
                    if event.get("queue"):
                        event["queue"] = QUEUE
            yield InteractionIn.model_validate(item), seconds
        made += n


def load(factory: sessionmaker[Session], solution: Solution, blobs: FsspecBlobStore, count: int, label: str) -> int:
    """Ingest ``count`` interactions with their recording rows (blobs for QUEUE's only); returns blobs written."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    batch: list[tuple[InteractionIn, float | None]] = []
    done = blobs_written = 0

    def flush() -> None:
        nonlocal done, blobs_written
        with factory() as session, session.begin():
            results = ingest(session, solution, [body for body, _ in batch], now, keyring=KEYRING)
            rows = []
            keys: list[str] = []
            for result, (body, seconds) in zip(results, batch, strict=True):
                if not seconds:
                    continue
                key = recordings_module.new_blob_key(solution.id, result.id, "audio/wav")
                if body.queue == QUEUE:
                    keys.append(key)
                rows.append(
                    {
                        "interaction_id": result.id,
                        "solution_id": solution.id,
                        "blob_key": key,
                        "content_type": "audio/wav",
                        "size_bytes": len(WAV),
                        "created_at": now,
                    }
                )
            if rows:
                session.execute(insert(table_of(Recording)), rows)
                session.execute(
                    update(Interaction)
                    .where(Interaction.id.in_([r["interaction_id"] for r in rows]))
                    .values(has_recording=True)
                )
        # In threads: each put waits for its fsync, which is most of its time on this disk.
        list(pool.map(lambda key: blobs.put(key, WAV, "audio/wav"), keys))
        blobs_written += len(keys)
        done += len(batch)
        batch.clear()
        if done % CHUNK == 0 or done == count:
            rate = done / (time.perf_counter() - started)
            print(f"{label}: loaded {done:,} interactions ({rate:,.0f}/s), {blobs_written:,} blobs", flush=True)

    with ThreadPoolExecutor(BLOB_WRITERS) as pool:
        for pair in bodies(count):
            batch.append(pair)
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    return blobs_written


# ---------------------------------------------------------------------------------------------
# Copies of the database and the blob folder
# ---------------------------------------------------------------------------------------------


class Snapshot:
    """The database (``bench.replay.Backup``) and the blob folder (hard links) as they were after loading."""

    def __init__(self, engine: Engine, folder: Path, blob_root: Path, admin_url: str) -> None:
        self.backup = Backup(engine, folder)
        if engine.dialect.name == "postgresql":
            # Backup's server is bench.common's; ours is --postgres.
            self.backup.admin.dispose()
            self.backup.admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
        self.blob_root = blob_root
        self.blob_copy = folder / "blobs-copy"

    def take(self) -> float:
        started = time.perf_counter()
        self.backup.take()
        subprocess.run(["cp", "-al", str(self.blob_root), str(self.blob_copy)], check=True)
        return time.perf_counter() - started

    def restore(self) -> float:
        started = time.perf_counter()
        self.backup.restore()
        shutil.rmtree(self.blob_root)
        subprocess.run(["cp", "-al", str(self.blob_copy), str(self.blob_root)], check=True)
        return time.perf_counter() - started

    def drop(self) -> None:
        self.backup.drop()
        shutil.rmtree(self.blob_copy, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


class PeakRss:
    """Peak resident memory above what it was when the block started, sampled by a thread."""

    def __init__(self) -> None:
        self.start = self.peak = 0
        self._stop = threading.Event()

    @staticmethod
    def now() -> int:
        return int(STATM.read_text().split()[1]) * PAGE

    def _sample(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_S):
            self.peak = max(self.peak, self.now())

    @contextmanager
    def watching(self) -> Iterator[None]:
        gc.collect()
        self.start = self.peak = self.now()
        sampler = threading.Thread(target=self._sample, daemon=True)
        sampler.start()
        try:
            yield
        finally:
            self._stop.set()
            sampler.join()
            self.peak = max(self.peak, self.now())

    @property
    def above_start(self) -> int:
        return self.peak - self.start


@dataclass
class Expected:
    """What the rules must delete, counted in the archive the night starts from (after the requests)."""

    recordings: int
    content: int
    chat_messages: int
    email_bodies: int


@dataclass
class Measurement:
    backend: str
    size: int
    requests: int
    # Per run: ms per request (the request loop's mean) and the per-request medians.
    without_mean: list[float] = field(default_factory=list)
    without_median: list[float] = field(default_factory=list)
    with_mean: list[float] = field(default_factory=list)
    with_median: list[float] = field(default_factory=list)
    night_without_s: list[float] = field(default_factory=list)
    night_with_s: list[float] = field(default_factory=list)
    pass_s: list[float] = field(default_factory=list)
    drain_s: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    restore_s: list[float] = field(default_factory=list)
    traced_peak: int = 0
    preview_s: dict[str, list[float]] = field(default_factory=dict)
    preview_counts: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    rows_removed: int = 0
    blobs_deleted: int = 0

    @property
    def interactions_deleted(self) -> int:
        return sum(self.deleted.values())

    @property
    def ratio(self) -> float:
        return median(self.with_mean) / median(self.without_mean)


def row_counts(factory: sessionmaker[Session], solution_id: str) -> dict[str, int]:
    """Rows of the tables the pass deletes from (mentions: the whole index, which it rebuilds)."""
    counts = {}
    with factory() as session:
        for name, model in (
            ("recordings", Recording),
            ("chat messages", ChatMessage),
            ("email bodies", EmailBody),
            ("mentions", Mention),
        ):
            counts[name] = int(
                session.scalar(select(func.count()).select_from(model).where(model.solution_id == solution_id)) or 0
            )
    return counts


def expected(factory: sessionmaker[Session], solution_id: str) -> Expected:
    """The QUEUE's recordings and content as they are now."""
    in_queue = select(Interaction.id).where(Interaction.solution_id == solution_id, Interaction.queue == QUEUE)
    with factory() as session:

        def count(query: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

        return Expected(
            recordings=count(select(Recording.interaction_id).where(Recording.interaction_id.in_(in_queue))),
            content=count(in_queue.where(Interaction.has_content.is_(True))),
            chat_messages=count(select(ChatMessage.id).where(ChatMessage.interaction_id.in_(in_queue))),
            email_bodies=count(select(EmailBody.interaction_id).where(EmailBody.interaction_id.in_(in_queue))),
        )


def queue_blob_keys(factory: sessionmaker[Session], solution_id: str) -> list[str]:
    with factory() as session:
        return list(
            session.scalars(
                select(Recording.blob_key)
                .join(Interaction, Interaction.id == Recording.interaction_id)
                .where(Interaction.solution_id == solution_id, Interaction.queue == QUEUE)
            )
        )


def save_rules(factory: sessionmaker[Session], solution_id: str, at: datetime) -> None:
    with factory() as session, session.begin():
        for draft in RULES:
            add_rule(session, solution_id, draft, created_by="bench", now=at)


def request_costs(per_request_ms: list[float]) -> tuple[float, float]:
    """(mean, median) ms per request; the first interval also carries the run's set-up, as in bench.nightly."""
    return sum(per_request_ms) / len(per_request_ms), median(per_request_ms)


def night(
    factory: sessionmaker[Session], blobs: FsspecBlobStore, solution_id: str, run_at: datetime, requests: int
) -> tuple[float, list[float]]:
    """The real nightly job once, draining ``blobs`` (``bench.nightly.night`` uses a memory store).

    Returns (seconds, ms per request).
    """
    logger = logging.getLogger(NIGHTLY_LOGGER)
    handler = _Stamps()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        started = time.perf_counter()
        (summary,) = run_nightly(
            factory, blobs, run_at, solution_id=solution_id, trigger=RunTrigger.CLI, keyring=KEYRING
        )
        total = time.perf_counter() - started
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
    check(
        summary.requests_processed == requests and not summary.requests_failed and not summary.requests_skipped,
        f"nightly run did not process every request: {summary.describe()}",
    )
    with factory() as session:
        waiting = session.scalar(
            select(func.count()).where(
                AnonymizationRequest.solution_id == solution_id, AnonymizationRequest.status != RequestStatus.DONE
            )
        )
    check(waiting == 0, f"{waiting} requests not done after the run")
    stamps = [started, *handler.stamps]
    return total, [(b - a) * 1000 for a, b in itertools.pairwise(stamps)]


def one_night(
    factory: sessionmaker[Session],
    blobs: FsspecBlobStore,
    solution_id: str,
    asks: list[Ask],
    run_at: datetime,
    *,
    rules: bool,
    m: Measurement,
    label: str,
) -> None:
    entered = run_at - timedelta(days=1)
    enter_requests(factory, solution_id, asks, entered)
    # Both arms read the same counts before their night: those reads warm the caches (on
    # PostgreSQL a restored copy starts cold), and only one arm warmed would bias the ratio.
    # What the rules must delete is what the requests leave; the requests keep content and recordings.
    want = expected(factory, solution_id)
    keys = queue_blob_keys(factory, solution_id)
    before = row_counts(factory, solution_id)
    if not rules:
        total, per_request = night(factory, blobs, solution_id, run_at, len(asks))
        mean, med = request_costs(per_request)
        m.night_without_s.append(total)
        m.without_mean.append(mean)
        m.without_median.append(med)
        print(f"{label}: without rules: night {total:.1f}s, {mean:.1f} ms/request (median {med:.1f})", flush=True)
        return
    save_rules(factory, solution_id, entered)
    passes: list[float] = []
    drains: list[float] = []
    memory = PeakRss()
    outcomes: list[Any] = []
    original = getattr(nightly_module, "apply_retention")  # noqa: B009 - replaced below, where run_nightly calls it

    def watched(*args: Any, **kwargs: Any) -> Any:
        with memory.watching():
            started = time.perf_counter()
            result = original(*args, **kwargs)
            passes.append(time.perf_counter() - started)
        outcomes.extend(result)
        return result

    setattr(nightly_module, "apply_retention", watched)  # noqa: B010
    try:
        with wrapped(nightly_module, "drain_pending_blobs", drains):
            total, per_request = night(factory, blobs, solution_id, run_at, len(asks))
    finally:
        setattr(nightly_module, "apply_retention", original)  # noqa: B010
    after = row_counts(factory, solution_id)
    deleted = {o.what: o.deleted for o in outcomes}
    check(len(passes) == 1, f"the retention pass ran {len(passes)} times")
    check(deleted.get("recording") == want.recordings, f"recordings deleted {deleted}, expected {want}")
    check(deleted.get("content") == want.content, f"content deleted {deleted}, expected {want}")
    left = expected(factory, solution_id)
    check(left.recordings == left.content == left.chat_messages == left.email_bodies == 0, f"left in queue: {left}")
    check(before["recordings"] - after["recordings"] == want.recordings, "recording rows outside the queue deleted")
    check(before["chat messages"] - after["chat messages"] == want.chat_messages, "chat messages miscounted")
    check(before["email bodies"] - after["email bodies"] == want.email_bodies, "email bodies miscounted")
    gone = sum(not blobs.exists(key) for key in keys)
    check(gone == len(keys) > 0, f"{gone} of {len(keys)} blobs of the queue deleted")
    mean, med = request_costs(per_request)
    m.night_with_s.append(total)
    m.with_mean.append(mean)
    m.with_median.append(med)
    m.pass_s.append(passes[0])
    m.drain_s.append(sum(drains))
    m.rss.append(memory.above_start)
    m.deleted = deleted
    m.rows_removed = sum(before.values()) - sum(after.values())
    m.blobs_deleted = len(keys)
    print(
        f"{label}: with rules: night {total:.1f}s, {mean:.1f} ms/request (median {med:.1f}); retention pass"
        f" {passes[0]:.1f}s ({deleted}), {m.rows_removed:,} rows removed,"
        f" peak RSS +{memory.above_start / 2**20:.1f} MiB;"
        f" drain {sum(drains):.1f}s ({len(keys):,} blobs)",
        flush=True,
    )


def traced_pass(factory: sessionmaker[Session], solution_id: str, run_at: datetime) -> int:
    """The pass alone with the rules saved, under tracemalloc; its peak Python allocation in bytes."""
    save_rules(factory, solution_id, run_at - timedelta(days=1))
    gc.collect()
    tracemalloc.start()
    try:
        apply_retention(factory, solution_id, run_at, keyring=KEYRING)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def previews(factory: sessionmaker[Session], solution_id: str, run_at: datetime, m: Measurement, repeat: int) -> None:
    """``preview_rule`` of each rule as a draft, with no rule saved yet."""
    with factory() as session:
        solution = session.get_one(Solution, solution_id)
        for draft in RULES:
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                counts = preview_rule(session, solution, draft, run_at)
                times.append(time.perf_counter() - started)
            m.preview_s[draft.what.value] = times
            m.preview_counts[draft.what.value] = counts[draft.what.value]


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------


@contextmanager
def database(backend: str, postgres: str) -> Iterator[tuple[str, str]]:
    """(database URL, admin URL): a fresh SQLite file, or the --postgres database made afresh."""
    if backend == "sqlite":
        with fresh_database("sqlite") as url:
            yield url, ""
        return
    target = make_url(postgres)
    name = target.database or ""
    if not name.startswith("archivist_bench"):
        raise SystemExit(f"--postgres must name a database starting with archivist_bench (it is dropped), not {name!r}")
    admin_url = target.set(database="postgres").render_as_string(hide_password=False)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = target.render_as_string(hide_password=False)
        from bench.common import _migrate

        _migrate(url)
        yield url, admin_url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_backend(backend: str, args: argparse.Namespace) -> Measurement:
    rng = random.Random(42)
    m = Measurement(backend, args.interactions, args.requests)
    with (
        database(backend, args.postgres) as (url, admin_url),
        tempfile.TemporaryDirectory(prefix="archivist-bench-retention-") as tmp,
    ):
        blob_root = Path(tmp) / "blobs"
        blob_root.mkdir()
        blobs = FsspecBlobStore(f"file://{blob_root}")
        engine = engine_for(url)
        factory = make_session_factory(engine)
        snapshot: Snapshot | None = None
        try:
            with factory() as session, session.begin():
                solution_id = accounts.create_solution(session, name="bench", country=COUNTRY, timezone=TIMEZONE).id
            with factory() as session:
                solution = session.get_one(Solution, solution_id)
                session.expunge(solution)
            load(factory, solution, blobs, args.interactions, backend)
            analyze(engine)
            run_at = datetime.now(UTC).replace(microsecond=0)
            with factory() as session:
                (asks,) = pick(session, solution_id, rng, [args.requests])
            previews(factory, solution_id, run_at, m, args.repeat)
            print(f"{backend}: preview {m.preview_counts}, {m.preview_s}", flush=True)
            snapshot = Snapshot(engine, Path(tmp), blob_root, admin_url)
            took = snapshot.take()
            print(f"{backend}: copy taken ({took:.1f}s)", flush=True)
            for attempt in range(args.repeat):
                # Alternating, so that drift of the shared machine falls on both sides alike.
                for rules in (False, True) if attempt % 2 == 0 else (True, False):
                    m.restore_s.append(snapshot.restore())
                    label = f"{backend}: repeat {attempt + 1}"
                    one_night(factory, blobs, solution_id, asks, run_at, rules=rules, m=m, label=label)
            snapshot.restore()
            m.traced_peak = traced_pass(factory, solution_id, run_at)
            print(f"{backend}: pass under tracemalloc: peak {m.traced_peak / 2**20:.1f} MiB", flush=True)
        finally:
            engine.dispose()
            if snapshot is not None:
                snapshot.drop()
    return m


def runs(values: list[float], fmt: str = "{:.1f}") -> str:
    return ", ".join(fmt.format(v) for v in values)


def rows_for(m: Measurement) -> tuple[list[str], list[str]]:
    pass_s = median(m.pass_s)
    retention = [
        m.backend,
        f"{m.size:,}",
        f"{m.deleted.get('recording', 0):,} / {m.deleted.get('content', 0):,}"
        f" ({m.interactions_deleted / m.size:.1%} of interactions)",
        f"{pass_s:.1f} s ({runs(m.pass_s)})",
        f"{m.interactions_deleted / pass_s:,.0f}",
        f"{m.rows_removed:,} ({m.rows_removed / pass_s:,.0f}/s)",
        f"{median([float(r) for r in m.rss]) / 2**20:.1f} MiB ({runs([r / 2**20 for r in m.rss])})",
        f"{m.traced_peak / 2**20:.1f} MiB",
        f"{median(m.drain_s):.1f} s ({m.blobs_deleted:,} blobs)",
        " / ".join(f"{median(m.preview_s[d.what.value]):.2f} s" for d in RULES),
    ]
    requests = [
        m.backend,
        f"{m.size:,}",
        f"{m.requests:,}",
        f"{median(m.without_mean):.1f} ({runs(m.without_mean)})",
        f"{median(m.with_mean):.1f} ({runs(m.with_mean)})",
        f"{median(m.without_median):.1f} / {median(m.with_median):.1f}",
        f"{m.ratio:.2f}×",
        f"{median(m.night_without_s):.1f} s / {median(m.night_with_s):.1f} s",
    ]
    return retention, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres",
        default=make_url(POSTGRES_SERVER).set(database="archivist_bench_ret").render_as_string(hide_password=False),
        help="PostgreSQL database to (re)create and use; its name must start with archivist_bench",
    )
    args = parser.parse_args()
    retention_rows: list[list[str]] = []
    request_rows: list[list[str]] = []
    notes: list[str] = []
    for backend in args.backends.split(","):
        m = run_backend(backend, args)
        retention, requests = rows_for(m)
        retention_rows.append(retention)
        request_rows.append(requests)
        pairs = ", ".join(f"{w / o:.2f}" for o, w in zip(m.without_mean, m.with_mean, strict=True))
        notes.append(
            f"- {backend}: ms per request with the rules vs without: {m.ratio:.2f}× (medians; each repeat's"
            f" pair: {pairs}); goal: no slower — {'met' if m.ratio <= 1.1 else 'NOT met'} by the medians"
        )
    retention_headers = [
        "database",
        "interactions",
        "deleted: recordings / content",
        f"retention pass, median of {args.repeat} (runs)",
        "interactions per second",
        "database rows removed (per second)",
        "peak RSS above start, median (runs)",
        "peak Python allocation (tracemalloc, one run)",
        "blob drain after it, median",
        "`preview_rule`, median: recording / content",
    ]
    request_headers = [
        "database",
        "interactions",
        "requests",
        f"ms per request without rules, median of {args.repeat} (runs)",
        f"ms per request with the rules, median of {args.repeat} (runs)",
        "per-request median, without / with",
        "with / without",
        "nightly run, without / with",
    ]
    command = "python -m bench.retention " + " ".join(sys.argv[1:])
    result = "\n".join(
        [
            f"`{command.strip()}`",
            "",
            table(retention_headers, retention_rows),
            "",
            table(request_headers, request_rows),
            "",
            *notes,
        ]
    )
    print(result)
    write_result("retention", result)


if __name__ == "__main__":
    main()
