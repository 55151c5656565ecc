"""`kill -9` during a platform import: every record written whole or not at all; a rerun completes it.

The export is contact records shaped as
https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html documents them, with
chat transcripts (https://docs.aws.amazon.com/connect-participant/latest/APIReference/API_Item.html)
and recordings in CallRecordings/.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.archive.models import ChatMessage, Interaction, RawEvent, Recording
from tests.functional.conftest import ARCHIVIST, Runner

# Starts processes (the CLI, servers, workers): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

TOTAL = 12_000
FILES = 6
RECORDED_BELOW = 80  # calls numbered below this have a recording
RECORDED = sum(1 for n in range(RECORDED_BELOW) if n % 3)  # every third contact is a chat


def _export(root: Path) -> None:
    start = datetime(2026, 2, 1, tzinfo=UTC)
    per_file = TOTAL // FILES
    (root / "ChatTranscripts").mkdir(parents=True)
    (root / "CallRecordings").mkdir()
    for f in range(FILES):
        with (root / f"records-{f}.json").open("w") as out:
            for i in range(per_file):
                n = f * per_file + i
                at = start + timedelta(minutes=n)
                chat = n % 3 == 0
                contact_id = f"contact-{n:06d}"
                out.write(
                    json.dumps(
                        {
                            "ContactId": contact_id,
                            "Channel": "CHAT" if chat else "VOICE",
                            "InitiationMethod": "INBOUND",
                            "InitiationTimestamp": at.isoformat(),
                            "DisconnectTimestamp": (at + timedelta(seconds=90)).isoformat(),
                            "LastUpdateTimestamp": (at + timedelta(seconds=95)).isoformat(),
                            "CustomerEndpoint": None
                            if chat
                            else {"Address": f"+47{90000000 + n}", "Type": "TELEPHONE_NUMBER"},
                            "Queue": {
                                "Name": "Support",
                                "EnqueueTimestamp": at.isoformat(),
                                "DequeueTimestamp": (at + timedelta(seconds=5)).isoformat(),
                            },
                            "Agent": {
                                "Username": "ola",
                                "ConnectedToAgentTimestamp": (at + timedelta(seconds=5)).isoformat(),
                            },
                            "Attributes": {"n": str(n)},
                        }
                    )
                )
                if chat:
                    transcript = {
                        "ContactId": contact_id,
                        "Transcript": [
                            {
                                "Type": "MESSAGE",
                                "ParticipantRole": "CUSTOMER",
                                "AbsoluteTime": at.isoformat(),
                                "Content": f"hei {n}",
                            },
                            {
                                "Type": "MESSAGE",
                                "ParticipantRole": "AGENT",
                                "AbsoluteTime": (at + timedelta(seconds=9)).isoformat(),
                                "Content": "hei",
                            },
                        ],
                    }
                    (root / "ChatTranscripts" / f"{contact_id}_20260201T0000_UTC.json").write_text(
                        json.dumps(transcript)
                    )
                elif n < RECORDED_BELOW:
                    with wave.open(str(root / "CallRecordings" / f"{contact_id}_20260201T0000_UTC.wav"), "wb") as w:
                        w.setnchannels(1)
                        w.setsampwidth(2)
                        w.setframerate(8000)
                        w.writeframes(bytes(16000))


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Interaction)) or 0


def _every_record_whole(factory: sessionmaker[Session], blobs: Path) -> None:
    with factory() as session:
        events = dict(
            session.execute(select(RawEvent.interaction_id, func.count()).group_by(RawEvent.interaction_id)).all()
        )
        messages = dict(
            session.execute(select(ChatMessage.interaction_id, func.count()).group_by(ChatMessage.interaction_id)).all()
        )
        recordings = {r.interaction_id: r.blob_key for r in session.scalars(select(Recording))}
        for interaction in session.scalars(select(Interaction)):
            assert events.get(interaction.id) == 3, interaction.external_id  # enqueue, dequeue, connected
            if interaction.channel.value == "chat":
                assert messages.get(interaction.id) == 2, interaction.external_id
            assert interaction.has_recording == (interaction.id in recordings)
        for key in recordings.values():
            assert (blobs / key).stat().st_size > 16000


def test_kill_9_leaves_every_record_whole_or_absent_and_a_rerun_completes(
    run: Runner,
    tmp_path: Path,
    database_url: str,
    session_factory: sessionmaker[Session],
) -> None:
    run("init")
    source = tmp_path / "export"
    _export(source)
    env = {
        **os.environ,
        "ARCHIVIST_DATABASE_URL": database_url,
        "ARCHIVIST_DATA_DIR": str(tmp_path / "var"),
        "ARCHIVIST_BLOB_URL": f"file://{tmp_path / 'blobs'}",
    }
    process = subprocess.Popen(
        [ARCHIVIST, "import", "--format", "amazon-connect", str(source)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _count(session_factory) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    kept = _count(session_factory)
    assert 0 < kept < TOTAL, "the kill came before the first commit or after the last: make the export larger"
    _every_record_whole(session_factory, tmp_path / "blobs")

    again = run("import", "--format", "amazon-connect", str(source))
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout.splitlines()[-1])
    assert (summary["created"], summary["unchanged"]) == (TOTAL - kept, kept)
    assert _count(session_factory) == TOTAL
    _every_record_whole(session_factory, tmp_path / "blobs")
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Recording)) == RECORDED
