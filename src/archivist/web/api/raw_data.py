"""``GET /api/v1/raw-data`` (CONTRACT §6): the raw data rows as JSON pages or a streamed CSV."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from archivist.archive import raw_data
from archivist.archive.models import RawEvent
from archivist.archive.search import FilterError, parse_time
from archivist.audit.events import AuditAction, record_for
from archivist.web.deps import RawDataReader, ServicesDep, SessionDep, SolutionDep

router = APIRouter(prefix="/api/v1", tags=["raw data"])


class RawDataFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"


class RawRowOut(BaseModel):
    id: str
    interaction_id: str | None
    at: datetime
    type: str
    queue: str | None
    agent: str | None
    customer: str | None
    duration_s: float | None


class RawDataPage(BaseModel):
    items: list[RawRowOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


def export_filename(solution_id: str) -> str:
    return f"raw-data-{solution_id[-8:]}.csv"


@router.get("/raw-data", response_model=RawDataPage, responses={200: {"content": {"text/csv": {}}}})
def list_raw_data(
    principal: RawDataReader,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
    from_: Annotated[str | None, Query(alias="from", max_length=40, description="At or after (ISO 8601)")] = None,
    to: Annotated[str | None, Query(max_length=40, description="Before (ISO 8601 with offset)")] = None,
    format_: Annotated[RawDataFormat, Query(alias="format")] = RawDataFormat.JSON,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            description=f"JSON: default {raw_data.DEFAULT_LIMIT}, at most {raw_data.MAX_LIMIT}; "
            "CSV: every row unless given",
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response | RawDataPage:
    """Raw data rows oldest first. ``format=csv`` streams every row in the range (or ``limit``)."""
    filters = raw_data.RawDataFilters(parse_time("from", from_), parse_time("to", to))
    if cursor:
        raw_data.decode_cursor(cursor)
    if format_ is RawDataFormat.JSON and limit is not None and limit > raw_data.MAX_LIMIT:
        raise FilterError("limit", f"at most {raw_data.MAX_LIMIT} rows a page; use format=csv for more")
    rows: list[RawEvent] = []
    next_cursor: str | None = None
    if format_ is RawDataFormat.JSON:
        rows, next_cursor = raw_data.page_of_rows(
            session, solution.id, filters, limit or raw_data.DEFAULT_LIMIT, cursor
        )
    details = {"from": from_, "to": to, "format": format_.value, "rows": len(rows) if rows else None}
    action = AuditAction.RAW_DATA_EXPORTED if format_ is RawDataFormat.CSV else AuditAction.RAW_DATA_READ
    record_for(session, principal, action, None, details, at=services.clock())
    session.commit()
    if format_ is RawDataFormat.CSV:
        return StreamingResponse(
            raw_data.stream_csv(services.session_factory, solution.id, filters, cursor, limit),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{export_filename(solution.id)}"',
                "Cache-Control": "no-store",
            },
        )
    return RawDataPage(items=[RawRowOut.model_validate(raw_data.row_dict(r)) for r in rows], next_cursor=next_cursor)
