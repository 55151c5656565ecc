"""Loading the synthetic archive into a solution: interactions, raw data and real WAV recordings."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive import recordings
from archivist.archive.audio import HEAD_BYTES, head_layout
from archivist.archive.ingest import ingest
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Interaction, PendingBlobDeletion, Recording
from archivist.archive.schemas import InteractionIn
from archivist.blobs import BlobStore
from archivist.db import CHUNK, table_of
from archivist.demo.audio import make_wav
from archivist.demo.generator import generate

DEMO_DAYS = 60
_BATCH = CHUNK


@dataclass
class DemoReport:
    created: int = 0
    existing: int = 0
    recordings: int = 0


def load_demo(
    factory: sessionmaker[Session],
    blobs: BlobStore,
    solution: Solution,
    n: int,
    seed: int,
    now: datetime,
    progress: Callable[[int], None] = lambda _: None,
    *,
    keyring: MentionKeyring,
) -> DemoReport:
    """Add ``n`` synthetic interactions (the ``DEMO_DAYS`` local days before ``now``'s day).

    Deterministic for a seed: the external ids repeat, so loading the same seed twice adds
    nothing the second time; and two loads with one seed on one day make the same archive
    (the same interactions, recordings of the same length and the same audio).
    """
    report = DemoReport()
    batch: list[dict[str, Any]] = []
    for item in generate(n, seed, demo_start(now, solution.timezone), days=DEMO_DAYS):
        batch.append(item)
        if len(batch) >= _BATCH:
            _load_batch(factory, blobs, solution, batch, now, report, keyring)
            progress(len(batch))
            batch = []
    if batch:
        _load_batch(factory, blobs, solution, batch, now, report, keyring)
        progress(len(batch))
    return report


def demo_start(now: datetime, timezone: str) -> datetime:
    """The first instant of the demo period: local midnight ``DEMO_DAYS`` days before ``now``'s day.

    A whole day, not ``now - DEMO_DAYS``: the generator lays its timeline from the start, and a
    start at another time of day (the minute ``make run`` happened to run) gave another archive.
    """
    tz = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(tz).date() - timedelta(days=DEMO_DAYS), time(0), tzinfo=tz)


def _audio_seed(external_id: str) -> int:
    # From the demo's external id (demo-<seed>-<i>), never the interaction id: that is random.
    return zlib.crc32(external_id.encode())


def _load_batch(
    factory: sessionmaker[Session],
    blobs: BlobStore,
    solution: Solution,
    items: list[dict[str, Any]],
    now: datetime,
    report: DemoReport,
    keyring: MentionKeyring,
) -> None:
    seconds = [item.pop("recording_seconds", None) for item in items]
    bodies = [InteractionIn.model_validate(item) for item in items]
    uploads: list[tuple[str, str, float, int]] = []
    with factory() as session, session.begin():
        results = ingest(session, solution, bodies, now, keyring=keyring)
        for result, length, body in zip(results, seconds, bodies, strict=True):
            if result.created and length:
                key = recordings.new_blob_key(solution.id, result.id, "audio/wav")
                recordings.register_upload(session, solution.id, key, now)
                uploads.append((result.id, key, length, _audio_seed(body.external_id or result.id)))
    report.created += sum(r.created for r in results)
    report.existing += sum(not r.created for r in results)
    if not uploads:
        return
    rows = []
    for iid, key, length, audio_seed in uploads:
        audio = make_wav(length, seed=audio_seed)
        blobs.put(key, audio, "audio/wav")
        rows.append(
            {
                "interaction_id": iid,
                "solution_id": solution.id,
                "blob_key": key,
                "content_type": "audio/wav",
                "size_bytes": len(audio),
                "created_at": now,
                "wav_layout": head_layout(audio[:HEAD_BYTES], len(audio)),
            }
        )
    with factory() as session, session.begin():
        session.execute(insert(table_of(Recording)), rows)
        ids = [r["interaction_id"] for r in rows]
        session.execute(update(Interaction).where(Interaction.id.in_(ids)).values(has_recording=True))
        keys = [r["blob_key"] for r in rows]
        session.execute(delete(PendingBlobDeletion).where(PendingBlobDeletion.blob_key.in_(keys)))
    report.recordings += len(rows)
