"""Helpers shared by the blob store implementations (not part of the public API)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from archivist.blobs.interfaces import CHUNK_SIZE


def resolve_range(start: int, end: int | None, size: int) -> tuple[int, int]:
    """Turn an inclusive HTTP-style range into a clamped half-open [first, stop)."""
    if start < 0:
        raise ValueError(f"range start must be >= 0, got {start}")
    if end is not None and end < start:
        raise ValueError(f"range end {end} is before start {start}")
    # Clamping matches HTTP: "bytes=0-999999" on a short blob means "to the end".
    stop = size if end is None else min(end + 1, size)
    return start, max(start, stop)


def chunk_bytes(data: bytes, first: int, stop: int) -> Iterator[bytes]:
    """Yield data[first:stop] in CHUNK_SIZE pieces."""
    view = memoryview(data)
    for offset in range(first, stop, CHUNK_SIZE):
        yield bytes(view[offset : min(offset + CHUNK_SIZE, stop)])


def copy_stream(source: BinaryIO, write: Callable[[bytes], object]) -> int:
    """Copy `source` to `write` in CHUNK_SIZE pieces and return the byte count."""
    total = 0
    while True:
        chunk = source.read(CHUNK_SIZE)
        if not chunk:
            return total
        write(chunk)
        total += len(chunk)
