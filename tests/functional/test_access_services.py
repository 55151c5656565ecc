"""The subject access actions (``access/services.py``): each audits with the door's ``via`` and
masked identifiers only, refuses by kind, and never commits.

The API and the page call the same functions, so the answers each door gives a refusal are
checked here too: the central mapping must keep the bodies the hand-written ones had.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.access import services as actions
from archivist.access.criteria import Criteria, CriteriaBox
from archivist.access.export import EXPORT_DAYS, EXPORT_LIFETIME, ExportExpiredError, ExportNotFoundError
from archivist.accounts.models import Role, Solution
from archivist.accounts.services import Principal
from archivist.anonymize.requests import RequestError
from archivist.audit.events import AuditAction
from archivist.audit.models import AuditEvent
from archivist.errors import GoneError, InvalidError, NotFoundError
from archivist.exports.models import SubjectExport
from tests.conftest import KEYRING, TEST_SECRET_KEY, Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, oslo

NOW = oslo(2026, 3, 10, 12, 0)
BOX = CriteriaBox(TEST_SECRET_KEY)
# Canaries: typed in another form than stored; neither may reach an audit entry.
PHONE, PHONE_E164, ADDRESS = "+47 912 34 567", "+4791234567", "kari.canary@example.com"


def officer(solution: Solution) -> Principal:
    return Principal(user_id="u-officer", username="officer", role=Role.PRIVACY_OFFICER, solution_id=solution.id)


def entries(factory: sessionmaker[Session], action: AuditAction) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def make(session: Session, solution: Solution, via: str, phone: str | None = PHONE) -> SubjectExport:
    return actions.create_export(
        session, solution, phone, ADDRESS, keyring=KEYRING, box=BOX, actor=officer(solution), via=via, now=NOW
    )


def test_creating_audits_with_the_door_and_masked_identifiers_and_leaves_the_commit_to_it(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    archive(session_factory, solution, call(PHONE, oslo(2026, 3, 1, 9)))
    with session_factory() as session:
        make(session, solution, "api")
        session.rollback()  # the door decides: without its commit nothing stays
    assert entries(session_factory, AuditAction.SUBJECT_EXPORT_CREATED) == []
    with session_factory() as session:
        export_id = make(session, solution, "page").id
        session.commit()
    [entry] = entries(session_factory, AuditAction.SUBJECT_EXPORT_CREATED)
    assert (entry.target, entry.actor) == (export_id, "officer")
    assert entry.details is not None
    assert entry.details["via"] == "page"
    assert entry.details["phone"] == "91****67"
    assert entry.details["counts"]["calls"] == 1
    for identifier in ("91234567", PHONE_E164, ADDRESS):
        assert identifier not in json.dumps(entry.details)


def test_identifiers_that_cannot_be_a_persons_are_invalid_naming_the_field_and_write_nothing(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    with session_factory() as session, pytest.raises(RequestError) as raised:
        make(session, solution, "api", phone="12-not-a-number")
    assert isinstance(raised.value, InvalidError)
    assert raised.value.field == "phone"
    assert "12-not-a-number" not in str(raised.value)
    with session_factory() as session:
        assert list(session.scalars(select(SubjectExport))) == []
    assert entries(session_factory, AuditAction.SUBJECT_EXPORT_CREATED) == []


def test_a_preview_stores_nothing_and_audits_only_which_kinds_were_given(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    archive(session_factory, solution, call(PHONE, oslo(2026, 3, 1, 9)), call(PHONE, oslo(2026, 3, 2, 9)))
    with session_factory() as session:
        plan, criteria = actions.preview_export(
            session, solution, PHONE, None, keyring=KEYRING, actor=officer(solution), via="page", now=NOW
        )
        session.commit()
    assert plan.counts.calls == 2
    assert criteria == Criteria(PHONE_E164, None)
    [entry] = entries(session_factory, AuditAction.SUBJECT_EXPORT_PREVIEWED)
    assert (entry.target, entry.details) == (None, {"phone": True, "email": False, "via": "page"})
    with session_factory() as session:
        assert list(session.scalars(select(SubjectExport))) == []


def test_each_download_is_counted_and_audited_with_the_door(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    with session_factory() as session:
        export_id = make(session, solution, "api").id
        session.commit()
    for via in ("api", "page"):
        with session_factory() as session:
            export, criteria = actions.open_download(
                session, solution, export_id, box=BOX, actor=officer(solution), via=via, now=NOW
            )
            assert (export.id, criteria) == (export_id, Criteria(PHONE_E164, ADDRESS))
            session.commit()
    downloads = entries(session_factory, AuditAction.SUBJECT_EXPORT_DOWNLOADED)
    assert [(e.target, e.details["download"], e.details["via"]) for e in downloads if e.details] == [
        (export_id, 1, "api"),
        (export_id, 2, "page"),
    ]


def test_another_solutions_export_is_not_found_and_an_expired_one_is_gone_and_neither_is_audited(
    session_factory: sessionmaker[Session], solution: Solution, other_solution: Solution
) -> None:
    with session_factory() as session:
        export_id = make(session, solution, "api").id
        session.commit()
    with session_factory() as session, pytest.raises(ExportNotFoundError) as missing:
        actions.open_download(
            session, other_solution, export_id, box=BOX, actor=officer(other_solution), via="api", now=NOW
        )
    assert isinstance(missing.value, NotFoundError)
    later = NOW + EXPORT_LIFETIME
    with session_factory() as session, pytest.raises(ExportExpiredError) as expired:
        actions.open_download(session, solution, export_id, box=BOX, actor=officer(solution), via="page", now=later)
    assert isinstance(expired.value, GoneError)
    assert entries(session_factory, AuditAction.SUBJECT_EXPORT_DOWNLOADED) == []


def test_the_api_answers_each_refusal_with_the_body_it_always_had(
    client: TestClient,
    make_token: TokenMaker,
    solution: Solution,
    clock: Clock,
    session_factory: sessionmaker[Session],
) -> None:
    headers = auth(make_token(Role.PRIVACY_OFFICER, solution))
    bad = client.post("/api/v1/subject-exports", json={"phone": "12-not-a-number"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("phone: ")
    assert bad.json()["errors"][0]["loc"] == ["phone"]
    assert "12-not-a-number" not in bad.text
    for path in ("/api/v1/subject-exports/" + "0" * 32, "/api/v1/subject-exports/" + "0" * 32 + "/download"):
        missing = client.get(path, headers=headers)
        assert (missing.status_code, missing.json()) == (404, {"detail": "Subject export not found"})

    clock.now = NOW
    (mine,) = archive(session_factory, solution, call(PHONE, oslo(2026, 3, 1, 9)))
    erased = client.post("/api/v1/subject-exports", json={"phone": PHONE}, headers=headers).json()["id"]
    expiring = client.post("/api/v1/subject-exports", json={"email": ADDRESS}, headers=headers).json()["id"]
    assert [e.details["via"] for e in entries(session_factory, AuditAction.SUBJECT_EXPORT_CREATED) if e.details] == [
        "api",
        "api",
    ]
    client.post("/api/v1/interactions/anonymize-and-delete", json={"ids": [mine]}, headers=headers).raise_for_status()
    gone = client.get(f"/api/v1/subject-exports/{erased}/download", headers=headers)
    assert (gone.status_code, gone.json()) == (
        410,
        {
            "detail": "This export is gone: an erasure since forgot the person it was made for, so it would hand "
            "their data back. Make a new export to see what is still held."
        },
    )
    clock.now = NOW + EXPORT_LIFETIME
    expired = client.get(f"/api/v1/subject-exports/{expiring}/download", headers=headers)
    assert (expired.status_code, expired.json()) == (
        410,
        {
            "detail": f"This export has expired ({EXPORT_DAYS} days after it was made) and whose data it was is no "
            "longer stored: make a new export"
        },
    )
