"""The *Archive - Anonymize* page: enter the people to forget, preview first, follow them to *Done*.

The same services as the REST API (``anonymize.requests``, ``anonymize.preview``); the page
adds the seed's texts, the preview-before-*Add* flow and the page login. Identifiers travel
only in POST bodies, never in a URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.roles import Permission
from archivist.accounts.services import Principal
from archivist.anonymize import certificate, erasure
from archivist.anonymize import requests as service
from archivist.anonymize import services as actions
from archivist.anonymize.models import ErasureReceipt, RequestStatus
from archivist.anonymize.preview import Preview
from archivist.anonymize.requests import Also
from archivist.anonymize.schemas import RequestOut
from archivist.archive.mentions import MentionKeyring
from archivist.identifiers import render_phone
from archivist.nightly.models import NightlyRun
from archivist.nightly.scheduler import NightlyTrigger
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import CsrfChecked, PageSolution, is_htmx, local_time, render, require_page
from archivist.web.pages.forms import too_long

router = APIRouter(include_in_schema=False)

RequestManagerPage = Annotated[Principal, Depends(require_page(Permission.MANAGE_REQUESTS))]

PAGE_SIZE = 50
PAGE = "archive/anonymize.html"
FORM_AREA = "archive/_anonymize_form.html"
REQUESTS_AREA = "archive/_anonymize_requests.html"
LOOKUP_AREA = "archive/_anonymize_lookup.html"
CERTIFICATE = "archive/certificate.html"
# The look-up's status filter: "" is any status.
LOOKUP_STATUSES = (("", "Any status"), ("waiting", "Waiting"), ("held", "Held"), ("done", "Done"))

CONFIRM_CANCEL = (
    "This row will be removed and nothing will be anonymized for it tonight. "
    "You can add the person again later, but calls after that day will not be covered."
)


@dataclass
class AnonymizeForm:
    """What the user typed, kept as typed so the form can be shown again with its errors."""

    phone: str = ""
    email: str = ""
    raw_data: bool = False
    delete_content: bool = False
    # Tokens (keyed hashes) of the linked identifiers the officer ticked, never their values.
    linked: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


# What each typed field may hold; longer is shown next to the field (never answered as JSON).
FORM_LIMITS = {"phone": 64, "email": 320}


def _posted_form(
    phone: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    raw_data: Annotated[bool, Form()] = False,
    delete_content: Annotated[bool, Form()] = False,
    linked: Annotated[list[str], Form(max_length=erasure.MAX_LINKED)] = [],  # noqa: B006 - FastAPI copies defaults
) -> AnonymizeForm:
    form = AnonymizeForm(phone, email, raw_data, delete_content, linked)
    form.errors = too_long(FORM_LIMITS, {"phone": phone, "email": email})
    return form


def _ticked_also(
    session: Session, solution: Solution, form: AnonymizeForm, now: datetime, keyring: MentionKeyring
) -> Also:
    """The linked identifiers the officer ticked, read again from the archive: the page carries
    only their keyed tokens, so a tick names the same value even if the list changed meanwhile."""
    if not form.linked:
        return Also()
    ticked = set(form.linked)
    items = _linked(session, solution, form, now, keyring)
    return erasure.also_from([item for item in items if _token(keyring, solution, item) in ticked])


def _linked(
    session: Session, solution: Solution, form: AnonymizeForm, now: datetime, keyring: MentionKeyring
) -> list[erasure.Linked]:
    ids = service.parse_identifiers(form.phone, form.email, solution.country)
    scope = erasure.Scope(solution.id, solution.country, solution.replacement, cutoff=now)
    person = erasure.Person.of(ids.phone_e164, ids.email_norm, Also())
    return erasure.linked_identifiers(session, scope, person, keyring=keyring)


def _token(keyring: MentionKeyring, solution: Solution, item: erasure.Linked) -> str:
    """What a tick carries: a keyed hash of the linked value (nobody can read it back without the secret)."""
    return keyring.key(solution.id, f"linked:{item.kind}:{item.name or ''}:{item.value}")


def _shown_value(item: erasure.Linked, country: str) -> str:
    """A linked identifier in full, in the convention the officer types it (numbers as the seed shows them)."""
    return render_phone(item.value, country) if item.kind == "phone" else item.value


class _FormInvalidError(Exception):
    """The form failed its own checks (``form.errors`` says which): nothing is looked up."""


def _typed_ids(form: AnonymizeForm, solution: Solution) -> tuple[str | None, str | None]:
    ids = service.parse_identifiers(form.phone, form.email, solution.country)
    return ids.phone_e164, ids.email_norm


@dataclass
class LookupForm:
    """ "Did we forget this person?": the identifiers typed and the status filter, kept to show again."""

    phone: str = ""
    email: str = ""
    status: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _posted_lookup(
    phone: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    status: Annotated[str, Form(max_length=10)] = "",
) -> LookupForm:
    form = LookupForm(phone, email, status)
    form.errors = too_long(FORM_LIMITS, {"phone": phone, "email": email})
    if status not in dict(LOOKUP_STATUSES):
        form.errors["form"] = "Choose a status from the list."
    elif not (phone.strip() or email.strip()) and not form.errors:
        form.errors["form"] = "Enter the person's phone number or email address (or both)."
    return form


PostedLookup = Annotated[LookupForm, Depends(_posted_lookup)]


# The form as posted to *Preview* and *Add*.
PostedForm = Annotated[AnonymizeForm, Depends(_posted_form)]


@dataclass(frozen=True)
class ShownPreview:
    """A preview and the identifiers it was made for, in the form the page shows them."""

    counts: Preview
    phone: str | None
    email: str | None
    # One tick token per entry of counts.linked, in order.
    tokens: tuple[str, ...] = ()
    # Each linked identifier in full, for the officer to check it is this person's (CONTRACT §19):
    # rendered into this preview only; the ticks carry the tokens, and nothing stores or logs these.
    values: tuple[str, ...] = ()


def _next_run(solution: Solution, now: datetime) -> datetime | None:
    try:
        fire: datetime | None = NightlyTrigger(solution.nightly_at, solution.timezone).get_next_fire_time(None, now)
    except (ValueError, KeyError):
        return None
    return fire


def _requests_context(session: Session, solution: Solution, now: datetime, cursor: str | None = None) -> dict[str, Any]:
    try:
        rows, next_cursor = service.list_requests(session, solution.id, limit=PAGE_SIZE, cursor=cursor)
    except ValueError:  # a stale or hand-made cursor: start from the newest
        rows, next_cursor = service.list_requests(session, solution.id, limit=PAGE_SIZE)
        cursor = None
    last_run = session.scalars(
        select(NightlyRun)
        .where(NightlyRun.solution_id == solution.id, NightlyRun.finished_at.is_not(None))
        .order_by(NightlyRun.started_at.desc(), NightlyRun.id.desc())
        .limit(1)
    ).first()
    return {
        "receipts": _receipts_of(session, rows),
        "items": [RequestOut.of(r, solution.country, now) for r in rows],
        "next_cursor": next_cursor,
        "paged": bool(cursor),
        "last_run": last_run,
        "next_run": _next_run(solution, now),
        "confirm_cancel": CONFIRM_CANCEL,
    }


def _receipts_of(session: Session, rows: list[Any]) -> set[str]:
    """Which of these rows have a signed receipt (a done row gets one after the night's storage step)."""
    done = [r.id for r in rows if r.status is RequestStatus.DONE]
    if not done:
        return set()
    return set(session.scalars(select(ErasureReceipt.request_id).where(ErasureReceipt.request_id.in_(done))))


def _context(
    session: Session,
    solution: Solution,
    now: datetime,
    *,
    form: AnonymizeForm,
    preview: ShownPreview | None = None,
    cursor: str | None = None,
    lookup: LookupForm | None = None,
) -> dict[str, Any]:
    return {
        "title": "Archive - Anonymize",
        "solution": solution,
        "form": form,
        "preview": preview,
        "lookup": lookup or LookupForm(),
        "lookup_statuses": LOOKUP_STATUSES,
        "found": None,
        "retention_months": service.RETENTION_MONTHS,
        **_requests_context(session, solution, now, cursor),
    }


def _flash(message: str) -> dict[str, str]:
    return {"HX-Trigger": json.dumps({"flash": message})}


@router.get("/archive/anonymize")
def anonymize_page(
    request: Request,
    principal: RequestManagerPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    cursor: str | None = None,
    added: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    widened: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
) -> Response:
    context = _context(session, solution, services.clock(), form=AnonymizeForm(), cursor=cursor)
    if added is not None:
        # After bulk *Add all* (post/redirect/get: the counts come in the address, never who).
        context["notice"] = _added_all(added, widened or 0)
    if is_htmx(request):
        return render(request, REQUESTS_AREA, context, principal=principal)
    return render(request, PAGE, context, principal=principal)


def _added_all(added: int, widened: int) -> str:
    rows = f"{added} row{'' if added == 1 else 's'} added"
    more = f", {widened} Waiting row{'' if widened == 1 else 's'} widened (not added twice)" if widened else ""
    return f"Added from the file: {rows}{more}. They are Waiting and will be anonymized the coming night."


@router.post("/archive/anonymize/preview", dependencies=[CsrfChecked])
def preview(
    request: Request,
    principal: RequestManagerPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    form: PostedForm,
) -> Response:
    """What the row would change if the night came now; the *Add* button comes with it."""
    now = services.clock()
    shown = None
    covering = None
    try:
        if form.errors:
            raise _FormInvalidError
        counts, linked, ids = actions.preview_request(
            session,
            solution,
            phone=form.phone,
            email=form.email,
            raw_data=form.raw_data,
            delete_content=form.delete_content,
            also=None,
            keyring=services.keyring,
            blobs=services.blobs,
            actor=principal,
            via="page",
            now=now,
        )
        session.commit()
        shown = ShownPreview(
            counts,
            render_phone(ids.phone_e164, solution.country) if ids.phone_e164 else None,
            ids.email_norm,
            tuple(_token(services.keyring, solution, item) for item in linked),
            tuple(_shown_value(item, solution.country) for item in linked),
        )
        # The row *Add* would not add: a waiting one names these identifiers already.
        waiting = service.covering_request(session, solution.id, ids)
        covering = RequestOut.of(waiting, solution.country, now) if waiting else None
    except service.RequestError as exc:
        form.errors[exc.field] = str(exc)
    except _FormInvalidError:
        pass
    context = _context(session, solution, now, form=form, preview=shown) | {"covering": covering}
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT if form.errors else status.HTTP_200_OK
    template = FORM_AREA if is_htmx(request) else PAGE
    return render(request, template, context, principal=principal, status_code=status_code)


@router.post("/archive/anonymize/lookup", dependencies=[CsrfChecked])
def lookup(
    request: Request,
    principal: RequestManagerPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    form: PostedLookup,
) -> Response:
    """ "Did we forget this person?" (CONTRACT §19): their rows, waiting, held and done.

    Done rows keep masked identifiers only, so they are found by the keyed hashes the night
    kept (``requests_of``); the identifiers come in the POST body and are never logged.
    """
    now = services.clock()
    found: list[RequestOut] | None = None
    more = False
    receipts: set[str] = set()
    if not form.errors:
        try:
            ids = service.parse_identifiers(form.phone, form.email, solution.country)
        except service.RequestError as exc:
            form.errors[exc.field] = str(exc)
        else:
            among = service.requests_of(
                session, solution.id, ids, service.person_keys(services.keyring, solution.id, ids)
            )
            rows, next_cursor = service.list_requests(
                session,
                solution.id,
                limit=PAGE_SIZE,
                status=RequestStatus(form.status) if form.status else None,
                among=among,
            )
            found = [RequestOut.of(r, solution.country, now) for r in rows]
            more = next_cursor is not None
            receipts = _receipts_of(session, rows)
    context = _context(session, solution, now, form=AnonymizeForm(), lookup=form) | {
        "found": found,
        "found_more": more,
        "found_receipts": receipts,
    }
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT if form.errors else status.HTTP_200_OK
    template = LOOKUP_AREA if is_htmx(request) else PAGE
    return render(request, template, context, principal=principal, status_code=status_code)


@router.post("/archive/anonymize", dependencies=[CsrfChecked])
def add(
    request: Request,
    principal: RequestManagerPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    form: PostedForm,
) -> Response:
    """*Add*: the row is *Waiting* until the coming night."""
    now = services.clock()
    try:
        if form.errors:
            raise _FormInvalidError
        row, created = actions.add_request(
            session,
            solution,
            phone=form.phone,
            email=form.email,
            raw_data=form.raw_data,
            delete_content=form.delete_content,
            also=_ticked_also(session, solution, form, now, services.keyring),
            actor=principal,
            via="page",
            now=now,
        )
    except (service.RequestError, _FormInvalidError) as exc:
        if isinstance(exc, service.RequestError):
            form.errors[exc.field] = str(exc)
        context = _context(session, solution, now, form=form)
        template = FORM_AREA if is_htmx(request) else PAGE
        return render(request, template, context, principal=principal, status_code=422)
    session.commit()
    if created:
        message = "Added. The row is Waiting and will be anonymized the coming night."
    elif (row.phone_e164, row.email_norm) == _typed_ids(form, solution):
        message = "This person already has a row that is Waiting; no second row was added."
    else:
        message = (
            "This person already has a Waiting row that includes what you entered (and more); "
            "no second row was added. What you asked for beyond it was added to that row."
        )
    if not is_htmx(request):
        return RedirectResponse("/archive/anonymize", status_code=status.HTTP_303_SEE_OTHER)
    context = _context(session, solution, now, form=AnonymizeForm()) | {"oob_requests": True}
    return render(request, FORM_AREA, context, principal=principal, headers=_flash(message))


@router.get("/archive/anonymize/{request_id}/receipt")
def download_receipt(request_id: str, _: RequestManagerPage, solution: PageSolution, session: SessionDep) -> Response:
    """The signed receipt of a done row, as a file (the same JSON as the API's)."""
    document = session.scalars(
        select(ErasureReceipt.document).where(
            ErasureReceipt.request_id == request_id, ErasureReceipt.solution_id == solution.id
        )
    ).first()
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No receipt for this row")
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="receipt-{request_id}.json"'},
    )


