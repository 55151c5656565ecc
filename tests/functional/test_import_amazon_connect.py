"""`archivist import --format amazon-connect` (CONTRACT §16) on exports built from the documentation.

The sample export in docs/examples/amazon-connect follows, field by field:
- contact records: https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html
  (written back to back as Kinesis Data Firehose delivers them:
  https://docs.aws.amazon.com/connect/latest/adminguide/data-streaming.html)
- chat transcripts: https://docs.aws.amazon.com/connect-participant/latest/APIReference/API_Item.html
- recordings in CallRecordings/: https://docs.aws.amazon.com/connect/latest/adminguide/set-up-recordings.html
- Contact Lens output: https://docs.aws.amazon.com/connect/latest/adminguide/contact-lens-example-output-files.html
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.audio import probe
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Direction, Recording
from archivist.blobs.memory import MemoryBlobStore
from archivist.importers import ImportFormat, SourceUnreadable
from tests.functional.import_support import EXAMPLES, by_external_id, events, messages, recording_key, run

SOURCE = EXAMPLES / "amazon-connect"
VOICE = "6c3a1c4e-1d2b-4c5d-9e8f-0a1b2c3d4e5f"
CHAT = "9b8a7f6e-5d4c-4b3a-8291-0f1e2d3c4b5a"
EMAIL = "3e2d1c0b-a9f8-4e7d-86c5-b4a392817f60"
OUTBOUND = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
RECORDS = SOURCE / "ctr" / "2026" / "03" / "01" / "contact-records-1-2026-03-01-08-00-00-example"
WAV = next((SOURCE / "CallRecordings").rglob("*.wav"))


def _records() -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    text, pos, found = RECORDS.read_text(), 0, []
    while pos < len(text):
        value, pos = decoder.raw_decode(text, pos)
        found.append(value)
    return found


def test_the_documented_export_is_archived_field_by_field(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, keyring: MentionKeyring
) -> None:
    summary = run(ImportFormat.AMAZON_CONNECT, SOURCE, session_factory, solution, blobs, keyring)
    assert summary.as_json() == {
        "read": 5,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "skipped": {"task": 1},
        "erased_on_import": 0,
        "recordings": 1,
        # The chat's transcript and the call's Contact Lens analysis (CONTRACT §17).
        "transcripts": 2,
    }
    assert summary.bad == []
    voice = by_external_id(session_factory, VOICE)
    assert (voice.channel.value, voice.direction) == ("call", Direction.INBOUND)
    assert (voice.queue, voice.agent) == ("Support", "ola.agent")
    assert (voice.customer_phone, voice.customer_phone_e164, voice.service_number) == (
        "+4791234567",
        "+4791234567",
        "+4721000000",
    )
    assert voice.variables == {"customer_number": "K-10442", "ivr_choice": "2"}
    assert voice.started_at.isoformat() == "2026-03-01T08:00:00+00:00"
    assert voice.ended_at is not None
    assert voice.ended_at.isoformat() == "2026-03-01T08:05:50+00:00"
    assert voice.source_updated_at is not None
    assert voice.source_updated_at.isoformat() == "2026-03-01T08:07:03+00:00"
    # Queue and agent timestamps: one raw data row each.
    assert events(session_factory, voice.id) == [
        ("queued", "Support", None),
        ("dequeued", "Support", None),
        ("connected_to_agent", "Support", "ola.agent"),
        ("after_contact_work_started", "Support", "ola.agent"),
        ("after_contact_work_ended", "Support", "ola.agent"),
    ]
    # The recording, byte for byte, in the blob store.
    key = recording_key(session_factory, voice.id)
    assert key is not None
    assert voice.has_recording
    assert b"".join(blobs.open_range(key)) == WAV.read_bytes()
    # Its header read on the way in: silencing it later needs no read of the blob.
    with session_factory() as session:
        stored = session.get_one(Recording, voice.id).wav_layout
    layout = probe(blobs, key)
    assert layout is not None
    assert stored == dataclasses.asdict(layout)

    chat = by_external_id(session_factory, CHAT)
    # InitiationMethod API on a chat is a customer's chat widget: inbound.
    assert (chat.channel.value, chat.direction) == ("chat", Direction.INBOUND)
    assert messages(session_factory, chat.id) == [
        ("customer", "Hei, jeg har et spørsmål om fakturaen min."),
        ("agent", "Hei Kari! Hva er kundenummeret ditt?"),
        ("customer", "K-10442, og du kan ringe meg på 912 34 567."),
        ("system", "The chat has ended."),
    ]
    email = by_external_id(session_factory, EMAIL)
    # "Name <addr>" read at the edge: the address stored plain, the name fills customer.name.
    assert (email.customer_email, email.customer_email_norm, email.customer_name) == (
        "kari.nordmann@example.com",
        "kari.nordmann@example.com",
        "Kari Nordmann",
    )
    assert by_external_id(session_factory, OUTBOUND).direction is Direction.OUTBOUND


@pytest.mark.parametrize("shape", ["lines", "array", "back_to_back"])
def test_every_file_shape_reads_and_a_bad_record_is_reported_by_position(
    shape: str,
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    keyring: MentionKeyring,
) -> None:
    records = _records()[:2]
    broken = copy.deepcopy(records[0])
    broken["ContactId"] = "no-start"
    del broken["InitiationTimestamp"]
    items = [records[0], broken, records[1]]
    if shape == "lines":
        text = "".join(json.dumps(r) + "\n" for r in items)
    elif shape == "array":
        text = json.dumps(items, indent=2)
    else:
        text = "".join(json.dumps(r) for r in items)
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "records.json").write_text(text)
    summary = run(ImportFormat.AMAZON_CONNECT, tmp_path / "export", session_factory, solution, blobs, keyring)
    assert summary.bad == [("records.json:2", "InitiationTimestamp: missing or not an ISO 8601 time with an offset")]
    assert (summary.read, summary.created, summary.skipped["bad_record"]) == (3, 2, 1)


def test_a_second_run_changes_nothing_and_a_newer_delivery_replaces_the_fields(
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    keyring: MentionKeyring,
) -> None:
    shutil.copytree(SOURCE, tmp_path / "export")
    run(ImportFormat.AMAZON_CONNECT, tmp_path / "export", session_factory, solution, blobs, keyring)
    again = run(ImportFormat.AMAZON_CONNECT, tmp_path / "export", session_factory, solution, blobs, keyring)
    assert (again.created, again.updated, again.unchanged, again.recordings) == (0, 0, 4, 0)
    first = by_external_id(session_factory, VOICE)

    voice = _records()[0]
    older = {**voice, "Queue": {**voice["Queue"], "Name": "Old queue"}, "LastUpdateTimestamp": "2026-03-01T08:06:00Z"}
    newer = {
        **voice,
        "Queue": {**voice["Queue"], "Name": "Billing"},
        "Attributes": {"ivr_choice": "3"},
        "CustomerEndpoint": {"Address": "+4798765432", "Type": "TELEPHONE_NUMBER"},
        "LastUpdateTimestamp": "2026-03-02T08:00:00Z",
    }
    redelivery = tmp_path / "redelivery"
    redelivery.mkdir()
    (redelivery / "older.json").write_text(json.dumps(older))
    unchanged = run(ImportFormat.AMAZON_CONNECT, redelivery, session_factory, solution, blobs, keyring)
    assert (unchanged.updated, unchanged.unchanged) == (0, 1)
    assert by_external_id(session_factory, VOICE).queue == "Support"
    (redelivery / "older.json").unlink()
    (redelivery / "newer.json").write_text(json.dumps(newer))
    updated = run(ImportFormat.AMAZON_CONNECT, redelivery, session_factory, solution, blobs, keyring)
    assert (updated.created, updated.updated) == (0, 1)
    now = by_external_id(session_factory, VOICE)
    assert now.id == first.id  # the same interaction, its fields replaced
    assert (now.queue, now.customer_phone_e164, now.variables) == ("Billing", "+4798765432", {"ivr_choice": "3"})
    assert [e[1] for e in events(session_factory, now.id)] == ["Billing"] * 5  # raw rows as delivered, not twice
    assert now.has_recording  # its recording stays: the re-delivery brought none
    # The same newer record once more: equal, so unchanged.
    assert run(ImportFormat.AMAZON_CONNECT, redelivery, session_factory, solution, blobs, keyring).unchanged == 1


def test_dry_run_reads_and_counts_and_writes_nothing(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, keyring: MentionKeyring
) -> None:
    summary = run(ImportFormat.AMAZON_CONNECT, SOURCE, session_factory, solution, blobs, keyring, dry_run=True)
    assert (summary.read, summary.created, summary.recordings) == (5, 4, 1)
    assert blobs.list_keys() == []
    with pytest.raises(AssertionError):
        by_external_id(session_factory, VOICE)


def test_a_missing_source_cannot_be_read(
    tmp_path: Path, session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    with pytest.raises(SourceUnreadable):
        run(ImportFormat.AMAZON_CONNECT, tmp_path / "nothing", session_factory, solution, blobs, MentionKeyring("x"))
