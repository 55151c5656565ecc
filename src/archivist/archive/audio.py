"""Silencing what was said: digital silence over parts of a WAV recording, sample-exact (CONTRACT §17).

A recording is rewritten, not re-encoded: the RIFF/WAVE header is read here (the standard
library's ``wave`` refuses μ-law, A-law and WAVE_FORMAT_EXTENSIBLE), and the bytes of exactly
the sample frames whose time ``i / rate`` lies in a segment ``[begin_ms, end_ms)`` are replaced
by the format's silence on every channel; every other byte, the header and the length stay as
they are, so players and transcript offsets still line up. The erasure's transaction records the
byte spans to overwrite (a ``PendingBlobFill``: offsets and the silence value, nothing personal);
after it commits, the store writes the silence in place where it can (local disk: only those
bytes, made durable once per batch) or rewrites the blob atomically (S3, older versions purged),
retried until done. Filling is idempotent, so a crash part-way is completed by the next drain; the
header and length never change, so the file stays a valid recording throughout. A recording that is
not a WAV we can rewrite faithfully is deleted instead.
"""

from __future__ import annotations

import dataclasses
import struct
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from archivist.archive.mentions import SpokenSegment
from archivist.archive.models import PendingBlobFill, Recording
from archivist.archive.recordings import delete_recordings
from archivist.blobs import BlobStore, filled
from archivist.blobs.interfaces import CHUNK_SIZE, BlobNotFound
from archivist.db import chunks

# wFormatTag values (RFC 2361) we can silence, and the tag that defers to a subformat GUID.
WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_ALAW = 0x0006
WAVE_FORMAT_MULAW = 0x0007
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# The GUID of an extensible subformat is the format tag followed by these 14 bytes (KSDATAFORMAT_SUBTYPE_*).
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
# Digital silence: a zero sample. μ-law codes zero as 0xFF, A-law as 0xD5 (G.711, even bits
# inverted), 8-bit PCM is unsigned (0x80); wider PCM is signed, all zero bytes.
_SILENCE = {WAVE_FORMAT_ALAW: 0xD5, WAVE_FORMAT_MULAW: 0xFF}
_PCM_BITS = (8, 16, 24, 32)
# A header is read chunk by chunk; more chunks than this before `data` is not a recording.
_MAX_CHUNKS = 1_000


