"""Searching the archive: filters in any accepted input form, newest first, keyset pages.

``search_interactions`` is the one service behind the API, the page and the benchmark. The
order (started_at DESC, id DESC) and the cursor on the same pair let every filter walk one of
the composite indexes ``(solution_id, <filter>, started_at, id)`` backwards and stop after
``limit`` rows, so a page costs the same on the first day and on the millionth interaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.archive.models import Channel, Direction, Interaction, fold_label
from archivist.errors import InvalidError
from archivist.identifiers import InvalidIdentifier, parse_email, parse_phone
from archivist.pagination import decode_cursor, encode_cursor
from archivist.times import parse_time_text

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# The *Queue* and *Agent* choices come from this many newest interactions: a bounded read
# of the time index on every page view, where DISTINCT over the whole archive would not be.
CHOICES_FROM_NEWEST = 5_000
MAX_CHOICES = 200


class FilterError(InvalidError):
    """A filter the user must correct. ``field`` names it; the message never repeats the input."""

    field: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)


@dataclass(frozen=True)
class SearchFilters:
    """Validated, normalised filters; all optional, all combined with AND.

    ``started_from`` is inclusive and ``started_to`` exclusive, so consecutive ranges
    (one day, the next day) never count an interaction twice.
    """

    phone_e164: str | None = None
    email_norm: str | None = None
    channel: Channel | None = None
    direction: Direction | None = None
    queue: str | None = None
    agent: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None


@dataclass(frozen=True)
class Cursor:
    """Where the previous page stopped: the last row's (started_at, id)."""

    started_at: datetime
    id: str

    def encode(self) -> str:
        return encode_cursor(self.started_at, self.id)

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ``CursorError`` (a 422 wherever it surfaces) for anything we did not make."""
        return cls(*decode_cursor(text, str))


@dataclass(frozen=True)
class SearchPage:
    items: list[Interaction]
    next_cursor: str | None


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def parse_time(field: str, text: str | None) -> datetime | None:
    """An ISO 8601 time with an offset within the accepted range (as UTC), or None when empty."""
    value = _text(text)
    if value is None:
        return None
    try:
        return parse_time_text(value)
    except ValueError as exc:
        raise FilterError(field, str(exc)) from None


def make_filters(
    country: str,
    *,
    phone: str | None = None,
    email: str | None = None,
    channel: Channel | None = None,
    direction: Direction | None = None,
    queue: str | None = None,
    agent: str | None = None,
    started_from: datetime | None = None,
    started_to: datetime | None = None,
) -> SearchFilters:
    """Validate and normalise what a user typed; raises FilterError naming the field."""
    phone_e164 = email_norm = None
    if phone_text := _text(phone):
        try:
            phone_e164 = parse_phone(phone_text, country)
        except InvalidIdentifier as exc:
            raise FilterError("phone", str(exc)) from None
    if email_text := _text(email):
        try:
            email_norm = parse_email(email_text)
        except InvalidIdentifier as exc:
            raise FilterError("email", str(exc)) from None
    if started_from and started_to and started_to <= started_from:
        raise FilterError("to", "The end of the time range must be after its start")
    return SearchFilters(
        phone_e164=phone_e164,
        email_norm=email_norm,
        channel=channel,
        direction=direction,
        queue=_text(queue),
        agent=_text(agent),
        started_from=started_from,
        started_to=started_to,
    )


def _filtered(solution_id: str, filters: SearchFilters) -> Select[Interaction]:
    conditions: list[Any] = [Interaction.solution_id == solution_id]
    if filters.phone_e164 is not None:
        conditions.append(Interaction.customer_phone_e164 == filters.phone_e164)
    if filters.email_norm is not None:
        conditions.append(Interaction.customer_email_norm == filters.email_norm)
    if filters.channel is not None:
        conditions.append(Interaction.channel == filters.channel)
    if filters.direction is not None:
        conditions.append(Interaction.direction == filters.direction)
    if filters.queue is not None:
        conditions.append(Interaction.queue_key == fold_label(filters.queue))
    if filters.agent is not None:
        conditions.append(Interaction.agent_key == fold_label(filters.agent))
    if filters.started_from is not None:
        conditions.append(Interaction.started_at >= filters.started_from)
    if filters.started_to is not None:
        conditions.append(Interaction.started_at < filters.started_to)
    return select(Interaction).where(*conditions)


def search_interactions(
    session: Session,
    solution: Solution,
    filters: SearchFilters,
    limit: int = DEFAULT_LIMIT,
    cursor: Cursor | str | None = None,
) -> SearchPage:
    """One page of ``solution``'s interactions matching ``filters``, newest first.

    ``cursor`` is the previous page's ``next_cursor`` (or a decoded ``Cursor``); the result's
    ``next_cursor`` is None on the last page. Reads only; never commits.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    query = _filtered(solution.id, filters)
    if isinstance(cursor, str):
        cursor = Cursor.decode(cursor)
    if cursor is not None:
        # (started_at, id) < cursor, spelled out; the redundant "started_at <= …" gives both
        # SQLite and PostgreSQL an index range to start from instead of filtering a scan.
        query = query.where(
            Interaction.started_at <= cursor.started_at,
            or_(Interaction.started_at < cursor.started_at, Interaction.id < cursor.id),
        )
    # One row more than asked tells whether there is a next page without a COUNT.
    rows = list(session.scalars(query.order_by(Interaction.started_at.desc(), Interaction.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = Cursor(last.started_at, last.id).encode()
    return SearchPage(items=rows, next_cursor=next_cursor)


@dataclass(frozen=True)
class FilterChoices:
    """Queue and agent names to offer on the search form (a ``<datalist>``), sorted."""

    queues: list[str]
    agents: list[str]


def filter_choices(session: Session, solution_id: str) -> FilterChoices:
    """The queues and agents of the solution's newest interactions, one spelling per key."""
    newest = (
        select(Interaction.queue, Interaction.agent)
        .where(Interaction.solution_id == solution_id)
        .order_by(Interaction.started_at.desc(), Interaction.id.desc())
        .limit(CHOICES_FROM_NEWEST)
    )
    queues: dict[str, str] = {}
    agents: dict[str, str] = {}
    for queue, agent in session.execute(newest):
        for value, seen in ((queue, queues), (agent, agents)):
            key = fold_label(value)
            if key is not None and value is not None:
                seen.setdefault(key, value.strip())

    def ordered(seen: dict[str, str]) -> list[str]:
        return [seen[key] for key in sorted(seen)][:MAX_CHOICES]

    return FilterChoices(ordered(queues), ordered(agents))
