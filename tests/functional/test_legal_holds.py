"""Legal holds (CONTRACT §10): what they cover, what they refuse, and how a request waits for them."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.archive.models import ChatMessage, Interaction, Recording
from archivist.audit.models import AuditEvent
from archivist.blobs.memory import MemoryBlobStore
from archivist.retention.holds import HoldCriteria, held_among, place_hold, release_hold
from archivist.retention.models import LegalHold
from tests.conftest import Clock, auth
from tests.functional.anonymization_support import (
    anonymized,
    archive,
    call,
    chat,
    customer,
    enter,
    night,
    oslo,
    record,
)

pytestmark = pytest.mark.usefixtures("solution")

ENTERED = oslo(2026, 3, 10, 12, 0)
NIGHT = oslo(2026, 3, 11, 2, 0)
# A canary: it must never appear in an audit entry, a log line or an error.
CANARY_PHONE = "91234567"
CANARY_E164 = "+4791234567"


def _hold(factory: sessionmaker[Session], solution: Solution, until: date | None = None, **criteria: Any) -> str:
    with factory() as session, session.begin():
        return place_hold(
            session,
            solution,
            HoldCriteria(**criteria),
            reason="Case 2026-17",
            until=until,
            created_by="officer",
            now=ENTERED,
        ).id


def _status(factory: sessionmaker[Session], request_id: str) -> AnonymizationRequest:
    with factory() as session:
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        session.expunge(request)
        return request


def test_request_meeting_a_hold_is_held_then_finishes_the_night_after_release(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, client: Any, make_token: Any
) -> None:
    others_chat = chat("ola@example.no", ENTERED - timedelta(days=1))
    others_chat["messages"][0]["text"] = f"Ring meg på {CANARY_PHONE}"
    held_call, free_call, _ = archive(
        session_factory,
        solution,
        call(CANARY_PHONE, ENTERED - timedelta(days=3), events=1),
        call(CANARY_PHONE, ENTERED - timedelta(days=2), events=1),
        others_chat,
    )
    for iid in (held_call, free_call):
        record(session_factory, blobs, iid, ENTERED)
    hold_id = _hold(session_factory, solution, interaction_ids=(held_call,))
    request_id = enter(session_factory, solution, ENTERED, phone=CANARY_PHONE, delete_content=True, raw_data=True)

    first = night(session_factory, blobs, NIGHT)

    request = _status(session_factory, request_id)
    assert request.status is RequestStatus.HELD
    assert request.result is not None
    assert (request.result["interactions"], request.result["held"], request.result["recordings_deleted"]) == (1, 1, 1)
    # Everything else is done: the free call and the mention in somebody else's chat.
    assert anonymized(session_factory, free_call)
    assert request.result["mentions_replaced"] == 1
    # The held call is untouched, and the request still knows whom it is for.
    assert customer(session_factory, held_call)["phone_e164"] == CANARY_E164
    assert request.phone_e164 == CANARY_E164
    assert (first.requests_processed, first.requests_held) == (1, 1)
    officer = auth(make_token(Role.PRIVACY_OFFICER, solution))
    shown = client.get(f"/api/v1/anonymization-requests/{request_id}", headers=officer).json()
    assert (shown["status"], shown["result"]["held"]) == ("held", 1)
    # Nothing to sign yet: only a done request has a receipt.
    assert client.get(f"/api/v1/anonymization-requests/{request_id}/receipt", headers=officer).status_code == 409

    # Another night with the hold in place changes nothing and keeps the counts.
    night(session_factory, blobs, NIGHT + timedelta(days=1))
    assert _status(session_factory, request_id).result == request.result

    assert client.delete(f"/api/v1/legal-holds/{hold_id}", headers=officer).status_code == 204
    night(session_factory, blobs, NIGHT + timedelta(days=2))

    done = _status(session_factory, request_id)
    assert done.status is RequestStatus.DONE
    assert done.phone_e164 is None
    assert done.result is not None
    assert (done.result["interactions"], done.result["held"], done.result["recordings_deleted"]) == (2, 0, 2)
    assert anonymized(session_factory, held_call)


def test_a_hold_past_its_until_ends_in_the_nightly_run_and_the_request_finishes_that_night(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    (held_call,) = archive(session_factory, solution, call(CANARY_PHONE, ENTERED - timedelta(days=3)))
    # Until the 11th inclusive: the run in the night to the 11th keeps it, the one to the 12th ends it.
    _hold(session_factory, solution, until=date(2026, 3, 11), phone_e164=CANARY_E164)
    request_id = enter(session_factory, solution, ENTERED, phone=CANARY_PHONE)

    first = night(session_factory, blobs, NIGHT)
    assert first.holds_released == 0
    assert _status(session_factory, request_id).status is RequestStatus.HELD

    second = night(session_factory, blobs, NIGHT + timedelta(days=1))
    assert second.holds_released == 1
    assert _status(session_factory, request_id).status is RequestStatus.DONE
    assert anonymized(session_factory, held_call)


def test_a_person_hold_covers_interactions_archived_later_within_its_range(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    _hold(
        session_factory,
        solution,
        phone_e164=CANARY_E164,
        from_at=oslo(2026, 1, 1),
        to_at=oslo(2026, 6, 1),
    )
    inside, outside, somebody_else = archive(
        session_factory,
        solution,
        call(CANARY_PHONE, oslo(2026, 4, 1)),
        call(CANARY_PHONE, oslo(2026, 7, 1)),
        call("92345678", oslo(2026, 4, 1)),
    )
    with session_factory() as session:
        assert held_among(session, solution.id, [inside, outside, somebody_else]) == {inside}


def test_held_interactions_refuse_anonymize_and_delete_and_deletions(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, client: Any, make_token: Any
) -> None:
    in_support = call(CANARY_PHONE, ENTERED - timedelta(days=1))
    in_support["queue"] = "Support"
    held_call, free_call = archive(session_factory, solution, in_support, call("92345678", ENTERED - timedelta(days=1)))
    record(session_factory, blobs, held_call, ENTERED)
    _hold(session_factory, solution, queue="Support")
    headers = auth(make_token(Role.PRIVACY_OFFICER, solution))

    refused = client.post(
        "/api/v1/interactions/anonymize-and-delete", json={"ids": [free_call, held_call]}, headers=headers
    )
    assert refused.status_code == 409
    assert held_call in refused.json()["detail"]
    assert client.delete(f"/api/v1/interactions/{held_call}/recording", headers=headers).status_code == 409
    assert client.delete(f"/api/v1/interactions/{held_call}/content", headers=headers).status_code == 409
    # Nothing changed, the free call included (all or nothing).
    assert not anonymized(session_factory, free_call)
    with session_factory() as session:
        assert session.get(Recording, held_call) is not None


def test_holds_api_validates_masks_and_audits_without_personal_data(
    session_factory: sessionmaker[Session],
    solution: Solution,
    other_solution: Solution,
    client: Any,
    make_token: Any,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (iid,) = archive(session_factory, solution, call(CANARY_PHONE, ENTERED - timedelta(days=1)))
    officer = auth(make_token(Role.PRIVACY_OFFICER, solution))
    supervisor = auth(make_token(Role.SUPERVISOR, solution))

    for bad in (
        {"reason": "x"},  # nothing to hold
        {"reason": "", "phone": CANARY_PHONE},  # no reason
        {"reason": "x", "phone": "12"},  # not a phone number
        {"reason": "x", "interaction_ids": [iid], "queue": "Support"},  # ids and a queue at once
        {"reason": "x", "queue": "Support", "from": "2026-05-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"},
        {"reason": "x", "queue": "Support", "from": "9999-12-31T23:59:59-05:00"},  # outside the time range
    ):
        answer = client.post("/api/v1/legal-holds", json=bad, headers=officer)
        assert answer.status_code == 422, (bad, answer.text)
        assert CANARY_PHONE not in answer.text
    assert (
        client.post(
            "/api/v1/legal-holds", json={"reason": "x", "interaction_ids": ["nope"]}, headers=officer
        ).status_code
        == 404
    )
    assert (
        client.post("/api/v1/legal-holds", json={"reason": "x", "queue": "Support"}, headers=supervisor).status_code
        == 403
    )

    placed = client.post(
        "/api/v1/legal-holds", json={"reason": "Case 17", "phone": CANARY_PHONE, "until": "2026-12-31"}, headers=officer
    )
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert body["interactions"] == 1
    assert body["until"] == "2026-12-31"
    assert CANARY_PHONE not in placed.text
    hold_id = body["id"]
    assert [h["id"] for h in client.get("/api/v1/legal-holds", headers=officer).json()] == [hold_id]
    assert client.get(f"/api/v1/legal-holds/{hold_id}", headers=officer).json()["active"] is True

    other = auth(make_token(Role.PRIVACY_OFFICER, other_solution))
    assert client.get(f"/api/v1/legal-holds/{hold_id}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/legal-holds/{hold_id}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/legal-holds/{hold_id}", headers=officer).status_code == 204
    released = client.get(f"/api/v1/legal-holds/{hold_id}", headers=officer).json()
    assert (released["active"], released["released_by"] is not None) == (False, True)

    with session_factory() as session:
        entries = list(session.scalars(select(AuditEvent).where(AuditEvent.action.like("legal_hold.%"))))
    assert [e.action for e in entries] == ["legal_hold.placed", "legal_hold.released"]
    written = json.dumps([e.details for e in entries]) + caplog.text
    for canary in (CANARY_PHONE, CANARY_E164, "Case 17"):
        assert canary not in written


def test_a_held_interaction_of_somebody_else_keeps_the_mention_until_release(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    others_chat = chat("ola@example.no", ENTERED - timedelta(days=1))
    others_chat["messages"][0]["text"] = f"Kari har nummer {CANARY_PHONE}"
    (chat_id,) = archive(session_factory, solution, others_chat)
    hold_id = _hold(session_factory, solution, interaction_ids=(chat_id,))
    request_id = enter(session_factory, solution, ENTERED, phone=CANARY_PHONE)

    night(session_factory, blobs, NIGHT)

    request = _status(session_factory, request_id)
    assert request.status is RequestStatus.HELD
    assert request.result is not None
    assert (request.result["held"], request.result["mentions_replaced"]) == (1, 0)
    with session_factory() as session:
        assert CANARY_PHONE in session.scalars(select(ChatMessage.text)).one()
        # The chat itself is not the person's: held, but not anonymized either way.
        assert session.get(Interaction, chat_id) is not None
    with session_factory() as session, session.begin():
        hold = session.get(LegalHold, hold_id)
        assert hold is not None
        release_hold(session, hold, released_by="officer", now=NIGHT)

    night(session_factory, blobs, NIGHT + timedelta(days=1))

    done = _status(session_factory, request_id)
    assert done.status is RequestStatus.DONE
    assert done.result is not None
    assert (done.result["held"], done.result["mentions_replaced"]) == (0, 1)
    with session_factory() as session:
        assert CANARY_PHONE not in session.scalars(select(ChatMessage.text)).one()
