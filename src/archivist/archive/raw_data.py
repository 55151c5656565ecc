"""Reading the raw data rows (statistics events): pages by keyset, and a streamed CSV export.

Rows come oldest first, (at, id) ascending, the order statistics tools expect when they
load an export; the cursor is the last row's (at, id), so a page never skips or repeats a
row however many arrive meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.archive.models import RawEvent
from archivist.archive.search import FilterError

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
    raw = json.dumps([event.at.astimezone(UTC).isoformat(), event.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, int]:
    try:
        at_text, event_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None or not isinstance(event_id, int):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise FilterError("cursor", "Not a cursor from a previous page; start again without it") from None
    return at, event_id


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


def _cell(value: object) -> str:
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
                writer.writerow([_cell(v) for v in row_dict(event).values()])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            session.expunge_all()
            if remaining is not None:
                remaining -= len(rows)
            if cursor is None:
                return
