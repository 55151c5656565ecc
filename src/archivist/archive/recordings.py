"""Recordings: metadata in the database, audio in the blob store, never out of step.

Every change that stops pointing at a blob records a ``PendingBlobDeletion`` in the same
transaction, and every change that overwrites part of one (silence) a ``PendingBlobFill``; after
commit ``drain_pending_blobs`` does the fills, then removes the blobs, each retried until done. An
upload first registers its key as pending (due after a grace period) and clears that row when its
recording row commits, so a crash mid-upload leaves nothing behind.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.archive.models import Interaction, PendingBlobDeletion, PendingBlobFill, Recording
from archivist.blobs import BlobStore, filled
from archivist.blobs.interfaces import Fill
from archivist.db import CHUNK, chunks

log = logging.getLogger(__name__)

# An upload that has not been attached after this long died half-way; its blob is deleted.
UPLOAD_GRACE = timedelta(hours=1)
# Retries back off up to this interval between attempts.
MAX_RETRY_DELAY = timedelta(hours=1)
_DRAIN_BATCH = CHUNK  # the one batch size

# Magic numbers of the audio containers a contact-centre platform records in.
_AUDIO_MAGIC: tuple[tuple[int, bytes], ...] = (
    (0, b"RIFF"),  # WAV (checked for WAVE below)
    (0, b"ID3"),  # MP3 with a tag
    (0, b"OggS"),  # Ogg Vorbis / Opus
    (0, b"fLaC"),
    (4, b"ftyp"),  # MP4 / M4A
    (0, b"#!AMR"),
    (0, b".snd"),  # Sun/NeXT AU
)
MIN_AUDIO_BYTES = 12


def looks_like_audio(head: bytes) -> bool:
    """True if the first bytes are those of an audio container we can store and play."""
    if len(head) < MIN_AUDIO_BYTES:
        return False
    if head[:4] == b"RIFF":
        return head[8:12] == b"WAVE"
    if head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:  # bare MPEG audio frame sync
        return True
    return any(head[offset : offset + len(magic)] == magic for offset, magic in _AUDIO_MAGIC)


def new_blob_key(solution_id: str, interaction_id: str, content_type: str) -> str:
    """Where a recording's bytes go: beside the recordings of interactions made in the same hours.

    Interaction ids begin with the millisecond they were made (``db.new_id``), so their first six
    hex digits change every 4.7 hours: a folder holds one such window's recordings, made once
    for the thousands an import writes in it. (A folder per interaction cost a directory's
    creation per recording — on a local disk as much as writing the file — and was left behind,
    empty, when the recording went.) Keys of either layout are read alike: a key is opaque.
    """
    ext = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg"}
    suffix = ext.get(content_type, "bin")
    return f"recordings/{solution_id}/{interaction_id[:6]}/{interaction_id}-{secrets.token_hex(8)}.{suffix}"


def register_upload(session: Session, solution_id: str, blob_key: str, now: datetime) -> None:
    """Before writing a blob: make sure it is deleted unless ``attach_recording`` follows."""
    session.add(PendingBlobDeletion(solution_id=solution_id, blob_key=blob_key, not_before=now + UPLOAD_GRACE))


@dataclass(frozen=True)
class Upload:
    """A blob written for an interaction's recording, to be attached."""

    interaction_id: str
    blob_key: str
    content_type: str
    size: int
    # ``audio.head_layout`` of the bytes as they were written, if they were read on the way.
    wav_layout: dict[str, int] | None = None


def attach_recording(
    session: Session,
    interaction: Interaction,
    blob_key: str,
    content_type: str,
    size: int,
    now: datetime,
    *,
    wav_layout: dict[str, int] | None = None,
) -> None:
    """Point ``interaction`` at the uploaded blob, replacing (and queueing) any earlier one."""
    upload = Upload(interaction.id, blob_key, content_type, size, wav_layout)
    attach_recordings(session, interaction.solution_id, [upload], now)


def attach_recordings(session: Session, solution_id: str, uploads: Sequence[Upload], now: datetime) -> None:
    """Point each upload's interaction at its blob, replacing (and queueing) any earlier one: a few
    statements for a whole import chunk, not a handful per recording."""
    if not uploads:
        return
    ids = [u.interaction_id for u in uploads]
    for chunk in chunks([u.blob_key for u in uploads]):
        session.execute(delete(PendingBlobDeletion).where(PendingBlobDeletion.blob_key.in_(chunk)))
    for chunk in chunks(ids):
        for old_solution, old_key in session.execute(
            select(Recording.solution_id, Recording.blob_key).where(Recording.interaction_id.in_(chunk))
        ):
            session.add(PendingBlobDeletion(solution_id=old_solution, blob_key=old_key, not_before=now))
        session.execute(delete(Recording).where(Recording.interaction_id.in_(chunk)))
    session.add_all(
        Recording(
            interaction_id=u.interaction_id,
            solution_id=solution_id,
            blob_key=u.blob_key,
            content_type=u.content_type,
            size_bytes=u.size,
            created_at=now,
            wav_layout=u.wav_layout,
        )
        for u in uploads
    )
    for chunk in chunks(ids):
        session.execute(update(Interaction).where(Interaction.id.in_(chunk)).values(has_recording=True))
    session.flush()


