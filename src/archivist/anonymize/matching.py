"""What one request matches in the archive: shared by the preview and the nightly run.

Both must agree exactly (a preview that promised 12 calls and a night that changed 13 would
be a lie), so the conditions live here once. Every condition is an index lookup on
(solution_id, customer_phone_e164 | customer_email_norm, started_at): never a scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select, union
from sqlalchemy.orm import Session

from archivist.archive.models import Interaction, RawEvent
from archivist.identifiers import contains_email, contains_phone

# Ids fetched and rewritten per step; the same bound as the operators' chunks, so one
# request's memory does not grow with how many interactions it matches.
BATCH = 500


@dataclass(frozen=True)
class Target:
    """One request's identifiers and the moment before which interactions are anonymized."""

    solution_id: str
    country: str
    phone_e164: str | None
    email_norm: str | None
    cutoff: datetime

    def variable_rule(self) -> Callable[[str], bool]:
        """A variable value is replaced when it contains either of the request's identifiers."""
        phone, email, country = self.phone_e164, self.email_norm, self.country

        def contains_identifier(value: str) -> bool:
            return (phone is not None and contains_phone(value, phone, country)) or (
                email is not None and contains_email(value, email)
            )

        return contains_identifier


def interaction_conditions(target: Target) -> list[ColumnElement[bool]]:
    """One condition per identifier; each is served by its own index."""
    conditions: list[ColumnElement[bool]] = []
    for column, value in (
        (Interaction.customer_phone_e164, target.phone_e164),
        (Interaction.customer_email_norm, target.email_norm),
    ):
        if value is not None:
            conditions.append(
                and_(
                    Interaction.solution_id == target.solution_id,
                    column == value,
                    Interaction.started_at < target.cutoff,
                )
            )
    return conditions


def matching_ids(target: Target) -> Select[str]:
    """All matching interaction ids, as a UNION of index lookups (usable as a subquery).

    A UNION rather than ``phone = … OR email = …``: SQLite would not always use two indexes
    for an OR, and a miss there means a full scan of the archive.
    """
    selects = [select(Interaction.id).where(condition) for condition in interaction_conditions(target)]
    if len(selects) == 1:
        return selects[0]
    return select(union(*selects).subquery().c.id)


def next_batch(session: Session, condition: ColumnElement[bool]) -> list[str]:
    """Up to BATCH ids still matching ``condition``.

    The rewrite clears the matched identifier, so rewritten rows drop out of the condition
    and asking again gives the next batch: no offset, no id list held in memory.
    """
    return list(session.scalars(select(Interaction.id).where(condition).limit(BATCH)))


def orphan_raw_condition(target: Target) -> ColumnElement[bool] | None:
    """Raw data rows naming the customer that are not rewritten with a matched interaction.

    Rows of a matched interaction are rewritten with it (whatever their own time); these are
    the rest: rows without an interaction, or whose interaction is not matched, that happened
    before the cutoff. After the interactions are rewritten, their rows no longer carry the
    identifier, so the nightly run can use this condition without the subquery.
    """
    values = [v for v in (target.phone_e164, target.email_norm) if v is not None]
    if not values:
        return None
    return and_(
        RawEvent.solution_id == target.solution_id,
        RawEvent.customer_norm.in_(values),
        RawEvent.at < target.cutoff,
        or_(RawEvent.interaction_id.is_(None), RawEvent.interaction_id.not_in(matching_ids(target))),
    )
