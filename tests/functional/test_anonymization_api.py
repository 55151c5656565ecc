"""The anonymization-requests API (CONTRACT §6): enter, list, cancel, preview, run the night."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize.requests import GDPR_RESPONSE_MONTHS
from archivist.blobs.memory import MemoryBlobStore
from archivist.times import months_after
from tests.conftest import Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, chat, night, oslo

URL = "/api/v1/anonymization-requests"


@pytest.fixture
def officer(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.PRIVACY_OFFICER, solution))


@pytest.fixture
def admin(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.ADMIN, solution))


@pytest.fixture(autouse=True)
def _entry_time(clock: Clock) -> None:
    clock.now = oslo(2026, 3, 10, 12, 0)


def test_new_request_is_waiting_and_shows_the_number_as_typed_in_the_seed_convention(
    client: TestClient, officer: dict[str, str]
) -> None:
    response = client.post(URL, json={"phone": "+47 912 34 567", "email": "Kari@Example.com"}, headers=officer)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "waiting"
    assert body["phone"] == "91234567"
    assert body["email"] == "kari@example.com"
    assert body["raw_data"] is False
    assert body["delete_content"] is False
    assert body["created_at"] == "2026-03-10T11:00:00Z"
    assert body["created_by"].startswith("privacy_officer-")
    assert body["processed_at"] is None
    assert body["result"] is None
    # The end of the entry day in Oslo (UTC+1 in March).
    assert body["cutoff"] == "2026-03-10T23:00:00Z"
    assert body["overdue"] is False


def test_same_identifiers_while_waiting_return_that_request(client: TestClient, officer: dict[str, str]) -> None:
    first = client.post(URL, json={"phone": "91234567"}, headers=officer)
    again = client.post(URL, json={"phone": "0047 912 34 567", "raw_data": True}, headers=officer)
    other = client.post(URL, json={"phone": "91234567", "email": "kari@example.com"}, headers=officer)

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"]
    # The wider instruction is kept: raw data was asked for the second time.
    assert again.json()["raw_data"] is True
    assert other.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "Enter a phone number or an email address"),  # neither identifier
        ({"phone": " ", "email": ""}, "Enter a phone number or an email address"),  # blank fields are absent
        ({"phone": "ring meg"}, "national number without country code"),  # letters
        ({"phone": "999"}, "national number without country code"),  # too short
        ({"phone": "4687654321"}, "00 and the country code"),  # foreign without 00
        ({"email": "kari.example.com"}, "email address such as"),  # no @
    ],
)
def test_invalid_input_is_refused_with_the_expected_form(
    client: TestClient, officer: dict[str, str], body: dict[str, str], expected: str
) -> None:
    response = client.post(URL, json=body, headers=officer)

    assert response.status_code == 422
    assert expected in response.json()["detail"]
    for value in body.values():
        if value.strip():
            assert value not in response.text


def test_list_is_newest_first_and_paginated_by_cursor(
    client: TestClient, officer: dict[str, str], clock: Clock
) -> None:
    ids = []
    for n in range(5):
        clock.advance(minutes=1)
        ids.append(client.post(URL, json={"phone": f"9123456{n}"}, headers=officer).json()["id"])

    first = client.get(URL, params={"limit": 2}, headers=officer).json()
    second = client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=officer).json()
    third = client.get(URL, params={"limit": 2, "cursor": second["next_cursor"]}, headers=officer).json()

    seen = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert seen == list(reversed(ids))
    assert third["next_cursor"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 501},  # above the contract's maximum
        {"limit": 0},
        {"cursor": "not-a-cursor"},
        {"status": "cancelled"},  # not a status
    ],
)
def test_list_refuses_bad_parameters(client: TestClient, officer: dict[str, str], params: dict[str, str | int]) -> None:
    assert client.get(URL, params=params, headers=officer).status_code == 422


def test_waiting_request_can_be_cancelled_and_is_gone(client: TestClient, officer: dict[str, str]) -> None:
    request_id = client.post(URL, json={"phone": "91234567"}, headers=officer).json()["id"]

    assert client.delete(f"{URL}/{request_id}", headers=officer).status_code == 204
    assert client.get(f"{URL}/{request_id}", headers=officer).status_code == 404
    assert client.delete(f"{URL}/{request_id}", headers=officer).status_code == 404


def test_done_request_is_masked_with_counts_and_cannot_be_cancelled(
    client: TestClient,
    officer: dict[str, str],
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
) -> None:
    archive(
        session_factory,
        solution,
        call("91234567", oslo(2026, 3, 9, 9), events=2),
        chat("kari@example.com", oslo(2026, 3, 9, 10)),
    )
    request_id = client.post(
        URL, json={"phone": "91234567", "email": "kari@example.com", "raw_data": True}, headers=officer
    ).json()["id"]

    night(session_factory, blobs, oslo(2026, 3, 11, 2, 0))
    body = client.get(f"{URL}/{request_id}", headers=officer).json()

    assert body["status"] == "done"
    assert body["phone"] == "91****67"
    assert body["email"] == "k***@***.com"
    assert body["processed_at"] == "2026-03-11T01:00:00Z"
    assert body["result"] == {
        "interactions": 2,
        "recordings_deleted": 0,
        "content_deleted": 0,
        "raw_data_rows": 2,
        "variables_replaced": 0,
        "mentions_replaced": 0,
        "held": 0,
        "attachments_deleted": 0,
        "audio_segments_silenced": 0,
        "also": {"phones": 0, "emails": 0, "variables": 0},
    }
    response = client.delete(f"{URL}/{request_id}", headers=officer)
    assert response.status_code == 409
    assert "cannot be cancelled" in response.json()["detail"]


def test_request_waiting_longer_than_the_gdpr_month_is_flagged(
    client: TestClient, officer: dict[str, str], clock: Clock
) -> None:
    created = client.post(URL, json={"phone": "91234567"}, headers=officer).json()
    deadline = months_after(clock.now, GDPR_RESPONSE_MONTHS)

    clock.now = deadline - timedelta(minutes=1)
    assert client.get(f"{URL}/{created['id']}", headers=officer).json()["overdue"] is False
    clock.now = deadline + timedelta(minutes=1)
    assert client.get(f"{URL}/{created['id']}", headers=officer).json()["overdue"] is True


def test_another_solutions_request_answers_404(
    client: TestClient, officer: dict[str, str], make_token: TokenMaker, other_solution: Solution
) -> None:
    theirs = auth(make_token(Role.PRIVACY_OFFICER, other_solution))
    request_id = client.post(URL, json={"phone": "0701234567"}, headers=theirs).json()["id"]

    assert client.get(f"{URL}/{request_id}", headers=officer).status_code == 404
    assert client.delete(f"{URL}/{request_id}", headers=officer).status_code == 404
    assert client.get(URL, headers=officer).json()["items"] == []
    assert client.get(f"{URL}/{request_id}", headers=theirs).status_code == 200


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.INGEST])
def test_roles_without_the_right_are_refused(
    client: TestClient, make_token: TokenMaker, solution: Solution, role: Role
) -> None:
    headers = auth(make_token(role, solution))
    assert client.post(URL, json={"phone": "91234567"}, headers=headers).status_code == 403
    assert client.get(URL, headers=headers).status_code == 403
    assert client.post(f"{URL}/preview", json={"phone": "91234567"}, headers=headers).status_code == 403
    assert client.post("/api/v1/nightly-runs", headers=headers).status_code == 403


def test_no_token_is_401(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
    assert client.post("/api/v1/nightly-runs").status_code == 401


def test_only_an_admin_may_run_the_night_now(
    client: TestClient,
    officer: dict[str, str],
    admin: dict[str, str],
    session_factory: sessionmaker[Session],
    solution: Solution,
) -> None:
    archive(session_factory, solution, call("91234567", oslo(2026, 3, 10, 9)))
    client.post(URL, json={"phone": "91234567"}, headers=officer)

    assert client.post("/api/v1/nightly-runs", headers=officer).status_code == 403
    response = client.post("/api/v1/nightly-runs", headers=admin)

    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["solution_id"] == solution.id
    assert summary["trigger"] == "api"
    assert (summary["requests_processed"], summary["interactions"]) == (1, 1)
    assert client.get(URL, headers=officer).json()["items"][0]["status"] == "done"
    runs = client.get("/api/v1/nightly-runs", headers=officer).json()
    assert [(r["summary"]["interactions"], r["status"], r["trigger"]) for r in runs["items"]] == [(1, "done", "api")]
    assert runs["next_cursor"] is None


def test_nightly_run_api_touches_only_the_callers_solution(
    client: TestClient,
    admin: dict[str, str],
    make_token: TokenMaker,
    other_solution: Solution,
) -> None:
    theirs = auth(make_token(Role.PRIVACY_OFFICER, other_solution))
    request_id = client.post(URL, json={"phone": "0701234567"}, headers=theirs).json()["id"]

    client.post("/api/v1/nightly-runs", headers=admin)

    assert client.get(f"{URL}/{request_id}", headers=theirs).json()["status"] == "waiting"


def test_cancelled_request_leaves_no_trace_of_the_identifier(
    client: TestClient, officer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    request_id = client.post(URL, json={"email": "kari@example.com"}, headers=officer).json()["id"]
    assert "kari@example.com" in requests_table(session_factory)  # waiting: the night needs it

    client.delete(f"{URL}/{request_id}", headers=officer)

    assert "kari@example.com" not in requests_table(session_factory)


def requests_table(factory: sessionmaker[Session]) -> str:
    """The whole requests table as text: what is in the database, not what the API shows."""
    with factory() as session:
        rows = session.execute(text("SELECT * FROM anonymization_requests")).mappings().all()
    return repr([dict(r) for r in rows])
