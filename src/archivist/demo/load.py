"""Loading the synthetic archive into a solution: interactions, raw data and real WAV recordings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive import recordings
from archivist.archive.ingest import ingest
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Interaction, PendingBlobDeletion, Recording
from archivist.archive.schemas import InteractionIn
from archivist.blobs import BlobStore
from archivist.db import table_of
from archivist.demo.audio import make_wav
from archivist.demo.generator import generate

DEMO_DAYS = 60
_BATCH = 500


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
    """Add ``n`` synthetic interactions (the last ``DEMO_DAYS`` days before ``now``).

    Deterministic for a seed: the external ids repeat, so loading the same seed twice adds
    nothing the second time.
    """
    report = DemoReport()
    batch: list[dict[str, Any]] = []
    for item in generate(n, seed, now - timedelta(days=DEMO_DAYS), days=DEMO_DAYS):
        batch.append(item)
        if len(batch) >= _BATCH:
            _load_batch(factory, blobs, solution, batch, now, report, keyring)
            progress(len(batch))
            batch = []
    if batch:
        _load_batch(factory, blobs, solution, batch, now, report, keyring)
        progress(len(batch))
    return report


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
    uploads: list[tuple[str, str, float]] = []
    with factory() as session, session.begin():
        results = ingest(session, solution, bodies, now, keyring=keyring)
        for result, length in zip(results, seconds, strict=True):
            if result.created and length:
                key = recordings.new_blob_key(solution.id, result.id, "audio/wav")
                recordings.register_upload(session, solution.id, key, now)
                uploads.append((result.id, key, length))
    report.created += sum(r.created for r in results)
    report.existing += sum(not r.created for r in results)
    if not uploads:
        return
    rows = []
    for iid, key, length in uploads:
        audio = make_wav(length, seed=int(iid[-8:], 16))
        blobs.put(key, audio, "audio/wav")
        rows.append(
            {
                "interaction_id": iid,
                "solution_id": solution.id,
                "blob_key": key,
                "content_type": "audio/wav",
                "size_bytes": len(audio),
                "created_at": now,
            }
        )
    with factory() as session, session.begin():
        session.execute(insert(table_of(Recording)), rows)
        ids = [r["interaction_id"] for r in rows]
        session.execute(update(Interaction).where(Interaction.id.in_(ids)).values(has_recording=True))
        keys = [r["blob_key"] for r in rows]
        session.execute(delete(PendingBlobDeletion).where(PendingBlobDeletion.blob_key.in_(keys)))
    report.recordings += len(rows)
