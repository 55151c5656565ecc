"""Streaming a recording with HTTP ranges, shared by the API and the pages.

Players seek by asking for byte ranges; answering them (206 with ``Content-Range``) is what
makes the ``<audio>`` element's seek bar work and report a duration for WAV files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import HTTPException, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from archivist.archive.models import Recording
from archivist.archive.recordings import read_recording
from archivist.blobs import BlobNotFound, BlobStore

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

# The recording's stored type is the uploader's word; it is served only if it is one of these
# (what browsers play), else as opaque bytes, so no upload can make a browser render HTML or
# script from our origin.
PLAYABLE_AUDIO_TYPES = frozenset(
    {
        "audio/wav",
        "audio/x-wav",
        "audio/wave",
        "audio/vnd.wave",
        "audio/mpeg",
        "audio/mp3",
        "audio/ogg",
        "audio/opus",
        "audio/flac",
        "audio/x-flac",
        "audio/mp4",
        "audio/x-m4a",
        "audio/aac",
        "audio/amr",
        "audio/basic",
        "audio/webm",
    }
)
OPAQUE_TYPE = "application/octet-stream"
# The column holds 100 characters; an upload's type is checked against this before any byte is stored.
_UPLOAD_TYPE = re.compile(r"^audio/[a-z0-9][a-z0-9.+-]{0,93}$")

UNSUPPORTED_TYPE = "Content-Type must be an audio type such as audio/wav (at most 100 characters)"


def upload_type(header: str) -> str | None:
    """The media type of an upload's ``Content-Type`` (lower case, no parameters), or None if unusable."""
    media_type = header.split(";")[0].strip().lower()
    return media_type if _UPLOAD_TYPE.match(media_type) else None


def served_type(stored: str) -> str:
    """The type a stored recording is served with: a playable audio type, or opaque bytes."""
    return stored if stored in PLAYABLE_AUDIO_TYPES else OPAQUE_TYPE


NO_RECORDING = "This interaction has no recording (or it was deleted)"


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive byte range of a single-range ``Range`` header; None for the whole file.

    Raises ValueError when the range cannot be satisfied (answered with 416).
    """
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # multiple or malformed ranges: RFC 9110 lets us send the whole body
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            raise ValueError
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError
    return start, end


def recording_response(request: Request, session: Session, recording: Recording | None, blobs: BlobStore) -> Response:
    """The recording's audio, whole (200) or the requested range (206); 404 when there is none.
    Silence an erasure decided is in it from the erasure's commit on (``recordings.read_recording``)."""
    if recording is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_RECORDING)
    size = recording.size_bytes
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    try:
        byte_range = parse_range(request.headers.get("range", ""), size) if "range" in request.headers else None
    except ValueError:
        # Raised, not returned: the one error handler gives it a body (JSON or a page, CONTRACT §18).
        raise HTTPException(
            status.HTTP_416_RANGE_NOT_SATISFIABLE,
            f"The requested range is not within the recording ({size} bytes)",
            headers={**headers, "Content-Range": f"bytes */{size}"},
        ) from None
    start, end = byte_range if byte_range else (0, size - 1)
    try:
        chunks: Iterator[bytes] = read_recording(session, blobs, recording.blob_key, start, end)
    except BlobNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_RECORDING) from None
    headers["Content-Length"] = str(end - start + 1)
    if byte_range:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return StreamingResponse(
        chunks, status_code=206 if byte_range else 200, media_type=served_type(recording.content_type), headers=headers
    )


def starts_playback(request: Request, response: Response) -> bool:
    """Whether this response begins a play or download (worth one audit entry).

    A player fetches a recording in many ranges as it buffers and seeks; only the request
    from the first byte (or without a range) counts, so one listening is one entry.
    """
    if response.status_code not in (200, 206):
        return False
    byte_range = request.headers.get("range", "").strip().replace(" ", "")
    return byte_range in ("", "bytes=0-") or byte_range.startswith("bytes=0-")
