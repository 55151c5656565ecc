"""*Anonymize and delete* on chosen interactions: the seed's action on *Archive - Search*.

One call deletes the recordings and content of the chosen interactions and replaces the
customer's phone, email and name and every variable value with the solution's replacement
text (optionally their raw data rows too). Everything happens in the caller's transaction;
the blobs are queued as pending deletions and removed after commit by
``recordings.drain_pending_deletions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.anonymize.operators import (
    anonymize_interactions,
    anonymize_raw_data_of_interactions,
    every_value,
)
from archivist.archive.content import delete_content
from archivist.archive.mentions import MentionKeyring, reindex_interactions, sweep_customers
from archivist.archive.models import Interaction
from archivist.archive.recordings import delete_recordings
from archivist.db import chunks

# One request names at most this many interactions: a page of results is at most 500, and
# a bound keeps the IN (...) lists of the delete helpers well inside SQLite's limits.
MAX_IDS = 1_000


class UnknownInteractionError(LookupError):
    """Some ids are not interactions of this solution; nothing was changed."""


@dataclass(frozen=True)
class ErasureResult:
    anonymized: int
    recordings_deleted: int
    content_deleted: int
    raw_data_rows: int
    # The customer's own phone, email or name replaced in what text remains (the subject).
    mentions_replaced: int = 0


def _count_own(session: Session, solution_id: str, ids: Sequence[str]) -> int:
    found = 0
    for chunk in chunks(ids):
        found += (
            session.scalar(
                select(func.count())
                .select_from(Interaction)
                .where(Interaction.solution_id == solution_id, Interaction.id.in_(chunk))
            )
            or 0
        )
    return found


def anonymize_and_delete(
    session: Session,
    solution: Solution,
    interaction_ids: Sequence[str],
    *,
    raw_data: bool,
    now: datetime,
    keyring: MentionKeyring,
) -> ErasureResult:
    """Erase what the chosen interactions hold about the customer; all or nothing.

    Raises UnknownInteractionError before writing anything if any id is unknown or belongs to
    another solution, so that a mistyped id never leaves a half-done erasure. Does not commit.
    """
    ids = list(dict.fromkeys(interaction_ids))
    if len(ids) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} interactions at once")
    if _count_own(session, solution.id, ids) != len(ids):
        raise UnknownInteractionError
    # Content and recordings first, so that nothing is left that the replacement text would
    # no longer let anyone find (the seed: delete the recordings before anonymizing).
    recordings_deleted = delete_recordings(session, ids, now)
    content_deleted = delete_content(session, ids)
    # The content is gone and every variable value is replaced below; what text remains is the
    # subject, where the customer's own number, address and name go too. Other people named
    # there are not this action's business: they stay, and stay indexed for their own request.
    mentions = sweep_customers(
        session, ids, solution.country, solution.replacement, content=False, keep_whole=every_value
    )
    anonymized = anonymize_interactions(
        session, ids, replacement=solution.replacement, now=now, variable_rule=every_value
    )
    raw_rows = anonymize_raw_data_of_interactions(session, ids, replacement=solution.replacement) if raw_data else 0
    # The index must not point at text that is gone, and must keep pointing at what remains.
    reindex_interactions(session, keyring, solution.id, solution.country, ids)
    return ErasureResult(
        anonymized=anonymized,
        recordings_deleted=recordings_deleted,
        content_deleted=content_deleted,
        raw_data_rows=raw_rows,
        mentions_replaced=mentions,
    )
