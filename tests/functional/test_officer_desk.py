"""The privacy officer's desk through the API (CONTRACT §19): "did you forget me?" and the nightly runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize.requests import Also, create_request
from archivist.db import utcnow
from archivist.nightly.lease import take_now
from archivist.nightly.models import NightlyRun
from tests.conftest import Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, enter, night, oslo

URL = "/api/v1/anonymization-requests"
RUNS = "/api/v1/nightly-runs"


@pytest.fixture
def officer(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.PRIVACY_OFFICER, solution))


@pytest.fixture
def admin(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.ADMIN, solution))


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_a_persons_requests_are_found_waiting_and_done_and_nobody_elses(
    client: TestClient,
    officer: dict[str, str],
    session_factory: sessionmaker[Session],
    solution: Solution,
    other_solution: Solution,
    blobs: Any,
    clock: Clock,
) -> None:
    archive(session_factory, solution, call("91234567", oslo(2026, 3, 1, 9)), call("98765432", oslo(2026, 3, 1, 10)))
    done = enter(session_factory, solution, oslo(2026, 3, 2, 9), phone="91234567")
    other = enter(session_factory, solution, oslo(2026, 3, 2, 9), phone="98765432")
    night(session_factory, blobs, oslo(2026, 3, 3, 2), solution)
    # A waiting request that names the person only through `also`, entered later.
    with session_factory() as session, session.begin():
        also, _ = create_request(
            session,
            solution,
            phone=None,
            email="kari@example.org",
            raw_data=False,
            delete_content=False,
            created_by="officer",
            now=oslo(2026, 3, 4, 9),
            also=Also(phones=("+4791234567",)),
        )
    theirs = enter(session_factory, other_solution, oslo(2026, 3, 2, 9), phone="91234567")

    # Done rows keep masked identifiers only: found by the keyed hash the night kept.
    assert _ids(client.get(URL, params={"phone": "+47 912 34 567"}, headers=officer)) == [also.id, done]
    assert _ids(client.get(URL, params={"phone": "91234567", "status": "done"}, headers=officer)) == [done]
    assert _ids(client.get(URL, params={"email": "KARI@example.org"}, headers=officer)) == [also.id]
    assert _ids(client.get(URL, params={"phone": "41234567"}, headers=officer)) == []
    # Without a person: every row, as before.
    assert set(_ids(client.get(URL, headers=officer))) == {done, other, also.id}
    assert theirs not in _ids(client.get(URL, params={"phone": "91234567"}, headers=officer))
    bad = client.get(URL, params={"phone": "not a number"}, headers=officer)
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("phone:")


def test_run_now_takes_the_lease_and_answers_409_while_another_run_holds_it(
    client: TestClient,
    admin: dict[str, str],
    officer: dict[str, str],
    session_factory: sessionmaker[Session],
    solution: Solution,
) -> None:
    with session_factory() as session, session.begin():
        assert take_now(session, solution.id, "the-scheduler-elsewhere", utcnow(), timedelta(minutes=5))
    busy = client.post(RUNS, headers=admin)
    assert busy.status_code == 409
    assert "lease" in busy.json()["detail"]
    with session_factory() as session:
        # Refused before anything ran: no run recorded.
        assert session.scalar(select(func.count()).select_from(NightlyRun)) == 0


def test_runs_are_listed_newest_first_with_how_they_ended_a_page_at_a_time(
    client: TestClient,
    admin: dict[str, str],
    officer: dict[str, str],
    session_factory: sessionmaker[Session],
    solution: Solution,
) -> None:
    for _ in range(3):
        assert client.post(RUNS, headers=admin).status_code == 200
    with session_factory() as session, session.begin():
        # A run that died mid-way: never finished, and nobody holds the lease.
        session.add(NightlyRun(solution_id=solution.id, as_of=utcnow(), started_at=utcnow(), trigger="cli"))
    first = client.get(RUNS, params={"limit": 2}, headers=officer).json()
    assert [(r["trigger"], r["status"]) for r in first["items"]] == [("cli", "failed"), ("api", "done")]
    assert all(r["solution_id"] == solution.id for r in first["items"])
    rest = client.get(RUNS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=officer).json()
    assert [r["status"] for r in rest["items"]] == ["done", "done"]
    assert rest["next_cursor"] is None
    with session_factory() as session, session.begin():
        assert take_now(session, solution.id, "running-now", utcnow(), timedelta(minutes=5))
    # The same unfinished run while a runner holds the lease: it is the one running.
    assert client.get(RUNS, headers=officer).json()["items"][0]["status"] == "running"
    assert client.get(RUNS, params={"cursor": "nope"}, headers=officer).status_code == 422


SETTINGS = "/api/v1/settings"


def test_settings_are_read_by_officers_and_changed_by_admins_all_or_nothing_and_audited(
    client: TestClient,
    admin: dict[str, str],
    officer: dict[str, str],
    session_factory: sessionmaker[Session],
    solution: Solution,
) -> None:
    before = client.get(SETTINGS, headers=officer).json()
    assert before == {
        "country": "NO",
        "timezone": "Europe/Oslo",
        "nightly_at": "02:00",
        "replacement": "Anonymized",
        "own_email_domains": [],
        "access_purposes": "",
        "access_recipients": "",
        "access_source": "",
    }
    assert client.patch(SETTINGS, json={"access_source": "x"}, headers=officer).status_code == 403
    # One bad field: nothing changes, and each bad field is named.
    bad = client.patch(
        SETTINGS, json={"nightly_at": "25:99", "timezone": "Mars/Olympus", "access_source": "s"}, headers=admin
    )
    assert bad.status_code == 422
    assert "nightly_at:" in bad.json()["detail"]
    assert "timezone:" in bad.json()["detail"]
    assert client.get(SETTINGS, headers=officer).json() == before
    assert client.patch(SETTINGS, json={"keep_days": 5}, headers=admin).status_code == 422  # unknown field
    assert client.patch(SETTINGS, json={"own_email_domains": "a.no"}, headers=admin).status_code == 422  # a list

    changed = client.patch(
        SETTINGS,
        json={
            "own_email_domains": ["Kundeservice.Example", "kundeservice.example."],
            "access_purposes": "Kundeservice og klagebehandling.",
            "nightly_at": "03:30",
        },
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["own_email_domains"] == ["kundeservice.example"]
    assert (body["nightly_at"], body["access_purposes"]) == ("03:30", "Kundeservice og klagebehandling.")
    entries = client.get("/api/v1/audit-events", headers=officer).json()["items"]
    entry = next(e for e in entries if e["action"] == "settings.changed")
    assert entry["details"]["changed"] == {"own_email_domains": ["kundeservice.example"], "nightly_at": "03:30"}
    assert entry["details"]["texts_changed"] == ["access_purposes"]
    assert "Kundeservice og" not in str(entry)


def test_nightly_runs_page_lists_runs_and_run_now_is_for_admins_under_the_lease(
    client: TestClient, app: Any, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    from tests.functional.test_search_page_auth import csrf_from, login

    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    page = client.get("/nightly-runs")
    assert page.status_code == 200
    assert "No nightly run yet." in page.text
    assert 'id="run-now"' not in page.text  # an officer reads, an admin runs
    assert client.post("/nightly-runs/run", data={"csrf_token": csrf_from(page.text)}).status_code == 403

    client = TestClient(app)  # another browser, for the admin
    login(client, make_token(Role.ADMIN, solution))
    page = client.get("/nightly-runs")
    csrf = csrf_from(page.text)
    assert 'id="run-now"' in page.text
    assert "data-confirm" in page.text
    ran = client.post("/nightly-runs/run", data={"csrf_token": csrf})
    assert ran.status_code == 200  # followed the 303
    assert "The nightly run finished" in ran.text
    assert 'data-status="done"' in ran.text

    with session_factory() as session, session.begin():
        assert take_now(session, solution.id, "the-scheduler-elsewhere", utcnow(), timedelta(minutes=5))
    busy = client.post("/nightly-runs/run", data={"csrf_token": csrf})
    # Not a green success: an error page section that says why, and nothing started.
    assert busy.status_code == 409
    assert 'role="alert"' in busy.text
    assert "holds this solution's lease" in busy.text
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(NightlyRun)) == 1
