"""A BlobStore on fsspec: local directories (``file://``) and S3 buckets (``s3://``, via s3fs)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import shutil
import stat
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from fsspec.core import url_to_fs

from archivist.blobs._common import copy_stream, filled, resolve_range, stream_reader
from archivist.blobs.interfaces import (
    CHUNK_SIZE,
    TEMP_MARKER,
    BlobNotFound,
    Fill,
    validate_key,
    validate_prefix,
)

__all__ = ["FsspecBlobStore"]

# Ranged S3 reads fetch this much per GET and hand it out in CHUNK_SIZE slices: fewer
# round trips than one GET per chunk, and never more than 1 MiB past the range's end
# (s3fs's default read-ahead would pull up to 50 MiB for a one-byte probe).
_S3_FETCH_SIZE = 1024 * 1024

# Multipart part size for streamed S3 uploads; bounds memory per upload (s3fs's default
# is 50 MiB) while allowing objects up to ~80 GB within S3's 10,000-part limit.
_S3_WRITE_BLOCK_SIZE = 8 * 1024 * 1024

# Page size for ListObjectVersions when purging a key (S3's own maximum).
_S3_VERSIONS_PAGE = 1000

# How often delete() re-lists a versioned key to catch a version written meanwhile.
_S3_PURGE_ROUNDS = 3

# Local writes are staged in one directory under the root (its name holds TEMP_MARKER, so no key
# can name it and list_keys never shows it) and renamed into place: the nightly sweep then reads
# that directory, not the whole store (a walk of every recording, every night, grew with the archive).
_STAGING = f"{TEMP_MARKER}staging"
# Made once the whole store was walked for writes staged beside their target (as before the staging
# directory, or when a key's directory is another filesystem): after it, only _STAGING is swept.
_WALKED = f"{_STAGING}/walked-once"

# fdatasync where the OS has it (it skips the metadata an overwrite in place does not change).
_datasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def _syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2), which the os module lacks: one call makes a filesystem's writes durable."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_SYNCFS = _syncfs()


class FsspecBlobStore:
    """Blobs under a root URL: ``file:///var/lib/archivist/blobs`` or ``s3://bucket/prefix``."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        if url.startswith(("s3://", "s3a://")):
            # Other processes (web workers, the retention job) delete blobs too, so a
            # cached listing could resurrect a deleted recording in exists()/list_keys().
            storage_options.setdefault("use_listings_cache", False)
        fs, root = url_to_fs(url, **storage_options)
        protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
        if "file" in protocols:
            self._local = True
        elif "s3" in protocols:
            self._local = False
        else:
            raise ValueError(f"unsupported blob store URL (want file:// or s3://): {url!r}")
        root = str(root).rstrip("/")
        if not root:
            raise ValueError(f"blob store URL needs a directory or bucket: {url!r}")
        self._fs: Any = fs
        self._root: str = root
        # Once versioning was enabled a bucket can never be unversioned again (only
        # suspended), so a "yes" may be remembered; a "no" is asked again each time.
        self._s3_versioned = False
        if self._local:
            self._fs.makedirs(root, exist_ok=True)
            with os.scandir(root) as entries:
                empty = next(entries, None) is None
            if empty:
                # A new store holds nothing staged beside a target: no walk of it is ever needed.
                self._fs.makedirs(f"{root}/{_WALKED}", exist_ok=True)

    @property
    def root(self) -> str:
        """The store's root path as fsspec sees it (no protocol)."""
        return self._root

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> int:
        path = self._path(key)
        if self._local:
            return self._put_local(path, data)
        return self._put_s3(path, data, content_type)

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        # Look the blob up now rather than inside the generator, so a missing key
        # raises here and not on the first next(), after headers may have gone out.
        first, stop = resolve_range(start, end, self.size(key))
        return self._stream(key, first, stop)

    def size(self, key: str) -> int:
        path = self._path(key)
        if self._local:
            # The OS directly: fsspec's info() builds a dict of everything for one number.
            try:
                status = os.stat(path)  # noqa: PTH116 - a string path from fsspec
            except (FileNotFoundError, NotADirectoryError) as exc:
                raise BlobNotFound(key) from exc
            if not stat.S_ISREG(status.st_mode):
                raise BlobNotFound(key)  # a local directory named like the key is not a blob
            return status.st_size
        try:
            info = self._fs.info(path)
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        if info.get("type") != "file":
            # A local directory named like the key is not a blob.
            raise BlobNotFound(key)
        return int(info["size"])

    def exists(self, key: str) -> bool:
        return bool(self._fs.isfile(self._path(key)))

    def fill(self, fills: Sequence[Fill]) -> list[str]:
        if self._local:
            return self._fill_local(fills)
        return self._fill_s3(fills)

    def delete(self, key: str) -> None:
        path = self._path(key)
        if not self._local and self._s3_bucket_versioned(path):
            # A plain DELETE on a versioned bucket only hides the recording behind a
            # delete marker; CONTRACT §11 wants every version of it gone.
            self._purge_s3_versions(key, path)
        else:
            with contextlib.suppress(FileNotFoundError):
                self._fs.rm_file(path)
        self._fs.invalidate_cache(path)

    def list_keys(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        # Only walk the deepest directory the prefix names; the rest is a name filter.
        directory = prefix.rpartition("/")[0]
        base = f"{self._root}/{directory}" if directory else self._root
        try:
            paths: list[str] = self._fs.find(base)
        except FileNotFoundError:
            return []
        cut = len(self._root) + 1
        keys = (path[cut:] for path in paths if path.startswith(self._root + "/"))
        # Staged local writes carry TEMP_MARKER, which real keys may not contain.
        return sorted(k for k in keys if k.startswith(prefix) and TEMP_MARKER not in k)

    def sweep_staging(self, older_than: timedelta, now: datetime) -> int:
        cutoff = now - older_than
        if self._local:
            return self._sweep_local(cutoff)
        return self._sweep_s3(cutoff)

    def _sweep_local(self, cutoff: datetime) -> int:
        walk_all = not self._fs.isdir(f"{self._root}/{_WALKED}")
        try:
            paths: list[str] = self._fs.find(self._root if walk_all else f"{self._root}/{_STAGING}")
        except FileNotFoundError:
            paths = []
        removed = 0
        for path in paths:
            if TEMP_MARKER not in path[len(self._root) :]:
                continue
            try:
                modified = float(self._fs.info(path)["mtime"])
                if modified < cutoff.timestamp():
                    self._fs.rm_file(path)
                    removed += 1
            except FileNotFoundError:  # renamed into place or swept by another process meanwhile
                continue
        if walk_all:
            self._fs.makedirs(f"{self._root}/{_WALKED}", exist_ok=True)
        return removed

    def _sweep_s3(self, cutoff: datetime) -> int:
        # What a killed streamed upload leaves on S3 is an unfinished multipart upload: its
        # parts are stored (and billed) until aborted, though no key shows them.
        bucket, prefix, _ = self._fs.split_path(self._root)
        removed = 0
        markers: dict[str, str] = {}
        while True:
            page = self._fs.call_s3(
                "list_multipart_uploads", Bucket=bucket, Prefix=f"{prefix}/" if prefix else "", **markers
            )
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    with contextlib.suppress(FileNotFoundError):
                        self._fs.call_s3(
                            "abort_multipart_upload", Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                    removed += 1
            if not page.get("IsTruncated"):
                return removed
            markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}

    def _path(self, key: str) -> str:
        return f"{self._root}/{validate_key(key)}"

    def _put_local(self, path: str, data: bytes | BinaryIO) -> int:
        if self._fs.isdir(path):
            # shutil.move would silently drop the blob *inside* that directory.
            raise ValueError(f"blob key names an existing directory: {path!r}")
        self._fs.makedirs(self._fs._parent(path), exist_ok=True)
        self._fs.makedirs(f"{self._root}/{_STAGING}", exist_ok=True)
        staged = f"{self._root}/{_STAGING}/{uuid.uuid4().hex}"
        try:
            with self._fs.open(staged, "wb") as out:
                if isinstance(data, bytes | bytearray | memoryview):
                    payload = bytes(data)
                    out.write(payload)
                    written = len(payload)
                else:
                    written = copy_stream(data, out.write)
                # Without fsync a crash after the rename could expose an empty file.
                out.flush()
                os.fsync(out.fileno())
            self._rename_into_place(staged, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                self._fs.rm_file(staged)
            raise
        return written

    def _rename_into_place(self, staged: str, path: str) -> None:
        """Atomic on one filesystem; a key whose directory is another filesystem is staged again beside it."""
        try:
            Path(staged).replace(path)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            beside = Path(f"{path}{TEMP_MARKER}{uuid.uuid4().hex}")
            try:
                shutil.copyfile(staged, beside)
                with beside.open("rb+") as copy:
                    os.fsync(copy.fileno())
                beside.replace(path)
            finally:
                beside.unlink(missing_ok=True)
                Path(staged).unlink()

    def _fill_local(self, fills: Sequence[Fill]) -> list[str]:
        # In place: a fill writes only its spans, so 1,000 silenced segments cost 1,000 small
        # writes, not 1,000 copies of whole recordings. Made durable once for the batch (syncfs on
        # the store's filesystem) rather than once a file; a file on another filesystem (a mount
        # under the root) is synced on its own.
        missing: list[str] = []
        root_device = Path(self._root).stat().st_dev
        synced_at_end = False
        for fill in fills:
            try:
                fd = os.open(self._path(fill.key), os.O_RDWR | os.O_NOFOLLOW)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                missing.append(fill.key)
                continue
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    missing.append(fill.key)
                    continue
                _write_spans(fd, fill, info.st_size)
                if _SYNCFS is not None and info.st_dev == root_device:
                    synced_at_end = True
                else:
                    _datasync(fd)
            finally:
                os.close(fd)
        if synced_at_end and _SYNCFS is not None:
            root = os.open(self._root, os.O_RDONLY)
            try:
                if _SYNCFS(root) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, os.strerror(error))
            finally:
                os.close(root)
        return missing

    def _fill_s3(self, fills: Sequence[Fill]) -> list[str]:
        # S3 cannot write into an object: it is rewritten (streamed, one atomic PUT), then the
        # versions before it are purged, as delete() does, so the old audio is gone in every version.
        missing: list[str] = []
        for fill in fills:
            path = self._path(fill.key)
            try:
                info = self._fs.info(path)
            except FileNotFoundError:
                missing.append(fill.key)
                continue
            size = int(info["size"])
            content_type = str(info.get("ContentType") or "application/octet-stream")
            pieces = filled(self._stream(fill.key, 0, size), fill.spans, fill.byte)
            self._put_s3(path, stream_reader(pieces), content_type)
            if self._s3_bucket_versioned(path):
                self._purge_s3_versions(fill.key, path, keep_latest=True)
        return missing

    def _put_s3(self, path: str, data: bytes | BinaryIO, content_type: str) -> int:
        # S3 never shows a partial object: a PUT or a completed multipart upload
        # replaces the key in one step, so no staging key is needed.
        if isinstance(data, bytes | bytearray | memoryview):
            payload = bytes(data)
            self._fs.pipe_file(path, payload, ContentType=content_type)
            self._fs.invalidate_cache(path)
            return len(payload)
        # autocommit=False keeps close() from completing the upload; we commit only
        # once the whole stream was read, and otherwise abort the multipart upload.
        out = self._fs.open(
            path,
            "wb",
            autocommit=False,
            block_size=_S3_WRITE_BLOCK_SIZE,
            ContentType=content_type,
        )
        try:
            try:
                written = copy_stream(data, out.write)
            finally:
                out.close()
        except BaseException:
            out.discard()
            raise
        out.commit()
        self._fs.invalidate_cache(path)
        return written

    def _s3_bucket_versioned(self, path: str) -> bool:
        """Whether the bucket is or ever was versioned (may hold noncurrent versions)."""
        if not self._s3_versioned:
            bucket = self._fs.split_path(path)[0]
            reply = self._fs.call_s3("get_bucket_versioning", Bucket=bucket)
            # "Suspended" buckets still keep the versions written while enabled.
            self._s3_versioned = reply.get("Status") in ("Enabled", "Suspended")
        return self._s3_versioned

    def _s3_versions_of(self, bucket: str, name: str, *, keep_latest: bool = False) -> list[str]:
        """Every VersionId (objects and delete markers) of exactly `name`; not the latest if `keep_latest`."""
        found: list[str] = []
        markers: dict[str, str] = {}
        while True:
            page = self._fs.call_s3(
                "list_object_versions",
                Bucket=bucket,
                Prefix=name,
                MaxKeys=_S3_VERSIONS_PAGE,
                **markers,
            )
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                # The prefix also matches neighbours such as "<name>.bak": never theirs.
                if entry.get("Key") == name and not (keep_latest and entry.get("IsLatest")):
                    found.append(entry["VersionId"])
            if not page.get("IsTruncated"):
                return found
            markers = {"KeyMarker": page["NextKeyMarker"]}
            if page.get("NextVersionIdMarker"):
                markers["VersionIdMarker"] = page["NextVersionIdMarker"]

    def _purge_s3_versions(self, key: str, path: str, *, keep_latest: bool = False) -> None:
        bucket, name, _ = self._fs.split_path(path)
        for _ in range(_S3_PURGE_ROUNDS):
            versions = self._s3_versions_of(bucket, name, keep_latest=keep_latest)
            if not versions:
                return
            # Deleting by VersionId removes that version for good and adds no marker.
            for version_id in versions:
                with contextlib.suppress(FileNotFoundError):  # gone meanwhile
                    self._fs.call_s3("delete_object", Bucket=bucket, Key=name, VersionId=version_id)
        if self._s3_versions_of(bucket, name, keep_latest=keep_latest):
            # Only if other writers keep re-creating the key; keys are ids, not personal data.
            raise OSError(f"blob {key!r} still has versions after {_S3_PURGE_ROUNDS} purges")

    def _stream(self, key: str, first: int, stop: int) -> Iterator[bytes]:
        if first >= stop:
            return
        path = self._path(key)
        options: dict[str, Any] = {}
        if not self._local:
            # We size our own reads, so s3fs's read-ahead cache would only add waste.
            options = {"cache_type": "none", "block_size": _S3_FETCH_SIZE}
        fetch = CHUNK_SIZE if self._local else _S3_FETCH_SIZE
        try:
            # Closed by the with below; a local file is opened by the OS, not through fsspec.
            handle = Path(path).open("rb") if self._local else self._fs.open(path, "rb", **options)  # noqa: SIM115
        except FileNotFoundError as exc:
            # Deleted between the size check and the first read.
            raise BlobNotFound(key) from exc
        with handle:
            handle.seek(first)
            position = first
            while position < stop:
                block: bytes = handle.read(min(fetch, stop - position))
                if not block:
                    # Only if the object shrank under us; end the stream rather than spin.
                    return
                for offset in range(0, len(block), CHUNK_SIZE):
                    yield block[offset : offset + CHUNK_SIZE]
                position += len(block)


def _write_spans(fd: int, fill: Fill, size: int) -> None:
    """Write ``fill.byte`` over ``fill.spans`` of the open file ``fd`` of ``size`` bytes, never past its end."""
    block = _filler(fill.byte)
    for start, stop in fill.spans:
        offset, stop = start, min(stop, size)
        while offset < stop:
            offset += os.pwrite(fd, block[: min(CHUNK_SIZE, stop - offset)], offset)


@functools.cache
def _filler(byte: int) -> memoryview:
    """A chunk of ``byte``, made once: slicing a view of it copies nothing."""
    return memoryview(bytes([byte]) * CHUNK_SIZE)
