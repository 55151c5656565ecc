"""The preview: what a request would change if the nightly run processed it now.

A privacy officer must not discover after the night that a typo matched nothing, or that a
switchboard number matched 40,000 calls; so the page shows these counts before *Add*.
The counts are exactly what ``nightly.process_request`` would report for a run at ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.anonymize.matching import BATCH, Target, matching_ids, orphan_raw_condition
from archivist.anonymize.requests import parse_identifiers
from archivist.archive.mentions import MentionKeyring, Sweep, not_customer, sweep_mentions, sweep_own_interactions
from archivist.archive.models import Channel, Interaction, RawEvent, Recording


@dataclass(frozen=True)
class Preview:
    """What a request would change if it ran now (also the API's response shape).

    Raw data rows, recordings and content count only when the request would touch them.
    """

    calls: int
    chats: int
    emails: int
    interactions: int
    raw_data_rows: int
    recordings: int
    content: int
    # Variable values of the matched interactions that contain the identifier (replaced whole).
    variable_values: int
    # Occurrences of the identifiers in chat logs, emails, subjects and variables (their own
    # interactions: the name too) that would be replaced, wherever the index finds them.
    mentions: int
    archive_size: int
    share: float
    warning: str | None


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def preview_request(
    session: Session,
    solution: Solution,
    *,
    phone: str | None,
    email: str | None,
    raw_data: bool,
    delete_content: bool,
    now: datetime,
    keyring: MentionKeyring,
) -> Preview:
    """Count what a request with these fields would change in a run at ``now``.

    Raw data rows, recordings and content count only when the request would touch them
    (``raw_data`` / ``delete_content``), so the preview reads as the result it predicts.
    Raises RequestError for input the request itself would refuse.
    """
    ids = parse_identifiers(phone, email, solution.country)
    target = Target(solution.id, solution.country, ids.phone_e164, ids.email_norm, cutoff=now)
    matched = select(matching_ids(target).subquery().c.id)

    per_channel = dict(
        session.execute(
            select(Interaction.channel, func.count()).where(Interaction.id.in_(matched)).group_by(Interaction.channel)
        ).all()
    )
    calls, chats, emails = (int(per_channel.get(c, 0)) for c in (Channel.CALL, Channel.CHAT, Channel.EMAIL))
    interactions = calls + chats + emails

    raw_rows = recordings = content = 0
    if raw_data:
        raw_rows = _count(session, select(RawEvent.id).where(RawEvent.interaction_id.in_(matched)))
        orphans = orphan_raw_condition(target)
        if orphans is not None:
            raw_rows += _count(session, select(RawEvent.id).where(orphans))
    if delete_content:
        recordings = _count(session, select(Recording.interaction_id).where(Recording.interaction_id.in_(matched)))
        content = _count(
            session,
            select(Interaction.id).where(Interaction.id.in_(matched), Interaction.has_content.is_(True)),
        )

    archive_size = int(
        session.scalar(select(func.count()).select_from(Interaction).where(Interaction.solution_id == solution.id)) or 0
    )
    share = interactions / archive_size if archive_size else 0.0
    warning = None
    if share > solution.preview_warn_share:
        warning = (
            f"This request would anonymize {interactions:,} of the {archive_size:,} interactions in the archive "
            f"({share:.1%}). Check the number or address: a switchboard number or a typo can match many people."
        )
    return Preview(
        calls=calls,
        chats=chats,
        emails=emails,
        interactions=interactions,
        raw_data_rows=raw_rows,
        recordings=recordings,
        content=content,
        variable_values=_count_variable_values(session, target, matched),
        mentions=_count_mentions(session, keyring, solution, target, delete_content=delete_content),
        archive_size=archive_size,
        share=share,
        warning=warning,
    )


def _count_variable_values(session: Session, target: Target, matched: Select[str]) -> int:
    """Variable values of the matched interactions that contain an identifier (streamed)."""
    rule = target.variable_rule()
    values = 0
    rows = session.execute(
        select(Interaction.variables).where(Interaction.id.in_(matched)).execution_options(yield_per=BATCH)
    )
    for (variables,) in rows:
        if variables:
            values += sum(1 for v in variables.values() if isinstance(v, str) and rule(v))
    return values


def _count_mentions(
    session: Session, keyring: MentionKeyring, solution: Solution, target: Target, *, delete_content: bool
) -> int:
    """What the night's sweep would replace: the same sweeps, nothing written.

    The person's own interactions (with their name; without the content a request that deletes
    it would remove first; values replaced whole left to ``variable_values``), then every other
    interaction the index names. The night sweeps its own ones again after rewriting them, which
    finds nothing more, so leaving them out here gives the same count.
    """
    identifiers = tuple(i for i in (target.phone_e164, target.email_norm) if i is not None)
    own = Sweep(solution.country, solution.replacement, identifiers, keep_whole=target.variable_rule())
    mentions = 0
    last = ""
    matched = matching_ids(target).subquery()
    while ids := list(
        session.scalars(select(matched.c.id).where(matched.c.id > last).order_by(matched.c.id).limit(BATCH))
    ):
        mentions += sweep_own_interactions(session, ids, own, content=not delete_content, apply=False)
        last = ids[-1]
    return mentions + sweep_mentions(
        session,
        keyring,
        solution.id,
        Sweep(solution.country, solution.replacement, identifiers),
        before=target.cutoff,
        exclude=not_customer(target.phone_e164, target.email_norm),
        apply=False,
    )
