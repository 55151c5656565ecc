"""Benchmark: proof of erasure (issue 12) — the nightly run's storage step, and replaying the ledger after a restore.

    python -m bench.replay [--sizes 20000,200000] [--requests 500] [--repeat 3]
                           [--raw-per-interaction 10] [--backends sqlite[,postgresql]]

For each backend: one fresh database, grown to each size in turn exactly as ``bench.nightly``
grows it (its loading, request-picking and request-entering helpers, imported), ANALYZEd on
PostgreSQL after each load. At each size:

1. A copy of the database is taken (SQLite: the file, engines disposed; PostgreSQL:
   ``CREATE DATABASE … TEMPLATE …``), then ``--requests`` waiting requests are entered the day
   before the run.
2. The night: the real ``run_nightly`` with an ``ErasureProof`` (a fresh Ed25519 signer and a
   ledger folder of this size's own), timed end to end; the storage step it includes
   (``forget_freed_space``: SQLite WAL checkpoint TRUNCATE with secure_delete on, PostgreSQL
   VACUUM of the erased tables) is timed by wrapping ``archivist.nightly.steps.forget_freed_space``
   in this process. Every request must end done with a receipt and a committed ledger entry,
   and no requested identifier may remain in the interactions before the cutoff.
3. ``--repeat`` times: restore the copy (the requested people are back: checked), then
   ``replay_solution`` over the ledger, timed (total, per ledger entry, and split into its
   key-matching scan — ``_identifiers_for``, wrapped — and the rest: the per-entry erasures and
   its own storage step); afterwards no requested identifier may remain before the cutoff.
   Then a second replay on the same archive (nothing came back), timed; it must report
   ``entries_applied == 0``. Medians over the repeats, each run listed.

The side-by-side baseline is the night itself: replay ms per entry against the night's ms per
request, same archive, same requests, same run. The restored archive after the last repeat is
the one the next size grows from (the people erased are erased; the request rows are not there).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, create_engine, func, or_, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Solution
from archivist.anonymize import replay as replay_module
from archivist.anonymize.ledger import Ledger
from archivist.anonymize.receipts import Signer
from archivist.anonymize.requests import end_of_local_day
from archivist.archive.models import Interaction
from archivist.blobs.memory import MemoryBlobStore
from archivist.db import make_session_factory
from archivist.nightly import steps as nightly_module
from archivist.nightly.run import run_nightly
from archivist.nightly.summary import ErasureProof, RunTrigger
from bench.common import POSTGRES_SERVER, engine_for, fresh_database, median, table, write_result
from bench.nightly import COUNTRY, KEYRING, TIMEZONE, Ask, analyze, enter_requests, load, pick


@dataclass
class Measurement:
    size: int
    raw_rows: int
    requests: int
    night_s: float
    storage_s: float
    interactions_changed: int
    raw_rows_changed: int
    entries: int = 0
    applied: int = 0
    restore_s: list[float] = field(default_factory=list)
    replay_s: list[float] = field(default_factory=list)
    match_s: list[float] = field(default_factory=list)
    second_s: list[float] = field(default_factory=list)

    @property
    def night_ms_per_request(self) -> float:
        return self.night_s * 1000 / self.requests

    @property
    def replay_ms_per_entry(self) -> float:
        return median(self.replay_s) * 1000 / self.entries

    @property
    def erase_ms_per_entry(self) -> float:
        return median([r - m for r, m in zip(self.replay_s, self.match_s, strict=True)]) * 1000 / self.entries


# ---------------------------------------------------------------------------------------------
# Timing library functions from outside
# ---------------------------------------------------------------------------------------------


@contextmanager
def wrapped(module: Any, name: str, seconds: list[float]) -> Iterator[None]:
    """Replace ``module.name`` by a copy that appends each call's duration to ``seconds``."""
    original: Callable[..., Any] = getattr(module, name)

    def timer(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    setattr(module, name, timer)
    try:
        yield
    finally:
        setattr(module, name, original)


# ---------------------------------------------------------------------------------------------
# Backup and restore
# ---------------------------------------------------------------------------------------------


class Backup:
    """One copy of the working database, restorable any number of times (engine disposed first)."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect == "sqlite":
            assert engine.url.database
            self.db = Path(engine.url.database)
            self.copy = folder / "backup.db"
        else:
            self.name = str(engine.url.database)
            self.copy_name = f"{self.name}_bk_{uuid.uuid4().hex[:6]}"
            self.admin = create_engine(make_url(POSTGRES_SERVER), isolation_level="AUTOCOMMIT")

    def _sqlite_files(self, main: Path) -> list[Path]:
        return [main.with_name(main.name + suffix) for suffix in ("", "-wal", "-shm")]

    def take(self) -> float:
        started = time.perf_counter()
        self.engine.dispose()
        if self.dialect == "sqlite":
            for source, target in zip(self._sqlite_files(self.db), self._sqlite_files(self.copy), strict=True):
                target.unlink(missing_ok=True)
                if source.exists():
                    shutil.copyfile(source, target)
        else:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.copy_name}"'))
                conn.execute(text(f'CREATE DATABASE "{self.copy_name}" TEMPLATE "{self.name}"'))
        return time.perf_counter() - started

    def restore(self) -> float:
        started = time.perf_counter()
        self.engine.dispose()
        if self.dialect == "sqlite":
            for source, target in zip(self._sqlite_files(self.copy), self._sqlite_files(self.db), strict=True):
                target.unlink(missing_ok=True)
                if source.exists():
                    shutil.copyfile(source, target)
        else:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.copy_name}"'))
        return time.perf_counter() - started

    def drop(self) -> None:
        if self.dialect == "sqlite":
            for path in self._sqlite_files(self.copy):
                path.unlink(missing_ok=True)
        else:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.copy_name}" WITH (FORCE)'))
            self.admin.dispose()


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def remaining(factory: sessionmaker[Session], solution_id: str, asks: list[Ask], cutoff: datetime) -> int:
    """Interactions before the cutoff that still carry one of the requested identifiers."""
    phones = sorted({a.phone_e164 for a in asks if a.phone_e164})
    emails = sorted({a.email for a in asks if a.email})
    found = 0
    with factory() as session:
        for start in range(0, max(len(phones), len(emails)), 200):
            found += (
                session.scalar(
                    select(func.count())
                    .select_from(Interaction)
                    .where(
                        Interaction.solution_id == solution_id,
                        Interaction.started_at < cutoff,
                        or_(
                            Interaction.customer_phone_e164.in_(phones[start : start + 200]),
                            Interaction.customer_email_norm.in_(emails[start : start + 200]),
                        ),
                    )
                )
                or 0
            )
    return found


def check(ok: bool, message: str) -> None:
    if not ok:
        raise SystemExit(f"check failed: {message}")


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------


def measure_size(
    factory: sessionmaker[Session],
    engine: Engine,
    solution_id: str,
    size: int,
    args: argparse.Namespace,
    rng: random.Random,
    folder: Path,
    label: str,
) -> Measurement:
    run_at = datetime.now(UTC).replace(microsecond=0)
    entered = run_at - timedelta(days=1)
    cutoff = end_of_local_day(entered, TIMEZONE)
    with factory() as session:
        (asks,) = pick(session, solution_id, rng, [args.requests])
    backup = Backup(engine, folder)
    try:
        took = backup.take()
        print(f"{label}: backup taken ({took:.1f}s); entering {len(asks)} requests and running the night", flush=True)
        enter_requests(factory, solution_id, asks, entered)
        asked_rows = remaining(factory, solution_id, asks, cutoff)

        ledger = Ledger(f"file://{folder / f'ledger-{size}'}")
        proof = ErasureProof(Signer(Ed25519PrivateKey.generate()), ledger)
        blobs = MemoryBlobStore()
        storage: list[float] = []
        with wrapped(nightly_module, "forget_freed_space", storage):
            started = time.perf_counter()
            (summary,) = run_nightly(
                factory, blobs, run_at, keyring=KEYRING, solution_id=solution_id, trigger=RunTrigger.CLI, proof=proof
            )
            night_s = time.perf_counter() - started
        check(
            summary.requests_processed == len(asks) and not summary.requests_failed and not summary.requests_skipped,
            f"nightly run did not process every request: {summary.describe()}",
        )
        check(summary.receipts_issued == len(asks), f"{summary.receipts_issued} receipts for {len(asks)} requests")
        check(len(storage) == 1, f"storage step ran {len(storage)} times")
        check(remaining(factory, solution_id, asks, cutoff) == 0, "requested identifiers remain after the night")
        entries = len(list(ledger.entries(solution_id)))
        check(entries == len(asks), f"{entries} ledger entries for {len(asks)} requests")
        m = Measurement(
            size=size,
            raw_rows=size * args.raw_per_interaction,
            requests=len(asks),
            night_s=night_s,
            storage_s=storage[0],
            interactions_changed=summary.interactions,
            raw_rows_changed=summary.raw_data_rows,
            entries=entries,
        )
        print(
            f"{label}: night {night_s:.2f}s ({m.night_ms_per_request:.1f} ms/request), storage step"
            f" {m.storage_s * 1000:.1f} ms ({m.storage_s / night_s:.2%}); {summary.interactions:,} interactions,"
            f" {summary.raw_data_rows:,} raw rows changed",
            flush=True,
        )

        for attempt in range(args.repeat):
            m.restore_s.append(backup.restore())
            back = remaining(factory, solution_id, asks, cutoff)
            check(back == asked_rows and back > 0, f"the restore brought back {back} of {asked_rows} interactions")
            match: list[float] = []
            with wrapped(replay_module, "_identifiers_for", match):
                started = time.perf_counter()
                first = replay_module.replay_solution(
                    factory, blobs, ledger, solution_id, datetime.now(UTC), keyring=KEYRING
                )
                m.replay_s.append(time.perf_counter() - started)
            m.match_s.append(sum(match))
            check(first.entries == entries, f"replay saw {first.entries} entries, expected {entries}")
            check(first.entries_applied > 0, "the first replay applied nothing")
            check(remaining(factory, solution_id, asks, cutoff) == 0, "requested identifiers remain after the replay")
            m.applied = first.entries_applied
            started = time.perf_counter()
            second = replay_module.replay_solution(
                factory, blobs, ledger, solution_id, datetime.now(UTC), keyring=KEYRING
            )
            m.second_s.append(time.perf_counter() - started)
            check(second.entries_applied == 0, f"the second replay applied {second.entries_applied} entries")
            print(
                f"{label}: repeat {attempt + 1}: restore {m.restore_s[-1]:.1f}s, replay {m.replay_s[-1]:.2f}s"
                f" ({first.entries_applied}/{first.entries} applied, key matching {m.match_s[-1]:.2f}s),"
                f" second replay {m.second_s[-1]:.2f}s (0 applied)",
                flush=True,
            )
    finally:
        backup.drop()
    return m


def run_backend(backend: str, sizes: list[int], args: argparse.Namespace, rng: random.Random) -> list[Measurement]:
    results: list[Measurement] = []
    with fresh_database(backend) as url, tempfile.TemporaryDirectory(prefix="archivist-bench-replay-") as tmp:
        engine = engine_for(url)
        factory = make_session_factory(engine)
        try:
            with factory() as session, session.begin():
                solution_id = accounts.create_solution(session, name="bench", country=COUNTRY, timezone=TIMEZONE).id
            with factory() as session:
                solution = session.get(Solution, solution_id)
                assert solution is not None
                session.expunge(solution)
            loaded = 0
            for size in sizes:
                load(factory, solution, backend, loaded, size - loaded, args.raw_per_interaction)
                loaded = size
                analyze(engine)
                results.append(
                    measure_size(factory, engine, solution_id, size, args, rng, Path(tmp), f"{backend}: {size:,}")
                )
        finally:
            engine.dispose()
    return results


def runs(values: list[float], scale: float = 1.0, fmt: str = "{:.2f}") -> str:
    return ", ".join(fmt.format(v * scale) for v in values)


def rows_for(backend: str, measurements: list[Measurement]) -> list[list[str]]:
    base = measurements[0]
    rows = []
    for m in measurements:
        ratio = "—" if m is base else f"{m.replay_ms_per_entry / base.replay_ms_per_entry:.2f}×"
        rows.append(
            [
                backend,
                f"{m.size:,}",
                f"{m.raw_rows:,}",
                f"{m.requests:,}",
                f"{m.interactions_changed / m.requests:.1f} / {m.raw_rows_changed / m.requests:.1f}",
                f"{m.night_s:.2f} s ({m.night_ms_per_request:.1f} ms/request)",
                f"{m.storage_s * 1000:.1f} ms",
                f"{m.storage_s / m.night_s:.2%}",
                f"{median(m.restore_s):.1f} s",
                f"{median(m.replay_s):.2f} s ({runs(m.replay_s)}), {m.applied}/{m.entries} applied",
                f"{median(m.match_s):.2f} s",
                f"{m.replay_ms_per_entry:.1f} ({m.erase_ms_per_entry:.1f} without key matching)",
                f"{m.replay_ms_per_entry / m.night_ms_per_request:.2f}×",
                f"{median(m.second_s):.2f} s ({runs(m.second_s)})",
                ratio,
            ]
        )
    return rows


def verdicts(backend: str, measurements: list[Measurement]) -> list[str]:
    base, top = measurements[0], measurements[-1]
    if base is top:
        return []
    total = top.replay_ms_per_entry / base.replay_ms_per_entry
    erase = top.erase_ms_per_entry / base.erase_ms_per_entry
    match = median(top.match_s) / median(base.match_s)
    work = (top.interactions_changed / top.requests) / (base.interactions_changed / base.requests)
    return [
        f"- {backend}: replay ms per ledger entry {top.size:,} vs {base.size:,}: {total:.2f}×"
        f" ({erase:.2f}× without the key-matching scan, which itself grows {match:.2f}×;"
        f" interactions anonymized per request {work:.2f}×, so {erase / work:.2f}× per interaction anonymized)"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--raw-per-interaction", type=int, default=10)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rng = random.Random(42)
    rows: list[list[str]] = []
    notes: list[str] = []
    for backend in args.backends.split(","):
        measurements = run_backend(backend, sizes, args, rng)
        rows += rows_for(backend, measurements)
        notes += verdicts(backend, measurements)
    headers = [
        "database",
        "interactions",
        "raw data rows",
        "requests",
        "changed per request (interactions / raw rows)",
        "nightly run with proof, total",
        "storage step (`forget_freed_space`)",
        "storage share of the run",
        "restore (file copy / TEMPLATE), median",
        f"replay, median of {args.repeat} (runs), entries applied",
        "of which key matching, median",
        "replay ms per ledger entry",
        "replay per entry vs night per request",
        "second replay (nothing came back), median (runs)",
        f"replay ms per entry vs {sizes[0]:,}",
    ]
    command = "python -m bench.replay " + " ".join(sys.argv[1:])
    result = "\n".join([f"`{command.strip()}`", "", table(headers, rows), "", *notes])
    print(result)
    write_result("replay", result)


if __name__ == "__main__":
    main()
