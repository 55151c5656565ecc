"""Importing an export straight from S3 (an fsspec URL, CONTRACT §16), on moto's S3 server.

The export is docs/examples/amazon-connect, laid out as Amazon Connect writes it to its bucket
(https://docs.aws.amazon.com/connect/latest/adminguide/amazon-connect-instance.html: contact
records, ChatTranscripts/, CallRecordings/, Analysis/Voice/).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.mentions import MentionKeyring
from archivist.blobs.memory import MemoryBlobStore
from archivist.importers import ImportFormat, SourceUnreadable
from tests.functional.import_support import EXAMPLES, by_external_id, recording_key, run
from tests.unit.test_blobs import BUCKET, s3_endpoint  # noqa: F401 - the moto server fixture

VOICE = "6c3a1c4e-1d2b-4c5d-9e8f-0a1b2c3d4e5f"


def test_an_export_in_a_bucket_imports_like_a_folder(
    s3_endpoint: str,  # noqa: F811 - the fixture imported above
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    keyring: MentionKeyring,
) -> None:
    s3fs = pytest.importorskip("s3fs")
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint}, skip_instance_cache=True)
    prefix = f"{BUCKET}/connect-{uuid.uuid4().hex}"
    source = EXAMPLES / "amazon-connect"
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        fs.put_file(str(path), f"{prefix}/{path.relative_to(source).as_posix()}")
    summary = run(ImportFormat.AMAZON_CONNECT, f"s3://{prefix}", session_factory, solution, blobs, keyring)
    assert (summary.read, summary.created, summary.recordings, summary.transcripts) == (5, 4, 1, 2)
    assert summary.bad == []
    voice = by_external_id(session_factory, VOICE)
    key = recording_key(session_factory, voice.id)
    assert key is not None
    wav = next((source / "CallRecordings").rglob("*.wav")).read_bytes()
    assert b"".join(blobs.open_range(key)) == wav
    with pytest.raises(SourceUnreadable):
        run(ImportFormat.AMAZON_CONNECT, f"s3://{BUCKET}/no-such-prefix", session_factory, solution, blobs, keyring)
