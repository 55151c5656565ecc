"""The *Users* and *Settings* pages, and *Raw data* (page and API)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import ApiToken, Role, Solution, User
from tests.conftest import TokenMaker, auth
from tests.functional.test_search_page_auth import csrf_from, login, login_form_data


@pytest.fixture
def admin(client: TestClient, make_token: TokenMaker, solution: Solution) -> str:
    login(client, make_token(Role.ADMIN, solution))
    return csrf_from(client.get("/users").text)


def test_admin_creates_a_user_whose_password_is_shown_once_and_works(
    client: TestClient, app: object, admin: str, session_factory: sessionmaker[Session]
) -> None:
    page = client.post("/users", data={"csrf_token": admin, "username": "  eva ", "role": "privacy_officer"})
    assert page.status_code == 200
    password = re.search(r'id="new-password">([^<]+)<', page.text)
    assert password
    assert password.group(1) not in client.get("/users").text
    with session_factory() as session:
        user = session.scalars(select(User).where(User.username == "eva")).one()
        assert user.role is Role.PRIVACY_OFFICER
        assert password.group(1) not in (user.password_hash or "")
    with TestClient(app) as eva:  # type: ignore[arg-type]
        response = eva.post("/login", data=login_form_data(eva, "eva", password.group(1)), follow_redirects=False)
        assert response.status_code == 303


def test_duplicate_username_is_refused_with_a_message(client: TestClient, admin: str) -> None:
    client.post("/users", data={"csrf_token": admin, "username": "eva", "role": "supervisor"})
    again = client.post("/users", data={"csrf_token": admin, "username": "eva", "role": "supervisor"})
    assert again.status_code == 422
    assert "exists already" in again.text


def test_token_is_shown_once_and_listed_with_label_and_last_use(
    client: TestClient, admin: str, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    client.post("/users", data={"csrf_token": admin, "username": "pbx", "role": "ingest"})
    with session_factory() as session:
        user_id = session.scalars(select(User.id).where(User.username == "pbx")).one()
    page = client.post(f"/users/{user_id}/tokens", data={"csrf_token": admin, "label": "PBX integration"})
    token = re.search(r'id="new-token">([^<]+)<', page.text)
    assert token
    assert client.get("/api/v1/interactions", headers=auth(token.group(1))).status_code == 403  # ingest may not read
    listing = client.get(f"/users/{user_id}").text
    assert "PBX integration" in listing
    assert token.group(1) not in listing
    assert "never" not in listing.split("PBX integration", 1)[1].split("</tr>", 1)[0]
    with session_factory() as session:
        assert session.scalars(select(ApiToken.last_used_at).where(ApiToken.user_id == user_id)).one() is not None


def test_admin_cannot_demote_or_disable_themselves(
    client: TestClient, admin: str, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        me = session.scalars(select(User).where(User.role == Role.ADMIN)).one()
    assert client.post(f"/users/{me.id}/role", data={"csrf_token": admin, "role": "supervisor"}).status_code == 422
    assert client.post(f"/users/{me.id}/disable", data={"csrf_token": admin}).status_code == 422


def test_role_change_applies_to_the_next_request(
    client: TestClient, admin: str, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    supervisor = make_token(Role.SUPERVISOR, solution)
    assert client.get("/api/v1/audit-events", headers=auth(supervisor)).status_code == 403
    with session_factory() as session:
        target = session.scalars(select(User).where(User.role == Role.SUPERVISOR)).one()
    client.post(f"/users/{target.id}/role", data={"csrf_token": admin, "role": "privacy_officer"})
    assert client.get("/api/v1/audit-events", headers=auth(supervisor)).status_code == 200


def test_settings_are_validated_and_saved(
    client: TestClient, admin: str, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    page = client.get("/settings").text
    for label in ("Country", "Time zone", "Nightly time", "Replacement text", "Audit retention (days)"):
        assert f">{label}</label>" in page
    form = {
        "csrf_token": admin,
        "country": "se",
        "timezone": "Europe/Stockholm",
        "nightly_at": "3:15",
        "replacement": "Anonymiserad",
        "preview_warn_percent": "2.5",
        "audit_retention_days": "730",
    }
    assert client.post("/settings", data=form, follow_redirects=False).status_code == 303
    with session_factory() as session:
        saved = session.get(Solution, solution.id)
        assert saved is not None
        assert (saved.country, saved.timezone, saved.nightly_at, saved.replacement) == (
            "SE",
            "Europe/Stockholm",
            "03:15",
            "Anonymiserad",
        )
        assert (saved.preview_warn_share, saved.audit_retention_days) == (0.025, 730)
    bad = client.post("/settings", data={**form, "timezone": "Mars/Olympus", "audit_retention_days": "5"})
    assert bad.status_code == 422
    assert "IANA time zone" in bad.text
    assert "between 30 and 3650" in bad.text


def _seed_raw(client: TestClient, token: str) -> None:
    bodies = [
        {
            "channel": "call",
            "direction": "inbound",
            "started_at": f"2026-03-0{day}T09:00:00+01:00",
            "customer": {"phone": "91234567"},
            "events": [
                {"at": f"2026-03-0{day}T09:00:00+01:00", "type": "offered", "queue": "Support"},
                {"at": f"2026-03-0{day}T09:00:10+01:00", "type": "=HYPERLINK(1)", "duration_s": 10},
            ],
        }
        for day in (1, 2, 3)
    ]
    assert client.post("/api/v1/interactions/batch", json=bodies, headers=auth(token)).status_code == 200


def test_raw_data_api_pages_oldest_first_and_streams_csv(
    client: TestClient, make_token: TokenMaker, solution: Solution, other_solution: Solution
) -> None:
    admin = make_token(Role.ADMIN, solution)
    _seed_raw(client, admin)
    _seed_raw(client, make_token(Role.ADMIN, other_solution))
    reader = make_token(Role.SUPERVISOR, solution)
    first = client.get("/api/v1/raw-data", params={"limit": 4}, headers=auth(reader)).json()
    assert [r["at"][:10] for r in first["items"]] == ["2026-03-01", "2026-03-01", "2026-03-02", "2026-03-02"]
    rest = client.get("/api/v1/raw-data", params={"cursor": first["next_cursor"]}, headers=auth(reader)).json()
    assert len(rest["items"]) == 2
    assert rest["next_cursor"] is None
    assert set(first["items"][0]) == {"id", "interaction_id", "at", "type", "queue", "agent", "customer", "duration_s"}
    window = client.get(
        "/api/v1/raw-data",
        params={"from": "2026-03-02T00:00:00+01:00", "to": "2026-03-03T00:00:00+01:00"},
        headers=auth(reader),
    ).json()["items"]
    assert len(window) == 2
    exported = client.get("/api/v1/raw-data", params={"format": "csv"}, headers=auth(reader))
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["id", "interaction_id", "at", "type", "queue", "agent", "customer", "duration_s"]
    assert len(rows) == 7  # this solution's six rows, not the other's
    assert {r[3] for r in rows[1:]} == {"offered", "'=HYPERLINK(1)"}  # a formula is kept as text
    assert client.get("/api/v1/raw-data", params={"limit": 501}, headers=auth(reader)).status_code == 422
    assert client.get("/api/v1/raw-data", params={"from": "yesterday"}, headers=auth(reader)).status_code == 422


def test_raw_data_page_shows_the_period_and_links_the_export(
    client: TestClient, make_token: TokenMaker, solution: Solution
) -> None:
    _seed_raw(client, make_token(Role.ADMIN, solution))
    login(client, make_token(Role.SUPERVISOR, solution))
    page = client.get("/raw-data", params={"from": "2026-03-02", "to": "2026-03-02"})
    assert page.status_code == 200
    assert page.text.count('<td data-label="Type">offered</td>') == 1
    assert "/raw-data/export.csv?from=2026-03-02&amp;to=2026-03-02" in page.text
    export = client.get("/raw-data/export.csv", params={"from": "2026-03-02", "to": "2026-03-02"})
    assert len(list(csv.reader(io.StringIO(export.text)))) == 3
    assert client.get("/raw-data", params={"from": "2026-03-03", "to": "2026-03-01"}).status_code == 422


def test_token_form_refuses_a_disabled_user_and_a_long_label_on_the_page(
    client: TestClient, admin: str, session_factory: sessionmaker[Session]
) -> None:
    client.post("/users", data={"csrf_token": admin, "username": "pbx", "role": "ingest"})
    with session_factory() as session:
        user_id = session.scalars(select(User.id).where(User.username == "pbx")).one()
    long = client.post(f"/users/{user_id}/tokens", data={"csrf_token": admin, "label": "x" * 101})
    assert long.status_code == 422
    assert "A token label is at most 100 characters." in long.text
    assert (
        client.post(f"/users/{user_id}/disable", data={"csrf_token": admin}, follow_redirects=False).status_code == 303
    )
    disabled = client.post(f"/users/{user_id}/tokens", data={"csrf_token": admin, "label": "PBX"})
    assert disabled.status_code == 409
    assert "Enable the user before giving them a token." in disabled.text
    with session_factory() as session:
        assert session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).all() == []
