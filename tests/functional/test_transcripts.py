"""Transcripts of calls and spoken identifiers (CONTRACT §17), on the real database and real WAV bytes.

A call's transcript goes in through the one ingest path, comes out as its content, is deleted
as content, exported with the person's data, and swept by erasure like chat text — and the
recording is silenced over every segment in which the erasure replaced the person's identifier.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize import processing
from archivist.anonymize.models import AnonymizationRequest
from archivist.anonymize.preview import preview_with_linked
from archivist.archive.audio import HEAD_BYTES, head_layout, probe
from archivist.archive.models import Interaction, Mention, PendingBlobFill, Recording, TranscriptSegment
from archivist.archive.recordings import attach_recording, drain_pending_blobs, new_blob_key
from archivist.blobs import BlobStore, make_blob_store
from archivist.blobs.interfaces import Fill
from archivist.blobs.memory import MemoryBlobStore
from archivist.retention.models import RetentionWhat
from archivist.retention.rules import DraftRule, add_rule
from tests.conftest import KEYRING, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, enter, night, oslo
from tests.functional.test_search_page_auth import csrf_from, login
from tests.wav_samples import MULAW, PCM, Layout, data_offset, make_wav, silenced_frames

ENTERED = oslo(2026, 3, 10, 12, 0)
NIGHT = oslo(2026, 3, 11, 2, 0)
KARI = "91234567"
OTHER = "98765432"


def segment(begin_ms: int, end_ms: int, speaker: str, text: str) -> dict[str, Any]:
    return {"begin_ms": begin_ms, "end_ms": end_ms, "speaker": speaker, "text": text}


def transcribed(phone: str, started: datetime, transcript: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {**call(phone, started, **extra), "transcript": transcript}


def give_recording(
    factory: sessionmaker[Session], blobs: BlobStore, iid: str, data: bytes, *, keep_layout: bool = False
) -> str:
    """Attach ``data`` as the call's recording: with its header's layout, as the API and imports
    store one (``keep_layout``), or without, as rows stored before layouts were kept."""
    with factory() as session, session.begin():
        interaction = session.get(Interaction, iid)
        assert interaction is not None
        key = new_blob_key(interaction.solution_id, iid, "audio/wav")
        blobs.put(key, data, "audio/wav")
        layout = head_layout(data[:HEAD_BYTES], len(data)) if keep_layout else None
        attach_recording(session, interaction, key, "audio/wav", len(data), ENTERED, wav_layout=layout)
    return key


def recording_key(factory: sessionmaker[Session], iid: str) -> str | None:
    with factory() as session:
        row = session.get(Recording, iid)
        return row.blob_key if row else None


def transcript_texts(factory: sessionmaker[Session], iid: str) -> list[str]:
    with factory() as session:
        return list(
            session.scalars(
                select(TranscriptSegment.text)
                .where(TranscriptSegment.interaction_id == iid)
                .order_by(TranscriptSegment.seq)
            )
        )


# --- the API --------------------------------------------------------------------------------------


@pytest.fixture
def ingest_token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.INGEST, solution)


@pytest.fixture
def reader(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.PRIVACY_OFFICER, solution))


TRANSCRIPT = [
    segment(0, 1500, "agent", "Welcome, how can I help?"),
    segment(1500, 4200, "customer", f"My number is {KARI}"),
    segment(4200, 4200, "system", "hold"),
]


def test_a_call_with_a_transcript_is_archived_and_read_back_as_its_content(
    client: TestClient, ingest_token: str, reader: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/interactions", json=transcribed(KARI, ENTERED, TRANSCRIPT), headers=auth(ingest_token)
    )
    assert created.status_code == 201, created.text
    assert created.json()["has_content"] is True
    content = client.get(f"/api/v1/interactions/{created.json()['id']}/content", headers=reader)
    assert content.status_code == 200
    assert content.json() == {"transcript": TRANSCRIPT}

    batch = client.post(
        "/api/v1/interactions/batch",
        json=[transcribed(OTHER, ENTERED, TRANSCRIPT[:1]), call(OTHER, ENTERED)],
        headers=auth(ingest_token),
    )
    assert batch.status_code == 200, batch.text
    first, plain = batch.json()["ids"]
    assert client.get(f"/api/v1/interactions/{first}/content", headers=reader).json() == {"transcript": TRANSCRIPT[:1]}
    # A call without one has no content.
    assert client.get(f"/api/v1/interactions/{plain}/content", headers=reader).status_code == 404

    assert client.delete(f"/api/v1/interactions/{created.json()['id']}/content", headers=reader).status_code == 204
    assert client.get(f"/api/v1/interactions/{created.json()['id']}/content", headers=reader).status_code == 404


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"transcript": [segment(10, 5, "agent", "x")]}, "end before begin"),
        ({"transcript": [{**segment(0, 5, "agent", "x"), "begin_ms": "0"}]}, "a string is not an integer"),
        ({"transcript": [{**segment(0, 5, "agent", "x"), "end_ms": 5.0}]}, "a float is not an integer"),
        ({"transcript": [segment(-1, 5, "agent", "x")]}, "negative"),
        ({"transcript": [segment(0, 5, "caller", "x")]}, "an unknown speaker"),
        ({"transcript": [segment(0, 5, "agent", "a\x00b")]}, "NUL in the text"),
        ({"transcript": [{**segment(0, 5, "agent", "x"), "confidence": 0.9}]}, "an unknown field"),
        ({"transcript": [segment(0, 5, "agent", "x" * 100_001)]}, "text too long"),
        ({"channel": "chat", "transcript": [segment(0, 5, "agent", "x")]}, "only on a call"),
    ],
)
def test_a_bad_transcript_is_refused_with_422(
    client: TestClient, ingest_token: str, change: dict[str, Any], where: str
) -> None:
    body = {**transcribed(KARI, ENTERED, []), **change}
    response = client.post("/api/v1/interactions", json=body, headers=auth(ingest_token))
    assert response.status_code == 422, where


def test_a_subject_export_holds_the_transcript_of_the_persons_call(
    client: TestClient, ingest_token: str, reader: dict[str, str], clock: Any
) -> None:
    clock.now = ENTERED
    iid = client.post(
        "/api/v1/interactions", json=transcribed(KARI, oslo(2026, 3, 1, 9), TRANSCRIPT), headers=auth(ingest_token)
    ).json()["id"]
    created = client.post("/api/v1/subject-exports", json={"phone": KARI}, headers=reader)
    assert created.status_code == 201, created.text
    download = client.get(f"/api/v1/subject-exports/{created.json()['id']}/download", headers=reader)
    document = json.loads(zipfile.ZipFile(io.BytesIO(download.content)).read("interactions.json"))
    (item,) = [i for i in document["interactions"] if i["id"] == iid]
    assert item["content"] == {"transcript": TRANSCRIPT}


def test_a_content_retention_rule_deletes_transcripts(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    old, young = archive(
        session_factory,
        solution,
        transcribed(KARI, NIGHT - timedelta(days=9), TRANSCRIPT),
        transcribed(KARI, NIGHT - timedelta(days=2), TRANSCRIPT),
    )
    with session_factory() as session, session.begin():
        add_rule(
            session,
            solution.id,
            DraftRule(None, None, RetentionWhat.CONTENT, 7, id="content-7"),
            created_by="admin",
            now=NIGHT,
        )
    night(session_factory, blobs, NIGHT)
    assert transcript_texts(session_factory, old) == []
    assert len(transcript_texts(session_factory, young)) == 3
    with session_factory() as session:
        assert session.get_one(Interaction, old).has_content is False


# --- erasure --------------------------------------------------------------------------------------

PCM_LAYOUT = Layout(PCM, 16, channels=2)
MULAW_LAYOUT = Layout(MULAW, 8)
SECONDS = 6


@pytest.fixture(params=["layout-kept", "read-at-night"])
def calls(
    request: pytest.FixtureRequest, session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> dict[str, Any]:
    """Kari's call (she says her number), Per's call (the agent reads Kari's number back, in μ-law),
    Ole's call in MP3 that names her, and Lise's call that names only Lise's own number; their
    recordings stored with their layouts or, as before layouts were kept, without."""
    keep_layout = request.param == "layout-kept"
    started = oslo(2026, 3, 1, 9)
    kari, per, ole, lise = archive(
        session_factory,
        solution,
        transcribed(KARI, started, [segment(0, 1000, "agent", "Hello"), segment(1000, 2500, "customer", KARI)]),
        transcribed(
            "41234567",
            started,
            [
                segment(0, 1200, "customer", "I am calling for my neighbour"),
                segment(1200, 3100, "agent", "Her number is 912 34 567, right?"),
                segment(3100, 5000, "customer", f"Yes. Mine is {OTHER}"),
            ],
            name="Per",
        ),
        transcribed("42234567", started, [segment(500, 900, "customer", f"Call Kari on +47 {KARI}")], name="Ole"),
        transcribed(OTHER, started, [segment(0, 2000, "customer", f"Mine is {OTHER}")], name="Lise"),
    )
    wavs = {
        "kari": make_wav(PCM_LAYOUT, 8000 * SECONDS),
        "per": make_wav(MULAW_LAYOUT, 8000 * SECONDS),
        "lise": make_wav(PCM_LAYOUT, 8000 * 3),
    }
    keys = {
        "kari": give_recording(session_factory, blobs, kari, wavs["kari"], keep_layout=keep_layout),
        "per": give_recording(session_factory, blobs, per, wavs["per"], keep_layout=keep_layout),
        "ole": give_recording(session_factory, blobs, ole, b"ID3\x04" + bytes(2000), keep_layout=keep_layout),
        "lise": give_recording(session_factory, blobs, lise, wavs["lise"], keep_layout=keep_layout),
    }
    return {"ids": {"kari": kari, "per": per, "ole": ole, "lise": lise}, "wavs": wavs, "keys": keys}


def assert_silenced_only(layout: Layout, original: bytes, result: bytes, spans: list[tuple[int, int]]) -> None:
    assert len(result) == len(original)
    start = data_offset(original)
    assert result[:start] == original[:start]  # the header, untouched
    frames = (len(original) - start) // layout.block_align
    inside = {i for begin, end in spans for i in silenced_frames(layout.rate, frames, begin, end)}
    assert inside
    block = layout.block_align
    for i in range(frames):
        got = result[start + i * block : start + (i + 1) * block]
        assert got == (layout.silence if i in inside else original[start + i * block : start + (i + 1) * block]), i


def test_erasure_replaces_the_spoken_number_everywhere_and_silences_exactly_those_segments(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, calls: dict[str, Any]
) -> None:
    ids, wavs, keys = calls["ids"], calls["wavs"], calls["keys"]
    with session_factory() as session:
        preview, _ = preview_with_linked(
            session,
            solution,
            phone=KARI,
            email=None,
            raw_data=False,
            delete_content=False,
            now=ENTERED,
            keyring=KEYRING,
            blobs=blobs,
        )
    request_id = enter(session_factory, solution, ENTERED, phone=KARI)

    night(session_factory, blobs, NIGHT)

    assert transcript_texts(session_factory, ids["kari"]) == ["Hello", "Anonymized"]
    assert transcript_texts(session_factory, ids["per"]) == [
        "I am calling for my neighbour",
        "Her number is Anonymized, right?",
        f"Yes. Mine is {OTHER}",
    ]
    assert transcript_texts(session_factory, ids["ole"]) == ["Call Kari on Anonymized"]
    # Her own call: silenced where she said it; Per's call: only where the agent read it back.
    # Silenced where they are: the rows point at the same blobs, overwritten over the segments.
    kari_key, per_key = keys["kari"], keys["per"]
    assert recording_key(session_factory, ids["kari"]) == kari_key
    assert recording_key(session_factory, ids["per"]) == per_key
    assert_silenced_only(PCM_LAYOUT, wavs["kari"], b"".join(blobs.open_range(kari_key)), [(1000, 2500)])
    assert_silenced_only(MULAW_LAYOUT, wavs["per"], b"".join(blobs.open_range(per_key)), [(1200, 3100)])
    # An MP3 cannot be silenced faithfully: it is deleted. Lise's call is as it was.
    assert recording_key(session_factory, ids["ole"]) is None
    assert recording_key(session_factory, ids["lise"]) == keys["lise"]
    assert b"".join(blobs.open_range(keys["lise"])) == wavs["lise"]
    assert transcript_texts(session_factory, ids["lise"]) == [f"Mine is {OTHER}"]
    # Nothing else is stored; only what the rows point at is left, and no fill is left to do.
    assert set(blobs.list_keys("recordings/")) == {kari_key, per_key, keys["lise"]}
    assert pending_fills(session_factory) == []

    with session_factory() as session:
        request = session.get_one(AnonymizationRequest, request_id)
        assert request.result is not None
        assert request.result["audio_segments_silenced"] == 2
        assert request.result["recordings_deleted"] == 1
        assert request.result["mentions_replaced"] == 3
    # The preview said exactly that before Add.
    assert (preview.audio_segments_silenced, preview.recordings, preview.mentions) == (2, 1, 3)


def test_numbers_spoken_in_a_transcript_are_in_the_mention_index(
    session_factory: sessionmaker[Session], solution: Solution, calls: dict[str, Any]
) -> None:
    # The transcript's identifiers are in the mention index like chat text: Per's call is found by
    # Kari's and Lise's numbers, which only its transcript says.
    with session_factory() as session:
        keys = set(session.scalars(select(Mention.key).where(Mention.interaction_id == calls["ids"]["per"])))
    assert KEYRING.key(solution.id, "+4791234567") in keys
    assert KEYRING.key(solution.id, "+4798765432") in keys


def pending_fills(factory: sessionmaker[Session]) -> list[tuple[str, list[list[int]]]]:
    with factory() as session:
        return [(row.blob_key, row.spans) for row in session.scalars(select(PendingBlobFill))]


class FailingFill:
    """A blob store whose fills fail (the store went away after the erasure committed)."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.failed = 0

    def fill(self, fills: Sequence[Fill]) -> list[str]:
        self.failed += 1
        raise OSError("the store went away")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_store_that_fails_after_the_commit_leaves_the_silence_queued_and_the_next_night_writes_it(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, calls: dict[str, Any]
) -> None:
    ids, wavs, keys = calls["ids"], calls["wavs"], calls["keys"]
    request_id = enter(session_factory, solution, ENTERED, phone=KARI)
    failing = FailingFill(blobs)

    summary = night(session_factory, failing, NIGHT)

    # The erasure committed (text replaced, request done); the silence waits in the queue, and the
    # recordings play as they were (a fill that never ran leaves the old audio, whole).
    assert failing.failed >= 1
    assert summary.requests_failed == 0
    with session_factory() as session:
        assert session.get_one(AnonymizationRequest, request_id).status.value == "done"
    assert transcript_texts(session_factory, ids["kari"]) == ["Hello", "Anonymized"]
    assert sorted(key for key, _ in pending_fills(session_factory)) == sorted([keys["kari"], keys["per"]])
    for name in ("kari", "per"):
        assert b"".join(blobs.open_range(keys[name])) == wavs[name]

    # The next night, with a store that works, writes it first thing among its blob work.
    night(session_factory, blobs, NIGHT + timedelta(days=1))
    assert pending_fills(session_factory) == []
    assert_silenced_only(PCM_LAYOUT, wavs["kari"], b"".join(blobs.open_range(keys["kari"])), [(1000, 2500)])
    assert_silenced_only(MULAW_LAYOUT, wavs["per"], b"".join(blobs.open_range(keys["per"])), [(1200, 3100)])


def test_while_the_silence_waits_to_be_written_the_recording_is_played_ranged_and_exported_silenced(
    client: TestClient,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    calls: dict[str, Any],
    reader: dict[str, str],
    clock: Any,
) -> None:
    # The erasure has committed and its fill is queued (the store failed): the blob still says
    # Kari's number, but nobody may hear it from the commit on.
    ids, wavs, keys = calls["ids"], calls["wavs"], calls["keys"]
    enter(session_factory, solution, ENTERED, phone=KARI)
    night(session_factory, FailingFill(blobs), NIGHT)
    assert b"".join(blobs.open_range(keys["per"])) == wavs["per"]
    clock.now = NIGHT + timedelta(hours=1)
    expected = wavs["per"]
    layout, start = MULAW_LAYOUT, data_offset(wavs["per"])
    frame_at = layout.rate // 1000 * layout.block_align  # bytes per millisecond (8 kHz: whole frames)
    span = (start + 1200 * frame_at, start + 3100 * frame_at)
    expected = expected[: span[0]] + layout.silence * ((span[1] - span[0]) // layout.block_align) + expected[span[1] :]

    whole = client.get(f"/api/v1/interactions/{ids['per']}/recording", headers=reader)
    assert whole.status_code == 200
    assert_silenced_only(MULAW_LAYOUT, wavs["per"], whole.content, [(1200, 3100)])
    assert whole.content == expected
    # A player's ranges: one across the start of the silence, one inside it, one after it.
    for first, last in ((span[0] - 100, span[0] + 99), (span[0] + 10, span[0] + 20), (span[1], span[1] + 500)):
        ranged = client.get(
            f"/api/v1/interactions/{ids['per']}/recording", headers=reader | {"Range": f"bytes={first}-{last}"}
        )
        assert ranged.status_code == 206
        assert ranged.content == expected[first : last + 1], (first, last)
    # Per's subject export (his own call) carries the silence too.
    created = client.post("/api/v1/subject-exports", json={"phone": "41234567"}, headers=reader)
    assert created.status_code == 201, created.text
    download = client.get(f"/api/v1/subject-exports/{created.json()['id']}/download", headers=reader)
    archive_zip = zipfile.ZipFile(io.BytesIO(download.content))
    assert archive_zip.read(f"recordings/{ids['per']}.wav") == expected
    # Lise's call had nothing pending: as it was.
    assert client.get(f"/api/v1/interactions/{ids['lise']}/recording", headers=reader).content == wavs["lise"]


def test_a_crash_half_way_through_silencing_on_disk_leaves_a_valid_recording_and_the_next_drain_finishes_it(
    session_factory: sessionmaker[Session], solution: Solution, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On local disk the silence is written in place: a process that dies between two writes leaves
    # the header and length as they were (a valid WAV) with some spans silenced; the fill is still
    # queued, and doing it again finishes it exactly.
    disk = make_blob_store((tmp_path / "blobs").as_uri())
    started = oslo(2026, 3, 1, 9)
    (iid,) = archive(
        session_factory,
        solution,
        transcribed(
            "41234567",
            started,
            [
                segment(0, 1000, "agent", f"Kari's number is {KARI}"),
                segment(1000, 2000, "customer", "Yes"),
                segment(2000, 3000, "agent", f"So {KARI}, again"),
            ],
        ),
    )
    wav = make_wav(PCM_LAYOUT, 8000 * 4)
    key = give_recording(session_factory, disk, iid, wav)
    enter(session_factory, solution, ENTERED, phone=KARI)
    real_pwrite = os.pwrite
    writes: list[int] = []

    def dies_after_one_write(fd: int, data: bytes, offset: int) -> int:
        if writes:
            raise SystemExit("killed")  # what kill -9 leaves: the first span written, the rest not
        writes.append(offset)
        return real_pwrite(fd, data, offset)

    with monkeypatch.context() as patched:
        patched.setattr(os, "pwrite", dies_after_one_write)
        with pytest.raises(SystemExit):
            night(session_factory, disk, NIGHT)

    torn = b"".join(disk.open_range(key))
    assert len(torn) == len(wav)
    assert probe(disk, key) is not None  # still a WAV we can read and play
    assert torn != wav
    assert [k for k, _ in pending_fills(session_factory)] == [key]

    night(session_factory, disk, NIGHT + timedelta(days=1))
    assert pending_fills(session_factory) == []
    assert_silenced_only(PCM_LAYOUT, wav, b"".join(disk.open_range(key)), [(0, 1000), (2000, 3000)])


def test_delete_content_takes_the_persons_transcript_and_recording_and_silences_the_others(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, calls: dict[str, Any]
) -> None:
    ids = calls["ids"]
    with session_factory() as session:
        preview, _ = preview_with_linked(
            session,
            solution,
            phone=KARI,
            email=None,
            raw_data=False,
            delete_content=True,
            now=ENTERED,
            keyring=KEYRING,
            blobs=blobs,
        )
    request_id = enter(session_factory, solution, ENTERED, phone=KARI, delete_content=True)
    night(session_factory, blobs, NIGHT)
    assert transcript_texts(session_factory, ids["kari"]) == []
    assert recording_key(session_factory, ids["kari"]) is None
    assert recording_key(session_factory, ids["per"]) == calls["keys"]["per"]
    assert b"".join(blobs.open_range(calls["keys"]["per"])) != calls["wavs"]["per"]
    with session_factory() as session:
        result = session.get_one(AnonymizationRequest, request_id).result
    assert result is not None
    assert (result["audio_segments_silenced"], result["recordings_deleted"]) == (1, 2)
    assert (preview.audio_segments_silenced, preview.recordings) == (1, 2)


def test_anonymize_and_delete_takes_a_calls_transcript_with_its_recording(
    client: TestClient,
    make_token: TokenMaker,
    solution: Solution,
    session_factory: sessionmaker[Session],
    calls: dict[str, Any],
) -> None:
    officer = auth(make_token(Role.PRIVACY_OFFICER, solution))
    response = client.post(
        "/api/v1/interactions/anonymize-and-delete", json={"ids": [calls["ids"]["per"]]}, headers=officer
    )
    assert response.status_code == 200, response.text
    assert response.json()["content_deleted"] == 1
    assert transcript_texts(session_factory, calls["ids"]["per"]) == []


def test_pending_deletions_of_silenced_recordings_drain(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, calls: dict[str, Any]
) -> None:
    enter(session_factory, solution, ENTERED, phone=KARI)
    night(session_factory, blobs, NIGHT)
    assert drain_pending_blobs(session_factory, blobs, NIGHT) == 0  # the night drained them already


def test_a_night_whose_erasure_fails_before_commit_leaves_the_recordings_untouched_and_queues_nothing(
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    calls: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids, wavs, keys = calls["ids"], calls["wavs"], calls["keys"]
    enter(session_factory, solution, ENTERED, phone=KARI)

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    # The transaction fails after the silence was decided (when the erasure is remembered).
    with monkeypatch.context() as patched:
        patched.setattr(processing, "remember_erasure", failing)
        assert night(session_factory, blobs, NIGHT).requests_failed == 1
    assert set(blobs.list_keys("recordings/")) == set(keys.values())
    assert b"".join(blobs.open_range(keys["kari"])) == wavs["kari"]
    assert pending_fills(session_factory) == []

    night(session_factory, blobs, NIGHT + timedelta(days=1))

    assert recording_key(session_factory, ids["kari"]) == keys["kari"]
    assert_silenced_only(PCM_LAYOUT, wavs["kari"], b"".join(blobs.open_range(keys["kari"])), [(1000, 2500)])
    assert set(blobs.list_keys("recordings/")) == {keys["kari"], keys["per"], keys["lise"]}


def test_the_anonymize_page_previews_the_silencing_and_the_requests_list_shows_it_after_the_night(
    client: TestClient,
    make_token: TokenMaker,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    calls: dict[str, Any],
    clock: Any,
) -> None:
    clock.now = ENTERED
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    csrf = csrf_from(client.get("/archive/anonymize").text)

    page = client.post("/archive/anonymize/preview", data={"csrf_token": csrf, "phone": KARI}).text

    assert re.search(r'id="preview-silenced">2 spoken segments silenced', page)
    assert re.search(r'id="preview-unsilenceable">1 recording deleted', page)
    enter(session_factory, solution, ENTERED, phone=KARI)
    night(session_factory, blobs, NIGHT)
    listed = client.get("/archive/anonymize").text
    assert "Spoken segments silenced: 2" in listed
    assert "Recordings deleted (could not be silenced): 1" in listed


def test_her_name_said_aloud_is_replaced_in_the_text_but_only_identifiers_silence_the_audio(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    (iid,) = archive(
        session_factory,
        solution,
        transcribed(
            KARI,
            oslo(2026, 3, 1, 9),
            [segment(0, 1000, "customer", "Dette er Kari Nordmann"), segment(1000, 2000, "customer", f"tlf {KARI}")],
        ),
    )
    wav = make_wav(PCM_LAYOUT, 8000 * 3)
    give_recording(session_factory, blobs, iid, wav)
    enter(session_factory, solution, ENTERED, phone=KARI)

    night(session_factory, blobs, NIGHT)

    assert transcript_texts(session_factory, iid) == ["Dette er Anonymized", "tlf Anonymized"]
    key = recording_key(session_factory, iid)
    assert key is not None
    assert_silenced_only(PCM_LAYOUT, wav, b"".join(blobs.open_range(key)), [(1000, 2000)])


def test_an_uploaded_wav_keeps_its_layout_and_the_night_silences_it_without_reading_its_header(
    client: TestClient,
    ingest_token: str,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = client.post(
        "/api/v1/interactions",
        json=transcribed("41234567", oslo(2026, 3, 1, 9), [segment(1200, 3100, "agent", f"Her number is {KARI}")]),
        headers=auth(ingest_token),
    )
    assert created.status_code == 201, created.text
    iid = created.json()["id"]
    wav = make_wav(PCM_LAYOUT, 8000 * SECONDS)
    put = client.put(
        f"/api/v1/interactions/{iid}/recording",
        content=wav,
        headers={**auth(ingest_token), "Content-Type": "audio/wav"},
    )
    assert put.status_code == 204, put.text
    key = recording_key(session_factory, iid)
    assert key is not None
    with session_factory() as session:
        stored = session.get_one(Recording, iid).wav_layout
    layout = probe(blobs, key)
    assert layout is not None
    assert stored == dataclasses.asdict(layout)
    read: list[str] = []
    monkeypatch.setattr("archivist.archive.audio.probe", lambda _, k: read.append(k))
    enter(session_factory, solution, ENTERED, phone=KARI)

    night(session_factory, blobs, NIGHT)

    assert read == []  # the header was not read again
    assert_silenced_only(PCM_LAYOUT, wav, b"".join(blobs.open_range(key)), [(1200, 3100)])
