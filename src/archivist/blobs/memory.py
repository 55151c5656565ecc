"""An in-process BlobStore backed by a dict: a real implementation for tests and demos."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from archivist.blobs._common import chunk_bytes, copy_stream, filled, resolve_range
from archivist.blobs.interfaces import BlobNotFound, Fill, validate_key, validate_prefix

__all__ = ["MemoryBlobStore"]


@dataclass(frozen=True, slots=True)
class _Blob:
    data: bytes
    content_type: str


class MemoryBlobStore:
    """Keeps blobs in memory; every instance is its own empty store."""

    def __init__(self) -> None:
        self._blobs: dict[str, _Blob] = {}
        # Web handlers and background jobs share one store across threads.
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> int:
        validate_key(key)
        if isinstance(data, bytes | bytearray | memoryview):
            payload = bytes(data)
        else:
            # Read the whole stream before touching the dict, so a stream that fails
            # midway leaves the previous blob (or no blob) in place.
            parts: list[bytes] = []
            copy_stream(data, parts.append)
            payload = b"".join(parts)
        with self._lock:
            self._blobs[key] = _Blob(payload, content_type)
        return len(payload)

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        # bytes are immutable, so the snapshot taken here stays consistent even if
        # the key is overwritten or deleted while the caller is still streaming.
        data = self._get(key).data
        first, stop = resolve_range(start, end, len(data))
        return chunk_bytes(data, first, stop)

    def size(self, key: str) -> int:
        return len(self._get(key).data)

    def fill(self, fills: Sequence[Fill]) -> list[str]:
        missing: list[str] = []
        for fill in fills:
            validate_key(fill.key)
            with self._lock:
                blob = self._blobs.get(fill.key)
                if blob is None:
                    missing.append(fill.key)
                    continue
                data = b"".join(filled([blob.data], fill.spans, fill.byte))
                self._blobs[fill.key] = _Blob(data, blob.content_type)
        return missing

    def exists(self, key: str) -> bool:
        validate_key(key)
        with self._lock:
            return key in self._blobs

    def delete(self, key: str) -> None:
        validate_key(key)
        with self._lock:
            self._blobs.pop(key, None)

    def list_keys(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        with self._lock:
            return sorted(k for k in self._blobs if k.startswith(prefix))

    def sweep_staging(self, older_than: timedelta, now: datetime) -> int:
        # A put here is one dict assignment under the lock: nothing is ever left staged.
        del older_than, now
        return 0

    def content_type(self, key: str) -> str:
        """Return the content type given at `put` (memory store only; handy in tests)."""
        return self._get(key).content_type

    def _get(self, key: str) -> _Blob:
        validate_key(key)
        with self._lock:
            blob = self._blobs.get(key)
        if blob is None:
            raise BlobNotFound(key)
        return blob
