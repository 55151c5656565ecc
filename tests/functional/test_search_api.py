"""Searching the archive through the API: filters, normalised identifiers, keyset pages, tenants."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from archivist.accounts.models import Role, Solution
from tests.conftest import TokenMaker, auth

SEARCH = "/api/v1/interactions"


def interaction(n: int, **overrides: Any) -> dict[str, Any]:
    """Interaction number ``n``: one a minute from 2026-03-01 09:00 Oslo, a call from Kari."""
    body: dict[str, Any] = {
        "channel": "call",
        "direction": "inbound",
        "started_at": f"2026-03-01T09:{n:02d}:00+01:00",
        "ended_at": f"2026-03-01T09:{n:02d}:45+01:00",
        "queue": "Support",
        "agent": "Ola",
        "external_id": f"ext-{n}",
        "customer": {"phone": "+4791234567", "name": "Kari Nordmann"},
        "variables": {"order": "A-17"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def ingest_token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.INGEST, solution)


@pytest.fixture
def token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.SUPERVISOR, solution)


def post(client: TestClient, ingest_token: str, bodies: list[dict[str, Any]]) -> list[str]:
    response = client.post("/api/v1/interactions/batch", json=bodies, headers=auth(ingest_token))
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()["ids"]
    return ids


def search(client: TestClient, token: str, **params: Any) -> dict[str, Any]:
    response = client.get(SEARCH, params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize(
    "typed",
    [
        "91234567",  # national, as the seed says to type it
        "912 34 567",  # with spaces
        "+47 912 34 567",  # international with +
        "0047 91234567",  # international with 00
        "(+47) 91234567",  # bracketed country code
        "912-34-567",  # dashes
    ],
)
def test_phone_in_any_accepted_form_finds_the_stored_number(
    client: TestClient, ingest_token: str, token: str, typed: str
) -> None:
    (iid,) = post(client, ingest_token, [interaction(1)])
    post(client, ingest_token, [interaction(2, customer={"phone": "+4798765432"})])
    found = search(client, token, phone=typed)
    assert [i["id"] for i in found["items"]] == [iid]
    assert found["items"][0]["customer"]["phone"] == "91234567"


def test_foreign_number_is_shown_with_00(client: TestClient, ingest_token: str, token: str) -> None:
    post(client, ingest_token, [interaction(1, customer={"phone": "+46701234567"})])
    found = search(client, token, phone="0046701234567")
    assert found["items"][0]["customer"]["phone"] == "0046701234567"


def test_email_matches_case_insensitively_after_trimming(client: TestClient, ingest_token: str, token: str) -> None:
    (iid,) = post(client, ingest_token, [interaction(1, channel="email", customer={"email": "Kari@Example.com"})])
    post(client, ingest_token, [interaction(2, channel="email", customer={"email": "ola@example.com"})])
    found = search(client, token, email="  KARI@example.COM ")
    assert [i["id"] for i in found["items"]] == [iid]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"phone": "abc"}, "phone"),  # letters
        ({"phone": "123"}, "phone"),  # too short
        ({"email": "not-an-address"}, "email"),  # no @
        ({"from": "2026-03-01"}, "from"),  # a date without time or offset
        ({"to": "2026-03-01T10:00:00"}, "to"),  # no offset
        ({"channel": "fax"}, "channel"),  # not a channel
        ({"direction": "sideways"}, "direction"),  # not a direction
        ({"limit": "501"}, "limit"),  # over the maximum
        ({"limit": "0"}, "limit"),  # under the minimum
        ({"cursor": "garbage!"}, "cursor"),  # not one of ours
    ],
)
def test_invalid_filter_is_422_naming_it(client: TestClient, token: str, params: dict[str, str], field: str) -> None:
    response = client.get(SEARCH, params=params, headers=auth(token))
    assert response.status_code == 422
    assert response.json()["detail"].startswith(field), response.json()


def test_invalid_phone_message_says_what_to_type_and_not_the_input(client: TestClient, token: str) -> None:
    detail = client.get(SEARCH, params={"phone": "kari91234"}, headers=auth(token)).json()["detail"]
    assert "without country code" in detail
    assert "kari91234" not in detail


def test_filters_combine(client: TestClient, ingest_token: str, token: str) -> None:
    ids = post(
        client,
        ingest_token,
        [
            interaction(1),
            interaction(2, queue="Sales"),
            interaction(3, agent="Per"),
            interaction(4, direction="outbound"),
            interaction(5, channel="chat"),
        ],
    )
    assert [i["id"] for i in search(client, token, queue="Sales")["items"]] == [ids[1]]
    assert [i["id"] for i in search(client, token, agent="Per")["items"]] == [ids[2]]
    assert [i["id"] for i in search(client, token, direction="outbound")["items"]] == [ids[3]]
    assert [i["id"] for i in search(client, token, channel="chat")["items"]] == [ids[4]]
    both = search(client, token, queue="Support", agent="Ola", channel="call", direction="inbound")
    assert [i["id"] for i in both["items"]] == [ids[0]]


def test_time_range_is_from_inclusive_to_exclusive(client: TestClient, ingest_token: str, token: str) -> None:
    ids = post(client, ingest_token, [interaction(n) for n in (1, 2, 3)])
    found = search(client, token, **{"from": "2026-03-01T09:02:00+01:00", "to": "2026-03-01T09:03:00+01:00"})
    assert [i["id"] for i in found["items"]] == [ids[1]]


def test_unencoded_plus_in_offset_is_understood(client: TestClient, ingest_token: str, token: str) -> None:
    ids = post(client, ingest_token, [interaction(n) for n in (1, 2)])
    # curl users write "+01:00" unencoded; it arrives as a space.
    response = client.get(f"{SEARCH}?from=2026-03-01T09:02:00+01:00", headers=auth(token))
    assert [i["id"] for i in response.json()["items"]] == [ids[1]]


def test_newest_first_and_pages_cover_everything_once(client: TestClient, ingest_token: str, token: str) -> None:
    bodies = [interaction(n) for n in range(7)]
    # Two at the very same instant: the id breaks the tie, so neither is skipped or repeated.
    bodies.append(interaction(7, started_at="2026-03-01T09:03:00+01:00", ended_at=None))
    ids = post(client, ingest_token, bodies)
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = search(client, token, **params)
        seen.extend(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(i["id"] for i in seen) == sorted(ids)
    keys = [(i["started_at"], i["id"]) for i in seen]
    assert keys == sorted(keys, reverse=True)


def test_last_page_has_no_cursor(client: TestClient, ingest_token: str, token: str) -> None:
    post(client, ingest_token, [interaction(n) for n in range(3)])
    assert search(client, token, limit=3)["next_cursor"] is None


def test_default_limit_is_50(client: TestClient, ingest_token: str, token: str) -> None:
    post(client, ingest_token, [interaction(n) for n in range(55)])
    page = search(client, token)
    assert len(page["items"]) == 50
    assert page["next_cursor"]


def test_other_solutions_interactions_are_never_found(
    client: TestClient, ingest_token: str, make_token: TokenMaker, other_solution: Solution
) -> None:
    post(client, ingest_token, [interaction(1)])
    other = make_token(Role.SUPERVISOR, other_solution)
    assert search(client, other)["items"] == []
    assert search(client, other, phone="+4791234567")["items"] == []


def test_search_needs_a_token_and_a_searching_role(client: TestClient, ingest_token: str) -> None:
    assert client.get(SEARCH).status_code == 401
    assert client.get(SEARCH, headers=auth(ingest_token)).status_code == 403


def test_unparseable_caller_is_kept_and_matches_nothing(client: TestClient, ingest_token: str, token: str) -> None:
    post(client, ingest_token, [interaction(1, customer={"phone": "anonymous"})])
    everything = search(client, token)["items"]
    assert everything[0]["customer"]["phone"] == "anonymous"
    assert search(client, token, phone="91234567")["items"] == []


def test_anonymized_identifier_finds_nothing_but_general_search_shows_replacement(
    client: TestClient, ingest_token: str, make_token: TokenMaker, solution: Solution, token: str
) -> None:
    ids = post(
        client,
        ingest_token,
        [
            interaction(1, customer={"phone": "+4791234567", "email": "kari@example.com", "name": "Kari"}),
            interaction(2, customer={"phone": "+4798765432"}),
        ],
    )
    officer = make_token(Role.PRIVACY_OFFICER, solution)
    done = client.post("/api/v1/interactions/anonymize-and-delete", json={"ids": [ids[0]]}, headers=auth(officer))
    assert done.status_code == 200, done.text
    # The seed: a search for an anonymized number or address returns nothing …
    assert search(client, token, phone="91234567")["items"] == []
    assert search(client, token, email="kari@example.com")["items"] == []
    # … while a search by queue shows the request without the caller's identity.
    by_queue = {i["id"]: i for i in search(client, token, queue="Support")["items"]}
    assert by_queue[ids[0]]["customer"] == {"phone": "Anonymized", "email": "Anonymized", "name": "Anonymized"}
    assert by_queue[ids[0]]["anonymized"] is True
    assert by_queue[ids[0]]["variables"] == {"order": "Anonymized"}
    assert by_queue[ids[1]]["customer"]["phone"] == "98765432"


def test_search_terms_never_reach_the_access_log(
    client: TestClient, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="archivist.access"):
        client.get(SEARCH, params={"phone": "91234567", "email": "kari@example.com"}, headers=auth(token))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/api/v1/interactions" in logged
    assert "91234567" not in logged
    assert "kari" not in logged
