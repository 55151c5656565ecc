"""The *Retention rules* section of *Settings*: list, preview, save and delete rules (CONTRACT §10).

What a rule is and what it deletes live in ``archivist.retention.rules``; this module adds the
form, the preview before *Save* and the page login. Saving and deleting are the actions of
``archivist.retention.services``, which the API calls too (with their audit entries).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.roles import Permission
from archivist.accounts.services import Principal
from archivist.archive.models import Channel
from archivist.archive.search import filter_choices
from archivist.retention import rules as rule_service
from archivist.retention import services as actions
from archivist.retention.models import RetentionWhat
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import CsrfChecked, PageSolution, is_htmx, render, require_page
from archivist.web.pages.forms import too_long
from archivist.web.pages.settings import settings_context

router = APIRouter(include_in_schema=False)

Admin = Annotated[Principal, Depends(require_page(Permission.ADMINISTER))]

SECTION = "admin/_retention_rules.html"
PAGE = "admin/settings.html"

# What each field of the form may hold (measured here, so a page re-renders instead of answering JSON).
RULE_LIMITS = {"channel": 10, "queue": 200, "what": 20, "keep_days": 10}

WHAT_LABELS = {
    RetentionWhat.RECORDING: "Recordings",
    RetentionWhat.CONTENT: "Chat logs and email bodies",
    RetentionWhat.INTERACTION: "Whole interactions (raw data rows stay, customer replaced)",
    RetentionWhat.RAW_DATA: "Raw data rows",
}

KEEP_DAYS_MESSAGE = f"Enter a whole number of days, from 1 to {rule_service.MAX_KEEP_DAYS}"
DUPLICATE_MESSAGE = "A rule for this channel, queue and what exists already: delete it first."

CONFIRM_DELETE_RULE = (
    "This retention rule will be deleted. From the next night on, what it would have deleted is kept "
    "(unless another rule covers it)."
)


@dataclass
class RuleForm:
    """What the admin typed, kept as typed so the form can be shown again with its errors."""

    channel: str = ""
    queue: str = ""
    what: str = ""
    keep_days: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ShownRulePreview:
    """A previewed rule (its validated values, which *Save* carries) and what it would delete."""

    draft: rule_service.DraftRule
    counts: dict[str, int]

    def sentence(self) -> str:
        """``Tonight this rule would delete 12 recordings.`` (a whole interaction with what goes with it)."""
        n = self.counts
        deletes = {
            RetentionWhat.RECORDING: _count(n["recording"], "recording"),
            RetentionWhat.CONTENT: _count(n["content"], "chat log", "chat logs") + " and emails",
            RetentionWhat.INTERACTION: (
                f"{_count(n['interaction'], 'interaction')} (with {_count(n['recording'], 'recording')} "
                f"and {_count(n['content'], 'chat log', 'chat logs')} and emails)"
            ),
            RetentionWhat.RAW_DATA: _count(n["raw_data"], "raw data row"),
        }[self.draft.what]
        return f"Tonight this rule would delete {deletes}."


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def rules_section(
    session: Session, solution: Solution, *, form: RuleForm | None = None, preview: ShownRulePreview | None = None
) -> dict[str, Any]:
    """The context of the section, for the *Settings* page and for the section alone."""
    return {
        "solution": solution,
        "rules": rule_service.rules_of(session, solution.id),
        "rule_form": form or RuleForm(),
        "rule_preview": preview,
        "rule_channels": list(Channel),
        "rule_whats": list(RetentionWhat),
        "what_labels": WHAT_LABELS,
        "rule_queues": filter_choices(session, solution.id).queues,
        "confirm_delete_rule": CONFIRM_DELETE_RULE,
    }


def _parsed(form: RuleForm) -> rule_service.DraftRule | None:
    """The rule the form describes, or None with ``form.errors`` filled in."""
    form.errors.update(too_long(RULE_LIMITS, vars(form)))
    if form.errors:
        return None
    try:
        keep_days = int(form.keep_days.strip())
    except ValueError:
        form.errors["keep_days"] = KEEP_DAYS_MESSAGE
        return None
    try:
        return rule_service.parse_rule(form.channel, form.queue, form.what, keep_days)
    except rule_service.RuleError as exc:
        form.errors[exc.field] = f"{exc}."
        return None


def _section(
    request: Request,
    session: Session,
    solution: Solution,
    principal: Principal,
    *,
    form: RuleForm | None = None,
    preview: ShownRulePreview | None = None,
    status_code: int = status.HTTP_200_OK,
    flash: str | None = None,
) -> Response:
    """The section for htmx, or the whole *Settings* page for a plain form post."""
    rules = rules_section(session, solution, form=form, preview=preview)
    headers = {"HX-Trigger": json.dumps({"flash": flash})} if flash else None
    if is_htmx(request):
        return render(request, SECTION, rules, principal=principal, status_code=status_code, headers=headers)
    context = settings_context(solution, rules)
    return render(request, PAGE, context, principal=principal, status_code=status_code)


def _posted(
    channel: Annotated[str, Form()] = "",
    queue: Annotated[str, Form()] = "",
    what: Annotated[str, Form()] = "",
    keep_days: Annotated[str, Form()] = "",
) -> RuleForm:
    return RuleForm(channel, queue, what, keep_days)


PostedRule = Annotated[RuleForm, Depends(_posted)]


def _exists(session: Session, solution: Solution, draft: rule_service.DraftRule) -> bool:
    return any(rule_service.same_target(rule, draft) for rule in rule_service.rules_of(session, solution.id))


@router.post("/settings/retention-rules/preview", dependencies=[CsrfChecked])
def preview_rule(
    request: Request,
    principal: Admin,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    form: PostedRule,
) -> Response:
    """What the rule would delete if the nightly run were now; *Save* comes with the answer."""
    draft = _parsed(form)
    if draft is not None and _exists(session, solution, draft):
        form.errors["rule"] = DUPLICATE_MESSAGE
    if draft is None or form.errors:
        return _section(request, session, solution, principal, form=form, status_code=422)
    counts = rule_service.preview_rule(session, solution, draft, services.clock())
    preview = ShownRulePreview(draft, counts)
    return _section(request, session, solution, principal, form=form, preview=preview)


@router.post("/settings/retention-rules", dependencies=[CsrfChecked])
def save_rule(
    request: Request,
    principal: Admin,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    form: PostedRule,
) -> Response:
    """*Save* a previewed rule: its values are validated again, exactly as the preview read them."""
    draft = _parsed(form)
    if draft is None:
        return _section(request, session, solution, principal, form=form, status_code=422)
    try:
        actions.create_rule(session, solution, draft, actor=principal, via="page", now=services.clock())
    except rule_service.DuplicateRuleError:
        form.errors["rule"] = DUPLICATE_MESSAGE
        return _section(request, session, solution, principal, form=form, status_code=422)
    session.commit()
    if not is_htmx(request):
        return RedirectResponse("/settings?notice=rule_added", status_code=status.HTTP_303_SEE_OTHER)
    flash = "The retention rule was saved. The nightly run applies it from the coming night."
    return _section(request, session, solution, principal, flash=flash)


@router.post("/settings/retention-rules/{rule_id}/delete", dependencies=[CsrfChecked])
def delete_rule(
    rule_id: str,
    request: Request,
    principal: Admin,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    actions.delete_rule(session, solution, rule_id, actor=principal, via="page", now=services.clock())
    session.commit()
    if not is_htmx(request):
        return RedirectResponse("/settings?notice=rule_deleted", status_code=status.HTTP_303_SEE_OTHER)
    return _section(request, session, solution, principal, flash="The retention rule was deleted.")
