"""The *Legal holds* page (CONTRACT §10): place a hold on interactions, a person or a queue; release it.

What a hold covers and what it protects live in ``archivist.retention.holds``; this module adds
the form, the list and the page login. Placing and releasing are the actions of
``archivist.retention.services``, which the API calls too: their audit entries hold masked forms
and counts, never the reason's text or the person's identifiers.
Identifiers travel only in POST bodies, never in a URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.roles import Permission
from archivist.accounts.services import Principal
from archivist.archive.search import FilterError, filter_choices
from archivist.retention import holds as hold_service
from archivist.retention import rules as rule_service
from archivist.retention import services as actions
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import CsrfChecked, PageSolution, is_htmx, render, require_page
from archivist.web.pages.dates import local_day_start, local_moment
from archivist.web.pages.forms import too_long
from archivist.web.pages.retention_rules import WHAT_LABELS

router = APIRouter(include_in_schema=False)

HoldManagerPage = Annotated[Principal, Depends(require_page(Permission.MANAGE_HOLDS))]

PAGE = "legal_holds.html"
AREA = "_legal_holds_area.html"

# What each field may hold; longer is refused with the form shown again (never as JSON).
HOLD_LIMITS = {
    "reason": hold_service.MAX_REASON,
    "until": 20,
    # An id is 32 characters; room for a separator after each.
    "interaction_ids": hold_service.MAX_HOLD_IDS * 34,
    "phone": 64,
    "email": 320,
    "queue": 200,
    "from": 40,
    "to": 40,
}
# Ids pasted one per line, or separated by commas, semicolons or spaces.
_ID_SEPARATORS = re.compile(r"[\s,;]+")

UNKNOWN_IDS = "Some of these ids are not interactions of this archive: check them. Nothing was held."
CONFIRM_RELEASE = (
    "This hold will be released. From the coming night, what it kept is again deleted by the retention "
    "rules and anonymized by waiting rows. This cannot be undone (a new hold can be placed)."
)

# Notices after a redirect (post/redirect/get), by code, so no text travels in the URL.
NOTICES = {
    "placed": "The hold was placed.",
    "released": "The hold was released. What it kept is processed from the coming night.",
    "unchanged": "That hold was released already.",
}


@dataclass
class HoldForm:
    """What the officer typed, kept as typed so the form can be shown again with its errors."""

    reason: str = ""
    until: str = ""
    interaction_ids: str = ""
    phone: str = ""
    email: str = ""
    queue: str = ""
    from_: str = ""
    to: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def typed(self) -> dict[str, str]:
        return {
            "reason": self.reason,
            "until": self.until,
            "interaction_ids": self.interaction_ids,
            "phone": self.phone,
            "email": self.email,
            "queue": self.queue,
            "from": self.from_,
            "to": self.to,
        }


@dataclass(frozen=True)
class ParsedHold:
    criteria: hold_service.HoldCriteria
    reason: str
    until: date | None


def _posted(
    reason: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
    interaction_ids: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    queue: Annotated[str, Form()] = "",
    from_: Annotated[str, Form(alias="from")] = "",
    to: Annotated[str, Form()] = "",
) -> HoldForm:
    return HoldForm(reason, until, interaction_ids, phone, email, queue, from_, to)


PostedHold = Annotated[HoldForm, Depends(_posted)]


def _sentence(message: str) -> str:
    return message if message.endswith(".") else message + "."


def _parsed(solution: Solution, form: HoldForm) -> ParsedHold | None:
    """The hold the form describes, or None with a message per field in ``form.errors``."""
    form.errors.update(too_long(HOLD_LIMITS, form.typed()))
    if form.errors:
        return None
    reason = until = from_at = to_at = None
    try:
        reason = hold_service.parse_reason(form.reason)
    except hold_service.HoldError as exc:
        form.errors[exc.field] = _sentence(str(exc))
    try:
        start = local_day_start("until", form.until, solution.timezone)
        until = start.date() if start else None
    except FilterError as exc:
        form.errors[exc.field] = _sentence(exc.message)
    try:
        from_at = local_moment("from", form.from_, solution.timezone)
    except FilterError as exc:
        form.errors[exc.field] = _sentence(exc.message)
    try:
        # A date in To includes that whole day, as on the other pages.
        to_at = local_moment("to", form.to, solution.timezone, end_of_day=True)
    except FilterError as exc:
        form.errors[exc.field] = _sentence(exc.message)
    if "from" in form.errors or "to" in form.errors:
        return None
    try:
        criteria = hold_service.parse_criteria(
            solution,
            interaction_ids=[i for i in _ID_SEPARATORS.split(form.interaction_ids) if i],
            phone=form.phone,
            email=form.email,
            queue=form.queue,
            from_at=from_at,
            to_at=to_at,
        )
    except hold_service.HoldError as exc:
        form.errors[exc.field] = _sentence(str(exc))
        return None
    if reason is None or form.errors:
        return None
    return ParsedHold(criteria, reason, until)


def _context(session: Session, solution: Solution, form: HoldForm, now: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Legal holds",
        "solution": solution,
        "form": form,
        "holds": hold_service.holds_of(session, solution.id),
        "today": hold_service.local_today(now, solution.timezone),
        "queues": filter_choices(session, solution.id).queues,
        "confirm_release": CONFIRM_RELEASE,
        "notice": None,
        # The retention rules, read-only below the holds (privacy officers cannot open Settings).
        "rules": rule_service.rules_of(session, solution.id),
        "what_labels": WHAT_LABELS,
        **extra,
    }


def _answer(
    request: Request,
    session: Session,
    solution: Solution,
    principal: Principal,
    form: HoldForm,
    now: datetime,
    *,
    status_code: int = status.HTTP_200_OK,
    flash: str | None = None,
) -> Response:
    context = _context(session, solution, form, now)
    headers = {"HX-Trigger": json.dumps({"flash": flash})} if flash else None
    template = AREA if is_htmx(request) else PAGE
    return render(request, template, context, principal=principal, status_code=status_code, headers=headers)


@router.get("/legal-holds")
def holds_page(
    request: Request, principal: HoldManagerPage, solution: PageSolution, session: SessionDep, services: ServicesDep
) -> Response:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    context = _context(session, solution, HoldForm(), services.clock(), notice=notice)
    return render(request, PAGE, context, principal=principal)


@router.post("/legal-holds", dependencies=[CsrfChecked])
def place_hold(
    request: Request,
    principal: HoldManagerPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    form: PostedHold,
) -> Response:
    """Place a hold on interaction ids, a person (phone and/or email) or a queue, within from/to if given."""
    now = services.clock()
    parsed = _parsed(solution, form)
    if parsed is None:
        return _answer(request, session, solution, principal, form, now, status_code=422)
    try:
        hold = actions.place_hold(
            session,
            solution,
            parsed.criteria,
            reason=parsed.reason,
            until=parsed.until,
            actor=principal,
            via="page",
            now=now,
        )
    except hold_service.UnknownIdsError:
        form.errors["interaction_ids"] = UNKNOWN_IDS
        return _answer(request, session, solution, principal, form, now, status_code=422)
    session.commit()
    if not is_htmx(request):
        return RedirectResponse("/legal-holds?notice=placed", status_code=status.HTTP_303_SEE_OTHER)
    covered = hold.interactions
    flash = f"The hold was placed: it covers {covered} interaction{'' if covered == 1 else 's'} now."
    return _answer(request, session, solution, principal, HoldForm(), now, flash=flash)


@router.post("/legal-holds/{hold_id}/release", dependencies=[CsrfChecked])
def release_hold(
    hold_id: str,
    request: Request,
    principal: HoldManagerPage,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """Release a hold by hand (releasing a released one changes nothing)."""
    now = services.clock()
    released = actions.release_hold(session, solution, hold_id, actor=principal, via="page", now=now)
    session.commit()
    notice = "released" if released else "unchanged"
    if not is_htmx(request):
        return RedirectResponse(f"/legal-holds?notice={notice}", status_code=status.HTTP_303_SEE_OTHER)
    return _answer(request, session, solution, principal, HoldForm(), now, flash=NOTICES[notice])
