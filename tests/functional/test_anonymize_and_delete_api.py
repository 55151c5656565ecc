"""*Anonymize and delete* through the API: one transaction, blobs really gone, crash-safe."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.archive import recordings
from archivist.archive.models import Interaction, PendingBlobDeletion, RawEvent
from archivist.blobs.memory import MemoryBlobStore
from archivist.demo.audio import make_wav
from tests.conftest import Clock, TokenMaker, auth

ACTION = "/api/v1/interactions/anonymize-and-delete"


def call(n: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "call",
        "direction": "inbound",
        "started_at": f"2026-03-01T09:{n:02d}:00+01:00",
        "queue": "Support",
        "customer": {"phone": "+4791234567", "email": "kari@example.com", "name": "Kari Nordmann"},
        "variables": {"order": "A-17", "note": "ring 91234567"},
        "events": [{"at": f"2026-03-01T09:{n:02d}:00+01:00", "type": "offered", "queue": "Support"}],
    }
    body.update(overrides)
    return body


def chat(n: int) -> dict[str, Any]:
    return call(
        n,
        channel="chat",
        messages=[{"at": f"2026-03-01T09:{n:02d}:05+01:00", "from": "customer", "text": "Hei, det er Kari"}],
    )


@pytest.fixture
def ingest_token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.ADMIN, solution)


@pytest.fixture
def officer(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.PRIVACY_OFFICER, solution)


def post(client: TestClient, token: str, bodies: list[dict[str, Any]]) -> list[str]:
    response = client.post("/api/v1/interactions/batch", json=bodies, headers=auth(token))
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()["ids"]
    return ids


def with_recording(client: TestClient, token: str, iid: str, seed: int = 1) -> None:
    response = client.put(
        f"/api/v1/interactions/{iid}/recording",
        content=make_wav(0.5, seed),
        headers={**auth(token), "Content-Type": "audio/wav"},
    )
    assert response.status_code == 204, response.text


def pending(factory: sessionmaker[Session]) -> list[PendingBlobDeletion]:
    with factory() as session:
        return list(session.scalars(select(PendingBlobDeletion)))


def test_deletes_recordings_and_content_and_anonymizes(
    client: TestClient, ingest_token: str, officer: str, blobs: MemoryBlobStore
) -> None:
    call_id, chat_id, untouched = post(client, ingest_token, [call(1), chat(2), call(3)])
    with_recording(client, ingest_token, call_id)
    with_recording(client, ingest_token, untouched, seed=2)
    assert len(blobs.list_keys("recordings/")) == 2

    response = client.post(ACTION, json={"ids": [call_id, chat_id]}, headers=auth(officer))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "anonymized": 2,
        "recordings_deleted": 1,
        "content_deleted": 1,
        "raw_data_rows": 0,
        "mentions_replaced": 0,
    }
    # The blob is really gone from the store; the untouched call keeps its own.
    remaining = blobs.list_keys("recordings/")
    assert len(remaining) == 1
    assert untouched in remaining[0]
    got = client.get(f"/api/v1/interactions/{call_id}", headers=auth(officer)).json()
    assert got["customer"] == {"phone": "Anonymized", "email": "Anonymized", "name": "Anonymized"}
    assert got["variables"] == {"order": "Anonymized", "note": "Anonymized"}
    assert got["has_recording"] is False
    assert got["anonymized"] is True
    assert got["anonymized_at"] is not None
    assert client.get(f"/api/v1/interactions/{call_id}/recording", headers=auth(officer)).status_code == 404
    assert client.get(f"/api/v1/interactions/{chat_id}/content", headers=auth(officer)).status_code == 404
    kept = client.get(f"/api/v1/interactions/{untouched}", headers=auth(officer)).json()
    assert kept["customer"]["phone"] == "91234567"
    assert kept["has_recording"] is True


def test_raw_data_rows_only_with_raw_data(
    client: TestClient, ingest_token: str, officer: str, session_factory: sessionmaker[Session]
) -> None:
    first, second = post(client, ingest_token, [call(1), call(2)])
    without = client.post(ACTION, json={"ids": [first]}, headers=auth(officer)).json()
    with_raw = client.post(ACTION, json={"ids": [second], "raw_data": True}, headers=auth(officer)).json()
    assert without["raw_data_rows"] == 0
    assert with_raw["raw_data_rows"] == 1
    with session_factory() as session:
        rows = session.execute(select(RawEvent.interaction_id, RawEvent.customer))
        customers: dict[str | None, str | None] = dict(rows.all())
    assert customers[first] == "+4791234567"
    assert customers[second] == "Anonymized"


def test_uses_the_solutions_replacement_text(
    client: TestClient, ingest_token: str, officer: str, session_factory: sessionmaker[Session], solution: Solution
) -> None:
    with session_factory() as session, session.begin():
        own = session.get(Solution, solution.id)
        assert own is not None
        own.replacement = "Slettet"
    (iid,) = post(client, ingest_token, [call(1)])
    client.post(ACTION, json={"ids": [iid]}, headers=auth(officer))
    got = client.get(f"/api/v1/interactions/{iid}", headers=auth(officer)).json()
    assert got["customer"]["phone"] == "Slettet"


def test_unknown_or_other_solutions_id_is_404_and_nothing_changes(
    client: TestClient,
    ingest_token: str,
    officer: str,
    make_token: TokenMaker,
    other_solution: Solution,
    blobs: MemoryBlobStore,
) -> None:
    (mine,) = post(client, ingest_token, [call(1)])
    with_recording(client, ingest_token, mine)
    (theirs,) = post(client, make_token(Role.ADMIN, other_solution), [call(2)])

    for ids in ([mine, theirs], [mine, "0" * 32]):
        response = client.post(ACTION, json={"ids": ids}, headers=auth(officer))
        assert response.status_code == 404
        assert response.json()["detail"] == "Interaction not found"

    got = client.get(f"/api/v1/interactions/{mine}", headers=auth(officer)).json()
    assert got["customer"]["phone"] == "91234567"
    assert got["has_recording"] is True
    assert len(blobs.list_keys("recordings/")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"ids": []},  # nothing chosen
        {"ids": ["x"] * 1001},  # over the limit
        {"ids": ["x"], "raw_data": "perhaps"},  # not a boolean
        {"ids": ["x"], "extra": 1},  # unknown field
    ],
)
def test_bad_body_is_422(client: TestClient, officer: str, body: dict[str, Any]) -> None:
    assert client.post(ACTION, json=body, headers=auth(officer)).status_code == 422


def test_supervisor_may_not(client: TestClient, ingest_token: str, make_token: TokenMaker, solution: Solution) -> None:
    (iid,) = post(client, ingest_token, [call(1)])
    supervisor = make_token(Role.SUPERVISOR, solution)
    assert client.post(ACTION, json={"ids": [iid]}, headers=auth(supervisor)).status_code == 403
    assert client.post(ACTION, json={"ids": [iid]}).status_code == 401


def test_repeated_ids_count_once(client: TestClient, ingest_token: str, officer: str) -> None:
    (iid,) = post(client, ingest_token, [call(1)])
    result = client.post(ACTION, json={"ids": [iid, iid]}, headers=auth(officer)).json()
    assert result["anonymized"] == 1


class ProcessDiedError(Exception):
    """Stands in for the process dying between the commit and the blob deletion."""


def test_crash_after_commit_leaves_pending_deletion_that_a_later_drain_finishes(
    client: TestClient,
    ingest_token: str,
    officer: str,
    blobs: MemoryBlobStore,
    session_factory: sessionmaker[Session],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (iid,) = post(client, ingest_token, [call(1)])
    with_recording(client, ingest_token, iid)
    (key,) = blobs.list_keys("recordings/")

    def die(*_: object) -> int:
        raise ProcessDiedError

    monkeypatch.setattr(recordings, "drain_pending_blobs", die)
    # The one error handler answers the crash as a JSON 500 (the process "died" after the commit).
    died = client.post(ACTION, json={"ids": [iid]}, headers=auth(officer))
    assert died.status_code == 500
    assert "detail" in died.json()
    monkeypatch.undo()

    # The database committed: the interaction no longer points at audio …
    got = client.get(f"/api/v1/interactions/{iid}", headers=auth(officer)).json()
    assert got["has_recording"] is False
    assert got["anonymized"] is True
    # … and the orphaned blob is remembered, so the next drain removes it.
    assert [p.blob_key for p in pending(session_factory)] == [key]
    assert blobs.exists(key)
    assert recordings.drain_pending_blobs(session_factory, blobs, clock()) == 1
    assert not blobs.exists(key)
    assert pending(session_factory) == []


class FlakyStore(MemoryBlobStore):
    """A real in-memory store whose deletions fail until told otherwise (an S3 outage)."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = True

    def delete(self, key: str) -> None:
        if self.failing:
            raise OSError("blob store unavailable")
        super().delete(key)


