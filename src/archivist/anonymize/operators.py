"""Set-wise anonymisation operators shared by *Anonymize and delete* and the nightly run.

Each operator rewrites many rows with a few UPDATE statements, chunked by id so that one
request touching 100,000 interactions runs in bounded memory. None of them commits.

The rule for what is replaced comes from the caller: *Anonymize and delete* replaces every
variable value; the nightly run replaces only values that contain the identifier. Whatever
the rule, the customer's phone, email and name are always replaced: a field nobody
classified must still be anonymised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from archivist.archive.models import Interaction
from archivist.db import chunks
from archivist.db import rowcount as rowcount  # re-exported for erasure and nightly; its home is db

VariableRule = Callable[[str, str, Any], bool]
"""Decides, for one variable of one interaction (id, name, value), whether its value is replaced whole."""


@dataclass(frozen=True)
class Rewritten:
    """What ``rewrite_interactions`` changed."""

    interactions: int
    variable_values: int


def rewrite_interactions(
    session: Session,
    interaction_ids: Sequence[str],
    *,
    replacement: str,
    now: datetime,
    variable_rule: VariableRule,
) -> Rewritten:
    """Replace the customer's phone, email and name, and the variable values ``variable_rule`` selects.

    The normalised columns are cleared rather than replaced, so that a later search for the
    person's identifier finds nothing; what they held stays findable for a later request
    through the erased identifiers the caller records.
    """
    changed = 0
    values = 0
    for chunk in chunks(interaction_ids):
        result = session.execute(
            update(Interaction)
            .where(Interaction.id.in_(chunk))
            .values(
                customer_phone=replacement,
                customer_phone_e164=None,
                customer_email=replacement,
                customer_email_norm=None,
                customer_name=replacement,
                # The first erasure's time stays: a later request or a replay finds it again.
                anonymized_at=func.coalesce(Interaction.anonymized_at, now),
            )
            .execution_options(synchronize_session=False)
        )
        changed += rowcount(result)
        values += _rewrite_variables(session, chunk, replacement, variable_rule)
    return Rewritten(interactions=changed, variable_values=values)


def _rewrite_variables(session: Session, ids: Sequence[str], replacement: str, rule: VariableRule) -> int:
    rows = session.execute(
        select(Interaction.id, Interaction.variables).where(Interaction.id.in_(ids), Interaction.variables.is_not(None))
    ).all()
    updates: list[dict[str, Any]] = []
    replaced = 0
    for iid, variables in rows:
        if not variables:
            continue
        rewritten = {k: (replacement if rule(iid, k, v) else v) for k, v in variables.items()}
        if rewritten != variables:
            updates.append({"b_id": iid, "b_variables": rewritten})
            replaced += sum(1 for k, v in variables.items() if rewritten[k] != v)
    if updates:
        table = cast(Table, Interaction.__table__)
        session.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(variables=bindparam("b_variables")),
            updates,
        )
    return replaced
