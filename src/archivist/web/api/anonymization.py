"""The API of *Archive - Anonymize*: requests, their preview, and running the nightly job now."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import select

from archivist.anonymize import requests as service
from archivist.anonymize.models import AnonymizationRequest, NightlyRun, RequestStatus
from archivist.anonymize.nightly import RunTrigger, run_nightly
from archivist.anonymize.preview import Preview, preview_request
from archivist.anonymize.schemas import (
    NightlyRunOut,
    NightlyRunRecord,
    RequestIn,
    RequestOut,
    RequestPage,
)
from archivist.audit.events import AuditAction, record_for
from archivist.identifiers import mask_email, mask_phone_e164
from archivist.web.deps import Administrator, RequestManager, ServicesDep, SessionDep, SolutionDep

router = APIRouter(prefix="/api/v1", tags=["anonymization"])


def request_details(request: AnonymizationRequest, country: str) -> dict[str, object]:
    """What the audit trail keeps of a request: masked identifiers and its options."""
    return {
        "phone": mask_phone_e164(request.phone_e164, country) if request.phone_e164 else request.phone_masked,
        "email": mask_email(request.email_norm) if request.email_norm else request.email_masked,
        "raw_data": request.raw_data,
        "delete_content": request.delete_content,
        # How many further identifiers, never which.
        "also": service.Also.from_json(request.also).counts(),
    }


def _invalid(exc: service.RequestError) -> HTTPException:
    # The message says which form is expected and never repeats the input.
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{exc.field}: {exc}")


@router.post("/anonymization-requests", status_code=status.HTTP_201_CREATED, response_model=RequestOut)
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
    try:
        request, created = service.create_request(
            session,
            solution,
            phone=body.phone,
            email=body.email,
            raw_data=body.raw_data,
            delete_content=body.delete_content,
            created_by=principal.username,
            now=now,
            also=service.parse_also(*body.also_lists(), country=solution.country),
        )
    except service.RequestError as exc:
        raise _invalid(exc) from None
    if created:
        record_for(
            session,
            principal,
            AuditAction.REQUEST_ADDED,
            request.id,
            request_details(request, solution.country),
            at=now,
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
    try:
        result = preview_request(
            session,
            solution,
            phone=body.phone,
            email=body.email,
            raw_data=body.raw_data,
            delete_content=body.delete_content,
            now=services.clock(),
            keyring=services.keyring,
            also=service.parse_also(*body.also_lists(), country=solution.country),
        )
    except service.RequestError as exc:
        raise _invalid(exc) from None
    # A preview looks the identifier up in the archive, like a search: which kinds, never the values.
    details = {"phone": body.phone is not None, "email": body.email is not None, "raw_data": body.raw_data}
    record_for(session, principal, AuditAction.REQUEST_PREVIEWED, None, details, at=services.clock())
    session.commit()
    return result


@router.get("/anonymization-requests", response_model=RequestPage)
def list_requests(
    _: RequestManager,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
) -> RequestPage:
    """Requests newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
    try:
        rows, next_cursor = service.list_requests(session, solution.id, limit=limit, cursor=cursor, status=status_)
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "cursor: not a cursor this API returned") from None
    now = services.clock()
    return RequestPage(items=[RequestOut.of(r, solution.country, now) for r in rows], next_cursor=next_cursor)


@router.get("/anonymization-requests/{request_id}", response_model=RequestOut)
def get_request(
    request_id: str, _: RequestManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> RequestOut:
    try:
        request = service.get_request(session, solution.id, request_id)
    except service.RequestNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Anonymization request not found") from None
    return RequestOut.of(request, solution.country, services.clock())


@router.delete("/anonymization-requests/{request_id}", status_code=status.HTTP_204_NO_CONTENT)
def cancel_request(
    request_id: str, principal: RequestManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> None:
    """Cancel a waiting request; a done one cannot be undone (409)."""
    try:
        request = service.get_request(session, solution.id, request_id)
        details = request_details(request, solution.country)
        service.cancel_request(session, solution.id, request_id)
    except service.RequestNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Anonymization request not found") from None
    except service.RequestDoneError:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "The request is done: its anonymization cannot be cancelled"
        ) from None
    record_for(session, principal, AuditAction.REQUEST_CANCELLED, request_id, details, at=services.clock())
    session.commit()


@router.post("/nightly-runs", response_model=NightlyRunOut)
def run_now(principal: Administrator, session: SessionDep, services: ServicesDep) -> NightlyRunOut:
    """Run the nightly job for the caller's solution now and return its summary."""
    # Who asked is recorded first; what the run did, request by request, the run records itself.
    record_for(session, principal, AuditAction.NIGHTLY_RUN_STARTED, principal.solution_id, at=services.clock())
    session.commit()
    (summary,) = run_nightly(
        services.session_factory,
        services.blobs,
        services.clock(),
        keyring=services.keyring,
        solution_id=principal.solution_id,
        trigger=RunTrigger.API,
        proof=services.proof,
    )
    return NightlyRunOut(**asdict(summary))


@router.get("/nightly-runs", response_model=list[NightlyRunRecord])
def recent_runs(
    _: RequestManager,
    session: SessionDep,
    solution: SolutionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[NightlyRunRecord]:
    """The latest runs for the caller's solution, newest first (counts only)."""
    runs = session.scalars(
        select(NightlyRun)
        .where(NightlyRun.solution_id == solution.id)
        .order_by(NightlyRun.started_at.desc(), NightlyRun.id.desc())
        .limit(limit)
    )
    return [
        NightlyRunRecord(
            id=r.id,
            trigger=r.trigger,
            as_of=r.as_of,
            started_at=r.started_at,
            finished_at=r.finished_at,
            summary=r.summary,
        )
        for r in runs
    ]
