"""The API of subject access exports (CONTRACT §12): make one, list them, download the ZIP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from archivist.access import export as service
from archivist.access import services as actions
from archivist.access.criteria import CriteriaBox
from archivist.access.schemas import SubjectExportIn, SubjectExportList, SubjectExportOut
from archivist.accounts.models import Solution
from archivist.accounts.services import Principal
from archivist.web.deps import RequestManager, Services, ServicesDep, SessionDep, SolutionDep

router = APIRouter(prefix="/api/v1", tags=["subject access"])


def download_response(
    session: Session, solution: Solution, principal: Principal, export_id: str, services: Services, *, via: str
) -> StreamingResponse:
    """Count and audit the download, commit, then stream the ZIP as it is written (the API's and
    the page's download alike).

    The entry is committed before the first byte: a download that breaks off half-way was
    still a disclosure.
    """
    box = CriteriaBox.from_settings(services.settings)
    export, criteria = actions.open_download(
        session, solution, export_id, box=box, actor=principal, via=via, now=services.clock()
    )
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


@router.post("/subject-exports", status_code=status.HTTP_201_CREATED, response_model=SubjectExportOut)
def create_export(
    body: SubjectExportIn, principal: RequestManager, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> SubjectExportOut:
    """Export everything of a person's (GDPR Art. 15); the ZIP is downloaded from ``…/download``."""
    box, keyring, now = CriteriaBox.from_settings(services.settings), services.keyring, services.clock()
    export = actions.create_export(
        session, solution, body.phone, body.email, keyring=keyring, box=box, actor=principal, via="api", now=now
    )
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
    return SubjectExportOut.of(service.get_export(session, solution.id, export_id), services.clock())


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
