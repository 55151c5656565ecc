"""What *Archive - Search* erases at once, as one function each (``anonymize/services.py``):
*Anonymize and delete*, and deleting one interaction's content or recording. Each audits with
the door's ``via``, refuses by kind before writing, and never commits.

The API and the page call the same functions, so the API's answers to a refusal are checked
here too: the central mapping must keep the bodies the hand-written ones had.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.accounts.services import Principal
from archivist.anonymize import services as actions
from archivist.anonymize.erasure import UnknownInteractionError
from archivist.archive.models import Interaction, PendingBlobDeletion, Recording
from archivist.audit.events import AuditAction
from archivist.audit.models import AuditEvent
from archivist.blobs.memory import MemoryBlobStore
from archivist.errors import ConflictError, NotFoundError
from archivist.retention import holds
from tests.conftest import KEYRING, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, chat, oslo, record

NOW = oslo(2026, 3, 10, 12, 0)
PHONE = "91234567"
ADDRESS = "kari.canary@example.com"


def officer(solution: Solution) -> Principal:
    return Principal(user_id="u-officer", username="officer", role=Role.PRIVACY_OFFICER, solution_id=solution.id)


def entries(factory: sessionmaker[Session], action: AuditAction) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def interaction(factory: sessionmaker[Session], interaction_id: str) -> Interaction:
    with factory() as session:
        found = session.get(Interaction, interaction_id)
        assert found is not None
        return found


def hold(factory: sessionmaker[Session], solution: Solution, *interaction_ids: str) -> None:
    with factory() as session, session.begin():
        criteria = holds.HoldCriteria(interaction_ids=interaction_ids)
        holds.place_hold(session, solution, criteria, reason="Case 9", until=None, created_by="officer", now=NOW)


def anonymize(session: Session, solution: Solution, ids: list[str], via: str) -> Any:
    return actions.anonymize_and_delete(
        session, solution, ids, raw_data=False, keyring=KEYRING, actor=officer(solution), via=via, now=NOW
    )


def test_anonymize_and_delete_audits_ids_and_counts_with_the_door_and_leaves_the_commit_to_it(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    first, second = archive(session_factory, solution, call(PHONE, NOW), chat(ADDRESS, NOW))
    with session_factory() as session:
        anonymize(session, solution, [second, first], "page")
        session.rollback()  # the door decides: without its commit nothing stays
    assert interaction(session_factory, first).anonymized_at is None
    assert entries(session_factory, AuditAction.ANONYMIZED_AND_DELETED) == []

    with session_factory() as session:
        result = anonymize(session, solution, [second, first, first], "api")
        session.commit()
    assert (result.anonymized, result.content_deleted) == (2, 1)
    assert interaction(session_factory, first).anonymized_at is not None
    [entry] = entries(session_factory, AuditAction.ANONYMIZED_AND_DELETED)
    assert (entry.target, entry.actor) == (None, "officer")
    assert entry.details == {
        "ids": sorted([first, second]),
        "raw_data": False,
        "anonymized": 2,
        "recordings_deleted": 0,
        "content_deleted": 1,
        "raw_data_rows": 0,
        "via": "api",
    }


def test_anonymize_and_delete_refuses_another_solutions_id_and_a_held_one_before_writing(
    session_factory: sessionmaker[Session], solution: Solution, other_solution: Solution
) -> None:
    ours, held = archive(session_factory, solution, call(PHONE, NOW), call(PHONE, NOW))
    (theirs,) = archive(session_factory, other_solution, call(PHONE, NOW))
    hold(session_factory, solution, held)
    with session_factory() as session, pytest.raises(UnknownInteractionError) as unknown:
        anonymize(session, solution, [ours, theirs], "api")
    assert isinstance(unknown.value, NotFoundError)
    assert str(unknown.value) == "Interaction not found"
    with session_factory() as session, pytest.raises(holds.HeldError) as refused:
        anonymize(session, solution, [ours, held], "page")
    assert isinstance(refused.value, ConflictError)
    assert refused.value.held == [held]
    assert interaction(session_factory, ours).anonymized_at is None
    assert entries(session_factory, AuditAction.ANONYMIZED_AND_DELETED) == []


def test_deleting_content_audits_with_the_door_and_there_is_nothing_to_delete_the_second_time(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    (chat_id,) = archive(session_factory, solution, chat(ADDRESS, NOW))
    with session_factory() as session:
        deleted = actions.delete_content(session, solution, chat_id, actor=officer(solution), via="page", now=NOW)
        assert deleted.id == chat_id
        session.rollback()
    assert interaction(session_factory, chat_id).has_content
    with session_factory() as session:
        actions.delete_content(session, solution, chat_id, actor=officer(solution), via="page", now=NOW)
        session.commit()
    assert not interaction(session_factory, chat_id).has_content
    with session_factory() as session, pytest.raises(actions.NoContentError) as none_left:
        actions.delete_content(session, solution, chat_id, actor=officer(solution), via="api", now=NOW)
    assert isinstance(none_left.value, NotFoundError)
    [entry] = entries(session_factory, AuditAction.CONTENT_DELETED)
    assert (entry.target, entry.details) == (chat_id, {"via": "page"})


def test_deleting_a_recording_leaves_its_blob_for_the_door_to_drain_and_audits_with_the_door(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    (call_id,) = archive(session_factory, solution, call(PHONE, NOW))
    key = record(session_factory, blobs, call_id, NOW)
    with session_factory() as session:
        actions.delete_recording(session, solution, call_id, actor=officer(solution), via="api", now=NOW)
        session.commit()
    with session_factory() as session:
        assert session.get(Recording, call_id) is None
        assert [p.blob_key for p in session.scalars(select(PendingBlobDeletion))] == [key]
    with session_factory() as session, pytest.raises(actions.NoRecordingError):
        actions.delete_recording(session, solution, call_id, actor=officer(solution), via="api", now=NOW)
    [entry] = entries(session_factory, AuditAction.RECORDING_DELETED)
    assert (entry.target, entry.details) == (call_id, {"via": "api"})


@pytest.mark.parametrize(
    "delete",
    [actions.delete_content, actions.delete_recording],
    ids=["content", "recording"],
)
def test_deleting_one_interactions_content_refuses_a_held_or_foreign_one_before_writing(
    delete: Any,
    session_factory: sessionmaker[Session],
    solution: Solution,
    other_solution: Solution,
    blobs: MemoryBlobStore,
) -> None:
    held, foreign = archive(session_factory, solution, chat(ADDRESS, NOW), call(PHONE, NOW))
    record(session_factory, blobs, foreign, NOW)
    hold(session_factory, solution, held)
    with session_factory() as session, pytest.raises(holds.HeldError):
        delete(session, solution, held, actor=officer(solution), via="page", now=NOW)
    # A call of this solution is just as absent to another solution's officer.
    with session_factory() as session, pytest.raises(UnknownInteractionError):
        delete(session, other_solution, foreign, actor=officer(other_solution), via="api", now=NOW)
    assert interaction(session_factory, held).has_content
    assert interaction(session_factory, foreign).has_recording
    assert entries(session_factory, AuditAction.CONTENT_DELETED) == []
    assert entries(session_factory, AuditAction.RECORDING_DELETED) == []


def test_the_api_answers_each_refusal_with_the_body_it_always_had(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    headers = auth(make_token(Role.PRIVACY_OFFICER, solution))
    held, free = archive(session_factory, solution, chat(ADDRESS, NOW), call(PHONE, NOW))
    hold(session_factory, solution, held)
    refused = {"detail": f"Under a legal hold: {held}. Nothing was changed"}
    url = "/api/v1/interactions"
    answers = [
        client.post(f"{url}/anonymize-and-delete", json={"ids": [free, held]}, headers=headers),
        client.delete(f"{url}/{held}/content", headers=headers),
        client.delete(f"{url}/{held}/recording", headers=headers),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(409, refused)] * 3

    missing = {"detail": "Interaction not found"}
    answers = [
        client.post(f"{url}/anonymize-and-delete", json={"ids": [free, "0" * 32]}, headers=headers),
        client.delete(f"{url}/{'0' * 32}/content", headers=headers),
        client.delete(f"{url}/{'0' * 32}/recording", headers=headers),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(404, missing)] * 3

    no_content = client.delete(f"{url}/{free}/content", headers=headers)
    assert (no_content.status_code, no_content.json()) == (
        404,
        {"detail": "This interaction has no content (or it was deleted)"},
    )
    no_recording = client.delete(f"{url}/{free}/recording", headers=headers)
    assert (no_recording.status_code, no_recording.json()) == (
        404,
        {"detail": "This interaction has no recording (or it was deleted)"},
    )
    done = client.post(f"{url}/anonymize-and-delete", json={"ids": [free]}, headers=headers)
    assert done.status_code == 200
    [entry] = entries(session_factory, AuditAction.ANONYMIZED_AND_DELETED)
    assert entry.details is not None
    assert entry.details["via"] == "api"
