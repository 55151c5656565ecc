"""An import streams its export (CONTRACT §16): memory does not grow with the export.

What an import holds at once is one transaction's chunk of records (``CHUNK_RECORDS``), the
reader's look-ahead and a recording's copy buffer, never a file. Two exports are imported in
turn, with chunks of 200 records: a small one (500 records), then one whose records file (written back to
back, as Kinesis Data Firehose delivers contact records) is 10 MB larger and whose recording,
copied into a local blob store, is 23 MiB larger. The second import's peak of traced memory is
within a few MiB of the first's; holding either file whole would add ten times that. (The
difference, not the peak itself, is compared: what a process has run before adds to both.)
"""

from __future__ import annotations

import json
import tracemalloc
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Interaction
from archivist.blobs import BlobStore, make_blob_store
from archivist.importers import ImportFormat, ImportSummary, pipeline
from tests.functional.import_support import recording_key, run

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
MIB = 1024 * 1024
# Free text without a digit, so that the scanner has words to read but nothing to index.
NOTE = "Kunden ringte om fakturaen og ba om at vi ringer tilbake i morgen formiddag. " * 50


def _export(root: Path, first: int, records: int, recording_mib: int) -> tuple[str, int]:
    """``records`` contact records shaped as https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html
    (ContactIds from ``first``), the second of them a call with a recording in CallRecordings/;
    returns that call's ContactId and its recording's size."""
    (root / "CallRecordings").mkdir(parents=True)
    recorded = f"{first + 1:08d}-0000-4000-8000-000000000000"
    with (root / "contact-records-1").open("w") as out:
        for i in range(first, first + records):
            at = START + timedelta(seconds=37 * i)
            record = {
                "ContactId": f"{i:08d}-0000-4000-8000-000000000000",
                "Channel": "VOICE",
                "InitiationMethod": "INBOUND",
                "InitiationTimestamp": at.isoformat(),
                "DisconnectTimestamp": (at + timedelta(seconds=200)).isoformat(),
                "CustomerEndpoint": {"Address": f"+479{i:07d}", "Type": "TELEPHONE_NUMBER"},
                "SystemEndpoint": {"Address": "+4721000000", "Type": "TELEPHONE_NUMBER"},
                "Attributes": {"note": NOTE},
            }
            out.write(json.dumps(record))  # back to back, as Firehose delivers them
    path = root / "CallRecordings" / f"{recorded}_20260301T0800_UTC.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        for _ in range(recording_mib):
            w.writeframes(bytes(MIB))
    return recorded, path.stat().st_size


def _peak_of_import(
    root: Path, factory: sessionmaker[Session], solution: Solution, blobs: BlobStore, keyring: MentionKeyring
) -> tuple[int, ImportSummary]:
    tracemalloc.start()
    try:
        summary = run(ImportFormat.AMAZON_CONNECT, root, factory, solution, blobs, keyring)
        return tracemalloc.get_traced_memory()[1], summary
    finally:
        tracemalloc.stop()


def test_an_export_ten_times_larger_is_imported_in_the_same_memory(
    session_factory: sessionmaker[Session],
    solution: Solution,
    keyring: MentionKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_RECORDS", 200)
    _export(tmp_path / "small", 0, 500, 1)
    recorded, size = _export(tmp_path / "large", 1_000, 3_000, 24)
    grown = (tmp_path / "large" / "contact-records-1").stat().st_size
    grown -= (tmp_path / "small" / "contact-records-1").stat().st_size
    assert grown > 10 * MIB
    blobs = make_blob_store((tmp_path / "blobs").as_uri())

    small, _ = _peak_of_import(tmp_path / "small", session_factory, solution, blobs, keyring)
    large, summary = _peak_of_import(tmp_path / "large", session_factory, solution, blobs, keyring)

    assert (summary.created, summary.recordings, summary.bad) == (3_000, 1, [])
    assert large - small < 4 * MIB, (small / MIB, large / MIB)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 3_500
        interaction_id = session.scalar(select(Interaction.id).where(Interaction.external_id == recorded))
    assert interaction_id is not None
    key = recording_key(session_factory, interaction_id)
    assert key is not None
    assert blobs.size(key) == size
