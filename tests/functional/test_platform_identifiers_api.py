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


def test_customer_fields_stored_still_encoded_are_read_like_texts_and_erased_by_the_night(
    client: TestClient, token: str
) -> None:
    # An integration that stored the caller id and the address as a web form sent them (issue 21).
    created = client.post(
        "/api/v1/interactions",
        json=body(phone="&#43;47 912 34 567", email="kari&#64;example.no"),
        headers=auth(token),
    )
    assert created.status_code == 201, created.text
    assert created.json()["customer"]["email"] == "kari@example.no"
    for query in ({"phone": "91234567"}, {"email": "kari@example.no"}):
        found = client.get("/api/v1/interactions", params=query, headers=auth(token)).json()["items"]
        assert [item["id"] for item in found] == [created.json()["id"]]
    request = {"phone": "91234567", "email": "kari@example.no"}
    assert client.post("/api/v1/anonymization-requests", json=request, headers=auth(token)).status_code == 201
    assert client.post("/api/v1/nightly-runs", headers=auth(token)).json()["interactions"] == 1
    shown = client.get(f"/api/v1/interactions/{created.json()['id']}", headers=auth(token)).json()
    assert shown["anonymized"] is True
    assert "912" not in str(shown["customer"])
    assert "kari" not in str(shown["customer"]).lower()
