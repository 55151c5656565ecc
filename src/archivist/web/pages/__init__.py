"""The shared scaffold of the server-rendered pages: templates, page login, CSRF, navigation.

Every page module builds on three things from here: ``PagePrincipal`` (who is looking, or a
redirect to ``/login``), ``CsrfChecked`` (required on every POST), and ``render`` (a template
response with the navigation, the CSRF token and the security headers). ``install`` wires the
pages, their error handlers and ``/static`` into the app.

The login cookie holds a random session token; ``page_principal`` is the only function that
reads it, looking the session up server-side (``archivist.accounts.sessions``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.roles import Permission, may
from archivist.accounts.services import Principal
from archivist.accounts.sessions import ABSOLUTE_TIMEOUT, SessionLogin, resume_session
from archivist.web.deps import ServicesDep, SessionDep

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

AUTH_COOKIE = "archivist_session"
CSRF_COOKIE = "archivist_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# The cookie may outlive a session no longer than the session itself may live; the server
# ends it earlier on idleness or logout.
AUTH_COOKIE_MAX_AGE = int(ABSOLUTE_TIMEOUT.total_seconds())

# Pages load only our own files; htmx is configured (base.html) to need no eval and no
# inline styles, so the policy can be this strict.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    permission: Permission


# The pages of CONTRACT §8, in the seed's names. A role sees only what it may use.
NAV: tuple[NavItem, ...] = (
    NavItem("Archive - Search", "/archive/search", Permission.SEARCH),
    NavItem("Archive - Anonymize", "/archive/anonymize", Permission.MANAGE_REQUESTS),
    NavItem("Archive - Access", "/archive/access", Permission.MANAGE_REQUESTS),
    NavItem("Raw data", "/raw-data", Permission.READ_RAW_DATA),
    NavItem("Audit log", "/audit", Permission.READ_AUDIT),
    NavItem("Legal holds", "/legal-holds", Permission.MANAGE_HOLDS),
    NavItem("Nightly runs", "/nightly-runs", Permission.MANAGE_REQUESTS),
    NavItem("Settings", "/settings", Permission.ADMINISTER),
    NavItem("Users", "/users", Permission.ADMINISTER),
)


class LoginRequired(Exception):  # noqa: N818 - a control-flow signal, not an error
    """No valid page login: answered with a redirect to ``/login``."""


class PageForbidden(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Logged in, but the role may not use this page or action: answered with 403."""


