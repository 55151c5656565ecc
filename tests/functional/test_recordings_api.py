"""Recordings through the API: upload, stream with Range, delete for real, tenants."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.archive.models import PendingBlobDeletion
from archivist.blobs.memory import MemoryBlobStore
from archivist.demo.audio import make_wav
from archivist.web.streaming import parse_range
from tests.conftest import TokenMaker, auth

WAV = make_wav(1.0, seed=7)  # 16,044 bytes


@pytest.fixture
def admin(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.ADMIN, solution)


@pytest.fixture
def iid(client: TestClient, admin: str) -> str:
    body = {"channel": "call", "direction": "inbound", "started_at": "2026-03-01T09:00:00+01:00"}
    created = client.post("/api/v1/interactions", json=body, headers=auth(admin))
    interaction_id: str = created.json()["id"]
    response = client.put(
        f"/api/v1/interactions/{interaction_id}/recording",
        content=WAV,
        headers={**auth(admin), "Content-Type": "audio/wav"},
    )
    assert response.status_code == 204, response.text
    return interaction_id


def test_whole_recording_streams_with_accept_ranges(client: TestClient, admin: str, iid: str) -> None:
    response = client.get(f"/api/v1/interactions/{iid}/recording", headers=auth(admin))
    assert response.status_code == 200
    assert response.content == WAV
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "audio/wav"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),  # the first hundred bytes
        ("bytes=16000-", 16000, len(WAV) - 1),  # open-ended, as players ask when seeking
        ("bytes=-44", len(WAV) - 44, len(WAV) - 1),  # suffix: the last 44 bytes
        ("bytes=100-999999", 100, len(WAV) - 1),  # end past the file is clamped
    ],
)
def test_range_is_honoured(client: TestClient, admin: str, iid: str, header: str, start: int, end: int) -> None:
    response = client.get(f"/api/v1/interactions/{iid}/recording", headers={**auth(admin), "Range": header})
    assert response.status_code == 206
    assert response.content == WAV[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(WAV)}"


def test_unsatisfiable_range_is_416(client: TestClient, admin: str, iid: str) -> None:
    response = client.get(f"/api/v1/interactions/{iid}/recording", headers={**auth(admin), "Range": "bytes=99999-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(WAV)}"
    # Every 4xx says why (CONTRACT §18): a player's console shows it.
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", (0, 0)),  # one byte
        ("bytes=0-1,5-6", None),  # multiple ranges: whole file
        ("items=0-1", None),  # another unit: whole file
        ("bytes=-", None),  # neither end
    ],
)
def test_parse_range(header: str, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 100) == expected


def test_delete_recording_removes_the_blob_from_the_store(
    client: TestClient, admin: str, iid: str, blobs: MemoryBlobStore, session_factory: sessionmaker[Session]
) -> None:
    assert len(blobs.list_keys("recordings/")) == 1
    assert client.delete(f"/api/v1/interactions/{iid}/recording", headers=auth(admin)).status_code == 204
    assert blobs.list_keys("recordings/") == []
    with session_factory() as session:
        assert list(session.scalars(select(PendingBlobDeletion))) == []
    assert client.get(f"/api/v1/interactions/{iid}/recording", headers=auth(admin)).status_code == 404
    assert client.get(f"/api/v1/interactions/{iid}", headers=auth(admin)).json()["has_recording"] is False
    assert client.delete(f"/api/v1/interactions/{iid}/recording", headers=auth(admin)).status_code == 404


def test_replacing_a_recording_leaves_only_the_new_blob(
    client: TestClient, admin: str, iid: str, blobs: MemoryBlobStore
) -> None:
    again = client.put(
        f"/api/v1/interactions/{iid}/recording",
        content=make_wav(0.5, seed=8),
        headers={**auth(admin), "Content-Type": "audio/wav"},
    )
    assert again.status_code == 204
    assert len(blobs.list_keys("recordings/")) == 1
    assert client.get(f"/api/v1/interactions/{iid}/recording", headers=auth(admin)).content == make_wav(0.5, seed=8)


def test_other_solution_cannot_play_or_delete(
    client: TestClient, iid: str, make_token: TokenMaker, other_solution: Solution, blobs: MemoryBlobStore
) -> None:
    other = make_token(Role.ADMIN, other_solution)
    assert client.get(f"/api/v1/interactions/{iid}/recording", headers=auth(other)).status_code == 404
    assert client.delete(f"/api/v1/interactions/{iid}/recording", headers=auth(other)).status_code == 404
    assert len(blobs.list_keys("recordings/")) == 1


def test_supervisor_plays_but_may_not_delete(
    client: TestClient, iid: str, make_token: TokenMaker, solution: Solution
) -> None:
    supervisor = make_token(Role.SUPERVISOR, solution)
    assert client.get(f"/api/v1/interactions/{iid}/recording", headers=auth(supervisor)).status_code == 200
    assert client.delete(f"/api/v1/interactions/{iid}/recording", headers=auth(supervisor)).status_code == 403
