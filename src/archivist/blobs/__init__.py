"""Recording storage: the `BlobStore` contract and `make_blob_store(url)` to pick a backend."""

from __future__ import annotations

import os
from typing import Any

from archivist.blobs._common import filled, stream_reader
from archivist.blobs.interfaces import BlobNotFound, BlobStore, Fill

__all__ = ["S3_ENDPOINT_ENV", "BlobNotFound", "BlobStore", "Fill", "filled", "make_blob_store", "stream_reader"]

# Points s3:// stores at MinIO, moto or another S3-compatible server instead of AWS.
S3_ENDPOINT_ENV = "ARCHIVIST_S3_ENDPOINT_URL"


def make_blob_store(url: str) -> BlobStore:
    """Build the store a URL names: ``memory://``, ``file:///dir`` or ``s3://bucket/prefix``.

    ``memory://`` gives a fresh, empty store on every call. For S3, credentials and
    region come from the standard ``AWS_*`` variables, read by botocore itself.
    """
    if url.startswith("memory://"):
        from archivist.blobs.memory import MemoryBlobStore

        return MemoryBlobStore()
    # Imported lazily so memory-only deployments and tests never import fsspec.
    from archivist.blobs.fsspec_store import FsspecBlobStore

    options: dict[str, Any] = {}
    if url.startswith(("s3://", "s3a://")):
        endpoint = os.environ.get(S3_ENDPOINT_ENV, "").strip()
        if endpoint:
            options["client_kwargs"] = {"endpoint_url": endpoint}
    return FsspecBlobStore(url, **options)
