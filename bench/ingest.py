"""Benchmark: bulk ingestion through `archivist import`, against a row-by-row ORM baseline.

    python -m bench.ingest [--n 200000] [--repeat 3] [--serial-repeat 1] [--baseline-n 20000]
                           [--backends sqlite,postgresql]

Generates N demo interactions (with their raw data rows) as NDJSON once, then imports the
file into a fresh database with the real CLI, `repeat` times per backend, and reports the
median. Side by side, in the same run: the same import in one process (`--workers 0`), and
a baseline that inserts the same bodies one ORM object at a time (what the issue warns
against), on a smaller N.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.archive.models import ChatMessage, EmailBody, Interaction, RawEvent
from archivist.archive.schemas import InteractionIn
from archivist.db import make_session_factory, new_id
from archivist.demo.generator import generate
from archivist.identifiers import normalize_caller, normalize_email_lenient
from bench.common import engine_for, fresh_database, median, table, timed, write_result

ARCHIVIST = str(Path(sys.executable).with_name("archivist"))
START = datetime(2026, 1, 1, tzinfo=UTC)


def make_ndjson(path: Path, n: int) -> tuple[int, int]:
    """Write ``n`` demo interactions; returns (interactions, raw data rows)."""
    events = 0
    with path.open("w") as fh:
        for item in generate(n, seed=7, start=START, days=365):
            item.pop("recording_seconds", None)
            events += len(item["events"])
            fh.write(json.dumps(item) + "\n")
    return n, events


def cli_import(url: str, path: Path, *options: str) -> float:
    env = {**os.environ, "ARCHIVIST_DATABASE_URL": url, "ARCHIVIST_DATA_DIR": str(path.parent / "var")}
    subprocess.run([ARCHIVIST, "init"], env=env, check=True, capture_output=True)

    def run() -> None:
        subprocess.run([ARCHIVIST, "import", *options, str(path)], env=env, check=True, capture_output=True)

    return timed(run)


def orm_baseline(url: str, path: Path, n: int) -> float:
    """Insert the first ``n`` lines one ORM object per row, committing every 1,000."""
    engine = engine_for(url)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        solution = Solution(name="bench", country="NO", timezone="Europe/Oslo")
        session.add(solution)
    bodies = []
    with path.open() as fh:
        for _, line in zip(range(n), fh, strict=False):
            bodies.append(InteractionIn.model_validate_json(line))

    def run() -> None:
        session: Session = factory()
        for i, body in enumerate(bodies, start=1):
            iid = new_id()
            phone = normalize_caller(body.customer.phone, "NO") if body.customer.phone else None
            email = normalize_email_lenient(body.customer.email)
            session.add(
                Interaction(
                    id=iid,
                    solution_id=solution.id,
                    external_id=body.external_id,
                    channel=body.channel,
                    direction=body.direction,
                    started_at=body.started_at,
                    ended_at=body.ended_at,
                    queue=body.queue,
                    agent=body.agent,
                    customer_phone=body.customer.phone,
                    customer_phone_e164=phone,
                    customer_email=body.customer.email,
                    customer_email_norm=email,
                    customer_name=body.customer.name,
                    service_number=body.service_number,
                    subject=body.subject,
                    variables=body.variables or None,
                    has_content=bool(body.messages or body.body),
                )
            )
            session.flush()  # the ORM way: the object exists before its children
            for seq, m in enumerate(body.messages or ()):
                session.add(
                    ChatMessage(
                        solution_id=solution.id, interaction_id=iid, seq=seq, at=m.at, sender=m.sender, text=m.text
                    )
                )
            if body.body is not None:
                session.add(EmailBody(interaction_id=iid, solution_id=solution.id, body=body.body))
            for e in body.events:
                session.add(
                    RawEvent(
                        solution_id=solution.id,
                        interaction_id=iid,
                        at=e.at,
                        type=e.type,
                        queue=e.queue,
                        agent=e.agent,
                        customer=body.customer.phone,
                        customer_norm=phone,
                        duration_s=e.duration_s,
                    )
                )
            if i % 1000 == 0:
                session.commit()
        session.commit()
        session.close()

    elapsed = timed(run)
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--serial-repeat", type=int, default=1, help="runs of the one-process import")
    parser.add_argument("--baseline-n", type=int, default=20_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="archivist-bench-") as tmp:
        path = Path(tmp) / "demo.ndjson"
        made: list[tuple[int, int]] = []
        gen_time = timed(lambda: made.append(make_ndjson(path, args.n)))
        n, events = made[0]
        size_mb = path.stat().st_size / 1e6
        print(f"generated {n} interactions, {events} raw data rows, {size_mb:.0f} MB NDJSON in {gen_time:.1f}s")
        rows = []
        for backend in args.backends.split(","):
            times = []
            for _ in range(args.repeat):
                with fresh_database(backend) as url:
                    times.append(cli_import(url, path))
            t = median(times)
            serial_times = []
            for _ in range(args.serial_repeat):
                with fresh_database(backend) as url:
                    serial_times.append(cli_import(url, path, "--workers", "0"))
            serial = median(serial_times)
            with fresh_database(backend) as url:
                base = orm_baseline(url, path, args.baseline_n)
            base_rate = args.baseline_n / base
            rows.append(
                [
                    backend,
                    f"{n:,}",
                    f"{t:.1f} s ({', '.join(f'{x:.1f}' for x in times)})",
                    f"{n / t:,.0f}",
                    f"{events / t:,.0f}",
                    f"{n / serial:,.0f} ({serial:.1f} s)",
                    f"{base_rate:,.0f}",
                    f"{serial / t:.2f}×",
                    f"{(n / t) / base_rate:.1f}×",
                ]
            )
            print(backend, [f"{x:.1f}" for x in times], "serial", [f"{x:.1f}" for x in serial_times])
            print(f"baseline {base:.1f}s for {args.baseline_n}")
    result = table(
        [
            "database",
            "interactions",
            "`archivist import`, median (runs)",
            "interactions/s",
            "raw data rows/s",
            "one process (`--workers 0`), interactions/s",
            f"ORM row-by-row baseline, interactions/s (first {args.baseline_n:,})",
            "workers vs one process",
            "vs ORM baseline",
        ],
        rows,
    )
    print(result)
    write_result("ingest", result)


if __name__ == "__main__":
    main()
