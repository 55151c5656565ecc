"""The page login (username and password, a server-side session) and logout.

The pages depend only on ``page_principal`` in ``archivist.web.pages``, not on anything here.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from archivist.accounts.sessions import LoginOutcome, authenticate, end_session, start_session
from archivist.audit.events import AuditAction, record
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import (
    AUTH_COOKIE,
    CSRF_COOKIE,
    CsrfChecked,
    LoginCsrfChecked,
    PagePrincipal,
    page_login,
    page_principal,
    render,
    set_auth_cookie,
)

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

HOME = "/archive/search"

BAD_CREDENTIALS = "That username and password do not match an active account."
THROTTLED = "Too many failed logins. Wait a quarter of an hour and try again, or ask an administrator."


def _safe_next(target: str | None) -> str:
    """Only a local path: an open redirect after login would be a phishing aid."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return HOME


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=303)


@router.get("/login")
def login_form(request: Request, session: SessionDep, services: ServicesDep, next: str | None = None) -> Response:
    if page_principal(request, session, services.clock()) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None, "username": ""})


@router.post("/login", dependencies=[LoginCsrfChecked])
def login(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = HOME,
) -> Response:
    now = services.clock()
    address = client_address(request)
    result = authenticate(session, username, password, address, now, services.settings.resolved_secret_key)
    user = result.user
    if result.outcome is not LoginOutcome.OK or user is None:
        throttled = result.outcome is LoginOutcome.THROTTLED
        if user is not None:
            action = AuditAction.LOGIN_THROTTLED if throttled else AuditAction.LOGIN_FAILED
            record(session, user.solution_id, user.username, action, user.id, {"address": address}, at=now)
        session.commit()
        # Never the typed username: people paste passwords into that field.
        log.info("login %s from %s", "throttled" if throttled else "failed", address)
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": THROTTLED if throttled else BAD_CREDENTIALS, "username": username},
            status_code=429 if throttled else 401,
        )
    # Whatever session the browser brought ends here; the new one has a new id (fixation).
    if page_principal(request, session, now) is not None and (previous := page_login(request)) is not None:
        end_session(session, previous.session_id, now)
    token = start_session(session, user, now)
    record(session, user.solution_id, user.username, AuditAction.LOGIN_SUCCEEDED, user.id, {"address": address}, at=now)
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_auth_cookie(response, request, token)
    # The pre-login token has done its job; the session carries its own from now on.
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, principal: PagePrincipal, session: SessionDep, services: ServicesDep) -> Response:
    now = services.clock()
    login = page_login(request)
    if login is not None:
        end_session(session, login.session_id, now)
        record(session, principal.solution_id, principal.username, AuditAction.LOGOUT, principal.user_id, at=now)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(AUTH_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
