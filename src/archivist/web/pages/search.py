"""The *Archive - Search* page: find requests, play recordings, read content, delete.

The filter form is submitted by POST (htmx or plain), so phone numbers and email addresses
never appear in a URL that a proxy or the access log would keep. Everything here calls the
same services as the REST API; the page adds only presentation and the page login.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.roles import Permission
from archivist.accounts.services import Principal
from archivist.anonymize import erasure
from archivist.anonymize import services as actions
from archivist.archive import attachments as attachment_service
from archivist.archive import content as content_service
from archivist.archive import services as reads
from archivist.archive.models import Channel, Direction, Interaction, Recording
from archivist.archive.presenters import interaction_out, interactions_out
from archivist.archive.schemas import EmailContentOut, InteractionOut
from archivist.archive.search import FilterError, SearchPage, filter_choices, make_filters
from archivist.audit.events import AuditAction, record_for
from archivist.retention.holds import HeldError, held_among, holds_covering, refusal_in_words
from archivist.web.attachments import attachment_response, frame_document
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import CsrfChecked, PageSolution, is_htmx, render, require_page
from archivist.web.pages.dates import day_range
from archivist.web.pages.forms import too_long
from archivist.web.streaming import recording_response, starts_playback

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

SearchViewer = Annotated[Principal, Depends(require_page(Permission.SEARCH))]
ContentViewer = Annotated[Principal, Depends(require_page(Permission.READ_CONTENT))]
ContentRemover = Annotated[Principal, Depends(require_page(Permission.DELETE_CONTENT))]

PAGE_SIZE = 50
# What each field of the form may hold (a page re-renders the form instead of answering JSON).
SEARCH_LIMITS = {
    "phone": 64,
    "email": 320,
    "from": 20,
    "to": 20,
    "queue": 200,
    "agent": 200,
    "channel": 10,
    "direction": 10,
    "cursor": 200,
}

CONFIRM_DELETE_RECORDING = (
    "The recording of this call will be deleted from the archive for good. "
    "Nobody will be able to play it again. This cannot be undone."
)
CONFIRM_DELETE_CHAT = (
    "The chat log (every message) of this chat will be deleted from the archive. "
    "The general information stays. This cannot be undone."
)
CONFIRM_DELETE_EMAIL = (
    "The body of this email will be deleted from the archive. The general information stays. This cannot be undone."
)
CONFIRM_DELETE_TRANSCRIPT = (
    "The transcript of this call will be deleted from the archive. The recording and the general information "
    "stay. This cannot be undone."
)
# Why the details view offers no deletion of a held interaction (the routes refuse it too).
HELD_NOTE = "Under a legal hold: nothing of it can be deleted or anonymized until the hold is released (Legal holds)."
CONFIRM_ANONYMIZE = (
    "Their recordings, chat logs and email bodies will be deleted, and the customer's phone number, "
    "email address, name and all variable values will be replaced with the replacement text. "
    "You will no longer find them by the phone number or email address. This cannot be undone. "
    "If any of them is under a legal hold, it is refused and nothing is changed."
)


@dataclass
class SearchForm:
    """What the user typed, kept as typed so the form can be shown again with errors."""

    phone: str = ""
    email: str = ""
    from_: str = ""
    to: str = ""
    queue: str = ""
    agent: str = ""
    channel: str = ""
    direction: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _choice(enum_cls: type[Channel] | type[Direction], field_name: str, value: str) -> Any:
    if not value:
        return None
    try:
        return enum_cls(value)
    except ValueError:
        raise FilterError(field_name, "Choose one of the listed values") from None


def _run_search(
    session: Session, solution: Solution, form: SearchForm, cursor: str | None, *, actor: Principal, now: datetime
) -> SearchPage | None:
    """The page of results for ``form`` (audited), or None with ``form.errors`` filled in."""
    try:
        # "To" is a calendar day and means "up to and including that day".
        started_from, started_to = day_range(form.from_, form.to, solution.timezone)
        filters = make_filters(
            solution.country,
            phone=form.phone,
            email=form.email,
            channel=_choice(Channel, "channel", form.channel),
            direction=_choice(Direction, "direction", form.direction),
            queue=form.queue,
            agent=form.agent,
            started_from=started_from,
            started_to=started_to,
        )
        return reads.search(
            session,
            solution,
            filters,
            typed={
                "phone": form.phone,
                "email": form.email,
                "channel": form.channel,
                "direction": form.direction,
                "queue": form.queue,
                "agent": form.agent,
                "from": form.from_,
                "to": form.to,
            },
            limit=PAGE_SIZE,
            cursor=cursor,
            actor=actor,
            via="page",
            now=now,
        )
    except FilterError as exc:
        # The "to before from" check names "to"; any cursor problem is shown on the form.
        form.errors[exc.field] = exc.message
        return None


def _rows(interactions: list[Interaction], solution: Solution) -> list[InteractionOut]:
    return interactions_out(interactions, solution.country)


def _context(solution: Solution, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Archive - Search",
        "solution": solution,
        "channels": list(Channel),
        "directions": list(Direction),
        "confirm_anonymize": CONFIRM_ANONYMIZE,
        **extra,
    }


@router.get("/archive/search")
def search_page(request: Request, principal: SearchViewer, solution: PageSolution, session: SessionDep) -> Response:
    context = _context(solution, form=SearchForm(), page=None, rows=[], choices=filter_choices(session, solution.id))
    return render(request, "archive/search.html", context, principal=principal)


@router.post("/archive/search", dependencies=[CsrfChecked])
def search_results(
    request: Request,
    principal: SearchViewer,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    phone: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    from_: Annotated[str, Form(alias="from")] = "",
    to: Annotated[str, Form()] = "",
    queue: Annotated[str, Form()] = "",
    agent: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
    direction: Annotated[str, Form()] = "",
    cursor: Annotated[str, Form()] = "",
) -> Response:
    """Run the search. htmx gets the search area (form and results); a plain POST the page."""
    form = SearchForm(phone, email, from_, to, queue, agent, channel, direction)
    typed = {"phone": phone, "email": email, "from": from_, "to": to, "queue": queue, "agent": agent}
    form.errors = too_long(SEARCH_LIMITS, typed | {"channel": channel, "direction": direction, "cursor": cursor})
    page = None
    if not form.errors:
        page = _run_search(session, solution, form, cursor, actor=principal, now=services.clock())
    if page is not None:
        session.commit()
    context = _context(
        solution,
        form=form,
        page=page,
        rows=_rows(page.items, solution) if page else [],
        # The page's own ids only: one look-up for the marks, whatever the archive holds.
        held=held_among(session, solution.id, [i.id for i in page.items]) if page else set(),
        searched=True,
        paged=bool(cursor),
        choices=filter_choices(session, solution.id),
    )
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT if form.errors else status.HTTP_200_OK
    template = "archive/_search_area.html" if is_htmx(request) else "archive/search.html"
    return render(request, template, context, principal=principal, status_code=status_code)


def _interaction(session: Session, solution: Solution, interaction_id: str) -> Interaction:
    interaction = content_service.get_interaction(session, solution.id, interaction_id)
    if interaction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Interaction not found")
    return interaction


def _details(
    request: Request,
    session: Session,
    solution: Solution,
    principal: Principal,
    interaction: Interaction,
    *,
    flash: str | None = None,
    error: str | None = None,
) -> Response:
    """The details panel, with the row refreshed out of band (its marks may have changed).

    ``flash`` says what was done; ``error`` that nothing was, shown as an error (role="alert").
    """
    content = content_service.read_content(session, interaction)
    context = {
        "solution": solution,
        "item": interaction_out(interaction, solution.country),
        "content": content,
        # An email's HTML, sanitised at ingestion, as the document of a sandboxed frame (CONTRACT §15).
        "email_frame": frame_document(content.html) if isinstance(content, EmailContentOut) and content.html else None,
        # A set of ids, as for the rows: the refreshed row reads it too.
        "held": held_among(session, solution.id, [interaction.id]),
        "held_note": HELD_NOTE,
        "confirm_delete_recording": CONFIRM_DELETE_RECORDING,
        "confirm_delete_content": {
            Channel.CHAT: CONFIRM_DELETE_CHAT,
            Channel.CALL: CONFIRM_DELETE_TRANSCRIPT,
        }.get(interaction.channel, CONFIRM_DELETE_EMAIL),
        "refresh_row": flash is not None or error is not None,
    }
    trigger = {"flash-error": error} if error else {"flash": flash} if flash else None
    headers = {"HX-Trigger": json.dumps(trigger)} if trigger else None
    if not is_htmx(request):
        # A direct link to one request: the search page with its details open.
        return render(
            request,
            "archive/search.html",
            _context(solution, form=SearchForm(), page=None, rows=[], details=context),
            principal=principal,
        )
    return render(request, "archive/_details.html", context, principal=principal, headers=headers)


@router.get("/archive/interactions/{interaction_id}")
def interaction_details(
    interaction_id: str,
    request: Request,
    principal: ContentViewer,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    interaction = _interaction(session, solution, interaction_id)
    # The panel shows the chat log or email when there is one: that is reading content.
    action = AuditAction.CONTENT_READ if interaction.has_content else AuditAction.INTERACTION_VIEWED
    record_for(session, principal, action, interaction.id, {"via": "page"}, at=services.clock())
    session.commit()
    return _details(request, session, solution, principal, interaction)


@router.get("/archive/recordings/{interaction_id}")
def play_recording(
    interaction_id: str,
    request: Request,
    principal: ContentViewer,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """The recording for the page's ``<audio>`` player, with Range so it can seek."""
    interaction = _interaction(session, solution, interaction_id)
    response = recording_response(request, session, session.get(Recording, interaction.id), services.blobs)
    if starts_playback(request, response):
        record_for(session, principal, AuditAction.RECORDING_PLAYED, interaction.id, at=services.clock())
        session.commit()
    return response


