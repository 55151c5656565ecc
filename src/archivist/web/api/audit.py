"""``GET /api/v1/audit-events`` (CONTRACT §6): the caller's solution's audit trail, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from archivist.archive.search import parse_time
from archivist.audit import events
from archivist.audit.models import AuditEvent
from archivist.web.deps import AuditReader, SessionDep, SolutionDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditEventOut(BaseModel):
    id: str
    at: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any] | None


class AuditEventPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


def event_out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        id=str(event.id),
        at=event.at,
        actor=event.actor,
        action=event.action,
        target=event.target,
        details=event.details,
    )


@router.get("/audit-events", response_model=AuditEventPage)
def list_audit_events(
    _: AuditReader,
    session: SessionDep,
    solution: SolutionDep,
    from_: Annotated[str | None, Query(alias="from", max_length=40, description="At or after (ISO 8601)")] = None,
    to: Annotated[str | None, Query(max_length=40, description="Before (ISO 8601 with offset)")] = None,
    action: Annotated[events.AuditAction | None, Query(description="Only this action")] = None,
    actor: Annotated[str | None, Query(max_length=100, description="Only this username (or `system`)")] = None,
    limit: Annotated[int, Query(ge=1, le=events.MAX_PAGE)] = events.DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditEventPage:
    """Who did what and when: ids, counts and masked identifiers only."""
    filters = events.AuditFilters(
        parse_time("from", from_), parse_time("to", to), action.value if action else None, actor or None
    )
    rows, next_cursor = events.list_events(session, solution.id, filters, limit, cursor)
    return AuditEventPage(items=[event_out(e) for e in rows], next_cursor=next_cursor)
