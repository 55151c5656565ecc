"""Benchmark: the retention pass's cost as the archive grows, for the same work (issue 26).

    python -m bench.retention_scale [--sizes 100000,1000000] [--work 200] [--repeat 3]
                                    [--backends sqlite,postgresql]

For each backend and archive size: a fresh database holding ``--sizes`` interactions of one
solution, all in the queue ``Complaints`` and older than the rules' cutoff, written set-wise. Of
them, ``--work`` still have a recording (a row) and content (one chat message); the others were
emptied by earlier nights (``has_recording`` and ``has_content`` false), as in an archive whose
rules have run for a while. Two scenarios on the same database, one after the other:

- *every queue*: rules ``recording`` and ``content``, 90 days, for the whole solution (read
  through the time index, or the kept index by solution);
- *one queue*: the same two rules for the queue ``Complaints`` (read through the queue's index,
  or the kept index by queue).

Measured: ``apply_retention`` (the nightly run's pass), wall and CPU seconds of this process
(PostgreSQL's own work is in the wall time only), ``--repeat`` times per variant, alternating,
after one unmeasured pass:

- *kept indexes*: as migrated (``archive.models.kept_indexes``: the interactions that still have
  a recording or content, by solution, by channel and by queue);
- *time index only*: the same database with those indexes dropped, as before migration 0023.

Between runs the work is put back (recording rows, chat messages, the flags) and the pending
blob deletions the pass queued are removed; on PostgreSQL the table is vacuumed and analyzed, so
no run pays for the one before it. Every run must delete exactly ``--work`` recordings and
``--work`` contents. The goal (issue 26): the same work costs the same at any size (≤ 1.2× from
the smallest archive to the largest).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, Index, delete, insert, update
from sqlalchemy.orm import Session

from archivist.accounts import services as accounts
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import (
    Channel,
    ChatMessage,
    Direction,
    Interaction,
    PendingBlobDeletion,
    Recording,
    Sender,
    kept_indexes,
)
from archivist.db import make_session_factory, new_ids, table_of
from archivist.retention.models import RetentionRule, RetentionWhat
from archivist.retention.rules import DraftRule, add_rule, apply_retention
from bench.common import disposing, engine_for, fresh_database, median, table, write_result

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
KEEP_DAYS = 90
KEYRING = MentionKeyring("bench-retention-scale")
QUEUE = "Complaints"
SCENARIOS = ("every queue", "one queue")
VARIANTS = ("kept indexes", "time index only")
BATCH = 10_000
# The archive spans two years, all of it older than the cutoff.
NEWEST = NOW - timedelta(days=KEEP_DAYS + 1)
SPAN_S = 2 * 365 * 86_400


def load(engine: Engine, solution_id: str, size: int, work: int) -> list[str]:
    """``size`` interactions; returns the ids of the ``work`` that still have a recording and content."""
    every = max(1, size // work)
    kept: list[str] = []
    with engine.begin() as conn:
        for first in range(0, size, BATCH):
            count = min(BATCH, size - first)
            rows = []
            for n, iid in zip(range(first, first + count), new_ids(count), strict=True):
                holds = n % every == 0 and len(kept) < work
                if holds:
                    kept.append(iid)
                rows.append(
                    {
                        "id": iid,
                        "solution_id": solution_id,
                        "channel": Channel.CALL,
                        "direction": Direction.INBOUND,
                        "started_at": NEWEST - timedelta(seconds=(n * 7919) % SPAN_S),
                        "queue": QUEUE,
                        "has_recording": holds,
                        "has_content": holds,
                        "created_at": NOW,
                    }
                )
            conn.execute(insert(table_of(Interaction)), rows)
    return kept


def put_back(engine: Engine, solution_id: str, kept: list[str]) -> None:
    """The work as it was before a pass: recordings, one chat message each, the flags; no queued deletions."""
    with engine.begin() as conn:
        conn.execute(delete(table_of(PendingBlobDeletion)))
        conn.execute(delete(table_of(Recording)).where(Recording.interaction_id.in_(kept)))
        conn.execute(delete(table_of(ChatMessage)).where(ChatMessage.interaction_id.in_(kept)))
        conn.execute(
            insert(table_of(Recording)),
            [
                {
                    "interaction_id": iid,
                    "solution_id": solution_id,
                    "blob_key": f"recordings/{solution_id}/{iid}.wav",
                    "content_type": "audio/wav",
                    "size_bytes": 44,
                    "created_at": NOW,
                }
                for iid in kept
            ],
        )
        conn.execute(
            insert(table_of(ChatMessage)),
            [
                {
                    "solution_id": solution_id,
                    "interaction_id": iid,
                    "seq": 0,
                    "at": NOW - timedelta(days=400),
                    "sender": Sender.CUSTOMER,
                    "text": "Hei, jeg lurer på en faktura",
                }
                for iid in kept
            ],
        )
        conn.execute(
            update(table_of(Interaction)).where(Interaction.id.in_(kept)).values(has_recording=True, has_content=True)
        )
    settle(engine)


def settle(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE interactions, recordings, chat_messages")


def kept() -> list[Index]:
    """The interactions table's own kept indexes (those ``kept_indexes`` names)."""
    names = {index.name for index in kept_indexes()}
    return [index for index in table_of(Interaction).indexes if index.name in names]