@dataclass(frozen=True)
class WavLayout:
    """Where a WAV's samples are and what silence is in it."""

    format_tag: int  # PCM, A-law or μ-law (an extensible file's subformat)
    channels: int
    rate: int
    block_align: int  # bytes per frame (one sample of every channel)
    data_offset: int
    data_size: int  # whole frames only, clamped to the blob
    silence: int  # the byte every sample byte of a silent frame holds

    @property
    def frames(self) -> int:
        return self.data_size // self.block_align

    def byte_span(self, begin_ms: int, end_ms: int) -> tuple[int, int]:
        """The bytes [start, stop) of the frames i with begin_ms <= 1000 * i / rate < end_ms."""
        first = min(self.frames, -(-begin_ms * self.rate // 1000))  # ceil, in integers
        stop = min(self.frames, -(-end_ms * self.rate // 1000))
        stop = max(stop, first)
        return self.data_offset + first * self.block_align, self.data_offset + stop * self.block_align


ReadAt = Callable[[int, int], bytes]  # (offset, length) -> at most that many bytes


def parse_wav(read_at: ReadAt, size: int) -> WavLayout | None:
    """The layout of a WAV we can silence faithfully, or None (not a WAV, or one we cannot rewrite).

    Walks the RIFF chunks (any order, odd sizes padded to even, `fmt ` before `data`), reads
    `fmt ` (PCM 8/16/24/32-bit, A-law, μ-law, or WAVE_FORMAT_EXTENSIBLE with one of those as its
    subformat GUID) and finds `data`; a `data` size past the end of the blob (a recorder that
    never fixed its header) is clamped to the blob.
    """
    head = read_at(0, 12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    offset = 12
    fmt: bytes | None = None
    for _ in range(_MAX_CHUNKS):
        header = read_at(offset, 8)
        if len(header) < 8:
            return None
        chunk_id, chunk_size = header[:4], struct.unpack("<I", header[4:])[0]
        body = offset + 8
        if chunk_id == b"fmt ":
            if chunk_size < 16:
                return None
            fmt = read_at(body, min(chunk_size, 40))
        elif chunk_id == b"data":
            if fmt is None:
                return None
            return _layout(fmt, body, min(chunk_size, max(0, size - body)))
        offset = body + chunk_size + (chunk_size & 1)
        if offset >= size:
            return None
    return None


def _layout(fmt: bytes, data_offset: int, data_size: int) -> WavLayout | None:
    if len(fmt) < 16:
        return None
    tag, channels, rate, _, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(fmt) < 40 or struct.unpack("<H", fmt[16:18])[0] < 22:
            return None
        valid_bits = struct.unpack("<H", fmt[18:20])[0]
        guid = fmt[24:40]
        if guid[2:] != _GUID_TAIL or valid_bits > bits:
            return None
        tag = struct.unpack("<H", guid[:2])[0]
    if channels < 1 or rate < 1:
        return None
    if tag == WAVE_FORMAT_PCM:
        if bits not in _PCM_BITS:
            return None
        silence = 0x80 if bits == 8 else 0x00
    elif tag in _SILENCE:
        if bits != 8:
            return None
        silence = _SILENCE[tag]
    else:
        return None
    if block_align != channels * bits // 8:
        return None
    whole = data_size - data_size % block_align
    return WavLayout(tag, channels, rate, block_align, data_offset, whole, silence)


def head_layout(head: bytes, size: int) -> dict[str, int] | None:
    """The layout of a WAV of ``size`` bytes that begins with ``head``, to store with its recording
    (``Recording.wav_layout``); None when it is no WAV we can silence or its header runs past ``head``."""
    layout = parse_wav(lambda offset, length: head[offset : offset + length], size)
    return None if layout is None else dataclasses.asdict(layout)


def stored_layout(stored: dict[str, int] | None) -> WavLayout | None:
    """A layout kept by ``head_layout``; None if there is none or it is not one (then the blob is read)."""
    try:
        return WavLayout(**stored) if stored else None
    except TypeError:  # written by another version, with other fields
        return None


def merged_spans(layout: WavLayout, segments: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The byte spans to silence for ``segments`` ((begin_ms, end_ms)), sorted, overlaps merged, empty ones dropped."""
    spans = sorted(span for span in (layout.byte_span(b, e) for b, e in segments) if span[0] < span[1])
    merged: list[tuple[int, int]] = []
    for start, stop in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def silenced(pieces: Iterable[bytes], layout: WavLayout, segments: Iterable[tuple[int, int]]) -> Iterator[bytes]:
    """The bytes of ``pieces`` (the whole WAV, in order, cut anywhere) with ``segments`` silenced."""
    return filled(pieces, merged_spans(layout, segments), layout.silence)


def silence_bytes(data: bytes, segments: Iterable[tuple[int, int]]) -> bytes | None:
    """``data`` (a whole WAV) with ``segments`` silenced; None when it is not a WAV we can rewrite."""
    layout = parse_wav(lambda offset, length: data[offset : offset + length], len(data))
    if layout is None:
        return None
    return b"".join(silenced([data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)], layout, segments))


# A WAV's header is almost always within its first kilobytes: read them once, not once a chunk.
HEAD_BYTES = 4096


def _blob_reader(blobs: BlobStore, key: str, size: int) -> ReadAt:
    head = b"".join(blobs.open_range(key, 0, min(size, HEAD_BYTES) - 1)) if size else b""

    def read_at(offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        if offset + length <= len(head) or len(head) == size:
            return head[offset : offset + length]
        return b"".join(blobs.open_range(key, offset, offset + length - 1))

    return read_at


def probe(blobs: BlobStore, key: str) -> WavLayout | None:
    """The layout of the WAV stored under ``key``, or None (missing, not a WAV, or one we cannot rewrite)."""
    try:
        size = blobs.size(key)
        return parse_wav(_blob_reader(blobs, key, size), size)
    except BlobNotFound:
        return None


@dataclass
class Silenced:
    """What silencing did, or would do: segments silenced, and recordings deleted instead."""

    segments: int = 0
    recordings_deleted: int = 0


def silence_recordings(
    session: Session, blobs: BlobStore | None, spoken: Sequence[SpokenSegment], *, now: datetime, apply: bool
) -> Silenced:
    """Silence the recordings over the ``spoken`` segments (``apply``), or count what that would do.

    One selection for both: each interaction's recording is probed; a WAV we can rewrite has its
    distinct segments counted and (applied) a fill of their bytes with silence queued, which the
    store writes after commit (``recordings.drain_pending_blobs``); any other recording (another
    format, a WAV we cannot parse, a missing blob, or no blob store to read it from) is deleted
    instead, because it would still say the identifier. Does not commit.
    """
    wanted: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for segment in spoken:
        wanted[segment.interaction_id].add((segment.begin_ms, segment.end_ms))
    result = Silenced()
    unsilenceable: list[str] = []
    fills: list[dict[str, object]] = []
    for chunk in chunks(sorted(wanted)):
        # Columns, not entities: a night may silence thousands of recordings, and none is changed here.
        for recording in session.execute(
            select(Recording.interaction_id, Recording.solution_id, Recording.blob_key, Recording.wav_layout)
            .where(Recording.interaction_id.in_(chunk))
            .order_by(Recording.interaction_id)
        ):
            segments = sorted(wanted[recording.interaction_id])
            # Read from the header when the recording was stored; older rows have the blob read.
            layout = None if blobs is None else stored_layout(recording.wav_layout) or probe(blobs, recording.blob_key)
            if layout is None:
                unsilenceable.append(recording.interaction_id)
                continue
            result.segments += len(segments)
            if not apply or blobs is None:
                continue
            spans = merged_spans(layout, segments)
            if spans:
                fills.append(
                    {
                        "solution_id": recording.solution_id,
                        "blob_key": recording.blob_key,
                        "spans": [list(span) for span in spans],
                        "fill_byte": layout.silence,
                        "not_before": now,
                    }
                )
    if fills:
        # Core, not the ORM's bulk insert: nothing here needs the entities back.
        session.execute(insert(cast(Table, PendingBlobFill.__table__)), fills)
    if apply:
        result.recordings_deleted += delete_recordings(session, unsilenceable, now)
    else:
        result.recordings_deleted += len(unsilenceable)
    return result
