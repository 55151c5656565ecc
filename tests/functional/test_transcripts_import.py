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
        recording = session.get_one(Recording, voice.id)
        silenced_key = recording.blob_key
    assert silenced_key != original_key
    assert not blobs.exists(original_key)
    result = b"".join(blobs.open_range(silenced_key))
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
