"""The actions on retention rules and legal holds, one function each, for the API and the pages alike (CONTRACT §10).

Each validates, changes the data and writes its own audit entry (the door passes ``via``); it
raises the domain's typed errors (``rules.RuleError``, ``DuplicateRuleError``,
``RuleNotFoundError``, ``holds.HoldError``, ``HoldNotFoundError``, ``UnknownIdsError``) before
anything is written, and never commits. A preview is a read and is not audited, so it has no
action here: both doors call ``rules.preview_rule``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.services import Principal
from archivist.audit.events import AuditAction, record_for
from archivist.retention import holds, rules
from archivist.retention.models import LegalHold, RetentionRule


def create_rule(
    session: Session, solution: Solution, draft: rules.DraftRule, *, actor: Principal, via: str, now: datetime
) -> RetentionRule:
    """Save a rule (``rules.parse_rule`` made the draft); DuplicateRuleError if one has the same target."""
    rule = rules.add_rule(session, solution.id, draft, created_by=actor.username, now=now)
    details = {**rules.audit_details(rule), "via": via}
    record_for(session, actor, AuditAction.RETENTION_RULE_ADDED, rule.id, details, at=now)
    return rule


def delete_rule(
    session: Session, solution: Solution, rule_id: str, *, actor: Principal, via: str, now: datetime
) -> None:
    """Delete the solution's rule ``rule_id``; RuleNotFoundError if it has none by that id."""
    rule = rules.rule_of(session, solution.id, rule_id)
    # The entry keeps what the rule was: after the delete only its id would be left.
    details = {**rules.audit_details(rule), "via": via}
    record_for(session, actor, AuditAction.RETENTION_RULE_DELETED, rule.id, details, at=now)
    session.delete(rule)
    session.flush()


def place_hold(
    session: Session,
    solution: Solution,
    criteria: holds.HoldCriteria,
    *,
    reason: str,
    until: date | None,
    actor: Principal,
    via: str,
    now: datetime,
) -> LegalHold:
    """Place a hold on what ``criteria`` (``holds.parse_criteria``) names, for ``reason``.

    HoldError if the reason is empty or too long; UnknownIdsError if an id is not an
    interaction of the solution. The audit entry has the hold's reach, masked, never the reason.
    """
    hold = holds.place_hold(
        session,
        solution,
        criteria,
        reason=holds.parse_reason(reason),
        until=until,
        created_by=actor.username,
        now=now,
    )
    details = {**holds.audit_details(hold), "via": via}
    record_for(session, actor, AuditAction.HOLD_PLACED, hold.id, details, at=now)
    return hold


def release_hold(
    session: Session, solution: Solution, hold_id: str, *, actor: Principal, via: str, now: datetime
) -> bool:
    """Release the solution's hold ``hold_id`` by hand; False (and no audit entry) if it was released already.

    HoldNotFoundError if the solution has no hold by that id.
    """
    hold = holds.hold_of(session, solution.id, hold_id)
    released = holds.release_hold(session, hold, released_by=actor.username, now=now)
    if released:
        record_for(session, actor, AuditAction.HOLD_RELEASED, hold.id, {"by": "hand", "via": via}, at=now)
    return released
