"""Benchmark: search latency through the HTTP API at 100,000 and 1,000,000 interactions.

    python -m bench.search [--sizes 100000,1000000] [--queries 300] [--backends sqlite,postgresql]

For each backend: loads demo interactions (without raw data, which search never reads)
through the parallel importer into a fresh database up to the first size, starts `archivist serve` and measures
`GET /api/v1/interactions` by phone, by email and by queue + one day; then grows the same
database to the next size and measures again. Latency is wall time per HTTP request from a
client on the same machine; the table gives median and p99 per query kind, and the ratio
of the largest size to the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Role
from archivist.archive.importer import import_lines
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Interaction
from archivist.db import make_session_factory
from archivist.demo.generator import generate
from bench.common import disposing, engine_for, fresh_database, median, percentile, table, write_result

ARCHIVIST = str(Path(sys.executable).with_name("archivist"))
# Search does not read the mention index; any secret indexes it the same way.
KEYRING = MentionKeyring("bench-search")
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365


def load(factory: sessionmaker[Session], solution_id: str, first: int, count: int, tmp: Path) -> None:
    """Add ``count`` interactions numbered from ``first`` through the real (parallel) importer."""
    with factory() as session:
        solution = accounts.get_solution(session, solution_id)
    assert solution is not None
    path = tmp / f"load-{first}.ndjson"
    with path.open("w") as fh:
        # Each chunk has its own seed so growing the archive adds new people, not copies.
        for item in generate(count, seed=1000 + first, start=START, days=DAYS):
            item.pop("recording_seconds", None)
            item["events"] = []
            item["external_id"] = f"{first}-{item['external_id']}"
            fh.write(json.dumps(item) + "\n")
    with path.open("rb") as fh:
        report = import_lines(factory, solution, fh, datetime.now(UTC), keyring=KEYRING, workers=os.cpu_count() or 1)
    path.unlink()
    assert report.created == count, report
    assert not report.errors, report


def sample_terms(
    factory: sessionmaker[Session], solution_id: str, k: int, rng: random.Random
) -> dict[str, list[dict[str, str]]]:
    with factory() as session:
        phones = [
            p
            for p in session.scalars(
                select(Interaction.customer_phone)
                .where(Interaction.customer_phone_e164.is_not(None))
                .order_by(func.random())
                .limit(5_000)
            )
            if p is not None
        ]
        emails = [
            e
            for e in session.scalars(
                select(Interaction.customer_email)
                .where(Interaction.customer_email_norm.is_not(None))
                .order_by(func.random())
                .limit(5_000)
            )
            if e is not None
        ]
        queues = sorted({q for q in session.scalars(select(Interaction.queue).limit(10_000)) if q is not None})
    days = [START + timedelta(days=d) for d in range(DAYS)]
    return {
        "phone": [{"phone": p} for p in rng.choices(phones, k=k)],
        "email": [{"email": e} for e in rng.choices(emails, k=k)],
        "queue + day": [
            {"queue": q, "from": d.isoformat(), "to": (d + timedelta(days=1)).isoformat()}
            for q, d in zip(rng.choices(queues, k=k), rng.choices(days, k=k), strict=True)
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(url: str, token: str, terms: dict[str, list[dict[str, str]]], tmp: Path) -> dict[str, list[float]]:
    port = free_port()
    env = {**os.environ, "ARCHIVIST_DATABASE_URL": url, "ARCHIVIST_DATA_DIR": str(tmp)}
    server = subprocess.Popen(
        [ARCHIVIST, "serve", "--no-scheduler", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            for _ in range(100):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            results: dict[str, list[float]] = {}
            for kind, params_list in terms.items():
                for params in params_list[:20]:  # warm-up: caches, prepared statements
                    client.get("/api/v1/interactions?" + urlencode(params))
                latencies = []
                for params in params_list:
                    started = time.perf_counter()
                    response = client.get("/api/v1/interactions?" + urlencode(params))
                    latencies.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                results[kind] = latencies
            return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(42)
    rows: list[list[str]] = []
    for backend in args.backends.split(","):
        with fresh_database(backend) as url, disposing(engine_for(url)) as engine:
            factory = make_session_factory(engine)
            with factory() as session, session.begin():
                solution = accounts.create_solution(session, name="bench", country="NO", timezone="Europe/Oslo")
                user = accounts.create_user(
                    session,
                    solution_id=solution.id,
                    username="bench",
                    role=Role.SUPERVISOR,
                    password="benchmark!",  # noqa: S106 - a throwaway bench user
                )
                token = accounts.create_token(session, user)
            loaded = 0
            per_size: dict[int, dict[str, list[float]]] = {}
            for size in sizes:
                started = time.perf_counter()
                with tempfile.TemporaryDirectory() as load_dir:
                    load(factory, solution.id, loaded, size - loaded, Path(load_dir))
                print(f"{backend}: loaded {size:,} in total ({time.perf_counter() - started:.0f}s)", flush=True)
                loaded = size
                if backend == "postgresql":
                    # What a DBA does after a bulk load, and what autovacuum would otherwise do
                    # in the middle of the measurement: statistics and the visibility map.
                    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                        conn.execute(text("VACUUM (ANALYZE) interactions"))
                terms = sample_terms(factory, solution.id, args.queries, rng)
                with tempfile.TemporaryDirectory() as data_dir:
                    per_size[size] = measure(url, token, terms, Path(data_dir))
            for kind in per_size[sizes[0]]:
                cells: list[Any] = [backend, kind]
                for size in sizes:
                    lat = per_size[size][kind]
                    cells.append(f"{median(lat):.1f} / {percentile(lat, 99):.1f}")
                ratio = median(per_size[sizes[-1]][kind]) / median(per_size[sizes[0]][kind])
                cells.append(f"{ratio:.2f}×")
                rows.append(cells)
                print(cells, flush=True)
    headers = ["database", "query", *[f"{s:,}: median / p99 ms" for s in sizes], "median ratio"]
    result = table(headers, rows)
    print(result)
    write_result("search", result)


if __name__ == "__main__":
    main()
