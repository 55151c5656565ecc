"""The *Archive - Search* page over HTTP: search by POST, details, actions, role-awareness."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from archivist.accounts.models import Role, Solution
from archivist.blobs.memory import MemoryBlobStore
from archivist.demo.audio import make_wav
from tests.conftest import TokenMaker, auth
from tests.functional.test_search_page_auth import csrf_from, login

WAV = make_wav(1.0, seed=3)


def body(n: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "call",
        "direction": "inbound",
        "started_at": f"2026-03-01T09:{n:02d}:00+01:00",
        "ended_at": f"2026-03-01T09:{n:02d}:30+01:00",
        "queue": "Support",
        "agent": "Ola",
        "customer": {"phone": "+4791234567", "name": "Kari Nordmann"},
        "variables": {"order": "A-17"},
    }
    data.update(overrides)
    return data


@pytest.fixture
def seeded(client: TestClient, make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    admin = make_token(Role.ADMIN, solution)
    bodies = [
        body(1),
        body(
            2,
            channel="chat",
            customer={"email": "kari@example.com"},
            messages=[
                {"at": "2026-03-01T09:02:01+01:00", "from": "customer", "text": "Hei, pakken min er borte"},
                {"at": "2026-03-01T09:02:09+01:00", "from": "agent", "text": "Jeg sjekker det"},
            ],
        ),
        body(3, channel="email", customer={"email": "ola@example.com"}, subject="Faktura", body="Feil beløp"),
        body(4, customer={"phone": "+4798765432"}, queue="Sales"),
    ]
    ids = client.post("/api/v1/interactions/batch", json=bodies, headers=auth(admin)).json()["ids"]
    put = client.put(
        f"/api/v1/interactions/{ids[0]}/recording", content=WAV, headers={**auth(admin), "Content-Type": "audio/wav"}
    )
    assert put.status_code == 204
    return {"call": ids[0], "chat": ids[1], "email": ids[2], "sales": ids[3]}


def as_role(client: TestClient, make_token: TokenMaker, solution: Solution, role: Role) -> str:
    login(client, make_token(role, solution))
    return csrf_from(client.get("/archive/search").text)


HX = {"HX-Request": "true"}


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="row-([0-9a-f]+)"', html)


def test_page_has_the_labelled_filters_and_search_button(
    client: TestClient, make_token: TokenMaker, solution: Solution
) -> None:
    as_role(client, make_token, solution, Role.SUPERVISOR)
    page = client.get("/archive/search").text
    for label in ("Phone number", "Email address", "From", "To", "Queue", "Agent", "Channel"):
        match = re.search(rf'<label for="([^"]+)">{label}</label>', page)
        assert match, label
        assert f'id="{match.group(1)}"' in page
    assert ">Search</button>" in page
    assert 'method="post"' in page


def test_search_by_phone_typed_differently_finds_the_call(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str]
) -> None:
    csrf = as_role(client, make_token, solution, Role.SUPERVISOR)
    response = client.post("/archive/search", data={"csrf_token": csrf, "phone": "912 34 567"}, headers=HX)
    assert response.status_code == 200
    assert row_ids(response.text) == [seeded["call"]]
    assert "91234567" in response.text
    assert "2026-03-01 09:01" in response.text  # Oslo time, as stored in +01:00
    assert "Recording" in response.text


def test_invalid_phone_shows_the_error_at_the_field(
    client: TestClient, make_token: TokenMaker, solution: Solution
) -> None:
    csrf = as_role(client, make_token, solution, Role.SUPERVISOR)
    response = client.post("/archive/search", data={"csrf_token": csrf, "phone": "kari"}, headers=HX)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert "without country code" in response.text


def test_to_date_includes_the_whole_local_day(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str]
) -> None:
    csrf = as_role(client, make_token, solution, Role.SUPERVISOR)
    same_day = client.post(
        "/archive/search", data={"csrf_token": csrf, "from": "2026-03-01", "to": "2026-03-01"}, headers=HX
    )
    assert len(row_ids(same_day.text)) == 4
    day_before = client.post("/archive/search", data={"csrf_token": csrf, "to": "2026-02-28"}, headers=HX)
    assert row_ids(day_before.text) == []


def test_to_before_from_is_refused_on_the_to_field(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str]
) -> None:
    csrf = as_role(client, make_token, solution, Role.SUPERVISOR)
    response = client.post(
        "/archive/search", data={"csrf_token": csrf, "from": "2026-03-02", "to": "2026-03-01"}, headers=HX
    )
    assert "To must be the same day as From or later" in response.text
    assert row_ids(response.text) == []


def test_plain_post_without_htmx_renders_the_whole_page(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str]
) -> None:
    csrf = as_role(client, make_token, solution, Role.SUPERVISOR)
    response = client.post("/archive/search", data={"csrf_token": csrf, "queue": "Sales"})
    assert "<html" in response.text
    assert row_ids(response.text) == [seeded["sales"]]


def test_next_page_follows_the_cursor(
    client: TestClient,
    make_token: TokenMaker,
    solution: Solution,
    seeded: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from archivist.web.pages import search as search_page

    monkeypatch.setattr(search_page, "PAGE_SIZE", 3)
    csrf = as_role(client, make_token, solution, Role.SUPERVISOR)
    first = client.post("/archive/search", data={"csrf_token": csrf}, headers=HX).text
    cursor = re.search(r'"cursor": "([^"]+)"', first)
    assert cursor
    second = client.post("/archive/search", data={"csrf_token": csrf, "cursor": cursor.group(1)}, headers=HX).text
    assert len(row_ids(first)) == 3
    assert row_ids(second) == [seeded["call"]]
    assert "First page" in second


def test_search_terms_are_not_in_the_logged_url(
    client: TestClient, make_token: TokenMaker, solution: Solution, caplog: pytest.LogCaptureFixture
) -> None:
    csrf = as_role(client, make_token, solution, Role.SUPERVISOR)
    with caplog.at_level(logging.INFO):
        client.post("/archive/search", data={"csrf_token": csrf, "phone": "91234567", "email": "kari@example.com"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/archive/search" in logged
    assert "91234567" not in logged
    assert "kari@" not in logged


def test_details_show_player_conversation_email_and_variables(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str]
) -> None:
    as_role(client, make_token, solution, Role.SUPERVISOR)
    call = client.get(f"/archive/interactions/{seeded['call']}", headers=HX).text
    assert f'<audio controls preload="metadata" src="/archive/recordings/{seeded["call"]}"' in call
    assert "A-17" in call
    chat = client.get(f"/archive/interactions/{seeded['chat']}", headers=HX).text
    assert "pakken min er borte" in chat
    assert 'class="from-agent"' in chat
    email = client.get(f"/archive/interactions/{seeded['email']}", headers=HX).text
    assert "Faktura" in email
    assert "Feil beløp" in email


def test_details_by_direct_link_render_the_page(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str]
) -> None:
    as_role(client, make_token, solution, Role.SUPERVISOR)
    page = client.get(f"/archive/interactions/{seeded['chat']}").text
    assert "<html" in page
    assert "pakken min er borte" in page


def test_page_player_streams_with_range(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str]
) -> None:
    as_role(client, make_token, solution, Role.SUPERVISOR)
    response = client.get(f"/archive/recordings/{seeded['call']}", headers={"Range": "bytes=44-"})
    assert response.status_code == 206
    assert response.content == WAV[44:]


def test_page_player_unsatisfiable_range_is_416_with_a_page(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str]
) -> None:
    # A 4xx on a page is an HTML page that says why (CONTRACT §18), never an empty answer.
    as_role(client, make_token, solution, Role.SUPERVISOR)
    response = client.get(f"/archive/recordings/{seeded['call']}", headers={"Range": "bytes=999999-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(WAV)}"
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text


def test_supervisor_sees_no_delete_actions_and_may_not_post_them(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str]
) -> None:
    csrf = as_role(client, make_token, solution, Role.SUPERVISOR)
    results = client.post("/archive/search", data={"csrf_token": csrf}, headers=HX).text
    details = client.get(f"/archive/interactions/{seeded['call']}", headers=HX).text
    assert "Anonymize and delete" not in results
    assert 'name="ids"' not in results
    assert "Delete recording" not in details
    post = client.post(
        f"/archive/interactions/{seeded['call']}/recording/delete", data={"csrf_token": csrf}, headers=HX
    )
    assert post.status_code == 403
    anonymize = client.post(
        "/archive/anonymize-and-delete", data={"csrf_token": csrf, "ids": [seeded["call"]]}, headers=HX
    )
    assert anonymize.status_code == 403


def test_delete_recording_from_the_page_removes_the_blob(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str], blobs: MemoryBlobStore
) -> None:
    csrf = as_role(client, make_token, solution, Role.PRIVACY_OFFICER)
    details = client.get(f"/archive/interactions/{seeded['call']}", headers=HX).text
    assert "Delete recording" in details
    assert "cannot be undone" in details
    response = client.post(
        f"/archive/interactions/{seeded['call']}/recording/delete", data={"csrf_token": csrf}, headers=HX
    )
    assert response.status_code == 200
    assert "<audio" not in response.text
    assert f'id="row-{seeded["call"]}" data-id="{seeded["call"]}" hx-swap-oob="true"' in response.text
    assert blobs.list_keys("recordings/") == []


def test_delete_chat_log_from_the_page(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str]
) -> None:
    csrf = as_role(client, make_token, solution, Role.PRIVACY_OFFICER)
    response = client.post(
        f"/archive/interactions/{seeded['chat']}/content/delete", data={"csrf_token": csrf}, headers=HX
    )
    assert response.status_code == 200
    assert "pakken min er borte" not in response.text
    assert "not in the archive" in response.text


def test_anonymize_and_delete_from_the_page_returns_rows_marked_anonymized(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str], blobs: MemoryBlobStore
) -> None:
    csrf = as_role(client, make_token, solution, Role.PRIVACY_OFFICER)
    response = client.post(
        "/archive/anonymize-and-delete",
        data={"csrf_token": csrf, "ids": [seeded["call"], seeded["chat"]]},
        headers=HX,
    )
    assert response.status_code == 200
    assert sorted(row_ids(response.text)) == sorted([seeded["call"], seeded["chat"]])
    assert response.text.count("Anonymized") >= 2
    assert "91234567" not in response.text
    assert "Anonymized 2 request(s)" in response.headers["HX-Trigger"]
    assert blobs.list_keys("recordings/") == []
    # The seed: the anonymized number finds nothing any more.
    again = client.post("/archive/search", data={"csrf_token": csrf, "phone": "91234567"}, headers=HX)
    assert row_ids(again.text) == []


def test_anonymize_and_delete_of_another_solutions_id_changes_nothing(
    client: TestClient,
    make_token: TokenMaker,
    solution: Solution,
    other_solution: Solution,
    seeded: dict[str, str],
) -> None:
    csrf = as_role(client, make_token, solution, Role.PRIVACY_OFFICER)
    theirs = client.post(
        "/api/v1/interactions", json=body(9), headers=auth(make_token(Role.ADMIN, other_solution))
    ).json()["id"]
    response = client.post(
        "/archive/anonymize-and-delete", data={"csrf_token": csrf, "ids": [seeded["call"], theirs]}, headers=HX
    )
    assert response.status_code == 404
    assert client.get(f"/archive/interactions/{theirs}", headers=HX).status_code == 404
    still = client.post("/archive/search", data={"csrf_token": csrf, "phone": "91234567"}, headers=HX)
    assert row_ids(still.text) == [seeded["call"]]


def test_actions_without_csrf_token_are_refused(
    client: TestClient, make_token: TokenMaker, solution: Solution, seeded: dict[str, str], blobs: MemoryBlobStore
) -> None:
    as_role(client, make_token, solution, Role.PRIVACY_OFFICER)
    response = client.post(f"/archive/interactions/{seeded['call']}/recording/delete", headers=HX)
    assert response.status_code == 403
    assert len(blobs.list_keys("recordings/")) == 1
