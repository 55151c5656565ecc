"""The API of retention rules and legal holds (CONTRACT §10).

Each change is one action of ``archivist.retention.services``; its refusals (422, 404, 409)
are answered by ``web/errors.py``, so no handler here catches them.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from archivist.retention import holds as hold_service
from archivist.retention import rules as rule_service
from archivist.retention import services as actions
from archivist.retention.models import LegalHoldInteraction
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
    return rule_service.parse_rule(body.channel, body.queue, body.what, body.keep_days)


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
    rule = actions.create_rule(session, solution, _draft(body), actor=principal, via="api", now=services.clock())
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
    actions.delete_rule(session, solution, rule_id, actor=principal, via="api", now=services.clock())
    session.commit()


# ---------------------------------------------------------------------------------------------
# Legal holds
# ---------------------------------------------------------------------------------------------


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
    criteria = hold_service.parse_criteria(
        solution,
        interaction_ids=body.interaction_ids,
        phone=body.phone,
        email=body.email,
        queue=body.queue,
        from_at=body.from_,
        to_at=body.to,
    )
    hold = actions.place_hold(
        session,
        solution,
        criteria,
        reason=body.reason,
        until=body.until,
        actor=principal,
        via="api",
        now=services.clock(),
    )
    session.commit()
    return LegalHoldOut.of(hold, list(criteria.interaction_ids) or None)


@router.get("/legal-holds", response_model=list[LegalHoldOut])
def list_holds(_: HoldManager, session: SessionDep, solution: SolutionDep) -> list[LegalHoldOut]:
    """Every hold of the solution, active ones first, newest first."""
    return [LegalHoldOut.of(hold) for hold in hold_service.holds_of(session, solution.id)]


@router.get("/legal-holds/{hold_id}", response_model=LegalHoldOut)
def get_hold(hold_id: str, _: HoldManager, session: SessionDep, solution: SolutionDep) -> LegalHoldOut:
    hold = hold_service.hold_of(session, solution.id, hold_id)
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
    actions.release_hold(session, solution, hold_id, actor=principal, via="api", now=services.clock())
    session.commit()
