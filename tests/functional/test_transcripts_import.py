"""Contact Lens analysis files become the call's transcript (CONTRACT §16, §17), then erasure silences them.

The analysis below follows AWS's documented example, field by field (its `ParticipantId`s are
"the customer's ID"/"the agent's ID", mapped to roles by `Participants`, and its redacted twin
under `Analysis/Voice/Redacted/` carries `[PII]`):
https://docs.aws.amazon.com/connect/latest/adminguide/contact-lens-example-output-files.html
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Recording, TranscriptSegment
from archivist.blobs.memory import MemoryBlobStore
from archivist.importers import ImportFormat
from tests.functional.anonymization_support import enter, night, oslo
from tests.functional.import_support import EXAMPLES, by_external_id, run
from tests.wav_samples import PCM, Layout, data_offset, silenced_frames

VOICE = "6c3a1c4e-1d2b-4c5d-9e8f-0a1b2c3d4e5f"
ANALYSIS = Path("Analysis/Voice/2026/03/01") / f"{VOICE}_analysis_2026-03-01T08:07:00Z.json"
REDACTED = Path("Analysis/Voice/Redacted/2026/03/01") / f"{VOICE}_analysis_redacted_2026-03-01T08:07:00Z.json"


def analysis(customer_says: str) -> dict[str, Any]:
    """The documented example's shape: Participants, then Transcript turns with offsets in ms."""
    return {
        "Version": "1.1.0",
        "AccountId": "123456789012",
        "Channel": "VOICE",
        "ContentMetadata": {"Output": "Raw"},
        "JobStatus": "COMPLETED",
        "LanguageCode": "nb-NO",
        "Participants": [
            {"ParticipantId": "the customer's ID", "ParticipantRole": "CUSTOMER"},
            {"ParticipantId": "the agent's ID", "ParticipantRole": "AGENT"},
        ],
        "Categories": {"MatchedCategories": [], "MatchedDetails": {}},
        "Transcript": [
            {
                "BeginOffsetMillis": 0,
                "Content": "Okay.",
                "EndOffsetMillis": 90,
                "Id": "t1",
                "ParticipantId": "the agent's ID",
                "Sentiment": "NEUTRAL",
                "LoudnessScore": [79.27],
            },
            {
                "BeginOffsetMillis": 160,
                "Content": customer_says,
                "EndOffsetMillis": 340,
                "Id": "t2",
                "ParticipantId": "the customer's ID",
                "Sentiment": "NEUTRAL",
                "LoudnessScore": [66.56, 40.06],
                "Redaction": {"RedactedTimestamps": [{"BeginOffsetMillis": 200, "EndOffsetMillis": 330}]},
            },
            {
                "BeginOffsetMillis": 340,
                "Content": "Takk, Kari.",
                "EndOffsetMillis": 500,
                "Id": "t3",
                "ParticipantId": "AGENT",
                "Sentiment": "NEUTRAL",
            },
            # Not a segment: no offsets (left out and counted, the rest kept).
            {"Content": "?", "Id": "t4", "ParticipantId": "AGENT"},
        ],
    }


def export(tmp_path: Path) -> Path:
    source = tmp_path / "export"
    shutil.copytree(EXAMPLES / "amazon-connect", source)
    (source / ANALYSIS).write_text(json.dumps(analysis("Nummeret mitt er 912 34 567.")))
    (source / REDACTED).parent.mkdir(parents=True)
    (source / REDACTED).write_text(json.dumps(analysis("Nummeret mitt er [PII].")))
    return source


def segments(factory: sessionmaker[Session], interaction_id: str) -> list[tuple[int, int, str, str]]:
    with factory() as session:
        return [
            (s.begin_ms, s.end_ms, s.speaker.value, s.text)
            for s in session.scalars(
                select(TranscriptSegment)
                .where(TranscriptSegment.interaction_id == interaction_id)
                .order_by(TranscriptSegment.seq)
            )
        ]


