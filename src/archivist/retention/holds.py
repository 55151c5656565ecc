"""Legal holds (CONTRACT §10): interactions that must stay as they are, whatever anybody asks.

``held_interactions`` is the one definition of what is held; everything that deletes or
rewrites an interaction (retention, *Anonymize and delete*, deleting a recording or content,
an anonymization request) asks it. A hold is active until it is released, by hand or by the
nightly run once its ``until`` date has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, select, union, update
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.archive.models import Interaction
from archivist.db import chunks, rowcount
from archivist.errors import ConflictError, InvalidError, NotFoundError
from archivist.identifiers import InvalidIdentifier, mask_email, mask_phone_e164, parse_email, parse_phone
from archivist.retention.models import LegalHold, LegalHoldInteraction

MAX_REASON = 500
# Interaction ids one hold may name (a queue or a person covers any number).
MAX_HOLD_IDS = 10_000
# Who released a hold whose ``until`` had passed.
EXPIRY_ACTOR = "nightly run (until passed)"


class HoldError(InvalidError):
    """Input that cannot make a hold. ``field`` names the field; the message never repeats the input."""

    field: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)


# Ids named in a 409 at most (the rest are counted).
MAX_NAMED_HELD = 20


class HeldError(ConflictError):
    """Some of the chosen interactions are under a legal hold; nothing was changed.

    The message is the API's 409 text and names the held ids (ids are not personal data), so
    the central mapping in ``web/errors.py`` answers it as it is; ``held`` lists them all.
    """

    def __init__(self, held: Sequence[str]) -> None:
        self.held = sorted(held)
        named = ", ".join(self.held[:MAX_NAMED_HELD])
        more = f" and {len(self.held) - MAX_NAMED_HELD} more" if len(self.held) > MAX_NAMED_HELD else ""
        super().__init__(f"Under a legal hold: {named}{more}. Nothing was changed")


def held_message(exc: HeldError) -> str:
    """The 409 text: which ids are held, nothing changed (the error's own message)."""
    return str(exc)


class HoldNotFoundError(NotFoundError):
    """No such hold in this solution (another solution's is just as absent)."""

    def __init__(self) -> None:
        super().__init__("Legal hold not found")


class UnknownIdsError(NotFoundError):
    """Some ids a hold names are not interactions of this solution; nothing was held."""

    def __init__(self) -> None:
        super().__init__("Interaction not found")


@dataclass(frozen=True)
class HoldCriteria:
    """What a hold covers, validated and normalised."""

    interaction_ids: tuple[str, ...] = ()
    phone_e164: str | None = None
    email_norm: str | None = None
    queue: str | None = None
    from_at: datetime | None = None
    to_at: datetime | None = None


def parse_criteria(
    solution: Solution,
    *,
    interaction_ids: Sequence[str] | None,
    phone: str | None,
    email: str | None,
    queue: str | None,
    from_at: datetime | None,
    to_at: datetime | None,
) -> HoldCriteria:
    """Validate a hold's criteria: ids, or a person and/or a queue (each within from/to). Raises HoldError."""
    ids = tuple(dict.fromkeys(i.strip() for i in interaction_ids or () if i.strip()))
    phone = (phone or "").strip() or None
    email = (email or "").strip() or None
    queue = (queue or "").strip() or None
    if ids and (phone or email or queue or from_at or to_at):
        raise HoldError("interaction_ids", "Name interactions, or a person or queue with a time range, not both")
    if not ids and not (phone or email or queue):
        raise HoldError("interaction_ids", "Name the interactions, a person (phone or email) or a queue to hold")
    if len(ids) > MAX_HOLD_IDS:
        raise HoldError("interaction_ids", f"At most {MAX_HOLD_IDS} interactions in one hold")
    if from_at is not None and to_at is not None and from_at > to_at:
        raise HoldError("to", "The end of the time range is before its start")
    try:
        phone_e164 = parse_phone(phone, solution.country) if phone else None
    except InvalidIdentifier as exc:
        raise HoldError("phone", str(exc)) from None
    try:
        email_norm = parse_email(email) if email else None
    except InvalidIdentifier as exc:
        raise HoldError("email", str(exc)) from None
    return HoldCriteria(ids, phone_e164, email_norm, queue, from_at, to_at)


def parse_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise HoldError("reason", "Say why the interactions are held (a case or order reference)")
    if len(text) > MAX_REASON:
        raise HoldError("reason", f"At most {MAX_REASON} characters")
    return text


def _names_ids(hold: LegalHold) -> bool:
    return hold.phone_e164 is None and hold.email_norm is None and hold.queue is None


def _covering(hold: LegalHold) -> Select[Any]:
    """Ids of the interactions a person or queue hold covers, each within its from/to.

    A person named by both identifiers is two index lookups (a UNION) rather than an OR.
    """
    where: list[ColumnElement[bool]] = [Interaction.solution_id == hold.solution_id]
    if hold.queue is not None:
        where.append(Interaction.queue == hold.queue)
    if hold.from_at is not None:
        where.append(Interaction.started_at >= hold.from_at)
    if hold.to_at is not None:
        where.append(Interaction.started_at < hold.to_at)
    person = [
        column == value
        for column, value in (
            (Interaction.customer_phone_e164, hold.phone_e164),
            (Interaction.customer_email_norm, hold.email_norm),
        )
        if value is not None
    ]
    if len(person) < 2:
        return select(Interaction.id.label("id")).where(*where, *person)
    return select(union(*(select(Interaction.id.label("id")).where(*where, one) for one in person)).subquery().c.id)


def _named(where: ColumnElement[bool]) -> Select[Any]:
    """Ids that holds name one by one."""
    return (
        select(LegalHoldInteraction.interaction_id.label("id"))
        .join(LegalHold, LegalHold.id == LegalHoldInteraction.hold_id)
        .where(where)
    )


def held_interactions(session: Session, solution_id: str) -> Select[Any] | None:
    """Ids of every interaction of the solution under an active hold (a subquery), or None if none is.

    None lets callers skip the condition altogether: most archives hold nothing most of the time.
    """
    active = and_(LegalHold.solution_id == solution_id, LegalHold.released_at.is_(None))
    holds = list(session.scalars(select(LegalHold).where(active)))
    selects = [_covering(hold) for hold in holds if not _names_ids(hold)]
    if any(_names_ids(hold) for hold in holds):
        selects.append(_named(active))
    if not selects:
        return None
    if len(selects) == 1:
        return selects[0]
    return select(union(*selects).subquery().c.id)


def hold_of(session: Session, solution_id: str, hold_id: str) -> LegalHold:
    """The solution's hold ``hold_id``; HoldNotFoundError if there is none (or it is another solution's)."""
    hold = session.get(LegalHold, hold_id)
    if hold is None or hold.solution_id != solution_id:
        raise HoldNotFoundError
    return hold


def holds_of(session: Session, solution_id: str) -> list[LegalHold]:
    """Every hold of the solution, active ones first, newest first (the API's and the page's list)."""
    return list(
        session.scalars(
            select(LegalHold)
            .where(LegalHold.solution_id == solution_id)
            .order_by(LegalHold.released_at.is_not(None), LegalHold.created_at.desc(), LegalHold.id.desc())
        )
    )


def held_among(session: Session, solution_id: str, interaction_ids: Sequence[str]) -> set[str]:
    """Which of ``interaction_ids`` are held."""
    held = held_interactions(session, solution_id)
    if held is None or not interaction_ids:
        return set()
    found: set[str] = set()
    for chunk in chunks(interaction_ids):
        found.update(session.scalars(select(Interaction.id).where(Interaction.id.in_(chunk), Interaction.id.in_(held))))
    return found


def holds_covering(session: Session, solution_id: str, interaction_ids: Sequence[str]) -> list[LegalHold]:
    """The active holds that keep any of ``interaction_ids``, oldest first: what a refusal names.

    Holds are few, so each is asked on its own; a page then names a hold by its reason, which a
    person can act on (release it on *Legal holds*), rather than by interaction ids.
    """
    ids = list(interaction_ids)
    active = session.scalars(
        select(LegalHold)
        .where(LegalHold.solution_id == solution_id, LegalHold.released_at.is_(None))
        .order_by(LegalHold.created_at, LegalHold.id)
    )
    found: list[LegalHold] = []
    for hold in active:
        for chunk in chunks(ids):
            if _names_ids(hold):
                query = select(LegalHoldInteraction.interaction_id).where(
                    LegalHoldInteraction.hold_id == hold.id, LegalHoldInteraction.interaction_id.in_(chunk)
                )
            else:
                query = select(Interaction.id).where(Interaction.id.in_(chunk), Interaction.id.in_(_covering(hold)))
            if session.scalars(query.limit(1)).first() is not None:
                found.append(hold)
                break
    return found


def refusal_in_words(holds: Sequence[LegalHold], held: int, chosen: int) -> str:
    """A page's refusal: how many of the chosen are held, and by which holds (their reasons), nothing changed."""
    reasons = ", ".join(f"“{hold.reason}”" for hold in holds[:3]) + (
        f" and {len(holds) - 3} more" if len(holds) > 3 else ""
    )
    verb = "is" if held == 1 else "are"
    which = "this interaction is" if chosen == 1 else f"{held} of the {chosen} chosen interactions {verb}"
    named = f" ({reasons})" if reasons else ""
    return (
        f"Nothing was changed: {which} under a legal hold{named}. "
        "Release the hold on Legal holds first, or leave the held ones out."
    )


def refuse_held(session: Session, solution_id: str, interaction_ids: Sequence[str]) -> None:
    """Raise HeldError if any of ``interaction_ids`` is held (before anything is written)."""
    held = held_among(session, solution_id, interaction_ids)
    if held:
        raise HeldError(sorted(held))


def place_hold(
    session: Session,
    solution: Solution,
    criteria: HoldCriteria,
    *,
    reason: str,
    until: date | None,
    created_by: str,
    now: datetime,
) -> LegalHold:
    """Place a hold; unknown ids (or another solution's) raise UnknownIdsError, nothing placed. Does not commit."""
    hold = LegalHold(
        solution_id=solution.id,
        reason=reason,
        until=until,
        phone_e164=criteria.phone_e164,
        email_norm=criteria.email_norm,
        phone_masked=mask_phone_e164(criteria.phone_e164, solution.country) if criteria.phone_e164 else None,
        email_masked=mask_email(criteria.email_norm) if criteria.email_norm else None,
        queue=criteria.queue,
        from_at=criteria.from_at,
        to_at=criteria.to_at,
        created_at=now,
        created_by=created_by,
    )
    if criteria.interaction_ids:
        known = [
            iid
            for chunk in chunks(criteria.interaction_ids)
            for iid in session.scalars(
                select(Interaction.id).where(Interaction.solution_id == solution.id, Interaction.id.in_(chunk))
            )
        ]
        if len(known) != len(criteria.interaction_ids):
            raise UnknownIdsError
        hold.interactions = len(known)
        session.add(hold)
        session.flush()
        session.add_all(
            LegalHoldInteraction(hold_id=hold.id, solution_id=solution.id, interaction_id=iid) for iid in known
        )
    else:
        hold.interactions = covered_count(session, hold)
        session.add(hold)
    session.flush()
    return hold


def covered_count(session: Session, hold: LegalHold) -> int:
    """How many interactions a hold covers now."""
    query = _named(LegalHold.id == hold.id) if _names_ids(hold) else _covering(hold)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def release_hold(session: Session, hold: LegalHold, *, released_by: str, now: datetime) -> bool:
    """Release a hold; False if it was released already. Its identifiers go, the masked forms stay."""
    released = session.execute(
        update(LegalHold)
        .where(LegalHold.id == hold.id, LegalHold.released_at.is_(None))
        .values(released_at=now, released_by=released_by[:100], phone_e164=None, email_norm=None)
        .execution_options(synchronize_session=False)
    )
    session.expire(hold)
    return rowcount(released) == 1


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def release_expired(session: Session, solution: Solution, now: datetime) -> list[str]:
    """The nightly run: release every hold whose ``until`` (a local date, inclusive) has passed. Returns their ids."""
    today = local_today(now, solution.timezone)
    expired = list(
        session.scalars(
            select(LegalHold)
            .where(LegalHold.solution_id == solution.id, LegalHold.released_at.is_(None), LegalHold.until < today)
            .order_by(LegalHold.id)
        )
    )
    return [hold.id for hold in expired if release_hold(session, hold, released_by=EXPIRY_ACTOR, now=now)]


def audit_details(hold: LegalHold) -> dict[str, object]:
    """What the audit trail keeps of a hold: its kind and reach, masked; never the reason's text."""
    return {
        "interactions": hold.interactions,
        "phone": hold.phone_masked,
        "email": hold.email_masked,
        "queue": hold.queue,
        "time_range": hold.from_at is not None or hold.to_at is not None,
        "until": hold.until.isoformat() if hold.until else None,
    }
