"""An import streams its export (CONTRACT §16): memory stays bounded however large the export is.

What an import holds at once is one transaction's chunk of records (``CHUNK_RECORDS``), the
reader's look-ahead and a recording's copy buffer, never a file. With chunks of 200 records, a
records file larger than the bound, written back to back as Kinesis Data Firehose delivers
contact records, and a recording larger than the bound, copied into a local blob store: the
import's peak of traced memory stays below what holding either whole would take.
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
from archivist.blobs import make_blob_store
from archivist.importers import ImportFormat, pipeline
from tests.functional.import_support import recording_key, run

RECORDS = 3_000
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
# The bound: less than either the records file (about 13 MB) or the recording (24 MB).
BOUND = 12 * 1024 * 1024
# Free text without a digit, so that the scanner has words to read but nothing to index.
NOTE = "Kunden ringte om fakturaen og ba om at vi ringer tilbake i morgen formiddag. " * 50


def _export(root: Path) -> tuple[str, int]:
    """Contact records shaped as https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html,
    one call with a recording in CallRecordings/; returns the recorded call's ContactId and file size."""
    (root / "CallRecordings").mkdir(parents=True)
    recorded = "00000001-0000-4000-8000-00000000f00d"
    with (root / "contact-records-1").open("w") as out:
        for i in range(RECORDS):
            at = START + timedelta(seconds=37 * i)
            record = {
                "ContactId": recorded if i == 1 else f"{i:08d}-0000-4000-8000-000000000000",
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
        for _ in range(24):
            w.writeframes(bytes(1024 * 1024))
    return recorded, path.stat().st_size


def test_an_export_larger_than_memory_allows_is_imported_in_bounded_memory(
    session_factory: sessionmaker[Session],
    solution: Solution,
    keyring: MentionKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_RECORDS", 200)
    recorded, size = _export(tmp_path / "export")
    assert (tmp_path / "export" / "contact-records-1").stat().st_size > BOUND
    assert size > BOUND
    blobs = make_blob_store((tmp_path / "blobs").as_uri())
    tracemalloc.start()
    try:
        summary = run(ImportFormat.AMAZON_CONNECT, tmp_path / "export", session_factory, solution, blobs, keyring)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (summary.created, summary.recordings, summary.bad) == (RECORDS, 1, [])
    assert peak < BOUND
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == RECORDS
        interaction_id = session.scalar(select(Interaction.id).where(Interaction.external_id == recorded))
    assert interaction_id is not None
    key = recording_key(session_factory, interaction_id)
    assert key is not None
    assert blobs.size(key) == size