def drop_kept(engine: Engine) -> None:
    with engine.begin() as conn:
        for index in kept():
            index.drop(conn)
    settle(engine)


def create_kept(engine: Engine) -> None:
    with engine.begin() as conn:
        for index in kept():
            index.create(conn)
    settle(engine)


def to_one_queue(engine: Engine, solution_id: str) -> None:
    """The second scenario: the same archive, the rules for its queue only."""
    with engine.begin() as conn:
        conn.execute(delete(table_of(RetentionRule)))
    with make_session_factory(engine)() as session, session.begin():
        add_rules(session, solution_id, QUEUE)


def add_rules(session: Session, solution_id: str, queue: str | None) -> None:
    for what in (RetentionWhat.RECORDING, RetentionWhat.CONTENT):
        add_rule(session, solution_id, DraftRule(None, queue, what, KEEP_DAYS), created_by="bench", now=NOW)


def one_pass(engine: Engine, solution_id: str, work: int) -> tuple[float, float]:
    factory = make_session_factory(engine)
    clock, processor = time.perf_counter(), time.process_time()
    outcomes = apply_retention(factory, solution_id, NOW, keyring=KEYRING)
    elapsed, used = time.perf_counter() - clock, time.process_time() - processor
    assert sorted((o.what, o.deleted, o.failed) for o in outcomes) == [
        ("content", work, False),
        ("recording", work, False),
    ], outcomes
    return elapsed, used


def measure(backend: str, size: int, work: int, repeat: int) -> dict[tuple[str, str], list[tuple[float, float]]]:
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with fresh_database(backend) as url, disposing(engine_for(url)) as engine:
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            solution = accounts.create_solution(
                session, name="Bench", country="NO", timezone="Europe/Oslo", is_default=True
            )
            add_rules(session, solution.id, None)
            solution_id = solution.id
        started = time.perf_counter()
        kept = load(engine, solution_id, size, work)
        print(f"{backend}: loaded {size:,} interactions in {time.perf_counter() - started:.0f} s", flush=True)
        present = True
        for scenario in SCENARIOS:
            if scenario == "one queue":
                to_one_queue(engine, solution_id)
            # One pass unmeasured first: the process's statement caches are then as warm for the
            # first measured run as for the others.
            put_back(engine, solution_id, kept)
            one_pass(engine, solution_id, work)
            for _ in range(repeat):
                for variant in VARIANTS if present else VARIANTS[::-1]:
                    if (variant == VARIANTS[0]) != present:
                        (create_kept if variant == VARIANTS[0] else drop_kept)(engine)
                        present = not present
                    put_back(engine, solution_id, kept)
                    runs.setdefault((scenario, variant), []).append(one_pass(engine, solution_id, work))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--work", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    rows = []
    for backend in args.backends.split(","):
        medians: dict[tuple[int, str, str], tuple[float, float]] = {}
        for size in sizes:
            for (scenario, variant), runs in measure(backend, size, args.work, args.repeat).items():
                wall = median([r[0] for r in runs])
                cpu = median([r[1] for r in runs])
                medians[size, scenario, variant] = (wall, cpu)
                rows.append([backend, scenario, f"{size:,}", variant, f"{wall:.3f}", f"{cpu:.3f}"])
        smallest, largest = sizes[0], sizes[-1]
        for scenario in SCENARIOS:
            for variant in VARIANTS:
                grown = [
                    medians[largest, scenario, variant][i] / medians[smallest, scenario, variant][i] for i in (0, 1)
                ]
                rows.append(
                    [backend, scenario, f"{largest:,} / {smallest:,}", variant, f"{grown[0]:.2f}×", f"{grown[1]:.2f}×"]
                )
    out = [
        f"## Retention pass deleting {args.work} recordings and {args.work} contents"
        f" (seconds, median of {args.repeat})",
        "",
        table(["backend", "rules", "interactions", "indexes", "wall s", "CPU s"], rows),
    ]
    text_ = "\n".join(out)
    print(text_)
    print(f"written to {write_result('retention_scale', text_)}")


if __name__ == "__main__":
    main()
