"""Helpers shared by the blob store implementations (not part of the public API)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
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


def filled(pieces: Iterable[bytes], spans: Sequence[tuple[int, int]], byte: int) -> Iterator[bytes]:
    """The bytes of ``pieces`` (a whole blob, in order, cut anywhere) with ``spans`` set to ``byte``.

    ``spans`` are sorted, disjoint ``[start, stop)``."""
    fill = bytes([byte]) * CHUNK_SIZE
    position = 0
    at = 0  # the first span that may still overlap
    for piece in pieces:
        end = position + len(piece)
        while at < len(spans) and spans[at][1] <= position:
            at += 1
        if at == len(spans) or spans[at][0] >= end:
            yield piece
            position = end
            continue
        out = bytearray(piece)
        index = at
        while index < len(spans) and spans[index][0] < end:
            start, stop = max(spans[index][0], position) - position, min(spans[index][1], end) - position
            for offset in range(start, stop, CHUNK_SIZE):
                length = min(CHUNK_SIZE, stop - offset)
                out[offset : offset + length] = fill[:length]
            index += 1
        yield bytes(out)
        position = end


class IterReader(io.RawIOBase):
    """A readable stream over an iterator of bytes, for ``BlobStore.put`` (bounded memory)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._left:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._left = piece
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def stream_reader(pieces: Iterator[bytes]) -> io.BufferedReader:
    """A readable binary stream over ``pieces``, for ``BlobStore.put`` (bounded memory)."""
    return io.BufferedReader(IterReader(pieces), CHUNK_SIZE)


def copy_stream(source: BinaryIO, write: Callable[[bytes], object]) -> int:
    """Copy `source` to `write` in CHUNK_SIZE pieces and return the byte count."""
    total = 0
    while True:
        chunk = source.read(CHUNK_SIZE)
        if not chunk:
            return total
        write(chunk)
        total += len(chunk)
