"""Benchmark: email as it arrives (CONTRACT §15) — import throughput, memory, erasure with attachments.

    python -m bench.email [--n 2000] [--backends sqlite,postgresql] [--big-mib 25]

1. Import throughput of typical ~20 KB messages (text + HTML alternative, a signature, one in
   five with a small PDF attachment) from an mbox through ``archivist.importers.run_import``, as
   ``archivist import --format mbox`` runs it, into a fresh database: messages per second of CPU
   time of this process (the goal is 500 per core), and of wall time; parsing alone is reported
   beside it.
2. Peak memory (``tracemalloc``) of parsing a message of ``--big-mib`` MiB with two large
   attachments and writing them to a blob store.
3. Erasure of a person whose number is written in PDF attachments of 100 emails among the
   imported ones: the nightly run's time (the goal is under a second).

Blobs go to an in-memory store, so the numbers are the archive's own cost, not a disk's.
"""

from __future__ import annotations

import argparse
import mailbox
import os
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from archivist.accounts import services as accounts
from archivist.anonymize.requests import create_request
from archivist.archive.mentions import MentionKeyring
from archivist.archive.mime import parse_message, read_message
from archivist.blobs.memory import MemoryBlobStore
from archivist.db import make_session_factory
from archivist.demo.mail import pdf_with_text
from archivist.importers import ImportFormat, ImportJob, run_import
from archivist.nightly.run import run_nightly
from archivist.nightly.summary import RunTrigger
from bench.common import disposing, engine_for, fresh_database, table, write_result

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
KEYRING = MentionKeyring("bench-secret")
PERSON = "91234567"
_PARAGRAPH = (
    "Takk for henvendelsen. Vi har sett på saken din og kommer tilbake så snart vi kan. "
    "Ordrenummer 2026-{n:05d} er registrert, og beløpet blir kreditert innen fem virkedager. "
)


def typical_message(n: int, *, person: bool = False) -> bytes:
    """About 20 KB: a text part and its HTML, quoted history, a signature; some with a PDF."""
    message = EmailMessage()
    message["From"] = f"Kunde {n} <kunde{n}@example.no>"
    message["To"] = "Kundeservice <post@centre.example>"
    message["Subject"] = f"Sv: Sak {n} – spørsmål om faktura"
    message["Date"] = "Mon, 02 Mar 2026 13:00:00 +0100"
    message["Message-ID"] = f"<bench-{n}@example.no>"
    text = "".join(_PARAGRAPH.format(n=n + i) for i in range(40))
    signature = f"\n\nMed vennlig hilsen\nKunde {n}\nTlf {40000000 + n}\n"
    message.set_content(text + signature)
    message.add_alternative(f"<html><body><p>{text}</p><p>{signature}</p></body></html>", subtype="html")
    if person or n % 5 == 0:
        number = PERSON if person else str(40000000 + n)
        message.add_attachment(
            pdf_with_text("Faktura", f"Kunde tlf {number}"),
            maintype="application",
            subtype="pdf",
            filename="faktura.pdf",
        )
    return message.as_bytes(policy=SMTP)


def write_mbox(path: Path, n: int, with_person: int) -> int:
    box = mailbox.mbox(str(path), create=True)
    size = 0
    for i in range(n):
        data = typical_message(i, person=i < with_person)
        size += len(data)
        box.add(data)
    box.flush()
    box.close()
    return size


def parse_only(path: Path) -> float:
    box = mailbox.mbox(str(path), create=False)
    started = time.process_time()
    for key in box.iterkeys():
        parsed = parse_message(box.get_bytes(key), received_at=NOW)
        for attachment in parsed.attachments:
            attachment.payload()
    return time.process_time() - started


def import_and_erase(backend: str, path: Path, n: int) -> list[str]:
    with fresh_database(backend) as url, disposing(engine_for(url)) as engine:
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            solution = accounts.create_solution(session, name="Bench", country="NO", timezone="Europe/Oslo")
        blobs = MemoryBlobStore()
        job = ImportJob(str(path), solution.id, factory, blobs, KEYRING, NOW)
        cpu, wall = time.process_time(), time.perf_counter()
        summary = run_import(ImportFormat.MBOX, job)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert summary.created == n, summary.as_json()
        with factory() as session, session.begin():
            create_request(
                session,
                solution,
                phone=PERSON,
                email=None,
                raw_data=False,
                delete_content=False,
                created_by="bench",
                now=NOW,
            )
        stored = len(blobs.list_keys())
        erase = time.perf_counter()
        run_nightly(factory, blobs, datetime(2026, 3, 11, 1, 0, tzinfo=UTC), keyring=KEYRING, trigger=RunTrigger.CLI)
        erase = time.perf_counter() - erase
        return [backend, f"{n / cpu:,.0f}", f"{n / wall:,.0f}", f"{erase:.2f} s", str(stored - len(blobs.list_keys()))]


def big_message_peak(mib: int) -> tuple[int, int]:
    message = EmailMessage()
    message["From"] = "kunde@example.no"
    message["Subject"] = "Stor"
    message["Message-ID"] = "<big@example.no>"
    message.set_content("Se vedlegg.\n")
    half = mib * 1024 * 1024 * 3 // 8  # base64 makes 4 of 3: two halves fill the message
    for name in ("a.bin", "b.bin"):
        message.add_attachment(os.urandom(half), maintype="application", subtype="octet-stream", filename=name)
    data = message.as_bytes(policy=SMTP)
    size = len(data)
    with tempfile.TemporaryFile() as spool:
        spool.write(data)
        del data, message
        spool.seek(0)
        tracemalloc.start()
        parsed = read_message(iter(lambda: spool.read(64 * 1024), b""), received_at=NOW)
        blobs = MemoryBlobStore()
        for attachment in parsed.attachments:
            blobs.put(f"a/{attachment.index}", attachment.payload(), attachment.content_type)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return size, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--big-mib", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archivist-bench-mail-") as tmp:
        path = Path(tmp) / "bench.mbox"
        size = write_mbox(path, args.n, with_person=min(100, args.n))
        parse_cpu = parse_only(path)
        rows = [import_and_erase(backend, path, args.n) for backend in args.backends.split(",")]
    size_big, peak = big_message_peak(args.big_mib)
    text = "\n\n".join(
        [
            f"# Email import (bench.email, n={args.n}, {size / args.n / 1024:.1f} KB a message on average)",
            f"Parsing alone: {args.n / parse_cpu:,.0f} messages per CPU second.",
            table(
                ["backend", "import msg/s (CPU)", "import msg/s (wall)", "nightly erasure", "attachments deleted"], rows
            ),
            f"A {size_big / 2**20:.1f} MiB message with two large attachments: peak "
            f"{peak / 2**20:.1f} MiB traced while parsing and storing ({peak / size_big:.1f}× its size).",
        ]
    )
    print(text)
    print(f"written to {write_result('email', text)}")


if __name__ == "__main__":
    main()
