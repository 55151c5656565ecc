"""Customer identifiers in platform forms through the API (CONTRACT §16 amends §5)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from archivist.accounts.models import Role, Solution
from tests.conftest import TokenMaker, auth


def body(**customer: str) -> dict[str, Any]:
    return {
        "channel": "call",
        "direction": "inbound",
        "started_at": "2026-03-01T09:00:00+01:00",
        "customer": customer,
    }


@pytest.fixture
def token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.ADMIN, solution)


def test_platform_forms_are_stored_normalised_and_shown_plain(client: TestClient, token: str) -> None:
    created = client.post(
        "/api/v1/interactions",
        json=body(phone="sip:+4791234567@pbx.example.com;user=phone", email='"Nordmann, Kari" <Kari@Example.com>'),
        headers=auth(token),
    )
    assert created.status_code == 201, created.text
    customer = created.json()["customer"]
    assert customer == {"phone": "91234567", "email": "Kari@Example.com", "name": "Nordmann, Kari"}
    # Search takes any accepted form and matches the normalised identifier.
    for query in ({"phone": "91234567"}, {"email": "kari@example.com"}):
        found = client.get("/api/v1/interactions", params=query, headers=auth(token)).json()["items"]
        assert [item["id"] for item in found] == [created.json()["id"]]


def test_an_unreadable_customer_email_is_refused_and_not_stored(client: TestClient, token: str) -> None:
    refused = client.post("/api/v1/interactions", json=body(email="no-at-sign.example.org"), headers=auth(token))
    assert refused.status_code == 422
    assert "no-at-sign" not in refused.text  # the message says what to type, never the input
    batch = client.post(
        "/api/v1/interactions/batch",
        json=[body(email="kari@example.com"), body(email="Kari <kari@example.com")],
        headers=auth(token),
    )
    assert batch.status_code == 422
    assert client.get("/api/v1/interactions", headers=auth(token)).json()["items"] == []


def test_a_withheld_sip_caller_is_kept_as_it_came_and_matches_nothing(client: TestClient, token: str) -> None:
    created = client.post("/api/v1/interactions", json=body(phone="sip:anonymous@pbx.example.com"), headers=auth(token))
    assert created.status_code == 201, created.text
    assert created.json()["customer"]["phone"] == "sip:anonymous@pbx.example.com"
