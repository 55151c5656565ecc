"""Benchmark: the nightly anonymization run at 100,000 and 1,000,000 interactions, against a naive LIKE scan.

    python -m bench.nightly [--sizes 100000,1000000] [--requests 1000] [--raw-per-interaction 10]
                            [--baseline-requests 20] [--backends sqlite,postgresql]

For each backend: one fresh database, grown to each size in turn with demo interactions,
each with exactly ``--raw-per-interaction`` raw data rows (the generator's 2–6 events are
repeated or cut to that number), so the raw data table is ten times the archive. Loading
goes through the real set-wise ``ingest`` in batches of 2,000, with the chat messages,
email bodies, subjects and variables the generator writes (the nightly run sweeps the
text of the interactions it anonymizes, so that text is part of what is measured).
Interactions are generated in chunks of 50,000, each from its own seed, so a bigger
archive has more people rather than people with more calls: the work one request has to do
is the same at every size, and what changes is only how much it has to be found in.

At each size, ``--requests`` waiting requests (raw data chosen, content kept) are entered
through ``create_request`` the day before the run, for identifiers present in the archive
and not yet anonymized: phones of repeat callers (40 %), of single callers (30 %), email
addresses (25 %) and numbers that match nothing (5 %). Then the real ``run_nightly`` runs
once and is timed end to end (total, and mean per request); the median and p95 per request
come from the times between the run's per-request log lines (the first one also carries
the run's set-up). Every request must end *done*.

The baseline, in the same run and at the same size: ``--baseline-requests`` other
identifiers of the same mix, each erased the way a system without normalised, indexed
identifier columns would — ``UPDATE interactions ... WHERE customer_phone LIKE '%<last 8
digits>%' OR lower(customer_email) LIKE '%<address>%'`` and the same for the raw data rows
by ``customer`` — timed per request, inside one transaction that is rolled back, and
extrapolated to ``--requests``. The speed-up is naive ms per request over the real run's
mean ms per request.

PostgreSQL tables are ANALYZEd after each load (what autovacuum would have done before
the night); SQLite is left as the application leaves it.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, bindparam, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.anonymize.requests import create_request, end_of_local_day
from archivist.archive.ingest import ingest
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Interaction
from archivist.archive.schemas import InteractionIn
from archivist.blobs.memory import MemoryBlobStore
from archivist.db import UTCDateTime, make_session_factory
from archivist.demo.generator import generate
from archivist.identifiers import render_phone
from archivist.nightly.run import run_nightly
from archivist.nightly.summary import RunTrigger
from bench.common import engine_for, fresh_database, median, percentile, table, write_result

# Ingestion and the nightly run must share the secret, or the run finds no mentions.
KEYRING = MentionKeyring("bench-nightly")
COUNTRY = "NO"
TIMEZONE = "Europe/Oslo"
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
BATCH = 2_000
# Interactions per generator seed: the generator's pool of repeat callers grows with n, so
# fixed chunks keep "how many calls one person has" the same at every archive size.
CHUNK = 50_000
REPLACEMENT = "anonymized"
MIX = (("repeat caller phone", 0.40), ("single caller phone", 0.30), ("email", 0.25), ("no match", 0.05))
NIGHTLY_LOGGER = "archivist.nightly"


@dataclass(frozen=True)
class Ask:
    """One identifier to erase: exactly one of ``phone_e164`` / ``email`` is set."""

    kind: str
    phone_e164: str | None = None
    email: str | None = None


@dataclass
class Measurement:
    size: int
    raw_rows: int
    requests: int
    total_s: float
    per_request_ms: list[float]
    interactions_changed: int
    raw_rows_changed: int
    naive_ms: list[float] = field(default_factory=list)

    @property
    def mean_ms(self) -> float:
        return self.total_s * 1000 / self.requests

    @property
    def naive_mean_ms(self) -> float:
        return statistics.fmean(self.naive_ms)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def bodies(first: int, count: int, raw_per_interaction: int) -> Iterator[InteractionIn]:
    """``count`` interactions numbered from ``first``, each with exactly ``raw_per_interaction`` raw rows."""
    made = 0
    while made < count:
        n = min(CHUNK, count - made)
        seed = 1000 + first + made
        for item in generate(n, seed=seed, start=START, days=DAYS):
            item.pop("recording_seconds", None)
            item["external_id"] = f"{seed}-{item['external_id']}"
            events = item["events"] or [{"at": item["started_at"], "type": "offered", "queue": item["queue"]}]
            item["events"] = [events[i % len(events)] for i in range(raw_per_interaction)]
            yield InteractionIn.model_validate(item)
        made += n


def load(
    factory: sessionmaker[Session], solution: Solution, label: str, first: int, count: int, raw_per_interaction: int
) -> None:
    """Ingest ``count`` more interactions, printing progress every CHUNK."""
    started = time.perf_counter()
    batch: list[InteractionIn] = []
    done = 0

    def flush() -> None:
        nonlocal done
        with factory() as session, session.begin():
            ingest(session, solution, batch, datetime.now(UTC), keyring=KEYRING)
        done += len(batch)
        batch.clear()
        if done % CHUNK == 0 or done == count:
            elapsed = time.perf_counter() - started
            print(
                f"{label}: loaded {first + done:,} interactions, {(first + done) * raw_per_interaction:,} raw data rows"
                f" ({done / elapsed:,.0f} interactions/s)",
                flush=True,
            )

    for body in bodies(first, count, raw_per_interaction):
        batch.append(body)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


def candidates(session: Session, solution_id: str) -> dict[str, list[str]]:
    """Identifiers still in the archive (anonymized ones are NULL there), by kind, in a stable order."""
    phone = Interaction.customer_phone_e164
    email = Interaction.customer_email_norm
    counted = (
        select(phone, func.count().label("n"))
        .where(Interaction.solution_id == solution_id, phone.is_not(None))
        .group_by(phone)
        .subquery()
    )

    def values(query: Select[Any]) -> list[str]:
        return sorted(v for v in session.scalars(query) if v is not None)

    repeat = values(select(counted.c.customer_phone_e164).where(counted.c.n >= 2))
    single = values(select(counted.c.customer_phone_e164).where(counted.c.n == 1))
    emails = values(select(email).where(Interaction.solution_id == solution_id, email.is_not(None)).group_by(email))
    return {"repeat caller phone": repeat, "single caller phone": single, "email": emails}


def no_match_phones(session: Session, solution_id: str, rng: random.Random, k: int) -> list[str]:
    """Valid Norwegian mobile numbers that no interaction has."""
    found: list[str] = []
    while len(found) < k:
        phone = f"+474{rng.randrange(10_000_000):07d}"
        known = session.scalar(
            select(func.count())
            .select_from(Interaction)
            .where(Interaction.solution_id == solution_id, Interaction.customer_phone_e164 == phone)
        )
        if not known and phone not in found:
            found.append(phone)
    return found


def pick(session: Session, solution_id: str, rng: random.Random, counts: list[int]) -> list[list[Ask]]:
    """Disjoint groups of identifiers, one group per entry of ``counts``, each in the MIX proportions."""
    pools = candidates(session, solution_id)
    for pool in pools.values():
        rng.shuffle(pool)
    groups: list[list[Ask]] = []
    for count in counts:
        group: list[Ask] = []
        for index, (kind, share) in enumerate(MIX):
            # The last kind takes what rounding left, so the group has exactly ``count``.
            k = count - len(group) if index == len(MIX) - 1 else min(round(count * share), count - len(group))
            if kind == "no match":
                group += [Ask(kind, phone_e164=p) for p in no_match_phones(session, solution_id, rng, k)]
                continue
            pool = pools[kind]
            if len(pool) < k:
                raise SystemExit(f"only {len(pool)} identifiers of kind {kind!r} left; load a bigger archive")
            taken, pools[kind] = pool[:k], pool[k:]
            group += [Ask(kind, email=v) if kind == "email" else Ask(kind, phone_e164=v) for v in taken]
        groups.append(group)
    return groups


def enter_requests(factory: sessionmaker[Session], solution_id: str, asks: list[Ask], at: datetime) -> None:
    with factory() as session, session.begin():
        solution = session.get(Solution, solution_id)
        assert solution is not None
        for ask in asks:
            create_request(
                session,
                solution,
                # As a user types it: national digits, or 00 + country code for a foreign number.
                phone=render_phone(ask.phone_e164, COUNTRY) if ask.phone_e164 else None,
                email=ask.email,
                raw_data=True,
                delete_content=False,
                created_by="bench",
                now=at,
            )


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


class _Stamps(logging.Handler):
    """Notes the moment of each per-request log line of the nightly run."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.stamps: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("nightly: request"):
            self.stamps.append(time.perf_counter())


