"""The retention actions (``retention/services.py``): each changes, audits with ``via``, refuses by kind, never commits.

The API and the pages call the same functions, so the answers each door gives a refusal are
checked here too: the central mapping must keep the bodies the hand-written ones had.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.accounts.services import Principal
from archivist.archive.models import Channel
from archivist.audit.events import AuditAction
from archivist.audit.models import AuditEvent
from archivist.errors import ConflictError, InvalidError, NotFoundError
from archivist.retention import holds, rules, services
from archivist.retention.models import LegalHold, RetentionRule, RetentionWhat
from tests.conftest import auth
from tests.functional.anonymization_support import archive, call, oslo

NOW = oslo(2026, 3, 10, 12, 0)
DRAFT = rules.DraftRule(Channel.CALL, "Sales", RetentionWhat.RECORDING, 90)


def actor(solution: Solution, username: str = "admin-1") -> Principal:
    return Principal(user_id="u-1", username=username, role=Role.ADMIN, solution_id=solution.id)


def entries(factory: sessionmaker[Session], action: AuditAction) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def count(factory: sessionmaker[Session], model: Any) -> int:
    with factory() as session:
        return len(list(session.scalars(select(model))))


def test_create_rule_saves_and_audits_with_the_door_and_leaves_the_commit_to_it(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    with session_factory() as session:
        rule = services.create_rule(session, solution, DRAFT, actor=actor(solution), via="cli", now=NOW)
        assert rule.created_by == "admin-1"
        session.rollback()  # the door decides: without its commit nothing stays
    assert count(session_factory, RetentionRule) == 0
    assert entries(session_factory, AuditAction.RETENTION_RULE_ADDED) == []

    with session_factory() as session:
        rule = services.create_rule(session, solution, DRAFT, actor=actor(solution), via="api", now=NOW)
        session.commit()
        rule_id = rule.id
    [entry] = entries(session_factory, AuditAction.RETENTION_RULE_ADDED)
    assert (entry.target, entry.actor, entry.details) == (
        rule_id,
        "admin-1",
        {"channel": "call", "queue": "Sales", "what": "recording", "keep_days": 90, "via": "api"},
    )


def test_a_second_rule_for_the_same_target_is_a_conflict_and_writes_nothing(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    with session_factory() as session:
        services.create_rule(session, solution, DRAFT, actor=actor(solution), via="api", now=NOW)
        session.commit()
    # The queue compares as search's Queue filter does: "SALES" is "Sales".
    same = rules.DraftRule(Channel.CALL, "SALES", RetentionWhat.RECORDING, 30)
    with session_factory() as session:
        with pytest.raises(rules.DuplicateRuleError) as refused:
            services.create_rule(session, solution, same, actor=actor(solution), via="page", now=NOW)
        assert isinstance(refused.value, ConflictError)
        session.commit()
    assert count(session_factory, RetentionRule) == 1
    assert len(entries(session_factory, AuditAction.RETENTION_RULE_ADDED)) == 1


def test_delete_rule_audits_what_the_rule_was_and_another_solutions_is_not_found(
    session_factory: sessionmaker[Session], solution: Solution, other_solution: Solution
) -> None:
    with session_factory() as session:
        rule_id = services.create_rule(session, solution, DRAFT, actor=actor(solution), via="api", now=NOW).id
        session.commit()
    for solution_id, rule in ((other_solution, rule_id), (solution, "no-such-rule")):
        with session_factory() as session, pytest.raises(rules.RuleNotFoundError) as missing:
            services.delete_rule(session, solution_id, rule, actor=actor(solution_id), via="api", now=NOW)
        assert isinstance(missing.value, NotFoundError)
        assert str(missing.value) == "Retention rule not found"
    assert count(session_factory, RetentionRule) == 1

    with session_factory() as session:
        services.delete_rule(session, solution, rule_id, actor=actor(solution), via="page", now=NOW)
        session.commit()
    assert count(session_factory, RetentionRule) == 0
    [entry] = entries(session_factory, AuditAction.RETENTION_RULE_DELETED)
    assert (entry.target, entry.details) == (
        rule_id,
        {"channel": "call", "queue": "Sales", "what": "recording", "keep_days": 90, "via": "page"},
    )


def test_place_hold_validates_the_reason_and_refuses_unknown_ids_before_writing(
    session_factory: sessionmaker[Session], solution: Solution, other_solution: Solution
) -> None:
    (theirs,) = archive(session_factory, other_solution, call("+46701234567", NOW))
    (ours,) = archive(session_factory, solution, call("+4741234599", NOW))
    by_ids = holds.HoldCriteria(interaction_ids=(ours,))
    with session_factory() as session:
        for reason in ("   ", "x" * (holds.MAX_REASON + 1)):  # blank, too long
            with pytest.raises(holds.HoldError) as invalid:
                services.place_hold(
                    session, solution, by_ids, reason=reason, until=None, actor=actor(solution), via="api", now=NOW
                )
            assert isinstance(invalid.value, InvalidError)
            assert invalid.value.field == "reason"
        # Another solution's id is as unknown as one that never was.
        for ids in ((ours, theirs), ("0" * 32,)):
            with pytest.raises(holds.UnknownIdsError) as unknown:
                services.place_hold(
                    session,
                    solution,
                    holds.HoldCriteria(interaction_ids=ids),
                    reason="Case 1",
                    until=None,
                    actor=actor(solution),
                    via="api",
                    now=NOW,
                )
            assert isinstance(unknown.value, NotFoundError)
        session.commit()
    assert count(session_factory, LegalHold) == 0
    assert entries(session_factory, AuditAction.HOLD_PLACED) == []


def test_place_then_release_a_hold_audits_each_once_with_the_door(
    session_factory: sessionmaker[Session], solution: Solution, other_solution: Solution
) -> None:
    (iid,) = archive(session_factory, solution, call("+4741234599", NOW))
    with session_factory() as session:
        criteria = holds.parse_criteria(
            solution, interaction_ids=None, phone="+47 412 34 599", email=None, queue=None, from_at=None, to_at=None
        )
        hold = services.place_hold(
            session,
            solution,
            criteria,
            reason="  Claim 17  ",
            until=date(2026, 6, 30),
            actor=actor(solution, "officer-1"),
            via="page",
            now=NOW,
        )
        session.commit()
        hold_id = hold.id
        assert hold.reason == "Claim 17"
        assert holds.held_among(session, solution.id, [iid]) == {iid}
    [placed] = entries(session_factory, AuditAction.HOLD_PLACED)
    assert placed.details == {
        "interactions": 1,
        "phone": "41****99",
        "email": None,
        "queue": None,
        "time_range": False,
        "until": "2026-06-30",
        "via": "page",
    }

    with session_factory() as session, pytest.raises(holds.HoldNotFoundError):
        services.release_hold(session, other_solution, hold_id, actor=actor(other_solution), via="api", now=NOW)
    with session_factory() as session:
        assert services.release_hold(session, solution, hold_id, actor=actor(solution), via="api", now=NOW) is True
        session.commit()
    with session_factory() as session:
        # Released already: nothing changes and nothing more is audited.
        assert services.release_hold(session, solution, hold_id, actor=actor(solution), via="api", now=NOW) is False
        session.commit()
        assert holds.held_among(session, solution.id, [iid]) == set()
    [released] = entries(session_factory, AuditAction.HOLD_RELEASED)
    assert (released.target, released.details) == (hold_id, {"by": "hand", "via": "api"})


def test_held_error_names_the_held_ids_so_the_central_409_can_carry_them() -> None:
    few = holds.HeldError(["b", "a"])
    assert str(few) == holds.held_message(few) == "Under a legal hold: a, b. Nothing was changed"
    many = holds.HeldError([f"id{n:02}" for n in range(holds.MAX_NAMED_HELD + 3)])
    assert str(many).endswith("id19 and 3 more. Nothing was changed")


# ---------------------------------------------------------------------------------------------
# The API's answers, now given by web/errors.py: the same statuses and bodies as before
# ---------------------------------------------------------------------------------------------


def test_the_api_answers_each_refusal_with_the_body_it_always_had(
    client: Any, make_token: Any, solution: Solution, other_solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    admin = auth(make_token(Role.ADMIN, solution))
    officer = auth(make_token(Role.PRIVACY_OFFICER, solution))
    other = auth(make_token(Role.ADMIN, other_solution))
    body = {"channel": "call", "queue": "Sales", "what": "recording", "keep_days": 90}
    rule_id = client.post("/api/v1/retention-rules", json=body, headers=admin).json()["id"]

    duplicate = client.post("/api/v1/retention-rules", json={**body, "queue": " sales "}, headers=admin)
    assert (duplicate.status_code, duplicate.json()) == (
        409,
        {"detail": "A rule for this channel, queue and what exists already: delete it first"},
    )
    gone = client.delete(f"/api/v1/retention-rules/{rule_id}", headers=other)
    assert (gone.status_code, gone.json()) == (404, {"detail": "Retention rule not found"})

    blank = client.post("/api/v1/legal-holds", json={"reason": "  ", "queue": "Sales"}, headers=officer)
    assert blank.status_code == 422
    message = "Say why the interactions are held (a case or order reference)"
    assert blank.json() == {
        "detail": f"reason: {message}",
        "errors": [{"loc": ["reason"], "msg": message, "type": "value_error"}],
    }
    unknown = client.post("/api/v1/legal-holds", json={"reason": "x", "interaction_ids": ["0" * 32]}, headers=officer)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Interaction not found"})
    for method in ("get", "delete"):
        missing = getattr(client, method)("/api/v1/legal-holds/no-such-hold", headers=officer)
        assert (missing.status_code, missing.json()) == (404, {"detail": "Legal hold not found"})
    assert entries(session_factory, AuditAction.HOLD_PLACED) == []

    placed = client.post("/api/v1/legal-holds", json={"reason": "Case 9", "queue": "Sales"}, headers=officer)
    assert placed.status_code == 201
    assert client.delete(f"/api/v1/legal-holds/{placed.json()['id']}", headers=officer).status_code == 204
    assert [(e.details or {})["via"] for e in entries(session_factory, AuditAction.HOLD_PLACED)] == ["api"]
    assert [(e.details or {})["via"] for e in entries(session_factory, AuditAction.HOLD_RELEASED)] == ["api"]
    assert [(e.details or {})["via"] for e in entries(session_factory, AuditAction.RETENTION_RULE_ADDED)] == ["api"]
