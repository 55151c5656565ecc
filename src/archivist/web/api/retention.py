"""The API of retention rules and legal holds (CONTRACT §10)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from archivist.audit.events import AuditAction, record_for
from archivist.retention import holds as hold_service
from archivist.retention import rules as rule_service
from archivist.retention.models import LegalHold, LegalHoldInteraction, RetentionRule
from archivist.retention.schemas import (
    LegalHoldIn,
    LegalHoldOut,
    RetentionPreviewOut,
    RetentionRuleIn,
    RetentionRuleOut,
)
from archivist.web import errors
from archivist.web.deps import Administrator, HoldManager, RetentionReader, ServicesDep, SessionDep, SolutionDep

router = APIRouter(prefix="/api/v1", tags=["retention and legal holds"])


def _draft(body: RetentionRuleIn) -> rule_service.DraftRule:
    return rule_service.DraftRule(body.channel, (body.queue or "").strip() or None, body.what, body.keep_days)


@router.get("/retention-rules", response_model=list[RetentionRuleOut])
def list_rules(_: RetentionReader, session: SessionDep, solution: SolutionDep) -> list[RetentionRuleOut]:
    return [RetentionRuleOut.of(rule) for rule in rule_service.rules_of(session, solution.id)]


@router.post(
    "/retention-rules",
    status_code=status.HTTP_201_CREATED,
    response_model=RetentionRuleOut,
    responses=errors.responses(409),
)
def create_rule(
    body: RetentionRuleIn, principal: Administrator, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> RetentionRuleOut:
    """Save a rule; the nightly run applies it from the next night. 409 if one has the same channel, queue and what."""
    now = services.clock()
    try:
        rule = rule_service.add_rule(session, solution.id, _draft(body), created_by=principal.username, now=now)
    except rule_service.DuplicateRuleError:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "A rule for this channel, queue and what exists already: delete it first"
        ) from None
    record_for(session, principal, AuditAction.RETENTION_RULE_ADDED, rule.id, rule_service.audit_details(rule), at=now)
    session.commit()
    return RetentionRuleOut.of(rule)


@router.post("/retention-rules/preview", response_model=RetentionPreviewOut)
def preview_rule(
    body: RetentionRuleIn, _: Administrator, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> RetentionPreviewOut:
    """What the rule would delete if the nightly run were now, among the solution's other rules."""
    return RetentionPreviewOut(**rule_service.preview_rule(session, solution, _draft(body), services.clock()))


@router.delete("/retention-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(
    rule_id: str, principal: Administrator, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> None:
    rule = session.get(RetentionRule, rule_id)
    if rule is None or rule.solution_id != solution.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Retention rule not found")
    record_for(
        session,
        principal,
        AuditAction.RETENTION_RULE_DELETED,
        rule.id,
        rule_service.audit_details(rule),
        at=services.clock(),
    )
    session.delete(rule)
    session.commit()


# ---------------------------------------------------------------------------------------------
# Legal holds
# ---------------------------------------------------------------------------------------------


def _hold(session: SessionDep, solution_id: str, hold_id: str) -> LegalHold:
    hold = session.get(LegalHold, hold_id)
    if hold is None or hold.solution_id != solution_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Legal hold not found")
    return hold


@router.post(
    "/legal-holds",
    status_code=status.HTTP_201_CREATED,
    response_model=LegalHoldOut,
    response_model_exclude_none=False,
    responses=errors.responses(404),
)
def place_hold(
    body: LegalHoldIn, principal: HoldManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> LegalHoldOut:
    """Place a hold on interaction ids, a person (phone and/or email) or a queue, each within from/to if given."""
    now = services.clock()
    try:
        criteria = hold_service.parse_criteria(
            solution,
            interaction_ids=body.interaction_ids,
            phone=body.phone,
            email=body.email,
            queue=body.queue,
            from_at=body.from_,
            to_at=body.to,
        )
        reason = hold_service.parse_reason(body.reason)
        hold = hold_service.place_hold(
            session, solution, criteria, reason=reason, until=body.until, created_by=principal.username, now=now
        )
    except hold_service.HoldError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{exc.field}: {exc}") from None
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Interaction not found") from None
    record_for(session, principal, AuditAction.HOLD_PLACED, hold.id, hold_service.audit_details(hold), at=now)
    session.commit()
    return LegalHoldOut.of(hold, list(criteria.interaction_ids) or None)


@router.get("/legal-holds", response_model=list[LegalHoldOut])
def list_holds(_: HoldManager, session: SessionDep, solution: SolutionDep) -> list[LegalHoldOut]:
    """Every hold of the solution, active ones first, newest first."""
    return [LegalHoldOut.of(hold) for hold in hold_service.holds_of(session, solution.id)]


@router.get("/legal-holds/{hold_id}", response_model=LegalHoldOut)
def get_hold(hold_id: str, _: HoldManager, session: SessionDep, solution: SolutionDep) -> LegalHoldOut:
    hold = _hold(session, solution.id, hold_id)
    ids = list(
        session.scalars(
            select(LegalHoldInteraction.interaction_id)
            .where(LegalHoldInteraction.hold_id == hold.id)
            .order_by(LegalHoldInteraction.interaction_id)
        )
    )
    return LegalHoldOut.of(hold, ids or None)


@router.delete("/legal-holds/{hold_id}", status_code=status.HTTP_204_NO_CONTENT)
def release_hold(
    hold_id: str, principal: HoldManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> None:
    """Release a hold (releasing a released one changes nothing); what it kept is processed the next night."""
    hold = _hold(session, solution.id, hold_id)
    now = services.clock()
    if hold_service.release_hold(session, hold, released_by=principal.username, now=now):
        record_for(session, principal, AuditAction.HOLD_RELEASED, hold.id, {"by": "hand"}, at=now)
    session.commit()