def night(
    factory: sessionmaker[Session], solution_id: str, run_at: datetime, requests: int
) -> tuple[float, list[float], int, int]:
    """Run the real nightly job once; (total seconds, per-request ms, interactions, raw rows changed)."""
    logger = logging.getLogger(NIGHTLY_LOGGER)
    handler = _Stamps()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        started = time.perf_counter()
        (summary,) = run_nightly(
            factory, MemoryBlobStore(), run_at, solution_id=solution_id, trigger=RunTrigger.CLI, keyring=KEYRING
        )
        total = time.perf_counter() - started
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
    if summary.requests_processed != requests or summary.requests_failed or summary.requests_skipped:
        raise SystemExit(f"nightly run did not process every request: {summary.describe()}")
    with factory() as session:
        rows = session.execute(
            select(AnonymizationRequest.status, func.count())
            .where(AnonymizationRequest.solution_id == solution_id)
            .group_by(AnonymizationRequest.status)
        )
        statuses: dict[RequestStatus, int] = {status: n for status, n in rows}  # noqa: C416 - rows, not pairs
    if statuses.get(RequestStatus.WAITING, 0) != 0:
        raise SystemExit(f"requests still waiting after the run: {statuses}")
    previous = started
    per_request: list[float] = []
    for stamp in handler.stamps:
        per_request.append((stamp - previous) * 1000)
        previous = stamp
    return total, per_request, summary.interactions, summary.raw_data_rows


