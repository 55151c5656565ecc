"""The API of *Archive - Anonymize*: requests, their preview, and running the nightly job now."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse

from archivist.anonymize import bulk
from archivist.anonymize import requests as service
from archivist.anonymize import services as actions
from archivist.anonymize.models import RequestStatus
from archivist.anonymize.preview import Preview
from archivist.anonymize.schemas import (
    BulkOut,
    RequestIn,
    RequestOut,
    RequestPage,
)
from archivist.db import utcnow
from archivist.nightly import runs
from archivist.nightly.schemas import NightlyRunOut, NightlyRunPage, NightlyRunRecord
from archivist.web import errors
from archivist.web.deps import Administrator, RequestManager, ServicesDep, SessionDep, SolutionDep

router = APIRouter(prefix="/api/v1", tags=["anonymization"])


@router.post(
    "/anonymization-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=RequestOut,
    responses={200: {"model": RequestOut, "description": "A waiting request names these identifiers already"}},
)
def create_request(
    body: RequestIn,
    response: Response,
    principal: RequestManager,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
) -> RequestOut:
    """Add a request; the same identifiers entered again while waiting answer 200 with that request."""
    now = services.clock()
    request, created = actions.add_request(
        session,
        solution,
        phone=body.phone,
        email=body.email,
        raw_data=body.raw_data,
        delete_content=body.delete_content,
        also=body.also,
        actor=principal,
        via="api",
        now=now,
    )
    session.commit()
    if not created:
        response.status_code = status.HTTP_200_OK
    return RequestOut.of(request, solution.country, now)


@router.post("/anonymization-requests/preview", response_model=Preview)
def preview(
    body: RequestIn, principal: RequestManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> Preview:
    """What the request would change if the nightly run processed it now (nothing is stored)."""
    result, _, _ = actions.preview_request(
        session,
        solution,
        phone=body.phone,
        email=body.email,
        raw_data=body.raw_data,
        delete_content=body.delete_content,
        also=body.also,
        keyring=services.keyring,
        blobs=services.blobs,
        actor=principal,
        via="api",
        now=services.clock(),
    )
    session.commit()
    return result


async def _csv_body(request: Request) -> bytes:
    """The CSV upload, read up to ``bulk.MAX_BULK_BYTES`` (413 past it, whatever the header says)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() not in ("text/csv", "text/plain"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Send the file as text/csv")
    too_large = HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, f"The file is too large: at most {bulk.MAX_BULK_BYTES:,} bytes"
    )
    if int(request.headers.get("content-length") or 0) > bulk.MAX_BULK_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > bulk.MAX_BULK_BYTES:
            raise too_large
    return bytes(body)


@router.post(
    "/anonymization-requests/bulk",
    response_model=BulkOut,
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
    responses={422: {"description": "bad lines: errors [{line, detail}], nothing added"}, 413: {}},
)
def bulk_add(
    data: Annotated[bytes, Depends(_csv_body)],
    principal: RequestManager,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
) -> BulkOut | JSONResponse:
    """A CSV ``phone,email,raw_data,delete_content``: every line checked first, then all added at once."""
    now = services.clock()
    try:
        rows = bulk.parse_bulk(bulk.decode(data), solution.country)
    except bulk.BulkInvalid as exc:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={
                "detail": f"{exc.total} line(s) are invalid; nothing was added",
                "errors": [{"line": e.line, "detail": e.detail} for e in exc.errors],
            },
        )
    result = bulk.add_rows(session, solution, rows, created_by=principal.username, now=now)
    bulk.audit_bulk(session, principal, result, solution.country, now=now, via="api")
    session.commit()
    return BulkOut(added=len(result.added), existing=len(result.existing))


@router.get("/anonymization-requests", response_model=RequestPage)
def list_requests(
    _: RequestManager,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
    phone: Annotated[str | None, Query(max_length=64)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
) -> RequestPage:
    """Requests newest first; pass ``next_cursor`` back as ``cursor`` for the next page.

    With ``phone`` and/or ``email``: only the requests that name that person — waiting, held
    or done (its own identifiers or those its ``also`` added; done ones found by keyed hash).
    """
    among = None
    if phone or email:
        ids = service.parse_identifiers(phone, email, solution.country)
        among = service.requests_of(session, solution.id, ids, service.person_keys(services.keyring, solution.id, ids))
    # A bad cursor raises CursorError: a 422 from the app's one error handler (web/errors.py).
    rows, next_cursor = service.list_requests(
        session, solution.id, limit=limit, cursor=cursor, status=status_, among=among
    )
    now = services.clock()
    return RequestPage(items=[RequestOut.of(r, solution.country, now) for r in rows], next_cursor=next_cursor)


@router.get("/anonymization-requests/{request_id}", response_model=RequestOut)
def get_request(
    request_id: str, _: RequestManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> RequestOut:
    request = service.get_request(session, solution.id, request_id)
    return RequestOut.of(request, solution.country, services.clock())


@router.delete(
    "/anonymization-requests/{request_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors.responses(409)
)
def cancel_request(
    request_id: str, principal: RequestManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> None:
    """Cancel a waiting request; a done one cannot be undone (409)."""
    actions.cancel_request(session, solution, request_id, actor=principal, via="api", now=services.clock())
    session.commit()


@router.post(
    "/nightly-runs", response_model=NightlyRunOut, responses={409: {"description": "another run holds the lease"}}
)
def run_now(principal: Administrator, services: ServicesDep) -> NightlyRunOut:
    """Run the nightly job for the caller's solution now, under its lease (CONTRACT §19); its summary."""
    summary = services.run_night_now(principal, via="api")
    return NightlyRunOut(**asdict(summary))


@router.get("/nightly-runs", response_model=NightlyRunPage)
def recent_runs(
    _: RequestManager,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=runs.MAX_RUNS)] = runs.DEFAULT_RUNS,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> NightlyRunPage:
    """Past and running nightly runs of the caller's solution, newest first (counts only)."""
    # Leases keep real time (``lease.run_leased``), also when the app's clock is another.
    views, next_cursor = runs.list_runs(session, solution.id, utcnow(), limit=limit, cursor=cursor)
    return NightlyRunPage(items=[NightlyRunRecord.of(view) for view in views], next_cursor=next_cursor)
