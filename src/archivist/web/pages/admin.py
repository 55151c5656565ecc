"""The admin pages: *Users* (accounts, roles, passwords, API tokens) and *Settings*.

Only the caller's solution is ever read or changed: the actions (``solutions/services.py``) look
users and tokens up in the caller's solution, so another solution's user answers 404 like a
missing one. The handlers here read the form, call the action, commit and render.
Secrets (a generated password, a new token) are shown once, in the response to the POST
that made them, and are never stored or logged in clear.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from archivist.accounts import services as accounts
from archivist.accounts.models import Role, Solution, User
from archivist.accounts.passwords import generate_password
from archivist.accounts.roles import Permission
from archivist.accounts.services import AccountError, Principal, UserDisabledError
from archivist.accounts.usernames import MAX_USERNAME_LENGTH
from archivist.solutions import services as solutions
from archivist.solutions.services import MAX_ACCESS_TEXT, SettingsChange, SettingsInvalidError, change_settings
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import CsrfChecked, PageSolution, render, require_page
from archivist.web.pages.forms import too_long
from archivist.web.pages.retention_rules import rules_section
from archivist.web.pages.settings import settings_context

router = APIRouter(include_in_schema=False)

Admin = Annotated[Principal, Depends(require_page(Permission.ADMINISTER))]

# Notices after a redirect (post/redirect/get), by code, so no text travels in the URL.
NOTICES = {
    "role": "The role was changed.",
    "disabled": "The user was disabled: their sessions and API tokens ended at once.",
    "enabled": "The user was enabled again. Their old API tokens stay revoked.",
    "revoked": "The token was revoked: it no longer works.",
    "settings": "The settings were saved.",
    "rule_added": "The retention rule was saved. The nightly run applies it from the coming night.",
    "rule_deleted": "The retention rule was deleted.",
}

CONFIRM_DISABLE = (
    "This user's sessions end and every API token of theirs is revoked at once; integrations using "
    "those tokens stop working. You can enable the user again, but the tokens stay revoked."
)

CONFIRM_RESET = (
    "A new password is generated and shown once. The user's current password stops working at once "
    "and all their sessions end; give them the new one."
)
CONFIRM_REVOKE = (
    "This API token stops working at once: whatever integration uses it will be refused. "
    "This cannot be undone; a new token can be created instead."
)
RESET_NOTICE = "The password was reset and the user's sessions ended. Give them the new password below."

ROLE_LABELS = {
    Role.SUPERVISOR: "Supervisor: search, play, read, raw data",
    Role.PRIVACY_OFFICER: "Privacy officer: also delete, anonymize, audit log",
    Role.ADMIN: "Admin: everything, including users and settings",
    Role.INGEST: "Ingest: API only, adds interactions",
}


def _sentence(message: str) -> str:
    # Not str.capitalize(): that would lower-case "IANA" and "Europe/Oslo".
    return message[:1].upper() + message[1:] + "."


def _role_of(value: str) -> Role:
    """The role a form names; AccountError, shown on the form, for anything else."""
    try:
        return Role(value)
    except ValueError:
        raise AccountError("choose one of the roles", field="role") from None


# ---------------------------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------------------------


def _users_page(
    request: Request, session: Session, solution: Solution, principal: Principal, status_code: int = 200, **extra: Any
) -> Response:
    context = {
        "title": "Users",
        "solution": solution,
        "users": accounts.list_users(session, solution.id),
        "roles": list(Role),
        "role_labels": ROLE_LABELS,
        "form": {"username": "", "role": Role.SUPERVISOR.value},
        "error": None,
        "created": None,
        **extra,
    }
    return render(request, "admin/users.html", context, principal=principal, status_code=status_code)


@router.get("/users")
def users_page(request: Request, principal: Admin, solution: PageSolution, session: SessionDep) -> Response:
    return _users_page(request, session, solution, principal)


@router.post("/users", dependencies=[CsrfChecked])
def create_user(
    request: Request,
    principal: Admin,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    username: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    """Create a user with a generated password, shown once on the answer."""
    # Over-long input is not echoed back into the form (the rule's message says what is allowed).
    form = {"username": username if len(username) <= MAX_USERNAME_LENGTH else "", "role": role}
    password = generate_password()
    try:
        user = solutions.create_user(
            session,
            solution,
            username=username,
            role=_role_of(role),
            password=password,
            actor=principal,
            via="page",
            now=services.clock(),
        )
    except AccountError as exc:
        return _users_page(request, session, solution, principal, 422, form=form, error=_sentence(str(exc)))
    session.commit()
    return _users_page(request, session, solution, principal, created={"username": user.username, "password": password})


def _user_page(
    request: Request,
    session: Session,
    solution: Solution,
    principal: Principal,
    user: User,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    context = {
        "title": f"User {user.username}",
        "solution": solution,
        "user": user,
        "tokens": accounts.list_tokens(session, user),
        "roles": list(Role),
        "role_labels": ROLE_LABELS,
        "is_self": user.id == principal.user_id,
        "confirm_disable": CONFIRM_DISABLE,
        "confirm_reset_password": CONFIRM_RESET,
        "confirm_revoke_token": CONFIRM_REVOKE,
        "notice": notice,
        "error": None,
        "new_password": None,
        "new_token": None,
        **extra,
    }
    return render(request, "admin/user.html", context, principal=principal, status_code=status_code)


@router.get("/users/{user_id}")
def user_page(
    user_id: str, request: Request, principal: Admin, solution: PageSolution, session: SessionDep
) -> Response:
    return _user_page(request, session, solution, principal, accounts.get_user(session, solution.id, user_id))


def _back(user_id: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/users/{user_id}?notice={notice}", status_code=303)


@router.post("/users/{user_id}/role", dependencies=[CsrfChecked])
def change_role(
    user_id: str,
    request: Request,
    principal: Admin,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    role: Annotated[str, Form()] = "",
) -> Response:
    user = accounts.get_user(session, solution.id, user_id)
    try:
        changed = solutions.change_role(
            session, user.id, _role_of(role), actor=principal, via="page", now=services.clock()
        )
    except AccountError as exc:
        return _user_page(request, session, solution, principal, user, 422, error=_sentence(str(exc)))
    if changed:
        session.commit()
    return _back(user.id, "role")


@router.post("/users/{user_id}/disable", dependencies=[CsrfChecked])
def disable_user(
    user_id: str, request: Request, principal: Admin, solution: PageSolution, session: SessionDep, services: ServicesDep
) -> Response:
    """Disable at once: every session and every API token of the user ends now."""
    user = accounts.get_user(session, solution.id, user_id)
    try:
        solutions.disable_user(session, user.id, actor=principal, via="page", now=services.clock())
    except AccountError as exc:
        return _user_page(request, session, solution, principal, user, 422, error=_sentence(str(exc)))
    session.commit()
    return _back(user.id, "disabled")


@router.post("/users/{user_id}/enable", dependencies=[CsrfChecked])
def enable_user(
    user_id: str, principal: Admin, solution: PageSolution, session: SessionDep, services: ServicesDep
) -> Response:
    if solutions.enable_user(session, user_id, actor=principal, via="page", now=services.clock()):
        session.commit()
    return _back(user_id, "enabled")


@router.post("/users/{user_id}/password", dependencies=[CsrfChecked])
def reset_password(
    user_id: str, request: Request, principal: Admin, solution: PageSolution, session: SessionDep, services: ServicesDep
) -> Response:
    """Set a new generated password (shown once), end the user's sessions and lift their login throttle."""
    password = generate_password()
    solutions.set_password(
        session,
        user_id,
        password,
        secret=services.settings.resolved_secret_key,
        actor=principal,
        via="page",
        now=services.clock(),
    )
    session.commit()
    user = accounts.get_user(session, solution.id, user_id)
    if user.id == principal.user_id:
        # Their own session just ended with the others: log in again with the new password.
        return render(
            request,
            "error.html",
            {"title": "Password changed", "message": f"Your new password is {password} — log in again with it."},
        )
    return _user_page(request, session, solution, principal, user, new_password=password, notice=RESET_NOTICE)


