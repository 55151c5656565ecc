"""Benchmark: the mention index — ingestion with extraction, erasure through the index, recall and precision.

    python -m bench.mentions [--sizes 100000,1000000] [--requests 1000] [--ingest-n 20000]
                             [--baseline-sample 20000] [--backends sqlite]

(1) Ingestion: corpus chats and emails through ``ingest`` (extraction, HMAC keys, mention rows
    included) into a fresh database, text documents per second on one process; and the
    extraction alone.
(2) Erasure: an archive of N text documents in which 1,000 people each have a fixed handful
    of interactions and mentions (so a request's work does not change with N), the rest filler
    about other people; 1,000 waiting requests, one nightly run, time per request. Side by side,
    the baseline a product without an index needs: re-scan every text document of the archive
    with ``PhoneNumberMatcher`` for each request. Scanning 1M documents 1,000 times is not
    runnable here, so the baseline is measured on a sample of documents and extrapolated
    (reported as such).
(3) Recall and precision per occurrence on the corpus, every person a request.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import phonenumbers
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from tests.corpus.corpus import Corpus, evaluate, generate_corpus

from archivist import identifiers_text
from archivist.accounts import services as accounts
from archivist.accounts.models import Solution
from archivist.anonymize.requests import create_request
from archivist.archive.ingest import ingest
from archivist.archive.mentions import MentionKeyring, identifiers_in
from archivist.archive.models import ChatMessage, EmailBody, Interaction, Mention
from archivist.archive.schemas import InteractionIn
from archivist.blobs.memory import MemoryBlobStore
from archivist.db import make_session_factory, table_of
from archivist.identifiers_text import find_emails
from archivist.nightly.run import run_nightly
from archivist.nightly.summary import RunTrigger
from bench.common import engine_for, fresh_database, table, write_result

KEYRING = MentionKeyring("bench-mentions")
BATCH = 1_000
# The requested people's own documents and the documents that mention them: fixed, whatever N.
TARGET_DOCUMENTS = 5_000
# Filler documents written once through ingest, then copied in SQL until the archive has N.
POOL_DOCUMENTS = 5_000
ENTERED = datetime(2026, 6, 1, 10, tzinfo=UTC)
NIGHT = ENTERED + timedelta(hours=16)


def _bodies(corpus: Corpus, prefix: str) -> list[InteractionIn]:
    bodies = []
    for document in corpus.documents:
        body = dict(document.body)
        body["external_id"] = f"{prefix}-{body['external_id']}"
        bodies.append(InteractionIn.model_validate(body))
    return bodies


def _solution(factory: sessionmaker[Session]) -> Solution:
    with factory() as session, session.begin():
        return accounts.create_solution(session, name="bench", country="NO", timezone="Europe/Oslo", is_default=True)


def _cold() -> None:
    # The scanner caches readings of digit strings and addresses it has seen; each measurement
    # starts without them, as a fresh process would.
    identifiers_text._readings.cache_clear()
    identifiers_text._normalize_email.cache_clear()


def _ingest(factory: sessionmaker[Session], solution: Solution, bodies: list[InteractionIn]) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds to ingest ``bodies``."""
    _cold()
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(bodies), BATCH):
        with factory() as session, session.begin():
            ingest(session, solution, bodies[start : start + BATCH], ENTERED, keyring=KEYRING)
    return time.perf_counter() - started, time.process_time() - cpu


# ---------------------------------------------------------------------------------------------
# (1) Ingestion
# ---------------------------------------------------------------------------------------------


