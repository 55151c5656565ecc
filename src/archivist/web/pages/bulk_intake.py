"""Bulk intake on *Archive - Anonymize* (CONTRACT §12): upload a CSV, see every row previewed, *Add all*.

The same service as ``POST /api/v1/anonymization-requests/bulk`` (``anonymize.bulk``). The
upload is read, checked and previewed; nothing is stored until *Add all*, which posts the same
text back (in the POST body, never a URL) and has it checked again.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import RedirectResponse, Response

from archivist.accounts.roles import Permission
from archivist.accounts.services import Principal
from archivist.anonymize import bulk
from archivist.audit.events import AuditAction, record_for
from archivist.identifiers import render_phone
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import CsrfChecked, PageSolution, is_htmx, render, require_page

router = APIRouter(include_in_schema=False)

RequestManagerPage = Annotated[Principal, Depends(require_page(Permission.MANAGE_REQUESTS))]

AREA = "archive/_anonymize_bulk.html"
PAGE = "archive/anonymize_bulk.html"


def _render(request: Request, principal: Principal, context: dict[str, object], status_code: int = 200) -> Response:
    return render(
        request,
        AREA if is_htmx(request) else PAGE,
        {"title": "Archive - Anonymize", **context},
        principal=principal,
        status_code=status_code,
    )


def _refused(exc: bulk.BulkInvalid) -> dict[str, object]:
    return {"bulk_errors": exc.errors, "bulk_error_total": exc.total}


@router.post("/archive/anonymize/bulk/preview", dependencies=[CsrfChecked])
def preview_upload(
    request: Request,
    principal: RequestManagerPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Read the upload (at most ``bulk.MAX_BULK_BYTES``) and show what each row would do; nothing is stored."""
    data = file.file.read(bulk.MAX_BULK_BYTES + 1)
    if len(data) > bulk.MAX_BULK_BYTES:
        error = bulk.LineError(1, f"The file is too large: at most {bulk.MAX_BULK_BYTES:,} bytes. Split it.")
        return _render(request, principal, _refused(bulk.BulkInvalid([error])), status.HTTP_413_CONTENT_TOO_LARGE)
    try:
        text = bulk.decode(data)
        rows = bulk.parse_bulk(text, solution.country)
    except bulk.BulkInvalid as exc:
        return _render(request, principal, _refused(exc), status.HTTP_422_UNPROCESSABLE_CONTENT)
    now = services.clock()
    shown = bulk.preview_rows(session, solution, rows, now=now, keyring=services.keyring, blobs=services.blobs)
    # Which kind of look-up and how many people, never who.
    record_for(session, principal, AuditAction.REQUEST_PREVIEWED, None, {"bulk": shown.people, "via": "page"}, at=now)
    session.commit()

    # Each person as the rows below will show them once added (numbers in the seed's convention).
    def shown_phone(e164: str | None) -> str:
        return render_phone(e164, solution.country) if e164 else ""

    context = {"bulk_preview": shown, "bulk_text": text, "solution": solution, "shown_phone": shown_phone}
    return _render(request, principal, context)


@router.post("/archive/anonymize/bulk", dependencies=[CsrfChecked])
def add_all(
    request: Request,
    principal: RequestManagerPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    csv: Annotated[str, Form(max_length=bulk.MAX_BULK_BYTES)],
) -> Response:
    """*Add all*: every row of the previewed file, checked again, in one transaction."""
    try:
        rows = bulk.parse_bulk(csv, solution.country)
    except bulk.BulkInvalid as exc:
        return _render(request, principal, _refused(exc), status.HTTP_422_UNPROCESSABLE_CONTENT)
    now = services.clock()
    result = bulk.add_rows(session, solution, rows, created_by=principal.username, now=now)
    bulk.audit_bulk(session, principal, result, solution.country, now=now, via="page")
    session.commit()
    # Counts only in the address (never who): the page says what Add all did.
    counts = urlencode({"added": len(result.added), "widened": len(result.existing)})
    return RedirectResponse(f"/archive/anonymize?{counts}", status_code=status.HTTP_303_SEE_OTHER)
