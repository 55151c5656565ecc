"""The pages of retention rules and legal holds: *Settings*, *Legal holds*, the marks on *Archive - Search*
and the *held* status on *Archive - Anonymize* (CONTRACT §10, §14).

Person data are canaries: a phone number and an address that must never show up in an audit
entry, a hold's listing or a URL.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.audit.events import AuditAction
from archivist.audit.models import AuditEvent
from archivist.retention.holds import held_among
from archivist.retention.models import LegalHold, RetentionRule
from archivist.web.pages.legal_holds import UNKNOWN_IDS
from archivist.web.pages.retention_rules import DUPLICATE_MESSAGE, KEEP_DAYS_MESSAGE
from tests.conftest import Clock, TokenMaker, auth
from tests.functional.test_search_page_auth import csrf_from, login

pytestmark = pytest.mark.db

CANARY_PHONE = "41234599"  # a Norwegian mobile number nobody else in these tests has
CANARY_PHONE_E164 = "+4741234599"
CANARY_EMAIL = "canary.holder@example.org"
HTMX = {"HX-Request": "true"}


def chat(day: int, *, email: str = "someone@example.com", queue: str = "Support") -> dict[str, Any]:
    return {
        "channel": "chat",
        "direction": "inbound",
        "started_at": f"2026-03-{day:02d}T10:00:00+01:00",
        "queue": queue,
        "customer": {"email": email},
        "messages": [{"at": f"2026-03-{day:02d}T10:00:05+01:00", "from": "customer", "text": "Hei"}],
    }


def call(day: int, *, phone: str = "98765432") -> dict[str, Any]:
    return {
        "channel": "call",
        "direction": "inbound",
        "started_at": f"2026-03-{day:02d}T09:00:00+01:00",
        "queue": "Sales",
        "customer": {"phone": phone},
    }


def seed(client: TestClient, token: str, bodies: list[dict[str, Any]]) -> list[str]:
    response = client.post("/api/v1/interactions/batch", json=bodies, headers=auth(token))
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()["ids"]
    return ids


def audit_of(factory: sessionmaker[Session], solution: Solution, action: AuditAction) -> list[AuditEvent]:
    with factory() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.solution_id == solution.id, AuditEvent.action == action.value)
                .order_by(AuditEvent.id)
            )
        )


def no_canary(text: str) -> None:
    for canary in (CANARY_PHONE, CANARY_PHONE_E164, CANARY_EMAIL, "41 23 45 99"):
        assert canary not in text


def page_csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    return csrf_from(page.text)


@pytest.fixture
def admin_token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.ADMIN, solution)


# ---------------------------------------------------------------------------------------------
# Who may
# ---------------------------------------------------------------------------------------------


def test_supervisor_gets_an_html_403_on_holds_and_rules(
    client: TestClient, make_token: TokenMaker, solution: Solution
) -> None:
    login(client, make_token(Role.SUPERVISOR, solution))
    csrf = page_csrf(client, "/archive/search")
    assert "/legal-holds" not in client.get("/archive/search").text  # not in the navigation
    for method, path, data in (
        ("GET", "/legal-holds", None),
        ("POST", "/legal-holds", {"csrf_token": csrf, "reason": "Case 1", "queue": "Support"}),
        ("GET", "/settings", None),
        ("POST", "/settings/retention-rules/preview", {"csrf_token": csrf, "what": "recording", "keep_days": "30"}),
    ):
        response = client.request(method, path, data=data)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
        assert "Archive - Search" in response.text  # the error page has the navigation


def test_privacy_officer_holds_but_may_not_add_rules(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    page = client.get("/legal-holds")
    assert page.status_code == 200
    assert 'href="/legal-holds" aria-current="page"' in page.text
    csrf = csrf_from(page.text)
    rule = {"csrf_token": csrf, "channel": "", "queue": "", "what": "recording", "keep_days": "30"}
    assert client.post("/settings/retention-rules/preview", data=rule).status_code == 403
    assert client.post("/settings/retention-rules", data=rule).status_code == 403
    with session_factory() as session:
        assert session.scalars(select(RetentionRule)).first() is None


# ---------------------------------------------------------------------------------------------
# Legal holds
# ---------------------------------------------------------------------------------------------


def test_officer_places_and_releases_a_hold_on_interaction_ids(
    client: TestClient,
    make_token: TokenMaker,
    admin_token: str,
    solution: Solution,
    session_factory: sessionmaker[Session],
) -> None:
    ids = seed(client, admin_token, [chat(1), chat(2), chat(3)])
    officer = make_token(Role.PRIVACY_OFFICER, solution)
    login(client, officer)
    csrf = page_csrf(client, "/legal-holds")
    form = {
        "csrf_token": csrf,
        "reason": "Claim 2026-17",
        "until": "2026-06-30",
        "interaction_ids": f"{ids[0]},\n {ids[1]}",
    }
    placed = client.post("/legal-holds", data=form, follow_redirects=False)
    assert placed.status_code == 303
    assert placed.headers["location"] == "/legal-holds?notice=placed"
    with session_factory() as session:
        hold = session.scalars(select(LegalHold)).one()
        assert (hold.reason, hold.until.isoformat() if hold.until else None, hold.interactions) == (
            "Claim 2026-17",
            "2026-06-30",
            2,
        )
        assert held_among(session, solution.id, ids) == {ids[0], ids[1]}
    listing = client.get("/legal-holds").text
    row = listing.split(f'id="hold-{hold.id}"', 1)[1].split("</tr>", 1)[0]
    assert "2 interactions by id" in row
    assert "2026-06-30" in row
    assert 'data-active="true"' in row
    assert f'action="/legal-holds/{hold.id}/release"' in row

    released = client.post(f"/legal-holds/{hold.id}/release", data={"csrf_token": csrf}, headers=HTMX)
    assert released.status_code == 200
    assert json.loads(released.headers["HX-Trigger"])["flash"].startswith("The hold was released")
    assert 'id="holds-area"' in released.text
    assert "<html" not in released.text
    with session_factory() as session:
        again = session.get(LegalHold, hold.id)
        assert again is not None
        assert again.released_at is not None
        assert held_among(session, solution.id, ids) == set()
    # Releasing again changes nothing and is not audited twice.
    client.post(f"/legal-holds/{hold.id}/release", data={"csrf_token": csrf})
    [placed_entry] = audit_of(session_factory, solution, AuditAction.HOLD_PLACED)
    assert placed_entry.target == hold.id
    assert placed_entry.details == {
        "interactions": 2,
        "phone": None,
        "email": None,
        "queue": None,
        "time_range": False,
        "until": "2026-06-30",
        "via": "page",
    }
    [released_entry] = audit_of(session_factory, solution, AuditAction.HOLD_RELEASED)
    assert released_entry.details == {"by": "hand", "via": "page"}
    assert "Claim 2026-17" not in json.dumps(placed_entry.details)


def test_a_hold_on_a_person_and_range_shows_and_audits_them_masked(
    client: TestClient,
    make_token: TokenMaker,
    admin_token: str,
    solution: Solution,
    session_factory: sessionmaker[Session],
) -> None:
    ids = seed(
        client,
        admin_token,
        [call(1, phone=CANARY_PHONE), chat(2, email=CANARY_EMAIL), call(3), chat(28, email=CANARY_EMAIL.upper())],
    )
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    csrf = page_csrf(client, "/legal-holds")
    form = {
        "csrf_token": csrf,
        "reason": "Regulator order 4711",
        "phone": "+47 412 34 599",
        "email": f" {CANARY_EMAIL.upper()} ",
        "from": "2026-03-01",
        "to": "2026-03-02",  # a date: the whole of 2 March (local) is in the range
    }
    placed = client.post("/legal-holds", data=form, headers=HTMX)
    assert placed.status_code == 200, placed.text[:500]
    assert json.loads(placed.headers["HX-Trigger"])["flash"] == "The hold was placed: it covers 2 interactions now."
    no_canary(placed.text)  # the form comes back empty, the list masked
    assert "41****99" in placed.text
    with session_factory() as session:
        hold = session.scalars(select(LegalHold)).one()
        # Local days in Europe/Oslo (winter time, UTC+1), read in the solution's time zone.
        assert hold.from_at == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
        assert hold.to_at == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
        assert held_among(session, solution.id, ids) == {ids[0], ids[1]}
    [entry] = audit_of(session_factory, solution, AuditAction.HOLD_PLACED)
    no_canary(json.dumps(entry.details))
    assert entry.details is not None
    assert entry.details["phone"] == "41****99"
    assert entry.details["time_range"] is True
    assert all(CANARY_PHONE not in str(value) for value in client.cookies.values())


def test_a_range_in_local_date_and_time_is_read_in_the_solution_time_zone(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    login(client, make_token(Role.ADMIN, solution))
    csrf = page_csrf(client, "/legal-holds")
    # 29 March 2026 is the night Europe/Oslo moves to summer time (UTC+2).
    form = {"csrf_token": csrf, "reason": "Case 9", "queue": "Support", "from": "2026-03-29 03:30", "to": "2026-03-31"}
    assert client.post("/legal-holds", data=form, follow_redirects=False).status_code == 303
    with session_factory() as session:
        hold = session.scalars(select(LegalHold)).one()
        assert hold.from_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
        assert hold.to_at == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # the end of 31 March, summer time


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        # No reason: the hold must say why.
        ({"reason": " ", "queue": "Support"}, "reason", "Say why"),
        # Nothing named to hold.
        ({"reason": "Case 1"}, "interaction_ids", "Name the interactions"),
        # Ids and a person together.
        ({"reason": "Case 1", "interaction_ids": "abc", "phone": CANARY_PHONE}, "interaction_ids", "not both"),
        # A phone number that cannot be one.
        ({"reason": "Case 1", "phone": "41 23 45 99 xx"}, "phone", "national number"),
        # An address without a domain.
        ({"reason": "Case 1", "email": "canary.holder@"}, "email", "email"),
        # The end of the range before its start.
        ({"reason": "Case 1", "queue": "Support", "from": "2026-03-05", "to": "2026-03-01"}, "to", "before its start"),
        # A time that is not one.
        ({"reason": "Case 1", "queue": "Support", "from": "last spring"}, "from", "YYYY-MM-DD"),
        # Until that is not a date.
        ({"reason": "Case 1", "queue": "Support", "until": "31.12.2026"}, "until", "YYYY-MM-DD"),
        # A reason too long for the row.
        ({"reason": "x" * 501, "queue": "Support"}, "reason", "At most 500"),
        # An id that is no interaction of this archive.
        ({"reason": "Case 1", "interaction_ids": "0" * 32}, "interaction_ids", UNKNOWN_IDS),
    ],
)
def test_bad_hold_input_shows_the_form_again_with_the_message_at_the_field(
    client: TestClient,
    make_token: TokenMaker,
    solution: Solution,
    session_factory: sessionmaker[Session],
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    csrf = page_csrf(client, "/legal-holds")
    for headers in ({}, HTMX):
        response = client.post("/legal-holds", data={"csrf_token": csrf, **fields}, headers=headers)
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("text/html")
        error = re.search(rf'<p class="field-error" id="he-{field}">([^<]*)</p>', response.text)
        assert error, response.text[:2000]
        assert message.lower() in error.group(1).lower()
        assert f'aria-describedby="he-{field}"' in response.text
        assert CANARY_PHONE not in error.group(1)
    with session_factory() as session:
        assert session.scalars(select(LegalHold)).first() is None
    assert audit_of(session_factory, solution, AuditAction.HOLD_PLACED) == []


def test_another_solutions_hold_cannot_be_released(
    client: TestClient,
    make_token: TokenMaker,
    solution: Solution,
    other_solution: Solution,
    session_factory: sessionmaker[Session],
) -> None:
    other = make_token(Role.PRIVACY_OFFICER, other_solution)
    created = client.post("/api/v1/legal-holds", json={"reason": "Theirs", "queue": "Support"}, headers=auth(other))
    assert created.status_code == 201
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    csrf = page_csrf(client, "/legal-holds")
    assert "Theirs" not in client.get("/legal-holds").text
    response = client.post(f"/legal-holds/{created.json()['id']}/release", data={"csrf_token": csrf})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    with session_factory() as session:
        assert session.get(LegalHold, created.json()["id"]).released_at is None  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# Retention rules on Settings
# ---------------------------------------------------------------------------------------------


def test_admin_previews_then_saves_the_previewed_rule(
    client: TestClient,
    admin_token: str,
    solution: Solution,
    clock: Clock,
    session_factory: sessionmaker[Session],
) -> None:
    # Now is 10 March 12:00 UTC; keeping 5 days deletes what started before 5 March (local).
    assert clock.now == datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    seed(client, admin_token, [chat(1), chat(4), chat(5), chat(4, queue="Sales"), call(1)])
    login(client, admin_token)
    settings = client.get("/settings")
    assert 'id="retention-rules"' in settings.text
    assert 'id="rules-empty"' in settings.text
    assert '<option value="Support">' in settings.text  # the queues in use, as choices
    csrf = csrf_from(settings.text)
    typed = {"channel": "chat", "queue": " Support ", "what": "content", "keep_days": " 5 "}
    preview = client.post("/settings/retention-rules/preview", data={"csrf_token": csrf, **typed}, headers=HTMX)
    assert preview.status_code == 200
    counts = re.search(r'id="rule-preview-counts">([^<]*)</p>', preview.text)
    assert counts
    assert " ".join(counts.group(1).split()) == "Tonight this rule would delete 2 chat logs and emails."
    save_form = preview.text.split('action="/settings/retention-rules"', 1)[1].split("</form>", 1)[0]
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', save_form))
    assert {k: v for k, v in hidden.items() if k != "csrf_token"} == {
        "channel": "chat",
        "queue": "Support",
        "what": "content",
        "keep_days": "5",
    }
    with session_factory() as session:
        assert session.scalars(select(RetentionRule)).first() is None  # a preview saves nothing

    saved = client.post("/settings/retention-rules", data=hidden, headers=HTMX)
    assert saved.status_code == 200
    assert json.loads(saved.headers["HX-Trigger"])["flash"].startswith("The retention rule was saved")
    with session_factory() as session:
        rule = session.scalars(select(RetentionRule)).one()
        assert (rule.queue, rule.what.value, rule.keep_days, rule.solution_id) == ("Support", "content", 5, solution.id)
        assert rule.channel is not None
        assert rule.channel.value == "chat"
    row = saved.text.split(f'id="rule-{rule.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Chat" in row
    assert "Support" in row
    assert "Chat logs and email bodies" in row
    assert ">5<" in row
    [entry] = audit_of(session_factory, solution, AuditAction.RETENTION_RULE_ADDED)
    assert (entry.target, entry.details) == (
        rule.id,
        {"channel": "chat", "queue": "Support", "what": "content", "keep_days": 5, "via": "page"},
    )

    # The same target again: a message, not a second rule.
    again = client.post("/settings/retention-rules/preview", data={"csrf_token": csrf, **typed}, headers=HTMX)
    assert again.status_code == 422
    assert DUPLICATE_MESSAGE in again.text
    duplicate = client.post("/settings/retention-rules", data=hidden)
    assert duplicate.status_code == 422
    assert DUPLICATE_MESSAGE in duplicate.text
    assert "<h1>Settings</h1>" in duplicate.text

    deleted = client.post(
        f"/settings/retention-rules/{rule.id}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/settings?notice=rule_deleted"
    assert "The retention rule was deleted." in client.get(deleted.headers["location"]).text
    with session_factory() as session:
        assert session.scalars(select(RetentionRule)).first() is None
    [gone] = audit_of(session_factory, solution, AuditAction.RETENTION_RULE_DELETED)
    assert gone.details == entry.details


def test_the_preview_counts_a_whole_interaction_rule_with_its_recordings_and_content(
    client: TestClient, admin_token: str
) -> None:
    seed(client, admin_token, [chat(1), chat(2), call(2), chat(9)])
    login(client, admin_token)
    csrf = page_csrf(client, "/settings")
    form = {"csrf_token": csrf, "channel": "", "queue": "", "what": "interaction", "keep_days": "7"}
    preview = client.post("/settings/retention-rules/preview", data=form)
    assert preview.status_code == 200
    assert "<h1>Settings</h1>" in preview.text  # a plain post gets the whole page
    counts = re.search(r'id="rule-preview-counts">([^<]*)</p>', preview.text)
    assert counts
    assert " ".join(counts.group(1).split()) == (
        "Tonight this rule would delete 3 interactions (with 0 recordings and 2 chat logs and emails)."
    )
    assert "Every channel, every queue" in preview.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        # Zero days would delete today's calls.
        ({"keep_days": "0"}, "keep_days", "Keep at least 1"),
        # Not a number.
        ({"keep_days": "a month"}, "keep_days", KEEP_DAYS_MESSAGE),
        # Nothing typed.
        ({"keep_days": ""}, "keep_days", KEEP_DAYS_MESSAGE),
        # A what that does not exist.
        ({"what": "everything"}, "what", "Choose recording"),
        # A channel that does not exist.
        ({"channel": "fax"}, "channel", "Choose call"),
        # A queue longer than any queue.
        ({"queue": "q" * 201}, "queue", "At most 200"),
    ],
)
def test_bad_rule_input_shows_the_section_again_with_the_message_at_the_field(
    client: TestClient,
    admin_token: str,
    session_factory: sessionmaker[Session],
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    login(client, admin_token)
    csrf = page_csrf(client, "/settings")
    form = {"csrf_token": csrf, "channel": "", "queue": "", "what": "recording", "keep_days": "30", **fields}
    for path in ("/settings/retention-rules/preview", "/settings/retention-rules"):
        response = client.post(path, data=form, headers=HTMX)
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("text/html")
        error = re.search(rf'<p class="field-error" id="re-{field}">([^<]*)</p>', response.text)
        assert error, response.text[:2000]
        assert message in error.group(1)
        assert 'id="rule-preview"' not in response.text  # no Save without a valid preview
    with session_factory() as session:
        assert session.scalars(select(RetentionRule)).first() is None


def test_another_solutions_rule_cannot_be_deleted(
    client: TestClient,
    admin_token: str,
    make_token: TokenMaker,
    other_solution: Solution,
    session_factory: sessionmaker[Session],
) -> None:
    other = make_token(Role.ADMIN, other_solution)
    created = client.post("/api/v1/retention-rules", json={"what": "recording", "keep_days": 30}, headers=auth(other))
    assert created.status_code == 201
    login(client, admin_token)
    csrf = page_csrf(client, "/settings")
    response = client.post(f"/settings/retention-rules/{created.json()['id']}/delete", data={"csrf_token": csrf})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    with session_factory() as session:
        assert session.get(RetentionRule, created.json()["id"]) is not None


# ---------------------------------------------------------------------------------------------
# Archive - Search and Archive - Anonymize
# ---------------------------------------------------------------------------------------------


def test_search_marks_held_rows_and_details_say_why_nothing_can_be_deleted(
    client: TestClient,
    make_token: TokenMaker,
    admin_token: str,
    solution: Solution,
    session_factory: sessionmaker[Session],
) -> None:
    held_id, free_id = seed(client, admin_token, [chat(1), chat(2)])
    officer = make_token(Role.PRIVACY_OFFICER, solution)
    placed = client.post(
        "/api/v1/legal-holds", json={"reason": "Case 3", "interaction_ids": [held_id]}, headers=auth(officer)
    )
    assert placed.status_code == 201
    login(client, officer)
    csrf = page_csrf(client, "/archive/search")
    results = client.post("/archive/search", data={"csrf_token": csrf, "queue": "Support"}, headers=HTMX)
    assert results.status_code == 200
    held_row = results.text.split(f'id="row-{held_id}"', 1)[1].split("</tr>", 1)[0]
    free_row = results.text.split(f'id="row-{free_id}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="badge held"' in held_row
    assert "badge held" not in free_row

    details = client.get(f"/archive/interactions/{held_id}", headers=HTMX)
    assert 'id="held-note"' in details.text
    button = re.search(r"<button[^>]*content/delete[^>]*>", details.text)
    assert button
    assert "disabled" in button.group(0)
    assert 'aria-describedby="held-note"' in button.group(0)
    assert "held-note" not in client.get(f"/archive/interactions/{free_id}", headers=HTMX).text
    # A stale page that still offers the button is answered with why nothing happened.
    refused = client.post(f"/archive/interactions/{held_id}/content/delete", data={"csrf_token": csrf}, headers=HTMX)
    # An error naming the hold by its reason, never a success message (issue 24).
    assert json.loads(refused.headers["HX-Trigger"]) == {
        "flash-error": "Nothing was changed: this interaction is under a legal hold (“Case 3”). "
        "Release the hold on Legal holds first, or leave the held ones out."
    }
    assert 'class="badge held"' in refused.text  # the refreshed row keeps its mark
    assert client.get(f"/api/v1/interactions/{held_id}", headers=auth(officer)).json()["has_content"]
    bulk = client.post("/archive/anonymize-and-delete", data={"csrf_token": csrf, "ids": [held_id, free_id]})
    trigger = json.loads(bulk.headers["HX-Trigger"])
    assert trigger == {
        "flash-error": "Nothing was changed: 1 of the 2 chosen interactions is under a legal hold (“Case 3”). "
        "Release the hold on Legal holds first, or leave the held ones out."
    }
    assert held_id not in bulk.headers["HX-Trigger"]


def test_anonymize_page_shows_a_request_that_meets_a_hold_as_held(
    client: TestClient,
    make_token: TokenMaker,
    admin_token: str,
    solution: Solution,
    clock: Clock,
) -> None:
    held_id, _ = seed(client, admin_token, [chat(1, email=CANARY_EMAIL), chat(2, email=CANARY_EMAIL)])
    officer = make_token(Role.PRIVACY_OFFICER, solution)
    assert (
        client.post(
            "/api/v1/legal-holds", json={"reason": "Case 5", "interaction_ids": [held_id]}, headers=auth(officer)
        ).status_code
        == 201
    )
    request = client.post("/api/v1/anonymization-requests", json={"email": CANARY_EMAIL}, headers=auth(officer))
    assert request.status_code == 201
    clock.advance(days=1)
    assert client.post("/api/v1/nightly-runs", headers=auth(admin_token)).status_code == 200
    assert (
        client.get(f"/api/v1/anonymization-requests/{request.json()['id']}", headers=auth(officer)).json()["status"]
        == "held"
    )
    login(client, officer)
    page = client.get("/archive/anonymize").text
    row = page.split(f'id="request-{request.json()["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="held"' in page
    assert "Held (legal hold)" in row
    assert "Anonymized: 1" in row
    assert "Kept by a legal hold: 1" in row
    assert "Cancel" not in row  # a held row was processed; it cannot be cancelled
