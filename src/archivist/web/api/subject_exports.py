"""The API of subject access exports (CONTRACT §12): make one, list them, download the ZIP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from archivist.access import export as service
from archivist.access.criteria import CriteriaBox
from archivist.access.schemas import SubjectExportIn, SubjectExportList, SubjectExportOut
from archivist.accounts.models import Solution
from archivist.accounts.services import Principal
from archivist.anonymize.requests import RequestError
from archivist.audit.events import AuditAction, record_for
from archivist.exports.models import SubjectExport
from archivist.web.deps import RequestManager, Services, ServicesDep, SessionDep, SolutionDep

router = APIRouter(prefix="/api/v1", tags=["subject access"])

NOT_FOUND = "Subject export not found"
ERASED = (
    "This export is gone: an erasure since forgot the person it was made for, so it would hand "
    "their data back. Make a new export to see what is still held."
)
EXPIRED = (
    f"This export has expired ({service.EXPORT_DAYS} days after it was made) and whose data it was is no "
    "longer stored: make a new export"
)


def export_details(export: SubjectExport) -> dict[str, object]:
    """What the audit trail keeps of an export: masked identifiers and counts."""
    return {"phone": export.phone_masked, "email": export.email_masked, "counts": dict(export.counts or {})}


def download_response(
    session: Session, solution: Solution, principal: Principal, export_id: str, services: Services, *, via: str
) -> StreamingResponse:
    """Audit the download, then stream the ZIP (the API's and the page's download alike).

    The entry is committed before the first byte: a download that breaks off half-way was
    still a disclosure.
    """
    now = services.clock()
    try:
        export, criteria = service.open_for_download(
            session, solution, export_id, now=now, box=CriteriaBox.from_settings(services.settings)
        )
    except service.ExportNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND) from None
    except service.ExportErasedError:
        raise HTTPException(status.HTTP_410_GONE, ERASED) from None
    except service.ExportExpiredError:
        raise HTTPException(status.HTTP_410_GONE, EXPIRED) from None
    details = {**export_details(export), "download": export.downloads, "via": via}
    record_for(session, principal, AuditAction.SUBJECT_EXPORT_DOWNLOADED, export.id, details, at=now)
    session.commit()
    chunks = service.stream_export(
        services.session_factory, services.blobs, solution, export, criteria, keyring=services.keyring
    )
    return StreamingResponse(
        chunks,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="subject-export-{export.id}.zip"',
            "Cache-Control": "private, no-store",
        },
    )


def create(
    session: Session, solution: Solution, principal: Principal, services: Services, phone: str | None, email: str | None
) -> SubjectExport:
    """Make an export and audit it (raises RequestError for identifiers that cannot be a person's)."""
    now = services.clock()
    criteria = service.parse_criteria(phone, email, solution.country)
    # Whatever else expired meanwhile forgets its criteria now, not only at the coming night.
    service.purge_expired_exports(session, now, solution.id)
    export = service.create_export(
        session,
        solution,
        criteria,
        created_by=principal.username,
        now=now,
        keyring=services.keyring,
        box=CriteriaBox.from_settings(services.settings),
    )
    record_for(session, principal, AuditAction.SUBJECT_EXPORT_CREATED, export.id, export_details(export), at=now)
    return export


@router.post("/subject-exports", status_code=status.HTTP_201_CREATED, response_model=SubjectExportOut)
def create_export(
    body: SubjectExportIn, principal: RequestManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> SubjectExportOut:
    """Export everything of a person's (GDPR Art. 15); the ZIP is downloaded from ``…/download``."""
    try:
        export = create(session, solution, principal, services, body.phone, body.email)
    except RequestError as exc:
        # Says which form is expected, never repeats the input.
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{exc.field}: {exc}") from None
    session.commit()
    return SubjectExportOut.of(export, services.clock())


@router.get("/subject-exports", response_model=SubjectExportList)
def list_exports(
    _: RequestManager,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LISTED)] = 50,
) -> SubjectExportList:
    """The solution's recent exports, newest first (expired ones without their criteria)."""
    now = services.clock()
    return SubjectExportList(
        items=[SubjectExportOut.of(e, now) for e in service.list_exports(session, solution.id, limit)]
    )


@router.get("/subject-exports/{export_id}", response_model=SubjectExportOut)
def get_export(
    export_id: str, _: RequestManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> SubjectExportOut:
    try:
        export = service.get_export(session, solution.id, export_id)
    except service.ExportNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND) from None
    return SubjectExportOut.of(export, services.clock())


@router.get(
    "/subject-exports/{export_id}/download",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}, 410: {"description": "expired"}},
)
def download(
    export_id: str, principal: RequestManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> StreamingResponse:
    """The ZIP: interactions.json, raw_data.csv, recordings/, manifest.json (SHA-256 of each file)."""
    return download_response(session, solution, principal, export_id, services, via="api")