@router.post("/users/{user_id}/tokens", dependencies=[CsrfChecked])
def create_token(
    user_id: str,
    request: Request,
    principal: Admin,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    label: Annotated[str, Form()] = "",
) -> Response:
    """A new API token for the user, shown once on the answer."""
    user = accounts.get_user(session, solution.id, user_id)
    try:
        token = solutions.create_token(session, user.id, label, actor=principal, via="page", now=services.clock())
    except UserDisabledError as exc:
        return _user_page(request, session, solution, principal, user, 409, error=_sentence(str(exc)))
    except AccountError as exc:
        return _user_page(request, session, solution, principal, user, 422, error=_sentence(str(exc)))
    session.commit()
    return _user_page(request, session, solution, principal, user, new_token=token)


@router.post("/users/{user_id}/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
def revoke_token(
    user_id: str, token_id: str, principal: Admin, solution: PageSolution, session: SessionDep, services: ServicesDep
) -> Response:
    if solutions.revoke_token(session, token_id, user_id=user_id, actor=principal, via="page", now=services.clock()):
        session.commit()
    return _back(user_id, "revoked")


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


@router.get("/settings")
def settings_page(request: Request, principal: Admin, solution: PageSolution, session: SessionDep) -> Response:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    context = settings_context(solution, rules_section(session, solution), notice=notice)
    return render(request, "admin/settings.html", context, principal=principal)


def _change_of(form: dict[str, str]) -> tuple[SettingsChange, dict[str, str]]:
    """The form as the settings action takes it; the fields that are not even numbers."""
    errors: dict[str, str] = {}
    share: float | None = None
    days: int | None = None
    try:
        share = float(form["preview_warn_percent"]) / 100
    except ValueError:
        errors["preview_warn_share"] = "Enter a number."
    try:
        days = int(form["audit_retention_days"])
    except ValueError:
        errors["audit_retention_days"] = "Enter a number."
    change = SettingsChange(
        country=form["country"],
        timezone=form["timezone"],
        nightly_at=form["nightly_at"],
        replacement=form["replacement"],
        preview_warn_share=share,
        audit_retention_days=days,
        own_email_domains=form["own_email_domains"],
        access_purposes=form["access_purposes"],
        access_recipients=form["access_recipients"],
        access_source=form["access_source"],
    )
    return change, errors


# Bounds on what is read at all; the validators then say what form each value must have.
SETTINGS_LIMITS = {
    "country": 16,
    "timezone": 64,
    "nightly_at": 16,
    "replacement": 100,
    "preview_warn_percent": 16,
    "audit_retention_days": 16,
    "own_email_domains": 30_000,
    "access_purposes": MAX_ACCESS_TEXT,
    "access_recipients": MAX_ACCESS_TEXT,
    "access_source": MAX_ACCESS_TEXT,
}


@router.post("/settings", dependencies=[CsrfChecked])
def save_settings(
    request: Request,
    principal: Admin,
    solution: PageSolution,
    session: SessionDep,
    services: ServicesDep,
    country: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "",
    nightly_at: Annotated[str, Form()] = "",
    replacement: Annotated[str, Form()] = "",
    preview_warn_percent: Annotated[str, Form()] = "",
    audit_retention_days: Annotated[str, Form()] = "",
    own_email_domains: Annotated[str, Form()] = "",
    access_purposes: Annotated[str, Form()] = "",
    access_recipients: Annotated[str, Form()] = "",
    access_source: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "country": country,
        "timezone": timezone,
        "nightly_at": nightly_at,
        "replacement": replacement,
        "preview_warn_percent": preview_warn_percent,
        "audit_retention_days": audit_retention_days,
        "own_email_domains": own_email_domains,
        "access_purposes": access_purposes,
        "access_recipients": access_recipients,
        "access_source": access_source,
    }
    long = too_long(SETTINGS_LIMITS, form)
    change, errors = _change_of(form)
    if not errors and not long:
        try:
            change_settings(session, solution, change, actor=principal, via="page", now=services.clock())
        except SettingsInvalidError as exc:
            errors = {name: _sentence(message) for name, message in exc.errors.items()}
    # The page shows the share's error under its percent field (the template's error_key).
    if "preview_warn_percent" in long:
        long["preview_warn_share"] = long.pop("preview_warn_percent")
    errors |= long
    if errors:
        for name in long:  # not echoed back: an over-long value would only be cut off in the field
            form[name if name != "preview_warn_share" else "preview_warn_percent"] = ""
        context = settings_context(solution, rules_section(session, solution), form=form, errors=errors)
        return render(request, "admin/settings.html", context, principal=principal, status_code=422)
    session.commit()
    return RedirectResponse("/settings?notice=settings", status_code=303)