def recordings_of(interaction_ids: Sequence[str]) -> Select[str, str, str]:
    """The recordings of ``interaction_ids``: what ``delete_recordings`` deletes and a preview counts."""
    return select(Recording.interaction_id, Recording.solution_id, Recording.blob_key).where(
        Recording.interaction_id.in_(interaction_ids)
    )


def delete_recordings(session: Session, interaction_ids: Sequence[str], now: datetime) -> int:
    """Drop the recordings of ``interaction_ids`` and queue their blobs; returns how many.

    Chunked, because the nightly run may pass the ids of 100,000 interactions.
    """
    deleted = 0
    for chunk in chunks(interaction_ids):
        rows = session.execute(recordings_of(chunk)).all()
        if not rows:
            continue
        ids = [r.interaction_id for r in rows]
        session.add_all(
            PendingBlobDeletion(solution_id=r.solution_id, blob_key=r.blob_key, not_before=now) for r in rows
        )
        session.execute(delete(Recording).where(Recording.interaction_id.in_(ids)))
        session.execute(update(Interaction).where(Interaction.id.in_(ids)).values(has_recording=False))
        deleted += len(rows)
    return deleted


def drain_pending_blobs(factory: sessionmaker[Session], blobs: BlobStore, now: datetime) -> int:
    """Do every fill that is due, then delete every blob that is due; failures are retried later
    with a growing delay. Returns how many blobs were deleted.

    Fills go first: a blob both silenced and let go of is then simply deleted. Safe to run from
    several processes: filling or deleting twice is harmless and the row is removed by whichever
    gets there.
    """
    _drain_fills(factory, blobs, now)
    deleted = 0
    while True:
        with factory() as session, session.begin():
            due = session.scalars(
                select(PendingBlobDeletion)
                .where(PendingBlobDeletion.not_before <= now)
                .order_by(PendingBlobDeletion.id)
                .limit(_DRAIN_BATCH)
            ).all()
            if not due:
                return deleted
            progressed = False
            for row in due:
                try:
                    blobs.delete(row.blob_key)
                except Exception:  # noqa: BLE001 - any store failure is retried later
                    _retry_later(row, now, "blob deletion")
                    continue
                session.delete(row)
                deleted += 1
                progressed = True
            if not progressed:
                return deleted


def read_recording(
    session: Session, blobs: BlobStore, blob_key: str, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """A recording's bytes ``start``..``end`` (inclusive; None: to its end), with the silence
    of every fill still pending on it applied as they stream.

    Between an erasure's commit and the drain that writes its silence into the blob (the same
    night, or later if the store fails), the blob still holds what was said; played, exported or
    downloaded meanwhile, it must not say it. Filling is idempotent, so a fill the drain has
    already written changes nothing. Raises BlobNotFound as the store does.
    """
    pending = session.execute(
        select(PendingBlobFill.spans, PendingBlobFill.fill_byte).where(PendingBlobFill.blob_key == blob_key)
    ).all()
    pieces: Iterator[bytes] = blobs.open_range(blob_key, start, end)
    for spans, byte in pending:
        # The spans are offsets in the whole blob; the stream starts at ``start``.
        last = end + 1 if end is not None else None
        shifted = [
            (max(a, start) - start, (b if last is None else min(b, last)) - start)
            for a, b in spans
            if b > start and (last is None or a < last)
        ]
        if shifted:
            pieces = filled(pieces, shifted, byte)
    return pieces


def _drain_fills(factory: sessionmaker[Session], blobs: BlobStore, now: datetime) -> None:
    """Each batch of due fills in one call to the store (one durability barrier on local disk); if
    the batch fails, each fill alone, so one failing blob is retried later without holding up the rest."""
    while True:
        with factory() as session, session.begin():
            due = {
                row.id: Fill(row.blob_key, tuple((start, stop) for start, stop in row.spans), row.fill_byte)
                for row in session.execute(
                    select(
                        PendingBlobFill.id, PendingBlobFill.blob_key, PendingBlobFill.spans, PendingBlobFill.fill_byte
                    )
                    .where(PendingBlobFill.not_before <= now)
                    .order_by(PendingBlobFill.id)
                    .limit(_DRAIN_BATCH)
                )
            }
            if not due:
                return
            try:
                blobs.fill(list(due.values()))
                done = list(due)
            except Exception:  # noqa: BLE001 - any store failure is retried later
                done = []
                for fill_id, fill in due.items():
                    try:
                        blobs.fill([fill])
                    except Exception:  # noqa: BLE001 - retried later
                        _retry_later(session.get_one(PendingBlobFill, fill_id), now, "blob fill")
                        continue
                    done.append(fill_id)
            if not done:
                return
            session.execute(delete(PendingBlobFill).where(PendingBlobFill.id.in_(done)))


def _retry_later(row: PendingBlobDeletion | PendingBlobFill, now: datetime, what: str) -> None:
    row.attempts += 1
    row.not_before = now + min(MAX_RETRY_DELAY, timedelta(seconds=30 * 2**row.attempts))
    log.warning("%s failed, will retry (pending id %s, attempt %d)", what, row.id, row.attempts)
