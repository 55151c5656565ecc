"""The stop-gap page login: paste an API token, get an HTTP-only cookie; and logout.

The access-control work replaces this module with a username/password session login; the
pages depend only on ``page_principal`` in ``archivist.web.pages``, not on anything here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from archivist.accounts.services import principal_for_token
from archivist.web.deps import ServicesDep, SessionDep
from archivist.web.pages import (
    AUTH_COOKIE,
    CSRF_COOKIE,
    CsrfChecked,
    new_csrf_token,
    page_principal,
    render,
    set_auth_cookie,
    set_csrf_cookie,
)

router = APIRouter(include_in_schema=False)

HOME = "/archive/search"


def _safe_next(target: str | None) -> str:
    """Only a local path: an open redirect after login would be a phishing aid."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return HOME


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=303)


@router.get("/login")
def login_form(request: Request, session: SessionDep, services: ServicesDep, next: str | None = None) -> Response:
    if page_principal(request, session, services.clock()) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = HOME,
) -> Response:
    token = token.strip()
    principal = principal_for_token(session, token, services.clock()) if token else None
    if principal is None:
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": "That token is not valid (or it was revoked)."},
            status_code=401,
        )
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_auth_cookie(response, request, token)
    # A fresh CSRF token bound to the new login: the pre-login one no longer verifies.
    set_csrf_cookie(response, request, new_csrf_token(services.settings.resolved_secret_key, token))
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(AUTH_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