def test_blob_store_failure_is_retried_later(
    ingest_token: str,
    officer: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    app: Any,
) -> None:
    store = FlakyStore()
    app.state.services.blobs = store
    with TestClient(app) as client:
        (iid,) = post(client, ingest_token, [call(1)])
        store.failing = False
        with_recording(client, ingest_token, iid)
        (key,) = store.list_keys("recordings/")
        store.failing = True

        response = client.post(ACTION, json={"ids": [iid]}, headers=auth(officer))

    # The user's action succeeded; the audio deletion is owed, not lost.
    assert response.status_code == 200
    assert response.json()["recordings_deleted"] == 1
    (row,) = pending(session_factory)
    assert row.attempts == 1
    assert row.not_before > clock()
    assert store.exists(key)
    # Not due yet: a drain right away leaves it alone.
    assert recordings.drain_pending_blobs(session_factory, store, clock()) == 0
    store.failing = False
    clock.advance(hours=2)
    assert recordings.drain_pending_blobs(session_factory, store, clock()) == 1
    assert not store.exists(key)
    assert pending(session_factory) == []


def test_is_one_transaction(
    client: TestClient,
    ingest_token: str,
    officer: str,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure half-way (after the recordings, before the anonymisation) changes nothing."""
    (iid,) = post(client, ingest_token, [chat(1)])
    from archivist.anonymize import erasure

    def broken(*_: object, **__: object) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(erasure, "rewrite_interactions", broken)
    failed = client.post(ACTION, json={"ids": [iid]}, headers=auth(officer))
    assert failed.status_code == 500
    # The answer carries no exception text (it may quote identifiers).
    assert "database went away" not in failed.text
    with session_factory() as session:
        row = session.get(Interaction, iid)
        assert row is not None
        assert row.has_content is True
        assert row.customer_phone_e164 == "+4791234567"
        assert session.scalar(select(func.count()).select_from(PendingBlobDeletion)) == 0