def naive(engine: Engine, solution_id: str, asks: list[Ask], cutoff: datetime) -> list[float]:
    """Erase each identifier by LIKE scans, the way a schema without identifier indexes must; rolled back."""
    times: list[float] = []
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            for ask in asks:
                params: dict[str, Any] = {"sid": solution_id, "r": REPLACEMENT, "cutoff": cutoff}
                if ask.phone_e164 is not None:
                    params["pattern"] = f"%{ask.phone_e164[-8:]}%"
                    interaction_match = "customer_phone LIKE :pattern"
                    raw_match = "customer LIKE :pattern"
                else:
                    params["pattern"] = f"%{(ask.email or '').lower()}%"
                    interaction_match = "lower(customer_email) LIKE :pattern"
                    raw_match = "lower(customer) LIKE :pattern"
                at_type = bindparam("cutoff", type_=UTCDateTime())
                started = time.perf_counter()
                conn.execute(
                    text(
                        "UPDATE interactions SET customer_phone = :r, customer_phone_e164 = NULL,"
                        " customer_email = :r, customer_email_norm = NULL, customer_name = :r"
                        f" WHERE solution_id = :sid AND started_at < :cutoff AND ({interaction_match})"
                    ).bindparams(at_type),
                    params,
                )
                conn.execute(
                    text(
                        "UPDATE raw_events SET customer = :r, customer_norm = NULL"
                        f" WHERE solution_id = :sid AND at < :cutoff AND ({raw_match})"
                    ).bindparams(at_type),
                    params,
                )
                times.append((time.perf_counter() - started) * 1000)
        finally:
            transaction.rollback()
    return times


