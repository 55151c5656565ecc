"""One contract suite for every BlobStore: memory, local files and S3 (moto's server)."""

from __future__ import annotations

import errno
import io
import os
import random
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archivist.archive import attachments, recordings
from archivist.blobs import BlobNotFound, BlobStore, make_blob_store
from archivist.blobs.fsspec_store import FsspecBlobStore
from archivist.blobs.interfaces import CHUNK_SIZE, STAGING_MAX_AGE, Fill
from archivist.blobs.memory import MemoryBlobStore
from archivist.db import new_ids

BUCKET = "archivist-test"
KEY = "recordings/sol-1/int-1/a1b2c3.wav"


class _ExplodingStream(io.BytesIO):
    """A stream that hands out `good` bytes and then fails like a dropped upload."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self._left = good

    def read(self, size: int | None = -1, /) -> bytes:
        if self._left <= 0:
            raise OSError("client went away")
        n = self._left if size is None or size < 0 else min(size, self._left)
        self._left -= n
        return b"x" * n


def _payload(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def _read(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(store.open_range(key, start, end))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port, with fake credentials in the env."""
    # Imported here so the memory and file cases run even without the dev extras.
    moto_server = pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its buckets per process, not per server: another module's server (the S3
    # import tests use this fixture too) left this bucket behind in the same test worker.
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310 - http, loopback
    urllib.request.urlopen(reset, timeout=10).close()  # noqa: S310 - our own loopback moto server
    with pytest.MonkeyPatch.context() as mp:
        # Never pick up a developer's real AWS profile or credentials.
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.setenv("ARCHIVIST_S3_ENDPOINT_URL", endpoint)
        admin = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint}, skip_instance_cache=True)
        admin.mkdir(BUCKET)
        try:
            yield endpoint
        finally:
            # s3fs caches filesystems by options; drop them so no later test reuses a
            # client pointed at this (soon dead) port.
            s3fs.S3FileSystem.clear_instance_cache()
            del admin
            server.stop()
            # ThreadedMotoServer.stop() shuts the loop down but leaves the socket open.
            if server._server is not None:
                server._server.server_close()


