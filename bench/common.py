"""Shared helpers for the benchmarks: fresh databases, timing, medians, markdown tables."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from archivist.db import make_engine
from archivist.schema import upgrade

POSTGRES_SERVER = os.environ.get(
    "ARCHIVIST_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """A migrated, empty database for one measurement; removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="archivist-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            _migrate(url)
            yield url
        return
    server = make_url(POSTGRES_SERVER)
    name = f"archivist_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def engine_for(url: str) -> Engine:
    return make_engine(url)


@contextmanager
def disposing(engine: Engine) -> Iterator[Engine]:
    """``engine``, its pooled connections closed at the end of the block."""
    try:
        yield engine
    finally:
        engine.dispose()


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_result(name: str, text_: str) -> Path:
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.md"
    path.write_text(text_ + "\n")
    return path
