"""Bulk intake and subject access export (issue 17): a 10,000-line file checked, previewed, added; an export streamed.

For each backend: an archive of ``--archive`` calls (two per person for half the file's people,
so previews find something), then a file of ``--lines`` lines (every 7th a repeat) is
  - validated (``bulk.parse_bulk``),
  - previewed (``bulk.preview_rows``: the status of every row, the erasure engine's counts for
    the first ``PREVIEW_ROWS``; the per-row engine cost is reported, to say what all rows would take),
  - added (``bulk.add_rows`` and the upload's audit entries, one transaction).
Then a person with ``--recordings`` recordings of ``--recording-mb`` MB in the file blob store is
exported: the ZIP is streamed to /dev/null, with its time and the peak traced Python memory.

    .venv/bin/python -m bench.bulk [--backends sqlite,postgresql] [--lines 10000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archivist.access.criteria import Criteria, CriteriaBox
from archivist.access.export import create_export, stream_export
from archivist.accounts import services as accounts
from archivist.accounts.models import Role
from archivist.accounts.services import Principal
from archivist.anonymize import bulk
from archivist.archive.ingest import ingest
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Interaction
from archivist.archive.recordings import attach_recording, new_blob_key
from archivist.archive.schemas import InteractionIn
from archivist.blobs.fsspec_store import FsspecBlobStore
from archivist.db import make_session_factory
from bench.common import disposing, engine_for, fresh_database, table, write_result

KEYRING = MentionKeyring("bench-secret")
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def bulk_file(lines: int) -> str:
    rows = ["phone,email,raw_data,delete_content"]
    for n in range(lines):
        person = n - 6 if n % 7 == 6 else n
        address = f"p{person}@example.com" if person % 2 else ""
        rows.append(f"4{person:07d},{address},{'true' if n % 3 else ''},")
    return "\n".join(rows) + "\n"


def run_backend(backend: str, args: argparse.Namespace) -> list[str]:
    with fresh_database(backend) as url, disposing(engine_for(url)) as engine:
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            solution = accounts.create_solution(session, name="bench", country="NO", timezone="Europe/Oslo")
        start = NOW - timedelta(days=30)
        bodies = [
            InteractionIn.model_validate(
                {
                    "channel": "call",
                    "direction": "inbound",
                    "started_at": (start + timedelta(seconds=n)).isoformat(),
                    "customer": {"phone": f"4{(n // 2) * 2:07d}"},
                    "events": [{"at": (start + timedelta(seconds=n)).isoformat(), "type": "offered"}],
                }
            )
            for n in range(args.archive)
        ]
        for offset in range(0, len(bodies), 1000):
            with factory() as session, session.begin():
                ingest(session, solution, bodies[offset : offset + 1000], NOW, keyring=KEYRING)

        text = bulk_file(args.lines)
        started = time.perf_counter()
        rows = bulk.parse_bulk(text, "NO")
        validated = time.perf_counter() - started
        with factory() as session:
            started = time.perf_counter()
            preview = bulk.preview_rows(session, solution, rows, now=NOW, keyring=KEYRING)
            previewed = time.perf_counter() - started
            started = time.perf_counter()
            bulk.preview_rows(session, solution, rows, now=NOW, keyring=KEYRING, limit=0)
            statuses = time.perf_counter() - started
        per_row = (previewed - statuses) / max(1, preview.previewed)
        with factory() as session, session.begin():
            user = accounts.create_user(
                session, solution_id=solution.id, username="officer", role=Role.PRIVACY_OFFICER, password="x" * 12
            )
            principal = Principal(user_id=user.id, username=user.username, role=user.role, solution_id=solution.id)
        started = time.perf_counter()
        with factory() as session, session.begin():
            result = bulk.add_rows(session, solution, rows, created_by="officer", now=NOW)
            bulk.audit_bulk(session, principal, result, "NO", now=NOW, via="bench")
        added = time.perf_counter() - started

        # The export: one person with many large recordings, through the real file store.
        with tempfile.TemporaryDirectory(prefix="archivist-bench-blobs-") as tmp:
            store = FsspecBlobStore(Path(tmp).as_uri())
            person = [
                InteractionIn.model_validate(
                    {
                        "channel": "call",
                        "direction": "inbound",
                        "started_at": (start + timedelta(minutes=n)).isoformat(),
                        "customer": {"phone": "91234567"},
                    }
                )
                for n in range(args.recordings)
            ]
            size = args.recording_mb * 1024 * 1024
            with factory() as session, session.begin():
                results = ingest(session, solution, person, NOW, keyring=KEYRING)
                for r in results:
                    key = new_blob_key(solution.id, r.id, "audio/wav")
                    store.put(key, b"RIFF" + os.urandom(size - 4), "audio/wav")
                    interaction = session.get(Interaction, r.id)
                    assert interaction is not None
                    attach_recording(session, interaction, key, "audio/wav", size, NOW)
            criteria = Criteria("+4791234567", None)
            with factory() as session, session.begin():
                export = create_export(
                    session, solution, criteria, created_by="officer", now=NOW, keyring=KEYRING, box=CriteriaBox("b")
                )
                session.expunge(export)
            tracemalloc.start()
            started = time.perf_counter()
            streamed = sum(
                len(chunk) for chunk in stream_export(factory, store, solution, export, criteria, keyring=KEYRING)
            )
            exported = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()

    print(f"{backend}: validated {validated:.2f} s, previewed {previewed:.2f} s, added {added:.2f} s", flush=True)
    return [
        backend,
        f"{len(rows):,} people",
        f"{validated:.2f} s",
        f"{statuses:.2f} s",
        f"{previewed:.2f} s ({preview.previewed} counted, {per_row * 1000:.1f} ms a row)",
        f"{added:.2f} s",
        f"{streamed / 1e6:,.0f} MB in {exported:.1f} s, peak {peak / 1e6:.1f} MB",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--archive", type=int, default=20_000)
    parser.add_argument("--recordings", type=int, default=40)
    parser.add_argument("--recording-mb", type=int, default=5)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    rows = [run_backend(backend, args) for backend in args.backends.split(",")]
    headers = [
        "backend",
        f"file ({args.lines:,} lines)",
        "validate",
        "status of every row",
        "preview",
        "add all + audit",
        f"export ({args.recordings} × {args.recording_mb} MB)",
    ]
    path = write_result("bulk", table(headers, rows))
    print(path.read_text())


if __name__ == "__main__":
    main()