@pytest.fixture(params=["memory", "file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """Each backend, built through the public factory, empty for every test."""
    kind = request.param
    if kind == "memory":
        return make_blob_store("memory://")
    if kind == "file":
        return make_blob_store((tmp_path / "blobs").as_uri())
    request.getfixturevalue("s3_endpoint")
    # A fresh prefix per test isolates tests sharing the module-wide bucket.
    return make_blob_store(f"s3://{BUCKET}/{uuid.uuid4().hex}")


# ---------------------------------------------------------------- the contract


def test_satisfies_protocol(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)


def test_put_then_size_exists_and_read_back(store: BlobStore) -> None:
    data = _payload(1000)
    assert not store.exists(KEY)
    assert store.put(KEY, data, "audio/wav") == 1000
    assert store.exists(KEY)
    assert store.size(KEY) == 1000
    assert _read(store, KEY) == data
    assert store.list_keys() == [KEY]


def test_put_overwrites(store: BlobStore) -> None:
    store.put(KEY, b"first version", "audio/wav")
    store.put(KEY, b"second", "audio/wav")
    assert _read(store, KEY) == b"second"
    assert store.size(KEY) == 6
    assert store.list_keys() == [KEY]


def test_empty_blob(store: BlobStore) -> None:
    assert store.put(KEY, b"", "audio/wav") == 0
    assert store.exists(KEY)
    assert store.size(KEY) == 0
    assert list(store.open_range(KEY)) == []


def test_range_reads(store: BlobStore) -> None:
    data = _payload(3 * CHUNK_SIZE + 123)
    store.put(KEY, data, "audio/wav")
    last = len(data) - 1
    assert _read(store, KEY, 0, 0) == data[:1]
    assert _read(store, KEY, last, last) == data[-1:]
    assert _read(store, KEY, 1000, 99_999) == data[1000:100_000]
    assert _read(store, KEY, CHUNK_SIZE - 1, CHUNK_SIZE) == data[CHUNK_SIZE - 1 : CHUNK_SIZE + 1]
    assert _read(store, KEY, 5000) == data[5000:]
    assert _read(store, KEY, 0, None) == data
    # HTTP semantics: an end past the blob is clamped, a start past it yields nothing.
    assert _read(store, KEY, last - 1, last + 10_000) == data[-2:]
    assert _read(store, KEY, len(data)) == b""


def test_range_chunks_are_64k(store: BlobStore) -> None:
    data = _payload(3 * CHUNK_SIZE + 123)
    store.put(KEY, data, "audio/wav")
    sizes = [len(c) for c in store.open_range(KEY, 10)]
    assert sizes == [CHUNK_SIZE] * 3 + [113]
    assert all(isinstance(c, bytes) for c in store.open_range(KEY, 0, 10))


def test_bad_ranges_are_refused(store: BlobStore) -> None:
    store.put(KEY, b"0123456789", "audio/wav")
    with pytest.raises(ValueError, match="range start"):
        store.open_range(KEY, -1)
    with pytest.raises(ValueError, match="before start"):
        store.open_range(KEY, 5, 4)


def test_delete_really_removes(store: BlobStore) -> None:
    other = "recordings/sol-1/int-2/ffff.wav"
    store.put(KEY, b"secret voice", "audio/wav")
    store.put(other, b"keep me", "audio/wav")
    store.delete(KEY)
    assert not store.exists(KEY)
    assert store.list_keys() == [other]
    assert store.list_keys("recordings/sol-1/int-1/") == []
    with pytest.raises(BlobNotFound):
        store.size(KEY)
    with pytest.raises(BlobNotFound):
        store.open_range(KEY)
    store.delete(KEY)  # idempotent
    store.delete("recordings/never/was/there.wav")
    assert _read(store, other) == b"keep me"


def test_missing_key_raises_blob_not_found(store: BlobStore) -> None:
    missing = "recordings/nope/nope/nope.wav"
    with pytest.raises(BlobNotFound):
        store.size(missing)
    # Raised at call time, before any iteration, so a handler can still send a 404.
    with pytest.raises(BlobNotFound):
        store.open_range(missing)
    with pytest.raises(KeyError):
        store.size(missing)
    assert not store.exists(missing)


def test_a_directory_is_not_a_blob(store: BlobStore) -> None:
    store.put(KEY, b"x", "audio/wav")
    assert not store.exists("recordings/sol-1")
    with pytest.raises(BlobNotFound):
        store.size("recordings/sol-1/int-1")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "/recordings/a/b/c.wav",
        "recordings/../etc/passwd",
        "..",
        "recordings/a/b/..",
        "recordings\\a\\b.wav",
        "recordings//a.wav",
        "recordings/a/",
        "recordings/./a.wav",
        "recordings/a\x00.wav",
        "recordings/a/b.wav.tmp-123",
    ],
)
def test_bad_keys_are_refused(store: BlobStore, bad: str) -> None:
    with pytest.raises(ValueError, match="blob key"):
        store.put(bad, b"data", "audio/wav")
    with pytest.raises(ValueError, match="blob key"):
        store.size(bad)
    with pytest.raises(ValueError, match="blob key"):
        store.exists(bad)
    with pytest.raises(ValueError, match="blob key"):
        store.delete(bad)
    with pytest.raises(ValueError, match="blob key"):
        store.open_range(bad)
    assert store.list_keys() == []


def test_bad_prefix_is_refused(store: BlobStore) -> None:
    with pytest.raises(ValueError, match="blob key"):
        store.list_keys("../")
    with pytest.raises(ValueError, match="blob key"):
        store.list_keys("/recordings")


def test_put_stream(store: BlobStore) -> None:
    data = _payload(200_000, seed=3)
    assert store.put(KEY, io.BytesIO(data), "audio/wav") == len(data)
    assert store.size(KEY) == len(data)
    assert _read(store, KEY) == data


def test_large_blob_round_trips(store: BlobStore) -> None:
    data = _payload(1024 * 1024 + 4321, seed=11)
    assert store.put(KEY, data, "audio/wav") == len(data)
    assert _read(store, KEY) == data
    assert _read(store, KEY, 700_000, 900_000) == data[700_000:900_001]
    # And the same through the streaming path.
    other = "recordings/sol-1/int-1/streamed.wav"
    assert store.put(other, io.BytesIO(data), "audio/wav") == len(data)
    assert _read(store, other) == data


def test_list_keys_by_prefix(store: BlobStore) -> None:
    keys = [
        "recordings/sol-1/int-1/a.wav",
        "recordings/sol-1/int-1/b.wav",
        "recordings/sol-1/int-2/c.wav",
        "recordings/sol-2/int-9/d.wav",
    ]
    for k in reversed(keys):
        store.put(k, k.encode(), "audio/wav")
    assert store.list_keys() == keys
    assert store.list_keys("recordings/") == keys
    assert store.list_keys("recordings/sol-1/") == keys[:3]
    assert store.list_keys("recordings/sol-1/int-1/") == keys[:2]
    # A plain string prefix, not only whole directories.
    assert store.list_keys("recordings/sol-1/int-") == keys[:3]
    assert store.list_keys("recordings/sol-") == keys
    assert store.list_keys("recordings/sol-3/") == []
    assert store.list_keys("elsewhere") == []


def test_failed_put_leaves_nothing_visible(store: BlobStore) -> None:
    with pytest.raises(OSError, match="client went away"):
        store.put(KEY, _ExplodingStream(good=3 * CHUNK_SIZE), "audio/wav")
    assert not store.exists(KEY)
    assert store.list_keys() == []
    with pytest.raises(BlobNotFound):
        store.size(KEY)


def test_failed_put_keeps_previous_blob(store: BlobStore) -> None:
    store.put(KEY, b"the good take", "audio/wav")
    with pytest.raises(OSError, match="client went away"):
        store.put(KEY, _ExplodingStream(good=100), "audio/wav")
    assert _read(store, KEY) == b"the good take"
    assert store.list_keys() == [KEY]


def test_concurrent_puts_and_reads(store: BlobStore) -> None:
    def worker(n: int) -> bytes:
        key = f"recordings/sol-1/int-{n}/r.wav"
        store.put(key, _payload(10_000, seed=n), "audio/wav")
        return _read(store, key)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(worker, range(8)))
    assert results == [_payload(10_000, seed=n) for n in range(8)]
    assert len(store.list_keys()) == 8


# ------------------------------------------------------- backend-specific bits


def test_factory_picks_backends(tmp_path: Path) -> None:
    assert isinstance(make_blob_store("memory://"), MemoryBlobStore)
    # Every memory:// store is its own.
    a, b = make_blob_store("memory://"), make_blob_store("memory://")
    a.put(KEY, b"x", "audio/wav")
    assert not b.exists(KEY)
    local = make_blob_store((tmp_path / "new" / "dir").as_uri())
    assert isinstance(local, FsspecBlobStore)
    assert (tmp_path / "new" / "dir").is_dir()


def test_unsupported_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        FsspecBlobStore("memory://somewhere")


def test_failed_local_put_leaves_no_staging_file(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = FsspecBlobStore(root.as_uri())
    with pytest.raises(OSError, match="client went away"):
        store.put(KEY, _ExplodingStream(good=2 * CHUNK_SIZE), "audio/wav")
    assert [p for p in root.rglob("*") if p.is_file()] == []
    store.put(KEY, b"ok", "audio/wav")
    assert [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()] == [KEY]


def test_local_staging_files_are_not_listed(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = FsspecBlobStore(root.as_uri())
    store.put(KEY, b"ok", "audio/wav")
    # What a concurrent, still-running put looks like on disk.
    (root / (KEY + ".tmp-deadbeef")).write_bytes(b"half")
    assert store.list_keys() == [KEY]


def test_local_delete_removes_the_file(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = FsspecBlobStore(root.as_uri())
    store.put(KEY, b"secret", "audio/wav")
    assert (root / KEY).read_bytes() == b"secret"
    store.delete(KEY)
    assert not (root / KEY).exists()


def test_s3_put_sets_content_type_and_multipart_stream(s3_endpoint: str) -> None:
    store = FsspecBlobStore(
        f"s3://{BUCKET}/{uuid.uuid4().hex}",
        client_kwargs={"endpoint_url": s3_endpoint},
        skip_instance_cache=True,
    )
    fs: Any = store._fs
    store.put(KEY, b"RIFF....WAVE", "audio/wav")
    assert fs.info(f"{store.root}/{KEY}")["ContentType"] == "audio/wav"
    # Larger than one 8 MiB part, so the streamed upload really is multipart.
    data = _payload(9 * 1024 * 1024 + 5, seed=5)
    other = "recordings/sol-1/int-1/big.wav"
    assert store.put(other, io.BytesIO(data), "audio/x-wav") == len(data)
    assert fs.info(f"{store.root}/{other}")["ContentType"] == "audio/x-wav"
    assert _read(store, other, len(data) - 10) == data[-10:]
    assert _read(store, other) == data


def test_s3_failed_multipart_stream_is_aborted(s3_endpoint: str) -> None:
    prefix = uuid.uuid4().hex
    store = make_blob_store(f"s3://{BUCKET}/{prefix}")
    with pytest.raises(OSError, match="client went away"):
        store.put(KEY, _ExplodingStream(good=9 * 1024 * 1024), "audio/wav")
    assert not store.exists(KEY)
    assert store.list_keys() == []
    # The aborted multipart upload must not linger (it would still hold the bytes).
    bucket_client: Any = store._fs  # type: ignore[attr-defined]
    uploads = bucket_client.call_s3("list_multipart_uploads", Bucket=BUCKET, Prefix=prefix)
    assert uploads.get("Uploads", []) == []


# ------------------------------------------- staging left by a killed put (issue 13)


def test_sweep_staging_never_touches_complete_blobs(store: BlobStore) -> None:
    store.put(KEY, b"RIFF....WAVE", "audio/wav")
    # Even with every staged write counted as stale, a complete blob stays.
    assert store.sweep_staging(timedelta(0), datetime.now(UTC) + timedelta(days=1)) == 0
    assert _read(store, KEY) == b"RIFF....WAVE"
    assert store.list_keys() == [KEY]


def test_local_sweep_removes_only_stale_staging_files(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    FsspecBlobStore(root.as_uri()).put(KEY, b"ok", "audio/wav")
    now = datetime.now(UTC)
    # What kill -9 during a put left, as versions before the staging directory staged: a file
    # beside its target that nobody will rename or remove. The store is opened again afterwards,
    # as an upgraded one is.
    orphan = root / (KEY + ".tmp-0123abcd")
    orphan.write_bytes(b"half a recording")
    old = (now - STAGING_MAX_AGE - timedelta(minutes=1)).timestamp()
    os.utime(orphan, (old, old))
    # A put still running (staged a moment ago) must be left alone.
    running = root / "recordings/sol-1/int-2/b.wav.tmp-feedbeef"
    running.parent.mkdir(parents=True)
    running.write_bytes(b"in progress")
    shutil.rmtree(root / ".tmp-staging")
    store = FsspecBlobStore(root.as_uri())
    assert store.sweep_staging(STAGING_MAX_AGE, now) == 1
    assert not orphan.exists()
    assert running.exists()
    assert (root / KEY).read_bytes() == b"ok"
    assert store.sweep_staging(STAGING_MAX_AGE, now) == 0


def test_local_puts_stage_in_one_directory_which_is_all_the_sweep_reads_after_its_first_walk(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    now = datetime.now(UTC)
    old = (now - STAGING_MAX_AGE - timedelta(minutes=1)).timestamp()
    # Left beside its target by an earlier version: found by the first sweep's walk of the store.
    legacy = root / (KEY + ".tmp-0123abcd")
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"half a recording")
    os.utime(legacy, (old, old))
    store = FsspecBlobStore(root.as_uri())
    assert store.sweep_staging(STAGING_MAX_AGE, now) == 1
    assert not legacy.exists()
    # A new, empty store needs no such walk.
    assert FsspecBlobStore((tmp_path / "new").as_uri()).sweep_staging(STAGING_MAX_AGE, now) == 0
    assert (tmp_path / "new" / ".tmp-staging" / "walked-once").is_dir()

    # A put killed after staging: its file is in the staging directory, and the sweep finds it there.
    store.put(KEY, b"ok", "audio/wav")
    (staging,) = [p for p in root.iterdir() if p.is_dir() and ".tmp-" in p.name]
    orphan = staging / "feedbeef"
    orphan.write_bytes(b"half a recording")
    os.utime(orphan, (old, old))
    # From now on the sweep reads only that directory, not every recording of the store.
    walked: list[str] = []
    find = store._fs.find

    def counted(path: str, **kwargs: Any) -> Any:
        walked.append(path)
        return find(path, **kwargs)

    store._fs.find = counted
    assert store.sweep_staging(STAGING_MAX_AGE, now) == 1
    assert not orphan.exists()
    assert walked == [f"{store.root}/{staging.name}"]
    assert store.list_keys() == [KEY]
    assert (root / KEY).read_bytes() == b"ok"


def test_a_key_on_another_filesystem_is_staged_again_beside_it_and_renamed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FsspecBlobStore((tmp_path / "blobs").as_uri())
    replace = Path.replace
    refused: list[str] = []

    def across_devices(self: Path, target: Any) -> Path:
        if ".tmp-staging" in str(self):  # the rename out of the staging directory crosses a mount
            refused.append(str(self))
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return replace(self, target)

    monkeypatch.setattr(Path, "replace", across_devices)
    store.put(KEY, b"whole recording", "audio/wav")
    assert len(refused) == 1
    assert _read(store, KEY) == b"whole recording"
    assert [p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == [KEY.rpartition("/")[2]]


def test_s3_sweep_aborts_stale_multipart_uploads(s3_endpoint: str) -> None:
    prefix = uuid.uuid4().hex
    store = make_blob_store(f"s3://{BUCKET}/{prefix}")
    fs: Any = store._fs  # type: ignore[attr-defined]
    # What a process killed mid-stream leaves on S3: an upload that was never completed or aborted.
    fs.call_s3("create_multipart_upload", Bucket=BUCKET, Key=f"{prefix}/{KEY}")
    # Times relative to the upload's own start (moto reports a fixed one).
    (upload,) = fs.call_s3("list_multipart_uploads", Bucket=BUCKET, Prefix=prefix)["Uploads"]
    started = upload["Initiated"]
    assert store.sweep_staging(STAGING_MAX_AGE, started + timedelta(minutes=30)) == 0  # it may still finish
    assert store.sweep_staging(STAGING_MAX_AGE, started + STAGING_MAX_AGE + timedelta(minutes=1)) == 1
    uploads = fs.call_s3("list_multipart_uploads", Bucket=BUCKET, Prefix=prefix)
    assert uploads.get("Uploads", []) == []


# ---------------------------------------------------------------- fills (silence over spoken identifiers)


def test_fill_overwrites_exactly_the_spans_keeps_the_length_and_is_idempotent(store: BlobStore) -> None:
    data = bytes(range(1, 256)) * 1000  # no byte of it is the fill
    store.put(KEY, data, "audio/wav")
    spans = ((10, 20), (CHUNK_SIZE - 5, CHUNK_SIZE + 5), (len(data) - 3, len(data) + 100))
    expected = bytearray(data)
    for start, stop in spans:
        expected[start : min(stop, len(data))] = b"\x00" * (min(stop, len(data)) - start)

    assert store.fill([Fill(KEY, spans, 0)]) == []
    assert _read(store, KEY) == bytes(expected)
    assert store.size(KEY) == len(data)  # a span past the end is cut, never grows the blob
    assert store.fill([Fill(KEY, spans, 0)]) == []
    assert _read(store, KEY) == bytes(expected)


def test_fill_reports_missing_keys_and_fills_the_others(store: BlobStore) -> None:
    store.put(KEY, b"abcdef", "audio/wav")
    missing = "recordings/sol-1/int-2/gone.wav"
    assert store.fill([Fill(missing, ((0, 2),), 0xFF), Fill(KEY, ((1, 3),), 0xFF)]) == [missing]
    assert _read(store, KEY) == b"a\xff\xffdef"
    assert not store.exists(missing)


def test_a_fill_on_s3_leaves_one_version_the_filled_one(s3_store: FsspecBlobStore) -> None:
    s3_store.put(KEY, b"secret voice", "audio/wav")
    s3_store.put(KEY + ".bak", b"neighbour", "audio/wav")
    before = _versions(s3_store, KEY + ".bak")

    assert s3_store.fill([Fill(KEY, ((0, 6),), ord("-"))]) == []

    assert [kind for kind, _, _ in _versions_of(s3_store, KEY)] == ["version"]
    assert _read(s3_store, KEY) == b"------ voice"
    assert _versions(s3_store, KEY + ".bak") == before


# ------------------------------------------- S3 versioning: "physically gone" (§11)

VERSIONED_BUCKET = "archivist-test-versioned"


@pytest.fixture(scope="module")
def versioned_bucket(s3_endpoint: str) -> str:
    """A second bucket on the moto server, with versioning enabled."""
    s3fs = pytest.importorskip("s3fs")
    admin = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint}, skip_instance_cache=True)
    admin.mkdir(VERSIONED_BUCKET)
    admin.make_bucket_versioned(VERSIONED_BUCKET)
    assert admin.is_bucket_versioned(VERSIONED_BUCKET)
    return VERSIONED_BUCKET


@pytest.fixture(params=["versioned", "unversioned"])
def s3_store(request: pytest.FixtureRequest, s3_endpoint: str) -> FsspecBlobStore:
    """An S3 store under a fresh prefix, on the versioned and on the plain bucket."""
    bucket = request.getfixturevalue("versioned_bucket") if request.param == "versioned" else BUCKET
    return _s3_store(bucket)


def _s3_store(bucket: str) -> FsspecBlobStore:
    store = make_blob_store(f"s3://{bucket}/{uuid.uuid4().hex}")
    assert isinstance(store, FsspecBlobStore)
    return store


def _versions(store: FsspecBlobStore, prefix: str) -> list[tuple[str, str, str]]:
    """(kind, store key, version id) of every version and delete marker under `prefix`."""
    bucket, root, _ = store._fs.split_path(store.root)
    page = store._fs.call_s3("list_object_versions", Bucket=bucket, Prefix=f"{root}/{prefix}")
    assert not page.get("IsTruncated")
    cut = len(root) + 1
    found = [("version", v["Key"][cut:], v["VersionId"]) for v in page.get("Versions", [])]
    found += [("marker", m["Key"][cut:], m["VersionId"]) for m in page.get("DeleteMarkers", [])]
    return sorted(found)


def _versions_of(store: FsspecBlobStore, key: str) -> list[tuple[str, str, str]]:
    """Like `_versions`, but only those of exactly `key` (not of `key + ".bak"`)."""
    return [v for v in _versions(store, key) if v[1] == key]


def test_s3_delete_leaves_no_version_or_marker_and_spares_prefix_neighbour(
    s3_store: FsspecBlobStore,
) -> None:
    neighbour = KEY + ".bak"
    s3_store.put(neighbour, b"backup take 1", "audio/wav")
    s3_store.put(neighbour, b"backup take 2", "audio/wav")
    s3_store.put(KEY, b"secret voice, take 1", "audio/wav")
    s3_store.put(KEY, b"secret voice, take 2", "audio/wav")
    bucket_versioned = s3_store._fs.is_bucket_versioned(s3_store._fs.split_path(s3_store.root)[0])
    before = _versions(s3_store, neighbour)
    assert len(before) == (2 if bucket_versioned else 1)
    assert len(_versions_of(s3_store, KEY)) == len(before)

    s3_store.delete(KEY)

    assert _versions_of(s3_store, KEY) == []
    assert _versions(s3_store, neighbour) == before
    assert not s3_store.exists(KEY)
    assert s3_store.list_keys() == [neighbour]
    assert _read(s3_store, neighbour) == b"backup take 2"


def test_s3_delete_of_missing_key_on_versioned_bucket_is_a_no_op(versioned_bucket: str) -> None:
    store = _s3_store(versioned_bucket)
    other = "recordings/sol-1/int-2/ffff.wav"
    store.put(other, b"keep me", "audio/wav")
    before = _versions(store, "recordings/")
    store.delete(KEY)
    # No delete marker appears for a key that never existed, and nothing else changes.
    assert _versions(store, "recordings/") == before
    assert store.list_keys() == [other]


def test_s3_delete_purges_markers_left_by_an_earlier_plain_delete(versioned_bucket: str) -> None:
    store = _s3_store(versioned_bucket)
    store.put(KEY, b"secret voice", "audio/wav")
    # What an older release's delete left behind: a marker hiding the real version.
    store._fs.rm_file(f"{store.root}/{KEY}")
    assert {kind for kind, _, _ in _versions_of(store, KEY)} == {"version", "marker"}
    store.delete(KEY)
    assert _versions_of(store, KEY) == []


def test_s3_delete_pages_through_many_versions(versioned_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from archivist.blobs import fsspec_store

    # One entry per page, so the purge has to follow KeyMarker/VersionIdMarker.
    monkeypatch.setattr(fsspec_store, "_S3_VERSIONS_PAGE", 1)
    store = _s3_store(versioned_bucket)
    neighbour = KEY + ".bak"
    for take in range(4):
        store.put(KEY, f"take {take}".encode(), "audio/wav")
        store.put(neighbour, f"take {take}".encode(), "audio/wav")
    store._fs.rm_file(f"{store.root}/{KEY}")
    kept = _versions(store, neighbour)
    assert len(kept) == 4
    assert len(_versions_of(store, KEY)) == 5

    store.delete(KEY)

    assert _versions_of(store, KEY) == []
    assert _versions(store, neighbour) == kept


def test_recordings_and_attachments_made_together_share_one_folder(tmp_path: Path) -> None:
    store = make_blob_store(tmp_path.as_uri())
    ids = new_ids(40)
    keys = [recordings.new_blob_key("sol-1", iid, "audio/wav") for iid in ids]
    keys += [attachments.new_blob_key("sol-1", index) for index in range(40)]
    for key in keys:
        store.put(key, b"RIFF", "application/octet-stream")
    assert len(set(keys)) == 80
    # One folder for each kind (a folder per interaction or message cost a directory a blob,
    # left behind empty when the blob went); each recording's key still names its interaction.
    assert len(list((tmp_path / "recordings" / "sol-1").iterdir())) == 1
    assert len(list((tmp_path / "attachments" / "sol-1").iterdir())) == 1
    assert all(iid in key for iid, key in zip(ids, keys, strict=False))