def bench_ingest(backends: list[str], n: int) -> str:
    bodies = _bodies(generate_corpus(2_000, n, seed=11), "ingest")
    _cold()
    started, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        texts: list[str | None] = [m.text for m in body.messages or ()]
        identifiers_in([*texts, body.body, body.subject, *(body.variables or {}).values()], "NO")
    extraction, extraction_cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = [
        [
            "extraction alone (no database)",
            f"{n:,}",
            f"{extraction:.1f} s",
            f"{n / extraction:,.0f}",
            f"{n / extraction_cpu:,.0f}",
        ]
    ]
    for backend in backends:
        with fresh_database(backend) as url:
            engine = engine_for(url)
            factory = make_session_factory(engine)
            elapsed, cpu_s = _ingest(factory, _solution(factory), bodies)
            with factory() as session:
                mentions = session.scalar(select(func.count()).select_from(Mention))
            engine.dispose()
        rows.append(
            [f"`ingest` on {backend}", f"{n:,}", f"{elapsed:.1f} s", f"{n / elapsed:,.0f}", f"{n / cpu_s:,.0f}"]
        )
        print(f"ingest {backend}: {n / elapsed:,.0f} documents/s, {mentions:,} mention rows")
    # Per CPU-second of this process: the per-core rate the issue asks for, steady on a busy
    # machine (PostgreSQL's own server CPU is not in it; SQLite's is, it runs in-process).
    return table(["what (one process)", "text documents", "time", "documents/s", "documents per CPU-second"], rows)


# ---------------------------------------------------------------------------------------------
# (2) Erasure
# ---------------------------------------------------------------------------------------------


def _replicate(engine: Engine, copies: int) -> None:
    """Copy the pool's interactions, messages, bodies and mention rows ``copies`` times, in SQL."""
    interaction_columns = [c.name for c in table_of(Interaction).columns]
    pool = "(SELECT id FROM interactions WHERE external_id LIKE 'pool-%')"
    for copy in range(copies):
        # A prefix no real id has (they start with the time): 'a000'… keeps them 32 hex digits.
        prefix = f"'{0xA000 + copy:04x}' || substr(%s, 5)"
        values = [
            prefix % "id" if c == "id" else f"'r{copy}-' || external_id" if c == "external_id" else c
            for c in interaction_columns
        ]
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO interactions ({', '.join(interaction_columns)}) "
                    f"SELECT {', '.join(values)} FROM interactions WHERE external_id LIKE 'pool-%'"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO chat_messages (solution_id, interaction_id, seq, at, sender, text) "
                    f"SELECT solution_id, {prefix % 'interaction_id'}, seq, at, sender, text FROM chat_messages "
                    f"WHERE interaction_id IN {pool}"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO email_bodies (interaction_id, solution_id, body) "
                    f"SELECT {prefix % 'interaction_id'}, solution_id, body FROM email_bodies "
                    f"WHERE interaction_id IN {pool}"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO mentions (solution_id, interaction_id, key, kind) "
                    f"SELECT solution_id, {prefix % 'interaction_id'}, key, kind FROM mentions "
                    f"WHERE interaction_id IN {pool}"
                )
            )


def _texts(session: Session, ids: list[str]) -> list[str]:
    texts = list(session.scalars(select(ChatMessage.text).where(ChatMessage.interaction_id.in_(ids))))
    texts += list(session.scalars(select(EmailBody.body).where(EmailBody.interaction_id.in_(ids))))
    for subject, variables in session.execute(
        select(Interaction.subject, Interaction.variables).where(Interaction.id.in_(ids))
    ):
        texts += [subject or "", *(variables or {}).values()]
    return texts


def baseline_scan(factory: sessionmaker[Session], sample: int) -> tuple[int, float]:
    """Read ``sample`` documents and scan each text with the matcher, as one request would all of them."""
    started = time.perf_counter()
    with factory() as session:
        ids = list(session.scalars(select(Interaction.id).order_by(Interaction.id).limit(sample)))
        for start in range(0, len(ids), 500):
            for value in _texts(session, ids[start : start + 500]):
                list(phonenumbers.PhoneNumberMatcher(value, "NO"))
                find_emails(value)
    return len(ids), time.perf_counter() - started