def _receipt_time(value: Any, timezone: str) -> str:
    """A receipt's UTC time ("...Z") in the solution's time zone, as every page shows times."""
    if not isinstance(value, str):
        return ""
    return local_time(datetime.fromisoformat(value), timezone, "%Y-%m-%d %H:%M")


NOT_DONE = (
    "This row is not done yet: a certificate is made once the night has erased the person and signed "
    "the receipt. A row held by a legal hold gets its certificate the night after the hold ends."
)


@router.get("/archive/anonymize/{request_id}/certificate")
def certificate_page(
    request_id: str, request: Request, principal: RequestManagerPage, solution: PageSolution, session: SessionDep
) -> Response:
    """A printable page of a done row's signed receipt, with how to verify it (CONTRACT §19).

    Read from the receipt, which outlives the row's purge; another solution's id answers 404
    like the API, and a row not done yet a 409 page that says when it will have one.
    """
    document = session.scalars(
        select(ErasureReceipt.document).where(
            ErasureReceipt.request_id == request_id, ErasureReceipt.solution_id == solution.id
        )
    ).first()
    if document is None:
        try:
            service.get_request(session, solution.id, request_id)
        except service.RequestNotFoundError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such row") from None
        refused: dict[str, Any] = {"title": "Not done yet", "message": NOT_DONE}
        return render(request, "error.html", refused, principal=principal, status_code=status.HTTP_409_CONFLICT)
    receipt = document["receipt"]
    storage = receipt.get("storage") or {}
    context: dict[str, Any] = {
        "title": "Certificate of erasure",
        "solution": solution,
        "document": document,
        "receipt": receipt,
        "result_lines": certificate.result_in_words(receipt.get("result")),
        "storage_lines": certificate.storage_in_words(storage),
        "out_of_reach": certificate.out_of_reach(storage),
        "signed_json": json.dumps(document, indent=2, ensure_ascii=False),
        "times": {
            key: _receipt_time(receipt.get(key), solution.timezone) for key in ("entered_at", "processed_at", "cutoff")
        },
    }
    return render(request, CERTIFICATE, context, principal=principal)


@router.post("/archive/anonymize/{request_id}/cancel", dependencies=[CsrfChecked])
def cancel(
    request_id: str,
    request: Request,
    principal: RequestManagerPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """Cancel a *Waiting* row; a *Done* one stays (its anonymization cannot be undone)."""
    # Another solution's row answers 404 as one that never was (CONTRACT §18), not with a redirect.
    try:
        actions.cancel_request(session, solution, request_id, actor=principal, via="page", now=services.clock())
        session.commit()
        message = "The row was cancelled; nothing will be anonymized for it."
    except service.RequestDoneError:
        message = "That row has been processed (Done, or Held by a legal hold): it cannot be cancelled."
    if not is_htmx(request):
        return RedirectResponse("/archive/anonymize", status_code=status.HTTP_303_SEE_OTHER)
    context = _context(session, solution, services.clock(), form=AnonymizeForm())
    return render(request, REQUESTS_AREA, context, principal=principal, headers=_flash(message))
