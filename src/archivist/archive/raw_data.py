"""Reading the raw data rows (statistics events): pages by keyset, and a streamed CSV export.

Rows come oldest first, (at, id) ascending, the order statistics tools expect when they
load an export; the cursor is the last row's (at, id), so a page never skips or repeats a
row however many arrive meanwhile.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist import pagination
from archivist.archive.models import RawEvent
from archivist.archive.search import FilterError
from archivist.db import chunks, rowcount

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Rows read per query while streaming an export: big enough to be quick, small enough that
# a year of events never sits in memory at once.
EXPORT_BATCH = 2_000

CSV_COLUMNS = ("id", "interaction_id", "at", "type", "queue", "agent", "customer", "duration_s")


@dataclass(frozen=True)
class RawDataFilters:
    started_from: datetime | None = None  # inclusive
    started_to: datetime | None = None  # exclusive


def encode_cursor(event: RawEvent) -> str:
    return pagination.encode_cursor(event.at, event.id)


def decode_cursor(text: str) -> tuple[datetime, int]:
    """Raises ``CursorError`` (422) for anything ``encode_cursor`` did not make."""
    return pagination.decode_cursor(text, int)


def page_of_rows(
    session: Session, solution_id: str, filters: RawDataFilters, limit: int, cursor: str | None = None
) -> tuple[list[RawEvent], str | None]:
    """Up to ``limit`` rows after ``cursor`` and the next page's cursor (None on the last)."""
    if filters.started_from and filters.started_to and filters.started_to <= filters.started_from:
        raise FilterError("to", "To must be after From")
    query = select(RawEvent).where(RawEvent.solution_id == solution_id)
    if filters.started_from is not None:
        query = query.where(RawEvent.at >= filters.started_from)
    if filters.started_to is not None:
        query = query.where(RawEvent.at < filters.started_to)
    if cursor:
        at, event_id = decode_cursor(cursor)
        query = query.where(RawEvent.at >= at, or_(RawEvent.at > at, RawEvent.id > event_id))
    rows = list(session.scalars(query.order_by(RawEvent.at, RawEvent.id).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def row_dict(event: RawEvent) -> dict[str, object]:
    return {
        "id": str(event.id),
        "interaction_id": event.interaction_id,
        "at": event.at,
        "type": event.type,
        "queue": event.queue,
        "agent": event.agent,
        "customer": event.customer,
        "duration_s": event.duration_s,
    }


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula.

    A leading ``=``, ``@``, tab or CR (or ``+``/``-`` not followed by a number) would make
    Excel or LibreOffice evaluate the cell; a quote in front keeps it text. Phone numbers
    such as ``+4791234567`` stay as they are.
    """
    if value is None:
        return ""
    text = value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not text[1:].replace(" ", "").replace(".", "", 1).isdigit()
    ):
        return "'" + text
    return text


def stream_csv(
    factory: sessionmaker[Session],
    solution_id: str,
    filters: RawDataFilters,
    cursor: str | None = None,
    limit: int | None = None,
) -> Iterator[str]:
    """The export as CSV text chunks, read batch by batch in its own session.

    Its own session because the response streams after the request's session is closed.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    remaining = limit
    with factory() as session:
        while remaining is None or remaining > 0:
            size = EXPORT_BATCH if remaining is None else min(EXPORT_BATCH, remaining)
            rows, cursor = page_of_rows(session, solution_id, filters, size, cursor)
            for event in rows:
                writer.writerow([csv_cell(v) for v in row_dict(event).values()])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            session.expunge_all()
            if remaining is not None:
                remaining -= len(rows)
            if cursor is None:
                return


def _in_period(solution_id: str, filters: RawDataFilters) -> list[Any]:
    conditions: list[Any] = [RawEvent.solution_id == solution_id]
    if filters.started_from is not None:
        conditions.append(RawEvent.at >= filters.started_from)
    if filters.started_to is not None:
        conditions.append(RawEvent.at < filters.started_to)
    return conditions


@dataclass(frozen=True)
class PagePosition:
    """Where a page of rows stands in its period, for *Previous* and "rows 101–200 of 1,234"."""

    total: int
    # How many rows of the period come before the page's first row.
    before: int
    # The cursor that reads the previous page ("" for the first page); None on the first page.
    previous_cursor: str | None


def page_position(
    session: Session, solution_id: str, filters: RawDataFilters, first: RawEvent | None, limit: int
) -> PagePosition:
    """Counts over the period's index range, and the previous page found by reading backwards
    from ``first`` (``limit`` + 1 rows): no cursor trail has to travel in the URL."""
    period = _in_period(solution_id, filters)
    total = int(session.scalar(select(func.count()).select_from(RawEvent).where(*period)) or 0)
    if first is None:
        return PagePosition(total, 0, None)
    earlier = [*period, RawEvent.at <= first.at, or_(RawEvent.at < first.at, RawEvent.id < first.id)]
    before = int(session.scalar(select(func.count()).select_from(RawEvent).where(*earlier)) or 0)
    if before == 0:
        return PagePosition(total, 0, None)
    back = list(
        session.scalars(
            select(RawEvent).where(*earlier).order_by(RawEvent.at.desc(), RawEvent.id.desc()).limit(limit + 1)
        )
    )
    # With more than a page before, the previous page starts after the row just beyond it.
    return PagePosition(total, before, encode_cursor(back[limit]) if len(back) > limit else "")


def raw_rows_to_anonymize(interaction_ids: Sequence[str], replacement: str) -> ColumnElement[bool]:
    """Raw data rows of these interactions that still name a customer (an anonymized row is left as it is)."""
    return and_(
        RawEvent.interaction_id.in_(interaction_ids),
        or_(RawEvent.customer_norm.is_not(None), RawEvent.customer.is_distinct_from(replacement)),
    )


def anonymize_raw_data_of_interactions(session: Session, interaction_ids: Sequence[str], *, replacement: str) -> int:
    """Replace the customer of every raw data row that belongs to ``interaction_ids``."""
    changed = 0
    for chunk in chunks(interaction_ids):
        result = session.execute(
            update(RawEvent)
            .where(raw_rows_to_anonymize(chunk, replacement))
            .values(customer=replacement, customer_norm=None)
            .execution_options(synchronize_session=False)
        )
        changed += rowcount(result)
    return changed
