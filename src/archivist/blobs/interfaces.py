"""The storage contract for recordings: a key/value blob store with ranged reads.
Implementations live beside this module; callers depend only on `BlobStore`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO, Protocol, runtime_checkable

__all__ = [
    "CHUNK_SIZE",
    "STAGING_MAX_AGE",
    "TEMP_MARKER",
    "BlobNotFound",
    "BlobStore",
    "Fill",
    "validate_key",
    "validate_prefix",
]

# 64 KiB keeps a streamed HTTP response smooth without holding much in memory.
CHUNK_SIZE = 64 * 1024

# Stores that stage writes beside the final key use this marker; keys may not contain
# it so a staged file can never be mistaken for (or collide with) a real blob.
TEMP_MARKER = ".tmp-"

# A write still staged after this long was cut off (kill -9, a full disk, a lost connection):
# no upload of a recording takes an hour, so what is older is swept.
STAGING_MAX_AGE = timedelta(hours=1)


class BlobNotFound(KeyError):  # noqa: N818 - the name is part of the agreed API
    """Raised when a key has no blob behind it."""


@dataclass(frozen=True)
class Fill:
    """Bytes of one blob to overwrite with one value: ``spans`` are sorted, disjoint ``[start, stop)``.

    Spans past the blob's end are cut at it: a fill never changes a blob's length.
    """

    key: str
    spans: tuple[tuple[int, int], ...]
    byte: int


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a safe relative key, else raise ValueError.

    Keys become file paths on local storage, so anything that could climb out of
    the store's root or be read differently by another OS is refused outright.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("blob key must be a non-empty string")
    if key.startswith("/"):
        raise ValueError(f"blob key must be relative: {key!r}")
    if ".." in key:
        raise ValueError(f"blob key may not contain '..': {key!r}")
    if "\\" in key:
        raise ValueError(f"blob key may not contain backslashes: {key!r}")
    if _CONTROL.search(key):
        raise ValueError(f"blob key may not contain control characters: {key!r}")
    if any(segment in ("", ".") for segment in key.split("/")):
        raise ValueError(f"blob key has an empty or '.' path segment: {key!r}")
    if TEMP_MARKER in key:
        raise ValueError(f"blob key may not contain {TEMP_MARKER!r}: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return `prefix` if it is empty or could start a valid key, else raise ValueError."""
    if prefix == "":
        return prefix
    # A prefix may end mid-segment or with "/", so check it as if a name followed.
    validate_key(prefix + "x" if prefix.endswith("/") else prefix)
    return prefix


@runtime_checkable
class BlobStore(Protocol):
    """Where recordings live: whole-blob atomic writes, ranged streaming reads."""

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> int:
        """Store `data` under `key` atomically and return its size in bytes.

        Readers see either the previous blob or the complete new one, never a part;
        if writing fails, whatever was under `key` before is left untouched.
        """
        ...

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes `start`..`end` inclusive (to the end if `end` is None).

        Yields chunks of `CHUNK_SIZE` (the last may be shorter). Raises BlobNotFound
        at call time, before iteration, so a web handler can answer 404 early.
        `end` past the blob is clamped; `start` past the end yields nothing;
        a negative `start` or `end < start` raises ValueError.
        """
        ...

    def size(self, key: str) -> int:
        """Return the blob's size in bytes; raise BlobNotFound if missing."""
        ...

    def fill(self, fills: Sequence[Fill]) -> list[str]:
        """Overwrite each fill's spans of its blob with its byte, durably; return the keys not found.

        Same length, every other byte kept. Idempotent (filling twice is filling once), so a
        fill cut off by a crash is completed by doing it again. Where the store can write in
        place (local disk) it does, and readers may see some spans filled and not others until
        it returns; elsewhere (S3) the blob is rewritten whole and atomically, and its older
        versions are purged. Durable when it returns: the caller may then forget the work.
        """
        ...

    def exists(self, key: str) -> bool:
        """Return whether a blob is stored under `key`."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing key is not an error."""
        ...

    def list_keys(self, prefix: str = "") -> list[str]:
        """Return the sorted keys that start with `prefix` (a plain string prefix)."""
        ...

    def sweep_staging(self, older_than: timedelta, now: datetime) -> int:
        """Remove writes staged longer than `older_than` before `now` that never completed.

        A process killed mid-`put` leaves its staging behind (a `TEMP_MARKER` file, an
        unfinished multipart upload); `list_keys` never shows it, so only this removes it.
        Returns how many were removed; never touches a complete blob.
        """
        ...