class CsrfFailed(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A POST without a valid CSRF token: answered with 403."""


# ---------------------------------------------------------------------------------------------
# Who is looking at the page
# ---------------------------------------------------------------------------------------------


def page_principal(request: Request, session: Session, now: datetime) -> Principal | None:
    """The principal behind the login cookie, or None (no cookie, or the session is over).

    The result is kept on the request, so the CSRF check and the page's own dependencies
    look the session up once.
    """
    if hasattr(request.state, "page_login"):
        cached: SessionLogin | None = request.state.page_login
        return cached.principal if cached else None
    token = request.cookies.get(AUTH_COOKIE, "").strip()
    login = resume_session(session, token, now) if token else None
    if token:
        session.commit()  # last_seen_at, or the end of a session found timed out
    request.state.page_login = login
    return login.principal if login else None


def page_login(request: Request) -> SessionLogin | None:
    """The session ``page_principal`` found for this request (call that first)."""
    login: SessionLogin | None = getattr(request.state, "page_login", None)
    return login


def get_page_principal(request: Request, session: SessionDep, services: ServicesDep) -> Principal:
    principal = page_principal(request, session, services.clock())
    if principal is None:
        raise LoginRequired
    return principal


PagePrincipal = Annotated[Principal, Depends(get_page_principal)]


def require_page(permission: Permission) -> Callable[[Principal], Principal]:
    """A page dependency that lets only roles with ``permission`` through (others get 403)."""

    def check(principal: PagePrincipal) -> Principal:
        if not may(principal.role, permission):
            raise PageForbidden
        return principal

    check.__name__ = f"require_page_{permission.value}"
    return check


def get_page_solution(principal: PagePrincipal, session: SessionDep) -> Solution:
    solution = session.get(Solution, principal.solution_id)
    if solution is None:
        raise LoginRequired
    return solution


PageSolution = Annotated[Solution, Depends(get_page_solution)]


# ---------------------------------------------------------------------------------------------
# CSRF
# ---------------------------------------------------------------------------------------------
# Logged in: the token is an HMAC of the session's own csrf_secret, sent in every form (and,
# for htmx, in a header) and checked against the session found server-side. It needs no
# cookie, changes with every login, and is useless for any other session.
# Not logged in (only the login form): a signed double-submit token, "nonce.issued.signature",
# in an HTTP-only cookie and in the form; a login POST must carry the same valid token in both,
# so a foreign site cannot log a browser into an account of its choosing. The signature binds
# it to the client it was issued to and to its time, so a captured pair is no use elsewhere
# or later.


def session_csrf_token(secret: str, csrf_secret: str) -> str:
    return hmac.new(secret.encode(), f"csrf|session|{csrf_secret}".encode(), hashlib.sha256).hexdigest()


# A login form older than this must be reloaded: a captured pre-login pair stops working.
LOGIN_CSRF_MAX_AGE = timedelta(hours=2)


def _client_binding(request: Request) -> str:
    """What ties a pre-login token to the client it was given to: its address and browser.

    A pair copied from one client (cookie and field) is refused from another, and the
    address is the proxy-resolved one only when the proxy is trusted (serve's setting).
    """
    address = request.client.host if request.client else "-"
    agent = request.headers.get("user-agent", "")
    return hashlib.sha256(f"{address}|{agent}".encode()).hexdigest()[:32]


def _sign(secret: str, nonce: str, issued: int, binding: str) -> str:
    message = f"csrf|anonymous|{nonce}|{issued}|{binding}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def new_csrf_token(secret: str, request: Request, now: datetime) -> str:
    nonce = secrets.token_urlsafe(18)
    issued = int(now.timestamp())
    return f"{nonce}.{issued}.{_sign(secret, nonce, issued, _client_binding(request))}"


def _valid_anonymous(secret: str, token: str, request: Request, now: datetime) -> bool:
    nonce, _, rest = token.partition(".")
    issued_text, _, signature = rest.partition(".")
    if not nonce or not signature or not issued_text.isdigit() or len(issued_text) > 12:
        return False
    issued = int(issued_text)
    if not 0 <= now.timestamp() - issued <= LOGIN_CSRF_MAX_AGE.total_seconds():
        return False
    return hmac.compare_digest(signature, _sign(secret, nonce, issued, _client_binding(request)))


def csrf_token(request: Request, secret: str) -> str:
    """The token forms must send: the session's, or before login the cookie's (or a new one)."""
    cached: str | None = getattr(request.state, "csrf_token", None)
    if cached:
        return cached
    login = page_login(request)
    if login is not None:
        current = session_csrf_token(secret, login.csrf_secret)
    else:
        current = request.cookies.get(CSRF_COOKIE, "")
        now = request.app.state.services.clock()
        if not (current and _valid_anonymous(secret, current, request, now)):
            current = new_csrf_token(secret, request, now)
            request.state.csrf_new = True
    request.state.csrf_token = current
    return current


async def _sent_token(request: Request) -> str:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # cached by Starlette, so the handler's Form() still works
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    return sent


def _optional_page_principal(request: Request, session: SessionDep, services: ServicesDep) -> Principal | None:
    # A sync dependency, so the database look-up runs in the thread pool, not on the event loop.
    return page_principal(request, session, services.clock())


async def check_csrf(
    request: Request,
    principal: Annotated[Principal | None, Depends(_optional_page_principal)],
    services: ServicesDep,
) -> None:
    """Refuse a POST without the session's CSRF token (form field or htmx header).

    Without a live session there is nothing to protect: the caller is sent to log in.
    """
    login = page_login(request)
    if principal is None or login is None:
        raise LoginRequired
    expected = session_csrf_token(services.settings.resolved_secret_key, login.csrf_secret)
    sent = await _sent_token(request)
    if not (sent and hmac.compare_digest(sent, expected)):
        raise CsrfFailed


async def check_login_csrf(request: Request, services: ServicesDep) -> None:
    """The login form's check: the double-submit cookie and field must match and verify."""
    secret = services.settings.resolved_secret_key
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = await _sent_token(request)
    now = services.clock()
    if not (cookie and sent and hmac.compare_digest(cookie, sent) and _valid_anonymous(secret, sent, request, now)):
        raise CsrfFailed


LoginCsrfChecked = Depends(check_login_csrf)
CsrfChecked = Depends(check_csrf)


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def local_time(value: datetime | None, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the solution's users read it."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(timezone)).strftime(fmt)


def duration(seconds: float | None) -> str:
    """``270`` -> ``4:30``; ``3725`` -> ``1:02:05``."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@functools.cache
def make_templates() -> Jinja2Templates:
    """The page templates; one environment per process, so each is compiled once however
    many apps are built (tests build one per test)."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.filters["local_time"] = local_time
    templates.env.filters["duration"] = duration
    return templates


def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def set_auth_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        AUTH_COOKIE,
        value,
        max_age=AUTH_COOKIE_MAX_AGE,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
        path="/",
    )


def set_csrf_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, secure=request.url.scheme == "https", samesite="strict", path="/"
    )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    principal: Principal | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A template response with what every page needs: nav, CSRF token, security headers."""
    secret = request.app.state.services.settings.resolved_secret_key
    token = csrf_token(request, secret)
    nav = [item for item in NAV if principal is not None and may(principal.role, item.permission)]
    full_context: dict[str, Any] = {
        "principal": principal,
        "nav": nav,
        "csrf_token": token,
        "csrf_field": CSRF_FIELD,
        "current_path": request.url.path,
        "may": (lambda permission: principal is not None and may(principal.role, permission)),
        "Permission": Permission,
        **(context or {}),
    }
    response = get_templates(request).TemplateResponse(request, template, full_context, status_code=status_code)
    response.headers.update({**SECURITY_HEADERS, **(headers or {})})
    if getattr(request.state, "csrf_new", False):
        set_csrf_cookie(response, request, token)
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _login_redirect(request: Request) -> Response:
    target = "/login"
    if request.method == "GET" and not is_htmx(request):
        target += "?next=" + quote(request.url.path, safe="/")
    if is_htmx(request):
        # htmx would swap a redirected login page into a fragment; make it navigate instead.
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def install(app: FastAPI) -> None:
    """Add the pages, their error handlers and ``/static`` to ``app``."""
    # The page modules import this package, so they are imported here, not at the top.
    from archivist.web.pages import (
        access,
        admin,
        anonymize,
        audit,
        auth,
        bulk_intake,
        legal_holds,
        nightly_runs,
        raw_data,
        retention_rules,
        search,
    )

    app.state.templates = make_templates()

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _: LoginRequired) -> Response:
        return _login_redirect(request)

    def _who(request: Request) -> Principal | None:
        # Both are raised after the login was looked up, so the error page can show the navigation.
        login = page_login(request)
        return login.principal if login else None

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, _: PageForbidden) -> Response:
        return render(
            request,
            "error.html",
            {"title": "Not allowed", "message": "Your role may not use this page or action."},
            principal=_who(request),
            status_code=403,
        )

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _: CsrfFailed) -> Response:
        return render(
            request,
            "error.html",
            {"title": "Form expired", "message": "The form was too old or came from elsewhere. Reload the page."},
            principal=_who(request),
            status_code=403,
        )

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(auth.router)
    app.include_router(search.router)
    app.include_router(anonymize.router)
    app.include_router(access.router)
    app.include_router(bulk_intake.router)
    app.include_router(raw_data.router)
    app.include_router(audit.router)
    app.include_router(admin.router)
    app.include_router(retention_rules.router)
    app.include_router(legal_holds.router)
    app.include_router(nightly_runs.router)
