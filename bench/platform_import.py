"""Benchmark: importing an Amazon Connect export from a local folder (CONTRACT §16, issue 28).

    python -m bench.platform_import [--n 20000] [--recordings 500] [--erasures 10000] [--repeat 3]
                                    [--backends sqlite,postgresql]

Writes an export of N contact records (a third of them chats with a transcript file, some calls
with a small WAV recording) once, then imports it in this process into a fresh database with a
local blob store, `repeat` times per backend, and reports the median wall time, the CPU time of
this process and records per CPU second (the goal: at least 5,000 a core). The same import runs
with `--erasures` erasures in the ledger (their keys in `ledger_keys`, none of them matching) and
with none, in turn, each with empty per-process caches: the check must add less than 10 %.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from archivist import identifiers_text
from archivist.accounts import services as accounts
from archivist.anonymize.models import LedgerKey
from archivist.archive import ingest
from archivist.archive.mentions import MentionKeyring
from archivist.blobs import make_blob_store
from archivist.db import make_session_factory
from archivist.importers import ImportFormat, ImportJob, run_import
from bench.common import disposing, engine_for, fresh_database, median, table, write_result

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
KEYRING = MentionKeyring("bench-secret")
PER_FILE = 5_000


def make_export(root: Path, n: int, recordings: int) -> None:
    """Contact records shaped as https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html."""
    (root / "ChatTranscripts").mkdir(parents=True)
    (root / "CallRecordings").mkdir()
    recorded = 0
    out = None
    for i in range(n):
        if i % PER_FILE == 0:
            if out is not None:
                out.close()
            out = (root / f"records-{i // PER_FILE:04d}").open("w")
        at = START + timedelta(seconds=37 * i)
        chat = i % 3 == 0
        cid = f"{i:08d}-0000-4000-8000-000000000000"
        record = {
            "ContactId": cid,
            "Channel": "CHAT" if chat else "VOICE",
            "InitiationMethod": "INBOUND",
            "InitiationTimestamp": at.isoformat(),
            "DisconnectTimestamp": (at + timedelta(seconds=200)).isoformat(),
            "LastUpdateTimestamp": (at + timedelta(seconds=230)).isoformat(),
            "CustomerEndpoint": None if chat else {"Address": f"+479{i % 10_000_000:07d}", "Type": "TELEPHONE_NUMBER"},
            "SystemEndpoint": {"Address": "+4721000000", "Type": "TELEPHONE_NUMBER"},
            "Queue": {
                "Name": "Support",
                "EnqueueTimestamp": at.isoformat(),
                "DequeueTimestamp": (at + timedelta(seconds=20)).isoformat(),
                "Duration": 20,
            },
            "Agent": {
                "Username": f"agent{i % 40}",
                "ConnectedToAgentTimestamp": (at + timedelta(seconds=20)).isoformat(),
            },
            "Attributes": {"ivr_choice": str(i % 5), "customer_number": f"K-{i:06d}"},
        }
        assert out is not None
        out.write(json.dumps(record))
        if chat:
            transcript = {
                "ContactId": cid,
                "Transcript": [
                    {
                        "Type": "MESSAGE",
                        "ParticipantRole": "CUSTOMER",
                        "AbsoluteTime": at.isoformat(),
                        "Content": "Hei, fakturaen min?",
                    },
                    {
                        "Type": "MESSAGE",
                        "ParticipantRole": "AGENT",
                        "AbsoluteTime": (at + timedelta(seconds=30)).isoformat(),
                        "Content": "Hei! Jeg ser på den.",
                    },
                ],
            }
            (root / "ChatTranscripts" / f"{cid}_20260101T0000_UTC.json").write_text(json.dumps(transcript))
        elif recorded < recordings:
            recorded += 1
            with wave.open(str(root / "CallRecordings" / f"{cid}_20260101T0000_UTC.wav"), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(bytes(16_000))
    if out is not None:
        out.close()


def cold_caches() -> None:
    """Empty the per-process caches an import fills (callers and addresses read once a process),
    so that no import measures the one before it."""
    for cached in (ingest._caller, ingest._email, identifiers_text._normalize_email):
        cached.cache_clear()


def one_import(backend: str, export: Path, erasures: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, records read) of one import into a fresh database."""
    with fresh_database(backend) as url, disposing(engine_for(url)) as engine, tempfile.TemporaryDirectory() as blobs:
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            solution = accounts.create_solution(
                session, name="Bench", country="NO", timezone="Europe/Oslo", is_default=True
            )
            session.flush()
            if erasures:
                session.execute(
                    insert(LedgerKey),
                    [
                        {
                            "solution_id": solution.id,
                            "request_id": f"r{n:031d}",
                            "key": hashlib.sha256(f"erased-{n}".encode()).hexdigest(),
                            "cutoff": NOW,
                            "raw_data": False,
                            "delete_content": n % 2 == 0,
                        }
                        for n in range(erasures)
                    ],
                )
            solution_id = solution.id
        job = ImportJob(
            source=str(export),
            solution_id=solution_id,
            factory=factory,
            blobs=make_blob_store(Path(blobs).as_uri()),
            keyring=KEYRING,
            now=NOW,
        )
        wall, cpu = time.perf_counter(), time.process_time()
        summary = run_import(ImportFormat.AMAZON_CONNECT, job)
        return time.perf_counter() - wall, time.process_time() - cpu, summary.read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--recordings", type=int, default=500)
    parser.add_argument("--erasures", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="archivist-bench-export-") as tmp:
        export = Path(tmp) / "export"
        make_export(export, args.n, args.recordings)
        for backend in args.backends.split(","):
            one_import(backend, export, 0)  # warm-up: modules, metadata, the database server's cache
            runs: dict[int, list[tuple[float, float, int]]] = {0: [], args.erasures: []}
            for repeat in range(args.repeat):
                # Side by side, in turn: neither setting always runs first (a warmer machine),
                # and every import starts with the per-process caches of callers and addresses empty.
                for erasures in (0, args.erasures) if repeat % 2 == 0 else (args.erasures, 0):
                    cold_caches()
                    runs[erasures].append(one_import(backend, export, erasures))
            base_cpu = median([r[1] for r in runs[0]])
            for erasures, measured in runs.items():
                wall = median([r[0] for r in measured])
                cpu = median([r[1] for r in measured])
                read = measured[0][2]
                rows.append(
                    [
                        backend,
                        f"{erasures:,}",
                        f"{read:,}",
                        f"{wall:.2f}",
                        f"{cpu:.2f}",
                        f"{read / cpu:,.0f}",
                        f"{cpu / base_cpu:.2f}",
                    ]
                )
    text = table(
        ["backend", "erasures in ledger", "records", "wall s", "CPU s", "records / CPU s", "CPU vs none"], rows
    )
    print(text)
    print(f"written to {write_result('platform_import', text)}")


if __name__ == "__main__":
    main()