def bench_erasure(backend: str, size: int, requests: int, sample: int) -> list[str]:
    targets = generate_corpus(requests, TARGET_DOCUMENTS, seed=31, domain="target.example")
    pool = generate_corpus(2_000, POOL_DOCUMENTS, seed=32, domain="pool.example")
    overlap = {p.phone for p in targets.people} & {p.phone for p in pool.people}
    assert not overlap, "the filler must not mention the requested people"
    with fresh_database(backend) as url:
        engine = engine_for(url)
        factory = make_session_factory(engine)
        solution = _solution(factory)
        started = time.perf_counter()
        _ingest(factory, solution, _bodies(targets, "target") + _bodies(pool, "pool"))  # real path, timed apart
        _replicate(engine, max(0, (size - TARGET_DOCUMENTS - POOL_DOCUMENTS) // POOL_DOCUMENTS))
        if backend == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        with factory() as session:
            documents = session.scalar(select(func.count()).select_from(Interaction)) or 0
            mention_rows = session.scalar(select(func.count()).select_from(Mention)) or 0
        built = time.perf_counter() - started
        print(f"{backend} {documents:,} documents, {mention_rows:,} mention rows built in {built:.0f} s")

        with factory() as session, session.begin():
            for person in targets.people[:requests]:
                create_request(
                    session,
                    solution,
                    phone=person.phone,
                    email=person.email,
                    raw_data=False,
                    delete_content=False,
                    created_by="bench",
                    now=ENTERED,
                )
        started, cpu = time.perf_counter(), time.process_time()
        (summary,) = run_nightly(
            factory, MemoryBlobStore(), NIGHT, keyring=KEYRING, solution_id=solution.id, trigger=RunTrigger.CLI
        )
        elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        assert summary.requests_processed == requests, summary.describe()
        keys = [KEYRING.key(solution.id, p.phone) for p in targets.people[:requests]]
        with factory() as session:
            left = session.scalar(select(func.count()).select_from(Mention).where(Mention.key.in_(keys[:500])))
        assert left == 0, "a requested person is still indexed"

        scanned, scan_time = baseline_scan(factory, sample)
        engine.dispose()
    per_request = elapsed / requests
    baseline_per_request = scan_time / scanned * documents
    print(
        f"{backend} {documents:,}: {per_request * 1000:.1f} ms/request, {summary.mentions_replaced:,} mentions, "
        f"baseline {baseline_per_request:.1f} s/request (from {scanned:,} documents in {scan_time:.1f} s)"
    )
    return [
        backend,
        f"{documents:,}",
        f"{requests:,}",
        f"{elapsed:.1f} s",
        f"{per_request * 1000:.1f} ms",
        f"{cpu_s / requests * 1000:.1f} ms",
        f"{summary.interactions:,} / {summary.mentions_replaced:,}",
        f"{baseline_per_request:,.1f} s (sample {scanned:,})",
        f"{baseline_per_request / per_request:,.0f}×",
    ]


# ---------------------------------------------------------------------------------------------
# (3) Recall and precision
# ---------------------------------------------------------------------------------------------


def bench_quality(documents: int) -> str:
    rows = []
    for seed in (41, 42, 43):
        score = evaluate(generate_corpus(500, documents, seed=seed))
        rows.append(
            [
                str(seed),
                f"{documents:,}",
                f"{score.true_positives + score.false_negatives:,}",
                f"{score.recall:.4f}",
                f"{score.precision:.4f}",
            ]
        )
    return table(["corpus seed", "documents", "true mentions", "recall", "precision"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="archive sizes in text documents")
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--ingest-n", type=int, default=20_000)
    parser.add_argument("--baseline-sample", type=int, default=20_000)
    parser.add_argument("--quality-docs", type=int, default=5_000)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    sizes = [int(s) for s in args.sizes.split(",")]

    ingestion = bench_ingest(backends, args.ingest_n)
    print(ingestion)
    erasure_rows = [
        bench_erasure(backend, size, args.requests, args.baseline_sample) for backend in backends for size in sizes
    ]
    erasure = table(
        [
            "database",
            "text documents",
            "requests",
            "nightly run",
            "per request",
            "CPU per request (this process)",
            "interactions / mentions replaced",
            "baseline: re-scan every document, per request (extrapolated)",
            "index vs baseline",
        ],
        erasure_rows,
    )
    print(erasure)
    quality = bench_quality(args.quality_docs)
    print(quality)
    write_result(
        "mentions",
        "### Ingestion with extraction\n\n"
        + ingestion
        + "\n\n### Erasure of 1,000 requests through the index\n\n"
        + erasure
        + "\n\n### Recall and precision per occurrence (every person of the corpus a request)\n\n"
        + quality,
    )


if __name__ == "__main__":
    main()
