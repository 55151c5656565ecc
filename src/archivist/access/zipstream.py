"""A ZIP written as it is read: entries go out in chunks, none is held whole, nothing is spooled.

The standard library's ``zipfile`` writes to a stream it cannot seek by putting each entry's
sizes and CRC in a data descriptor after its data; this module hands it such a stream and
yields whatever it has written so far. Each entry's SHA-256 and size are taken on the way
through, for the manifest, so a file is read once however large.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

# Yield to the client once this much compressed output has piled up.
FLUSH_BYTES = 256 * 1024


class _Sink:
    """A write-only, unseekable file: ``zipfile`` writes here, the generator drains it."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.pending = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.pending += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        self.pending = 0
        return out


@dataclass(frozen=True)
class Entry:
    """A file of the archive: its name, a function that yields its bytes, and how to store it."""

    name: str
    chunks: Callable[[], Iterable[bytes]]
    # Audio does not shrink under deflate; storing it saves the CPU of a 2 GB export.
    compress: bool = True
    # The expected size, when known: a file that may pass 4 GiB needs ZIP64 headers up front.
    size_hint: int = 0


@dataclass(frozen=True)
class Written:
    name: str
    size: int
    sha256: str


def stream_zip(
    entries: Iterable[Entry], *, modified: datetime, finish: Callable[[list[Written]], Iterable[Entry]] = lambda _: ()
) -> Iterator[bytes]:
    """The ZIP of ``entries`` in chunks; ``finish`` gets what was written and adds the last entries
    (the manifest, which can only be written once every other file's hash is known)."""
    sink = _Sink()
    written: list[Written] = []
    stamp = modified.timetuple()[:6]
    with zipfile.ZipFile(sink, mode="w", allowZip64=True) as archive:  # type: ignore[call-overload]  # an unseekable writer is what it needs

        def write(entry: Entry) -> Iterator[bytes]:
            info = zipfile.ZipInfo(entry.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED if entry.compress else zipfile.ZIP_STORED
            info.external_attr = 0o600 << 16
            info.file_size = entry.size_hint
            digest = hashlib.sha256()
            size = 0
            with archive.open(info, mode="w") as out:  # ZIP64 headers when size_hint needs them
                for chunk in entry.chunks():
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if sink.pending >= FLUSH_BYTES:
                        yield sink.drain()
            written.append(Written(entry.name, size, digest.hexdigest()))
            yield sink.drain()

        for entry in entries:
            yield from write(entry)
        for entry in finish(list(written)):
            yield from write(entry)
    yield sink.drain()
