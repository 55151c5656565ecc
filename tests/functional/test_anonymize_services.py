"""The officer's actions on *Archive - Anonymize* as one function each (anonymize/services.py):
each changes, audits with the door's ``via`` and raises a typed error; none commits."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.accounts.services import Principal
from archivist.anonymize import services as actions
from archivist.anonymize.models import AnonymizationRequest
from archivist.anonymize.requests import RequestDoneError, RequestError, RequestNotFoundError
from archivist.audit.models import AuditEvent
from archivist.blobs.memory import MemoryBlobStore
from archivist.errors import ConflictError, InvalidError, NotFoundError
from tests.conftest import KEYRING, Clock
from tests.functional.anonymization_support import archive, call, night, oslo

# Canaries: any of them in an audit entry is a leak.
PHONE = "91234567"
EMAIL = "kari.canary@example.com"


@pytest.fixture(autouse=True)
def _entry_time(clock: Clock) -> None:
    clock.now = oslo(2026, 3, 10, 12, 0)


def _officer(solution: Solution) -> Principal:
    return Principal(user_id="u-officer", username="officer", role=Role.PRIVACY_OFFICER, solution_id=solution.id)


def _events(factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _add(session: Session, solution: Solution, clock: Clock, via: str) -> tuple[AnonymizationRequest, bool]:
    return actions.add_request(
        session,
        solution,
        phone=PHONE,
        email=EMAIL,
        raw_data=True,
        delete_content=False,
        also=None,
        actor=_officer(solution),
        via=via,
        now=clock.now,
    )


def test_adding_audits_once_with_the_door_and_masked_identifiers_and_does_not_commit(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    with session_factory() as session:
        _add(session, solution, clock, "api")
        session.rollback()  # the action never commits: the door's rollback leaves nothing
    assert _events(session_factory, "request.added") == []
    with session_factory() as session:
        request, created = _add(session, solution, clock, "page")
        again, created_again = _add(session, solution, clock, "api")
        session.commit()
    assert created
    assert not created_again
    assert again.id == request.id
    (entry,) = _events(session_factory, "request.added")  # the same person again adds nothing to audit
    assert entry.target == request.id
    assert entry.actor == "officer"
    assert entry.details is not None
    assert entry.details["via"] == "page"
    assert entry.details["raw_data"] is True
    assert PHONE not in str(entry.details)
    assert EMAIL not in str(entry.details)


def test_bad_input_is_an_invalid_error_naming_the_field_and_not_the_value(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    with session_factory() as session, pytest.raises(RequestError) as raised:
        actions.add_request(
            session,
            solution,
            phone="12-not-a-number",
            email=None,
            raw_data=False,
            delete_content=False,
            also=None,
            actor=_officer(solution),
            via="api",
            now=clock.now,
        )
    assert isinstance(raised.value, InvalidError)
    assert raised.value.field == "phone"
    assert "12-not-a-number" not in str(raised.value)


def test_cancelling_another_solutions_request_is_not_found_and_changes_nothing(
    session_factory: sessionmaker[Session], solution: Solution, other_solution: Solution, clock: Clock
) -> None:
    with session_factory() as session:
        theirs, _ = _add(session, other_solution, clock, "api")
        session.commit()
    with session_factory() as session, pytest.raises(RequestNotFoundError) as raised:
        actions.cancel_request(session, solution, theirs.id, actor=_officer(solution), via="page", now=clock.now)
    assert isinstance(raised.value, NotFoundError)
    with session_factory() as session:
        assert session.get(AnonymizationRequest, theirs.id) is not None
    assert _events(session_factory, "request.cancelled") == []


def test_cancelling_audits_the_door_and_a_processed_request_is_a_conflict(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock, blobs: MemoryBlobStore
) -> None:
    archive(session_factory, solution, call(PHONE, oslo(2026, 3, 1, 9)))
    with session_factory() as session:
        waiting, _ = _add(session, solution, clock, "api")
        session.commit()
    with session_factory() as session:
        actions.cancel_request(session, solution, waiting.id, actor=_officer(solution), via="page", now=clock.now)
        session.commit()
    (entry,) = _events(session_factory, "request.cancelled")
    assert entry.details is not None
    assert entry.details["via"] == "page"
    with session_factory() as session:
        done, _ = _add(session, solution, clock, "api")
        session.commit()
    night(session_factory, blobs, oslo(2026, 3, 11, 2))
    with session_factory() as session, pytest.raises(RequestDoneError) as raised:
        actions.cancel_request(session, solution, done.id, actor=_officer(solution), via="api", now=clock.now)
    assert isinstance(raised.value, ConflictError)


def test_a_preview_audits_which_kinds_were_given_never_the_values(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    archive(session_factory, solution, call(PHONE, oslo(2026, 3, 1, 9)))
    with session_factory() as session:
        preview, _, ids = actions.preview_request(
            session,
            solution,
            phone=PHONE,
            email=None,
            raw_data=False,
            delete_content=False,
            also=None,
            keyring=KEYRING,
            blobs=None,
            actor=_officer(solution),
            via="api",
            now=clock.now,
        )
        session.commit()
    assert preview.interactions == 1
    assert ids.phone_e164 == "+4791234567"
    (entry,) = _events(session_factory, "request.previewed")
    assert entry.details == {"phone": True, "email": False, "raw_data": False, "via": "api"}
