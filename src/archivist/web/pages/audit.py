"""The *Audit log* page: the solution's trail, newest first, filtered by user, action and time."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response

from archivist.accounts import services as accounts
from archivist.accounts.roles import Permission
from archivist.accounts.services import Principal
from archivist.archive.search import FilterError
from archivist.audit import events
from archivist.audit.models import AuditEvent
from archivist.web.deps import SessionDep
from archivist.web.pages import PageSolution, render, require_page
from archivist.web.pages.dates import day_range

router = APIRouter(include_in_schema=False)

AuditViewer = Annotated[Principal, Depends(require_page(Permission.READ_AUDIT))]

PAGE_SIZE = 100


def _details(event: AuditEvent) -> str:
    return json.dumps(event.details, ensure_ascii=False, sort_keys=True) if event.details else ""


@router.get("/audit")
def audit_page(
    request: Request,
    principal: AuditViewer,
    solution: PageSolution,
    session: SessionDep,
    from_: Annotated[str, Query(alias="from", max_length=10)] = "",
    to: Annotated[str, Query(max_length=10)] = "",
    action: Annotated[str, Query(max_length=60)] = "",
    actor: Annotated[str, Query(max_length=100)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    errors: dict[str, str] = {}
    rows: list[AuditEvent] = []
    next_cursor = None
    actions = [a.value for a in events.AuditAction]
    try:
        started_from, started_to = day_range(from_, to, solution.timezone)
        if action and action not in actions:
            raise FilterError("action", "Choose one of the listed actions")
        filters = events.AuditFilters(started_from, started_to, action or None, actor or None)
        rows, next_cursor = events.list_events(session, solution.id, filters, PAGE_SIZE, cursor or None)
    except FilterError as exc:
        errors[exc.field] = exc.message
    except events.AuditCursorError:
        errors["cursor"] = "Not a cursor from a previous page; start again without it"
    users = [u.username for u in accounts.list_users(session, solution.id)]
    context = {
        "title": "Audit log",
        "solution": solution,
        "form": {"from": from_, "to": to, "action": action, "actor": actor},
        "errors": errors,
        "rows": [(event, _details(event)) for event in rows],
        "actions": actions,
        "actors": [*users, events.SYSTEM_ACTOR],
        "next_cursor": next_cursor,
    }
    code = status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK
    return render(request, "audit.html", context, principal=principal, status_code=code)
