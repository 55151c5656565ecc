"""The *Nightly runs* page (CONTRACT §19): past and running nights, and *Run now* for admins, under the lease."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from archivist.accounts.roles import Permission
from archivist.accounts.services import Principal
from archivist.db import utcnow
from archivist.nightly import runs
from archivist.pagination import CursorError
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import CsrfChecked, PageSolution, render, require_page

router = APIRouter(include_in_schema=False)

RunViewer = Annotated[Principal, Depends(require_page(Permission.MANAGE_REQUESTS))]
RunStarter = Annotated[Principal, Depends(require_page(Permission.ADMINISTER))]

PAGE = "nightly_runs.html"
NOTICES = {"done": "The nightly run finished: its line is the first below."}
BUSY = (
    "Not started: another nightly run holds this solution's lease (the scheduled night, or another "
    "admin's Run now). Try again when it has finished."
)


def _page(
    request: Request,
    principal: Principal,
    solution: PageSolution,
    session: SessionDep,
    *,
    cursor: str = "",
    notice: str | None = None,
    error: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    try:
        # Leases keep real time (``lease.run_leased``), whatever the app's clock says.
        items, next_cursor = runs.list_runs(session, solution.id, utcnow(), cursor=cursor or None)
    except CursorError:
        items, next_cursor = [], None
        error = "Not a page of this list; start again from the newest runs."
        status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    context = {
        "title": "Nightly runs",
        "solution": solution,
        "runs": items,
        "next_cursor": next_cursor,
        "notice": notice,
        "error": error,
    }
    return render(request, PAGE, context, principal=principal, status_code=status_code)


@router.get("/nightly-runs")
def nightly_runs_page(
    request: Request,
    principal: RunViewer,
    solution: PageSolution,
    session: SessionDep,
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return _page(request, principal, solution, session, cursor=cursor, notice=notice)


@router.post("/nightly-runs/run", dependencies=[CsrfChecked])
def run_now(
    request: Request, principal: RunStarter, solution: PageSolution, session: SessionDep, services: ServicesDep
) -> Response:
    """*Run now*: the night for this solution, at once, if no other run holds its lease."""
    try:
        services.run_night_now(principal, via="page")
    except runs.NightBusyError:
        return _page(request, principal, solution, session, error=BUSY, status_code=status.HTTP_409_CONFLICT)
    return RedirectResponse("/nightly-runs?notice=done", status_code=status.HTTP_303_SEE_OTHER)
