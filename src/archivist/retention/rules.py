"""Retention rules (CONTRACT §10): which rule governs what, and the nightly pass that applies them.

For one interaction and one ``what`` the most specific rule decides: channel and queue, then
queue, then channel, then the solution-wide rule; with none the interaction is kept. Rules are
few, so precedence is turned into SQL once per rule (``_governed``) and the pass is set-wise:
ids are read CHUNK at a time in (start, id) order, each chunk deleted and committed in its own
transaction, so memory stays flat, a crash loses at most one chunk's work (it is done again by
the next run) and one interaction is never half-deleted. Held interactions are never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, delete, false, func, not_, or_, select, true
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.content import delete_content
from archivist.archive.mentions import MentionKeyring, reindex_interactions
from archivist.archive.models import Channel, Interaction, RawEvent, fold_label
from archivist.archive.raw_data import anonymize_raw_data_of_interactions
from archivist.archive.recordings import delete_recordings
from archivist.db import CHUNK, rowcount, transaction
from archivist.errors import ConflictError, InvalidError, NotFoundError
from archivist.retention.holds import held_interactions
from archivist.retention.models import RetentionRule, RetentionWhat
from archivist.times import local_day_start

log = logging.getLogger(__name__)

# A year and a half of centuries: more is a typing mistake, not a retention period.
MAX_KEEP_DAYS = 36_500


class RuleLike(Protocol):
    """What precedence needs of a rule (a saved one, or one being previewed)."""

    @property
    def channel(self) -> Channel | None: ...
    @property
    def queue(self) -> str | None: ...
    @property
    def what(self) -> RetentionWhat: ...
    @property
    def keep_days(self) -> int: ...


@dataclass(frozen=True)
class DraftRule:
    """A rule that is not saved (yet): what the preview counts."""

    channel: Channel | None
    queue: str | None
    what: RetentionWhat
    keep_days: int
    id: str = "draft"


class RuleError(InvalidError):
    """A rule that cannot be saved. ``field`` names the field; the message is safe to show."""

    field: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)


class DuplicateRuleError(ConflictError):
    """A rule for the same channel, queue and what exists already (delete it first)."""

    def __init__(self) -> None:
        super().__init__("A rule for this channel, queue and what exists already: delete it first")


class RuleNotFoundError(NotFoundError):
    """No such rule in this solution (another solution's is just as absent)."""

    def __init__(self) -> None:
        super().__init__("Retention rule not found")


def rank(rule: RuleLike) -> int:
    """How specific a rule is: channel and queue 3, queue 2, channel 1, solution-wide 0."""
    return (2 if rule.queue is not None else 0) + (1 if rule.channel is not None else 0)


def same_target(a: RuleLike, b: RuleLike) -> bool:
    # Queues compare as the *Queue* filter of search does: ``Sales`` is ``sales``.
    return (a.channel, fold_label(a.queue), a.what) == (b.channel, fold_label(b.queue), b.what)


def governing(rules: Sequence[RuleLike], channel: Channel, queue: str | None, what: RetentionWhat) -> RuleLike | None:
    """The rule that decides ``what`` of an interaction on ``channel`` in ``queue`` (None: kept).

    The plain-Python statement of precedence; the SQL of ``_governed`` must agree with it (tested).
    """
    matching = [
        rule
        for rule in rules
        if rule.what is what
        and (rule.channel is None or rule.channel is channel)
        and (rule.queue is None or fold_label(rule.queue) == fold_label(queue))
    ]
    return max(matching, key=rank, default=None)


def cutoff_for(now: datetime, timezone: str, keep_days: int) -> datetime:
    """What started before this instant goes: ``keep_days`` calendar days before the start of the local day.

    Built from the local date, so that nights around a daylight-saving change keep whole local days.
    """
    return local_day_start(now, timezone, days=-keep_days)


def parse_rule(channel: str | None, queue: str | None, what: str, keep_days: int) -> DraftRule:
    """Validate a rule's fields. Raises RuleError."""
    try:
        parsed_channel = Channel(channel) if channel else None
    except ValueError:
        raise RuleError("channel", "Choose call, chat, email or none (every channel)") from None
    try:
        parsed_what = RetentionWhat(what)
    except ValueError:
        raise RuleError("what", "Choose recording, content, interaction or raw_data") from None
    if not 1 <= keep_days <= MAX_KEEP_DAYS:
        raise RuleError("keep_days", f"Keep at least 1 and at most {MAX_KEEP_DAYS} days")
    queue = (queue or "").strip() or None
    if queue is not None and len(queue) > 200:
        raise RuleError("queue", "At most 200 characters")
    return DraftRule(parsed_channel, queue, parsed_what, keep_days)


def rules_of(session: Session, solution_id: str) -> list[RetentionRule]:
    return list(
        session.scalars(
            select(RetentionRule)
            .where(RetentionRule.solution_id == solution_id)
            .order_by(RetentionRule.what, RetentionRule.channel, RetentionRule.queue, RetentionRule.id)
        )
    )


def rule_of(session: Session, solution_id: str, rule_id: str) -> RetentionRule:
    """The solution's rule ``rule_id``; RuleNotFoundError if there is none (or it is another solution's)."""
    rule = session.get(RetentionRule, rule_id)
    if rule is None or rule.solution_id != solution_id:
        raise RuleNotFoundError
    return rule


def add_rule(session: Session, solution_id: str, draft: DraftRule, *, created_by: str, now: datetime) -> RetentionRule:
    """Save a rule; DuplicateRuleError if one with the same target exists. Does not commit."""
    if any(same_target(rule, draft) for rule in rules_of(session, solution_id)):
        raise DuplicateRuleError
    rule = RetentionRule(
        solution_id=solution_id,
        channel=draft.channel,
        queue=draft.queue,
        what=draft.what,
        keep_days=draft.keep_days,
        created_at=now,
        created_by=created_by,
    )
    session.add(rule)
    session.flush()
    return rule


# ---------------------------------------------------------------------------------------------
# Which rows a rule governs, as SQL
# ---------------------------------------------------------------------------------------------


def _matches(rule: RuleLike, channel: Any, queue: Any) -> ColumnElement[bool]:
    """The rule's own channel/queue condition. ``channel`` None: rows with no channel (orphan raw rows).

    ``queue`` is the rows' folded queue (``fold_label``, what search matches), so a rule for
    ``sales`` governs the queue ``Sales`` as the *Queue* filter finds it.
    """
    conditions: list[ColumnElement[bool]] = []
    # IS NOT NULL first: a row without a queue must not match as NULL, which NOT(...) in
    # ``_governed`` would turn into "no rule applies" instead of "this rule does not override".
    if rule.channel is not None:
        conditions.append(false() if channel is None else and_(channel.is_not(None), channel == rule.channel))
    if rule.queue is not None:
        conditions.append(and_(queue.is_not(None), queue == fold_label(rule.queue)))
    return and_(true(), *conditions)


def _governed(rule: RuleLike, rules: Sequence[RuleLike], channel: Any, queue: Any) -> ColumnElement[bool]:
    """Rows the rule matches that no more specific rule of the same ``what`` matches."""
    overriding = [
        _matches(other, channel, queue)
        for other in rules
        if other.what is rule.what and rank(other) > rank(rule) and not same_target(other, rule)
    ]
    condition = _matches(rule, channel, queue)
    return and_(condition, not_(or_(*overriding))) if overriding else condition


@dataclass(frozen=True)
class _Pass:
    """One rule's deletions: the rows to visit, in keyset order."""

    rule: RuleLike
    # SELECT start, id (typed loosely: the two kinds of rows differ in their columns' types).
    query: Any
    order: tuple[Any, Any]


def _interaction_pass(
    session: Session, solution_id: str, rule: RuleLike, rules: Sequence[RuleLike], cutoff: datetime
) -> _Pass:
    conditions: list[ColumnElement[bool]] = [
        Interaction.solution_id == solution_id,
        Interaction.started_at < cutoff,
        _governed(rule, rules, Interaction.channel, Interaction.queue_key),
    ]
    if rule.what is RetentionWhat.RECORDING:
        conditions.append(Interaction.has_recording.is_(True))
    elif rule.what is RetentionWhat.CONTENT:
        conditions.append(Interaction.has_content.is_(True))
    held = held_interactions(session, solution_id)
    if held is not None:
        conditions.append(Interaction.id.not_in(held))
    query = select(Interaction.started_at, Interaction.id).where(*conditions)
    return _Pass(rule, query, (Interaction.started_at, Interaction.id))


def _raw_pass(session: Session, solution_id: str, rule: RuleLike, rules: Sequence[RuleLike], cutoff: datetime) -> _Pass:
    channel = (
        select(Interaction.channel).where(Interaction.id == RawEvent.interaction_id).scalar_subquery()
        if any(r.channel is not None for r in rules if r.what is RetentionWhat.RAW_DATA) or rule.channel is not None
        else None
    )
    conditions: list[ColumnElement[bool]] = [
        RawEvent.solution_id == solution_id,
        RawEvent.at < cutoff,
        # Raw rows keep no folded key: lower() folds the case (fully for ASCII names on SQLite).
        _governed(rule, rules, channel, func.lower(func.trim(RawEvent.queue))),
    ]
    held = held_interactions(session, solution_id)
    if held is not None:
        conditions.append(or_(RawEvent.interaction_id.is_(None), RawEvent.interaction_id.not_in(held)))
    query = select(RawEvent.at, RawEvent.id).where(*conditions)
    return _Pass(rule, query, (RawEvent.at, RawEvent.id))


def _pass_for(session: Session, solution: Solution, rule: RuleLike, rules: Sequence[RuleLike], now: datetime) -> _Pass:
    cutoff = cutoff_for(now, solution.timezone, rule.keep_days)
    if rule.what is RetentionWhat.RAW_DATA:
        return _raw_pass(session, solution.id, rule, rules, cutoff)
    return _interaction_pass(session, solution.id, rule, rules, cutoff)


def _page(session: Session, visit: _Pass, after: tuple[Any, Any] | None) -> list[tuple[Any, Any]]:
    """The next CHUNK of the pass's (start, id) after ``after``, by keyset (never an OFFSET)."""
    start, ident = visit.order
    query = visit.query
    if after is not None:
        # ``start >= after`` is redundant but sargable: PostgreSQL does not bound an index scan by
        # the OR, so without it every page re-read the pass from its first row (bench/retention.py).
        query = query.where(start >= after[0], or_(start > after[0], and_(start == after[0], ident > after[1])))
    return [(row[0], row[1]) for row in session.execute(query.order_by(start, ident).limit(CHUNK))]


# ---------------------------------------------------------------------------------------------
# Preview and apply
# ---------------------------------------------------------------------------------------------


def preview_rule(session: Session, solution: Solution, draft: DraftRule, now: datetime) -> dict[str, int]:
    """What ``draft`` would delete if the run were now, among the solution's other rules (CONTRACT §10)."""
    others = [rule for rule in rules_of(session, solution.id) if not same_target(rule, draft)]
    visit = _pass_for(session, solution, draft, [*others, draft], now)
    counts = {what.value: 0 for what in RetentionWhat}
    counted = visit.query.subquery()
    counts[draft.what.value] = int(session.scalar(select(func.count()).select_from(counted)) or 0)
    if draft.what is RetentionWhat.INTERACTION:
        # The whole interaction goes with its recording and content.
        ids = select(counted.c.id)
        for what, flag in (
            (RetentionWhat.RECORDING, Interaction.has_recording),
            (RetentionWhat.CONTENT, Interaction.has_content),
        ):
            counts[what.value] = int(
                session.scalar(select(func.count()).where(Interaction.id.in_(ids), flag.is_(True))) or 0
            )
    return counts


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule deleted in one run (the summary's ``retention`` entries)."""

    rule_id: str
    what: str
    deleted: int
    # A chunk failed and was rolled back: the rule stopped there, the next run goes on.
    failed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "what": self.what, "deleted": self.deleted, "failed": self.failed}


def apply_retention(
    factory: sessionmaker[Session],
    solution_id: str,
    now: datetime,
    *,
    keyring: MentionKeyring,
    keep_going: Callable[[], bool] | None = None,
) -> list[RuleOutcome]:
    """The nightly run's retention pass: every rule of the solution, CHUNK rows per transaction."""
    with factory() as session:
        solution = session.get(Solution, solution_id)
        if solution is None:
            raise LookupError("no such solution")
        rules = rules_of(session, solution_id)
        session.expunge_all()
    outcomes = []
    for rule in rules:
        deleted = 0
        failed = False
        after: tuple[Any, Any] | None = None
        while True:
            if keep_going is not None and not keep_going():
                failed = True  # stopped: the next run resumes where this chunk would have begun
                break
            try:
                # Each chunk in its own transaction, the holds read again for it: a crash resumes with
                # the rows still there, and a hold placed during the run protects from the next chunk on.
                with transaction(factory) as session:
                    page = _page(session, _pass_for(session, solution, rule, rules, now), after)
                    if page:
                        deleted += _delete(session, solution, rule.what, [row[1] for row in page], now, keyring=keyring)
            except Exception as exc:  # noqa: BLE001 - one rule's failure must not stop the others or the run
                # The type only: a database error's text may quote what it was given.
                log.error(
                    "retention: rule %s stopped (%s); rolled back, the next run goes on", rule.id, type(exc).__name__
                )
                failed = True
                break
            if len(page) < CHUNK:
                break
            after = page[-1]
        outcomes.append(RuleOutcome(rule.id, rule.what.value, deleted, failed))
        log.info("retention: rule %s (%s) deleted %d", rule.id, rule.what.value, deleted)
    return outcomes


def _delete(
    session: Session,
    solution: Solution,
    what: RetentionWhat,
    ids: list[Any],
    now: datetime,
    *,
    keyring: MentionKeyring,
) -> int:
    if what is RetentionWhat.RAW_DATA:
        return rowcount(
            session.execute(delete(RawEvent).where(RawEvent.id.in_(ids)).execution_options(synchronize_session=False))
        )
    if what is RetentionWhat.RECORDING:
        return delete_recordings(session, ids, now)
    if what is RetentionWhat.CONTENT:
        deleted = delete_content(session, ids, now=now)
        # The index must not point at text that is gone.
        reindex_interactions(session, keyring, solution.id, solution.country, ids)
        return deleted
    # The whole interaction: its blobs through the pending-deletion path, its raw data rows
    # kept for the statistics with the customer replaced; the rest goes with the row.
    delete_recordings(session, ids, now)
    delete_content(session, ids, now=now)
    anonymize_raw_data_of_interactions(session, ids, replacement=solution.replacement)
    return rowcount(
        session.execute(delete(Interaction).where(Interaction.id.in_(ids)).execution_options(synchronize_session=False))
    )


def audit_details(rule: RuleLike) -> dict[str, object]:
    """What the audit trail keeps of a rule (a queue name is the centre's, not a person's)."""
    return {
        "channel": rule.channel.value if rule.channel else None,
        "queue": rule.queue,
        "what": rule.what.value,
        "keep_days": rule.keep_days,
    }