@router.get("/archive/interactions/{interaction_id}/attachments/{index}")
def download_attachment(
    interaction_id: str,
    index: Annotated[int, Path(ge=0, le=100_000)],
    principal: ContentViewer,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """One attachment of an email, as a download (never shown on our origin)."""
    interaction = _interaction(session, solution, interaction_id)
    response = attachment_response(attachment_service.get_attachment(session, interaction.id, index), services.blobs)
    record_for(
        session,
        principal,
        AuditAction.CONTENT_READ,
        interaction.id,
        {"via": "page", "attachment": index},
        at=services.clock(),
    )
    session.commit()
    return response


def _refusal(session: Session, solution: Solution, refused: HeldError, chosen: list[str] | None = None) -> str:
    """Why nothing was deleted: the holds that keep the held ones, by their reasons (not ids).

    ``chosen`` is what was asked for (one interaction when not given)."""
    holds = holds_covering(session, solution.id, refused.held)
    return refusal_in_words(holds, len(refused.held), len(set(chosen)) if chosen else 1)


@router.post("/archive/interactions/{interaction_id}/recording/delete", dependencies=[CsrfChecked])
def delete_recording(
    interaction_id: str,
    request: Request,
    principal: ContentRemover,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    interaction = _interaction(session, solution, interaction_id)
    try:
        actions.delete_recording(session, solution, interaction.id, actor=principal, via="page", now=services.clock())
        message = "The recording was deleted."
    except HeldError as exc:
        return _details(request, session, solution, principal, interaction, error=_refusal(session, solution, exc))
    except actions.NoRecordingError:
        message = "This request had no recording any more."
    services.commit_and_delete_blobs(session)
    session.refresh(interaction)
    return _details(request, session, solution, principal, interaction, flash=message)


@router.post("/archive/interactions/{interaction_id}/content/delete", dependencies=[CsrfChecked])
def delete_content(
    interaction_id: str,
    request: Request,
    principal: ContentRemover,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    interaction = _interaction(session, solution, interaction_id)
    what = "chat log" if interaction.channel is Channel.CHAT else "email content"
    try:
        actions.delete_content(session, solution, interaction.id, actor=principal, via="page", now=services.clock())
        message = f"The {what} was deleted."
    except HeldError as exc:
        return _details(request, session, solution, principal, interaction, error=_refusal(session, solution, exc))
    except actions.NoContentError:
        message = f"This request had no {what} any more."
    services.commit_erasure(session)
    session.refresh(interaction)
    return _details(request, session, solution, principal, interaction, flash=message)


@router.post("/archive/anonymize-and-delete", dependencies=[CsrfChecked])
def anonymize_and_delete(
    request: Request,
    principal: ContentRemover,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    ids: Annotated[list[str], Form(max_length=erasure.MAX_IDS)] = [],  # noqa: B006 - FastAPI copies defaults
    raw_data: Annotated[bool, Form()] = False,
) -> Response:
    """*Anonymize and delete* the selected rows; answers with those rows, now *Anonymized*."""
    if not ids:
        return Response(
            status_code=status.HTTP_204_NO_CONTENT,
            headers={"HX-Trigger": json.dumps({"flash": "Select one or more requests first."})},
        )
    try:
        result = actions.anonymize_and_delete(
            session,
            solution,
            ids,
            raw_data=raw_data,
            keyring=services.keyring,
            actor=principal,
            via="page",
            now=services.clock(),
        )
    except HeldError as exc:
        # An error, not a success: nothing was changed, and the holds are named by their reasons.
        message = _refusal(session, solution, exc, chosen=ids)
        return Response(
            status_code=status.HTTP_204_NO_CONTENT, headers={"HX-Trigger": json.dumps({"flash-error": message})}
        )
    services.commit_erasure(session)
    changed = [i for i in (content_service.get_interaction(session, solution.id, iid) for iid in ids) if i]
    message = (
        f"Anonymized {result.anonymized} request(s): {result.recordings_deleted} recording(s) and "
        f"{result.content_deleted} chat log(s)/email(s) deleted"
        + (f", {result.raw_data_rows} raw data row(s) anonymized." if raw_data else ".")
    )
    trigger = {"flash": message, "archive-changed": {"ids": [i.id for i in changed]}}
    return render(
        request,
        "archive/_rows_oob.html",
        {"solution": solution, "rows": _rows(changed, solution)},
        principal=principal,
        headers={"HX-Trigger": json.dumps(trigger)},
    )
