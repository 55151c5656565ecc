"""The *Raw data* page: the statistics rows of a period, and their CSV export.

Filters are local calendar days in a GET query (no personal data is typed here), so a
period can be bookmarked; reading and exporting are audited like the API's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response, StreamingResponse

from archivist.accounts.roles import Permission
from archivist.accounts.services import Principal
from archivist.archive import raw_data
from archivist.archive.models import RawEvent
from archivist.archive.presenters import shown_raw_customer
from archivist.archive.search import FilterError
from archivist.audit.events import AuditAction, record_for
from archivist.web.api.raw_data import export_filename
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import PageSolution, render, require_page
from archivist.web.pages.dates import day_range

router = APIRouter(include_in_schema=False)

RawDataViewer = Annotated[Principal, Depends(require_page(Permission.READ_RAW_DATA))]

PAGE_SIZE = 100

DateParam = Annotated[str, Query(alias="from", max_length=10)]


@router.get("/raw-data")
def raw_data_page(
    request: Request,
    principal: RawDataViewer,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    from_: DateParam = "",
    to: Annotated[str, Query(max_length=10)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    errors: dict[str, str] = {}
    rows: list[RawEvent] = []
    next_cursor = None
    position = None
    # *Show* with no days (or *Previous* back to the first page of all rows) sends them empty.
    searched = bool(from_ or to or cursor) or "from" in request.query_params or "to" in request.query_params
    if searched:
        try:
            filters = raw_data.RawDataFilters(*day_range(from_, to, solution.timezone))
            rows, next_cursor = raw_data.page_of_rows(session, solution.id, filters, PAGE_SIZE, cursor or None)
            position = raw_data.page_position(session, solution.id, filters, rows[0] if rows else None, PAGE_SIZE)
        except FilterError as exc:
            errors[exc.field] = exc.message
        else:
            record_for(
                session,
                principal,
                AuditAction.RAW_DATA_READ,
                None,
                {"from": from_ or None, "to": to or None, "rows": len(rows), "via": "page"},
                at=services.clock(),
            )
            session.commit()
    context = {
        "title": "Raw data",
        "solution": solution,
        "form": {"from": from_, "to": to},
        "errors": errors,
        "rows": rows,
        "searched": searched,
        "next_cursor": next_cursor,
        "position": position,
        # Numbers as every page shows them; the API and the CSV keep the row as delivered.
        "shown_customer": shown_raw_customer,
    }
    code = status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK
    return render(request, "raw_data.html", context, principal=principal, status_code=code)


@router.get("/raw-data/export.csv")
def export_csv(
    principal: RawDataViewer,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    from_: DateParam = "",
    to: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """Every row of the period as CSV, streamed."""
    try:
        filters = raw_data.RawDataFilters(*day_range(from_, to, solution.timezone))
    except FilterError as exc:
        return Response(f"{exc.field}: {exc.message}", status_code=422, media_type="text/plain")
    record_for(
        session,
        principal,
        AuditAction.RAW_DATA_EXPORTED,
        None,
        {"from": from_ or None, "to": to or None, "format": "csv", "via": "page"},
        at=services.clock(),
    )
    session.commit()
    return StreamingResponse(
        raw_data.stream_csv(services.session_factory, solution.id, filters),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{export_filename(solution.id)}"',
            "Cache-Control": "no-store",
        },
    )
