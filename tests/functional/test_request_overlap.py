"""Entering a person again while a request for them waits: the row widens (audited), and an
entry the waiting row already covers adds no second, empty row — on the API and the page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize.models import AnonymizationRequest
from archivist.archive.models import Recording
from archivist.audit.models import AuditEvent
from archivist.blobs.memory import MemoryBlobStore
from tests.conftest import Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, enter, night, oslo, record
from tests.functional.test_search_page_auth import csrf_from, login

URL = "/api/v1/anonymization-requests"
# Canary identifiers: any of these in an audit entry is a leak.
PHONE = "91234567"
EMAIL = "kari.canary@example.com"


@pytest.fixture(autouse=True)
def _entry_time(clock: Clock) -> None:
    clock.now = oslo(2026, 3, 10, 12, 0)


def _widenings(factory: sessionmaker[Session]) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "request.widened")))


def _rows(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(AnonymizationRequest)) or 0)


def test_delete_content_asked_the_second_time_deletes_the_recording_that_night(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, clock: Clock
) -> None:
    (iid,) = archive(session_factory, solution, call(PHONE, oslo(2026, 3, 1, 9)))
    key = record(session_factory, blobs, iid, clock.now)
    first = enter(session_factory, solution, clock.now, phone=PHONE)
    again = enter(session_factory, solution, clock.now, phone=PHONE, delete_content=True)
    assert again == first
    summary = night(session_factory, blobs, oslo(2026, 3, 11, 2))
    assert summary.recordings_deleted == 1
    with session_factory() as session:
        assert session.get(Recording, iid) is None
    assert not blobs.exists(key)


def test_widening_is_audited_with_what_widened_and_masked_identifiers(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    request_id = enter(session_factory, solution, clock.now, phone=PHONE, email=EMAIL)
    enter(session_factory, solution, clock.now, phone=PHONE, email=EMAIL, raw_data=True)
    enter(session_factory, solution, clock.now, phone=PHONE, email=EMAIL, delete_content=True, created_by="eva")
    # Asking for nothing more changes nothing and writes nothing.
    enter(session_factory, solution, clock.now, phone=PHONE, email=EMAIL, raw_data=True)
    entries = _widenings(session_factory)
    assert [e.details["widened"] for e in entries if e.details] == [["raw_data"], ["delete_content"]]
    assert [e.target for e in entries] == [request_id, request_id]
    assert entries[1].actor == "eva"
    assert entries[1].details is not None
    assert (entries[1].details["raw_data"], entries[1].details["delete_content"]) == (True, True)
    for entry in entries:
        assert PHONE not in str(entry.details)
        assert EMAIL not in str(entry.details)
        assert entry.details is not None
        assert entry.details["phone"] == "91****67"


def test_api_phone_only_after_phone_and_email_answers_the_waiting_request(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    officer = auth(make_token(Role.PRIVACY_OFFICER, solution))
    both = client.post(URL, json={"phone": PHONE, "email": EMAIL}, headers=officer)
    phone_only = client.post(URL, json={"phone": "+47 912 34 567", "raw_data": True}, headers=officer)
    email_only = client.post(URL, json={"email": EMAIL.upper()}, headers=officer)
    assert (both.status_code, phone_only.status_code, email_only.status_code) == (201, 200, 200)
    assert phone_only.json()["id"] == email_only.json()["id"] == both.json()["id"]
    assert phone_only.json()["raw_data"] is True  # widened, not lost
    assert _rows(session_factory) == 1
    # A person with more identifiers than the waiting row is a new row (the email is new).
    wider = client.post(URL, json={"phone": PHONE, "email": "other@example.com"}, headers=officer)
    assert wider.status_code == 201


def test_page_says_at_preview_and_add_that_a_waiting_row_covers_the_entry(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    csrf = csrf_from(client.get("/archive/anonymize").text)
    form = {"csrf_token": csrf, "phone": PHONE, "email": EMAIL}
    assert client.post("/archive/anonymize", data=form, headers={"HX-Request": "true"}).status_code == 200
    preview = client.post(
        "/archive/anonymize/preview", data={"csrf_token": csrf, "phone": PHONE}, headers={"HX-Request": "true"}
    )
    assert preview.status_code == 200
    assert "already has a Waiting row" in preview.text
    added = client.post("/archive/anonymize", data={"csrf_token": csrf, "phone": PHONE}, headers={"HX-Request": "true"})
    assert added.status_code == 200
    assert "no second row was added" in added.headers.get("HX-Trigger", "") + added.text
    assert _rows(session_factory) == 1