def analyze(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------


def run_backend(backend: str, sizes: list[int], args: argparse.Namespace, rng: random.Random) -> list[Measurement]:
    results: list[Measurement] = []
    with fresh_database(backend) as url:
        engine = engine_for(url)
        factory = make_session_factory(engine)
        try:
            with factory() as session, session.begin():
                created = accounts.create_solution(session, name="bench", country=COUNTRY, timezone=TIMEZONE)
                solution_id = created.id
            with factory() as session:
                solution = session.get(Solution, solution_id)
                assert solution is not None
                session.expunge(solution)
            loaded = 0
            for size in sizes:
                load(factory, solution, backend, loaded, size - loaded, args.raw_per_interaction)
                loaded = size
                analyze(engine)
                run_at = datetime.now(UTC).replace(microsecond=0)
                entered = run_at - timedelta(days=1)
                with factory() as session:
                    asks, baseline = pick(session, solution_id, rng, [args.requests, args.baseline_requests])
                enter_requests(factory, solution_id, asks, entered)
                print(f"{backend}: {size:,}: {len(asks)} requests entered; running the night", flush=True)
                total, per_request, changed, raw_changed = night(factory, solution_id, run_at, len(asks))
                measurement = Measurement(
                    size=size,
                    raw_rows=size * args.raw_per_interaction,
                    requests=len(asks),
                    total_s=total,
                    per_request_ms=per_request,
                    interactions_changed=changed,
                    raw_rows_changed=raw_changed,
                )
                print(
                    f"{backend}: {size:,}: night {total:.1f}s, {measurement.mean_ms:.1f} ms/request"
                    f" ({changed:,} interactions, {raw_changed:,} raw data rows); naive baseline ...",
                    flush=True,
                )
                measurement.naive_ms = naive(engine, solution_id, baseline, end_of_local_day(entered, TIMEZONE))
                print(
                    f"{backend}: {size:,}: naive {measurement.naive_mean_ms:.0f} ms/request"
                    f" ({len(baseline)} requests, rolled back)",
                    flush=True,
                )
                results.append(measurement)
        finally:
            engine.dispose()
    return results


def rows_for(backend: str, measurements: list[Measurement]) -> list[list[str]]:
    base = measurements[0]
    rows = []
    for m in measurements:
        ratio = "—" if m is base else f"{m.mean_ms / base.mean_ms:.2f}×"
        rows.append(
            [
                backend,
                f"{m.size:,}",
                f"{m.raw_rows:,}",
                f"{m.requests:,}",
                f"{m.interactions_changed / m.requests:.1f} / {m.raw_rows_changed / m.requests:.1f}",
                f"{m.total_s:.1f} s",
                f"{m.mean_ms:.1f}",
                f"{median(m.per_request_ms):.1f} / {percentile(m.per_request_ms, 95):.1f}",
                f"{m.naive_mean_ms:,.0f}",
                f"{m.naive_mean_ms * m.requests / 1000:,.0f} s",
                f"{m.naive_mean_ms / m.mean_ms:,.0f}×",
                ratio,
            ]
        )
    return rows


def verdicts(backend: str, measurements: list[Measurement]) -> list[str]:
    base, top = measurements[0], measurements[-1]
    growth = top.mean_ms / base.mean_ms
    speedup = top.naive_mean_ms / top.mean_ms
    return [
        f"- {backend}: per-request cost {top.size:,} vs {base.size:,}: {growth:.2f}× (goal ≤ 1.5×:"
        f" {'met' if growth <= 1.5 else 'NOT met'}); at {top.size:,}, {speedup:,.0f}× faster than the naive scan"
        f" (goal ≥ 100×: {'met' if speedup >= 100 else 'NOT met'})"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--raw-per-interaction", type=int, default=10)
    parser.add_argument("--baseline-requests", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
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
        "nightly run, total",
        "ms per request (mean)",
        "ms per request (median / p95)",
        "naive LIKE scan, ms per request",
        f"naive, extrapolated to {args.requests:,}",
        "speed-up",
        f"ms per request vs {sizes[0]:,}",
    ]
    command = "python -m bench.nightly " + " ".join(sys.argv[1:])
    result = "\n".join([f"`{command.strip()}`", "", table(headers, rows), "", *notes])
    print(result)
    write_result("nightly", result)


if __name__ == "__main__":
    main()