def test_a_contact_lens_analysis_becomes_the_calls_transcript_and_erasure_silences_the_spoken_number(
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    keyring: MentionKeyring,
) -> None:
    summary = run(ImportFormat.AMAZON_CONNECT, export(tmp_path), session_factory, solution, blobs, keyring)

    # One chat transcript and one Contact Lens transcript; the item without offsets left out.
    assert (summary.transcripts, summary.skipped["transcript_segment_unreadable"]) == (2, 1)
    assert "contact_lens_transcript" not in summary.skipped
    assert summary.bad == []
    voice = by_external_id(session_factory, VOICE)
    assert voice.has_content
    # The original analysis, not its redacted twin; speakers by the Participants' roles.
    assert segments(session_factory, voice.id) == [
        (0, 90, "agent", "Okay."),
        (160, 340, "customer", "Nummeret mitt er 912 34 567."),
        (340, 500, "agent", "Takk, Kari."),
    ]
    with session_factory() as session:
        recording = session.get_one(Recording, voice.id)
        original_key = recording.blob_key
    original = b"".join(blobs.open_range(original_key))

    enter(session_factory, solution, oslo(2026, 3, 10, 12), phone="91234567")
    night(session_factory, blobs, oslo(2026, 3, 11, 2))

    assert segments(session_factory, voice.id)[1] == (160, 340, "customer", "Nummeret mitt er Anonymized.")
    with session_factory() as session:
        # Silenced where it is: the same blob, overwritten over the segment, nothing else stored.
        assert session.get_one(Recording, voice.id).blob_key == original_key
    result = b"".join(blobs.open_range(original_key))
    # The documented example's recording: 16-bit mono PCM at 8 kHz.
    layout = Layout(PCM, 16, channels=1, rate=8000)
    start = data_offset(original)
    frames = (len(original) - start) // 2
    inside = set(silenced_frames(8000, frames, 160, 340))
    assert len(result) == len(original)
    assert result[:start] == original[:start]
    for i in range(frames):
        expected = layout.silence if i in inside else original[start + 2 * i : start + 2 * i + 2]
        assert result[start + 2 * i : start + 2 * i + 2] == expected, i


def test_an_ndjson_import_carries_transcripts_through_the_one_ingest_path_and_reports_a_bad_one(
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    keyring: MentionKeyring,
) -> None:
    good = {
        "channel": "call",
        "direction": "inbound",
        "started_at": "2026-03-01T09:00:00+01:00",
        "external_id": "nd-1",
        "customer": {"phone": "91234567"},
        "transcript": [{"begin_ms": 0, "end_ms": 900, "speaker": "customer", "text": "Hei"}],
    }
    bad = {
        **good,
        "external_id": "nd-2",
        "transcript": [{"begin_ms": "0", "end_ms": 9, "speaker": "agent", "text": ""}],
    }
    source = tmp_path / "calls.ndjson"
    source.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")

    summary = run(ImportFormat.NDJSON, source, session_factory, solution, blobs, keyring)

    assert summary.created == 1
    assert [position for position, _ in summary.bad] == [f"{source.name}:2"]
    assert segments(session_factory, by_external_id(session_factory, "nd-1").id) == [(0, 900, "customer", "Hei")]


def test_a_call_of_a_person_erased_before_arrives_with_its_spoken_number_silenced(
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    keyring: MentionKeyring,
) -> None:
    # Kari is erased before her call is imported (a restore, a late delivery): the import erases
    # her transcript and silences where she said her number, through the blob store it writes to.
    enter(session_factory, solution, oslo(2026, 3, 10, 12), phone="91234567")
    night(session_factory, blobs, oslo(2026, 3, 11, 2))

    summary = run(ImportFormat.AMAZON_CONNECT, export(tmp_path), session_factory, solution, blobs, keyring)

    assert summary.erased_on_import >= 1
    voice = by_external_id(session_factory, VOICE)
    assert segments(session_factory, voice.id)[1] == (160, 340, "customer", "Nummeret mitt er Anonymized.")
    with session_factory() as session:
        key = session.get_one(Recording, voice.id).blob_key
    stored = b"".join(blobs.open_range(key))
    start = data_offset(stored)
    assert set(stored[start + 2 * 1280 : start + 2 * 2720]) == {0}  # frames 160 ms .. 340 ms at 8 kHz
    original = (EXAMPLES / "amazon-connect" / "CallRecordings").rglob("*.wav")
    assert stored[: start + 2 * 1280] == next(original).read_bytes()[: start + 2 * 1280]
