"""Ingestion through the HTTP API: shapes, idempotency, all-or-nothing batches, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.archive.models import ChatMessage, EmailBody, Interaction, RawEvent
from tests.conftest import TokenMaker, auth


def call(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "call",
        "direction": "inbound",
        "started_at": "2026-03-01T09:00:00+01:00",
        "ended_at": "2026-03-01T09:04:30+01:00",
        "queue": "Support",
        "agent": "Ola",
        "external_id": "pbx-1",
        "customer": {"phone": "+4791234567", "name": "Kari Nordmann"},
        "service_number": "+4722000000",
        "variables": {"ivr_choice": "2"},
        "events": [
            {"at": "2026-03-01T09:00:00+01:00", "type": "offered", "queue": "Support"},
            {"at": "2026-03-01T09:00:20+01:00", "type": "answered", "queue": "Support", "agent": "Ola"},
        ],
    }
    body.update(overrides)
    return body


def chat(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "chat",
        "direction": "inbound",
        "started_at": "2026-03-01T10:00:00+01:00",
        "external_id": "chat-1",
        "customer": {"email": "Kari.Nordmann@Example.com"},
        "messages": [
            {"at": "2026-03-01T10:00:01+01:00", "from": "customer", "text": "Hei"},
            {"at": "2026-03-01T10:00:09+01:00", "from": "agent", "text": "Hei, hva kan jeg hjelpe med?"},
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def ingest_token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.INGEST, solution)


@pytest.fixture
def reader_token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.SUPERVISOR, solution)


def count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_posted_call_reads_back_as_general_information(
    client: TestClient, ingest_token: str, reader_token: str
) -> None:
    created = client.post("/api/v1/interactions", json=call(), headers=auth(ingest_token))
    assert created.status_code == 201, created.text
    got = client.get(f"/api/v1/interactions/{created.json()['id']}", headers=auth(reader_token)).json()
    assert got["customer"] == {"phone": "91234567", "email": None, "name": "Kari Nordmann"}
    assert got["duration_s"] == 270
    # Bulk writes bypass SQLAlchemy's type processing; the time must still read back exactly.
    assert got["started_at"] == "2026-03-01T08:00:00Z"
    assert got["channel"] == "call"
    assert got["has_recording"] is False
    assert got["anonymized"] is False
    assert got["variables"] == {"ivr_choice": "2"}


def test_same_external_id_again_returns_existing_unchanged(
    client: TestClient, ingest_token: str, session_factory: sessionmaker[Session]
) -> None:
    first = client.post("/api/v1/interactions", json=call(), headers=auth(ingest_token))
    again = client.post("/api/v1/interactions", json=call(queue="Sales"), headers=auth(ingest_token))
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["queue"] == "Support"
    assert count(session_factory, RawEvent) == 2


def test_chat_log_is_content(client: TestClient, ingest_token: str, reader_token: str) -> None:
    iid = client.post("/api/v1/interactions", json=chat(), headers=auth(ingest_token)).json()["id"]
    content = client.get(f"/api/v1/interactions/{iid}/content", headers=auth(reader_token))
    assert content.status_code == 200
    assert [m["from"] for m in content.json()["messages"]] == ["customer", "agent"]


def test_email_body_and_subject_are_content(client: TestClient, ingest_token: str, reader_token: str) -> None:
    body = {
        "channel": "email",
        "direction": "inbound",
        "started_at": "2026-03-01T11:00:00+01:00",
        "customer": {"email": "kari@example.com"},
        "subject": "Faktura",
        "body": "Hei,\nfakturaen er feil.",
    }
    iid = client.post("/api/v1/interactions", json=body, headers=auth(ingest_token)).json()["id"]
    content = client.get(f"/api/v1/interactions/{iid}/content", headers=auth(reader_token)).json()
    # An email posted as JSON has no HTML, headers or attachments (those come with MIME, CONTRACT §15).
    assert content == {
        "subject": "Faktura",
        "body": "Hei,\nfakturaen er feil.",
        "html": None,
        "headers": {"from": None, "to": None, "cc": None, "reply_to": None},
        "attachments": [],
    }


def test_anonymous_caller_is_kept_as_sent(client: TestClient, ingest_token: str, reader_token: str) -> None:
    iid = client.post(
        "/api/v1/interactions", json=call(customer={"phone": "anonymous"}), headers=auth(ingest_token)
    ).json()["id"]
    got = client.get(f"/api/v1/interactions/{iid}", headers=auth(reader_token)).json()
    assert got["customer"]["phone"] == "anonymous"


def test_batch_writes_all(client: TestClient, ingest_token: str, session_factory: sessionmaker[Session]) -> None:
    bodies = [call(external_id=f"b-{i}") for i in range(5)] + [chat()]
    response = client.post("/api/v1/interactions/batch", json=bodies, headers=auth(ingest_token))
    assert response.status_code == 200, response.text
    assert len(set(response.json()["ids"])) == 6
    assert count(session_factory, Interaction) == 6
    assert count(session_factory, ChatMessage) == 2


def test_batch_with_one_bad_item_writes_nothing(
    client: TestClient, ingest_token: str, session_factory: sessionmaker[Session]
) -> None:
    bodies = [call(external_id="ok-1"), call(external_id="bad", channel="fax")]
    response = client.post("/api/v1/interactions/batch", json=bodies, headers=auth(ingest_token))
    assert response.status_code == 422
    assert "1.channel" in response.json()["detail"]
    assert count(session_factory, Interaction) == 0


def test_batch_over_the_limit_is_refused(client: TestClient, ingest_token: str) -> None:
    bodies = [call(external_id=f"x-{i}") for i in range(1001)]
    response = client.post("/api/v1/interactions/batch", json=bodies, headers=auth(ingest_token))
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (call(channel="fax"), "channel"),  # unknown channel
        (call(ended_at="2026-03-01T08:00:00+01:00"), "ended_at"),  # ends before it starts
        (call(queue="q" * 201), "queue"),  # over-long field
        (call(started_at="2026-03-01T09:00:00"), "started_at"),  # time without an offset
        (call(messages=[]), "messages"),  # a chat log on a call
        (call(customer={"phone": "1", "fax": "2"}), "customer.fax"),  # unknown field
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, ingest_token: str, session_factory: sessionmaker[Session], body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/interactions", json=body, headers=auth(ingest_token))
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert count(session_factory, Interaction) == 0


def test_malformed_json_is_422(client: TestClient, ingest_token: str) -> None:
    response = client.post(
        "/api/v1/interactions",
        content=b'{"channel": "call",',
        headers={**auth(ingest_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "JSON" in response.json()["detail"]


def test_validation_errors_do_not_echo_personal_data(client: TestClient, ingest_token: str) -> None:
    canary = "canary.person@example.org"
    response = client.post(
        "/api/v1/interactions", json=call(customer={"email": canary * 20}), headers=auth(ingest_token)
    )
    assert response.status_code == 422
    assert "canary" not in response.text


def test_body_over_the_limit_is_413(client: TestClient, ingest_token: str, app) -> None:  # type: ignore[no-untyped-def]
    limit = app.state.services.settings.max_json_bytes
    response = client.post(
        "/api/v1/interactions",
        content=b"x" * (limit + 1),
        headers={**auth(ingest_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_without_token_401_and_wrong_role_403(client: TestClient, reader_token: str) -> None:
    assert client.post("/api/v1/interactions", json=call()).status_code == 401
    assert client.post("/api/v1/interactions", json=call(), headers=auth("arch_nope")).status_code == 401
    assert client.post("/api/v1/interactions", json=call(), headers=auth(reader_token)).status_code == 403


def test_other_solutions_interaction_is_404(
    client: TestClient, make_token: TokenMaker, ingest_token: str, other_solution: Solution
) -> None:
    iid = client.post("/api/v1/interactions", json=call(), headers=auth(ingest_token)).json()["id"]
    outsider = make_token(Role.ADMIN, other_solution)
    assert client.get(f"/api/v1/interactions/{iid}", headers=auth(outsider)).status_code == 404
    assert client.get(f"/api/v1/interactions/{iid}/content", headers=auth(outsider)).status_code == 404
    assert client.get("/api/v1/interactions/doesnotexist", headers=auth(outsider)).status_code == 404


def test_email_normalised_beside_what_is_shown(
    client: TestClient, ingest_token: str, session_factory: sessionmaker[Session]
) -> None:
    client.post("/api/v1/interactions", json=chat(), headers=auth(ingest_token))
    with session_factory() as session:
        row = session.scalars(select(Interaction)).one()
        assert row.customer_email == "Kari.Nordmann@Example.com"
        assert row.customer_email_norm == "kari.nordmann@example.com"
        assert session.scalar(select(func.count()).select_from(EmailBody)) == 0
