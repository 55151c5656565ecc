"""The *Archive - Access* page: a person's copy of their data (GDPR Art. 15), previewed, made, downloaded.

The same actions as the API (``access.services``); identifiers travel only in POST bodies, and the
download link carries nothing but the export's id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from archivist.access import export as service
from archivist.access import services as actions
from archivist.access.criteria import CriteriaBox
from archivist.access.export import ExportCounts
from archivist.access.schemas import SubjectExportOut
from archivist.accounts.models import Solution
from archivist.accounts.roles import Permission
from archivist.accounts.services import Principal
from archivist.anonymize.requests import Anonymized, RequestError
from archivist.identifiers import render_phone
from archivist.web.api.subject_exports import download_response
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import CsrfChecked, PageSolution, is_htmx, render, require_page

router = APIRouter(include_in_schema=False)

ExporterPage = Annotated[Principal, Depends(require_page(Permission.MANAGE_REQUESTS))]

PAGE = "archive/access.html"
FORM_AREA = "archive/_access_form.html"


@dataclass
class AccessForm:
    """What the officer typed, kept as typed so the form can be shown again with its errors."""

    phone: str = ""
    email: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _posted_form(
    phone: Annotated[str, Form(max_length=64)] = "", email: Annotated[str, Form(max_length=320)] = ""
) -> AccessForm:
    return AccessForm(phone, email)


PostedForm = Annotated[AccessForm, Depends(_posted_form)]


@dataclass(frozen=True)
class ShownPreview:
    counts: ExportCounts
    phone: str | None
    email: str | None
    anonymized: Anonymized


def _context(
    session: Session, solution: Solution, now: datetime, *, form: AccessForm, preview: ShownPreview | None = None
) -> dict[str, Any]:
    return {
        "title": "Archive - Access",
        "solution": solution,
        "form": form,
        "preview": preview,
        "export_days": service.EXPORT_DAYS,
        "exports": [SubjectExportOut.of(e, now) for e in service.list_exports(session, solution.id)],
    }


@router.get("/archive/access")
def access_page(
    request: Request, principal: ExporterPage, solution: PageSolution, session: SessionDep, services: ServicesDep
) -> Response:
    return render(request, PAGE, _context(session, solution, services.clock(), form=AccessForm()), principal=principal)


@router.post("/archive/access/preview", dependencies=[CsrfChecked])
def preview(
    request: Request,
    principal: ExporterPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    form: PostedForm,
) -> Response:
    """What the export would hold if made now; the *Export* button comes with it."""
    now = services.clock()
    shown = None
    try:
        plan, criteria = actions.preview_export(
            session, solution, form.phone, form.email, keyring=services.keyring, actor=principal, via="page", now=now
        )
        session.commit()
        phone = render_phone(criteria.phone_e164, solution.country) if criteria.phone_e164 else None
        shown = ShownPreview(plan.counts, phone, criteria.email_norm, plan.anonymized)
    except RequestError as exc:
        form.errors[exc.field] = str(exc)
    context = _context(session, solution, now, form=form, preview=shown)
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT if form.errors else status.HTTP_200_OK
    return render(
        request, FORM_AREA if is_htmx(request) else PAGE, context, principal=principal, status_code=status_code
    )


@router.post("/archive/access", dependencies=[CsrfChecked])
def make_export(
    request: Request,
    principal: ExporterPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    form: PostedForm,
) -> Response:
    """*Export*: the export is recorded and listed with its download link."""
    box, keyring, now = CriteriaBox.from_settings(services.settings), services.keyring, services.clock()
    try:
        export = actions.create_export(
            session, solution, form.phone, form.email, keyring=keyring, box=box, actor=principal, via="page", now=now
        )
    except RequestError as exc:
        form.errors[exc.field] = str(exc)
        context = _context(session, solution, services.clock(), form=form)
        return render(request, FORM_AREA if is_htmx(request) else PAGE, context, principal=principal, status_code=422)
    session.commit()
    if not is_htmx(request):
        return RedirectResponse("/archive/access", status_code=status.HTTP_303_SEE_OTHER)
    message = f"The export is ready: download it below within {service.EXPORT_DAYS} days."
    context = _context(session, solution, services.clock(), form=AccessForm()) | {
        "oob_exports": True,
        "made": export.id,
    }
    return render(
        request, FORM_AREA, context, principal=principal, headers={"HX-Trigger": json.dumps({"flash": message})}
    )


@router.get("/archive/access/{export_id}/download")
def download(
    export_id: str, principal: ExporterPage, solution: PageSolution, session: SessionDep, services: ServicesDep
) -> Response:
    """The ZIP, streamed as it is written (a normal link: the browser shows the download's progress)."""
    return download_response(session, solution, principal, export_id, services, via="page")
