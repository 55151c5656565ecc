"""The one error handler of the app: how every failure is answered, logged and documented.

The API (``/api/…``) answers JSON ``{"detail": …}`` (422 adds ``errors``); pages answer an
HTML page with the navigation (CONTRACT §14), also for unknown URLs. A full disk or a
database that is locked or unreachable is a 503 with ``Retry-After``; anything else
unexpected a 500. Either is logged once, by type and place, never with its message or the
request's input (both may hold personal data), and the transaction it interrupted was never
committed.
"""

from __future__ import annotations

import errno
import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from archivist.errors import ConflictError, DomainError, GoneError, InvalidError, NotFoundError
from archivist.nul import NUL_MESSAGE, has_nul
from archivist.pagination import CursorError

log = logging.getLogger(__name__)

# Paths that answer JSON; everything else is a page and answers HTML.
API_PREFIX = "/api/"
JSON_PATHS = frozenset({"/healthz", "/openapi.json"})

# Seconds a client should wait before retrying after a 503: long enough for a lock holder to
# finish or an operator to free space, short enough that an integration's retry loop is useful.
RETRY_AFTER_SECONDS = 30

STORAGE_FULL = "The archive's storage is full; the request was not carried out. Try again later."
DATABASE_UNAVAILABLE = "The database is busy or unavailable; the request was not carried out. Try again shortly."
SERVER_ERROR = "Internal server error: the request was not carried out, and the failure has been logged."

# Free-form objects of the request bodies: their keys are data (a variable's name may be a
# customer number), so an error never names them.
MAPPING_FIELDS = frozenset({"variables", "details"})
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

_PAGE_TITLES = {
    400: "Bad request",
    401: "Log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    413: "Too large",
    414: "Address too long",
    416: "Range not available",
    415: "Unsupported type",
    422: "Check the input",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Try again shortly",
}
_PAGE_MESSAGES = {
    403: "Your role may not use this page or action.",
    404: "There is no such page, or what it shows does not exist.",
    405: "This page does not take that kind of request.",
}


def is_api(path: str) -> bool:
    """Whether ``path`` belongs to the JSON API (else it is a page)."""
    return path.startswith(API_PREFIX) or path in JSON_PATHS


# ---------------------------------------------------------------------------------------------
# The shapes of errors, as the OpenAPI document declares them
# ---------------------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    detail: str


class ValidationIssueOut(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """A 422: ``detail`` names each bad field; ``errors`` lists them. Never the rejected value."""

    detail: str
    errors: list[ValidationIssueOut]


_DESCRIPTIONS = {
    401: "Missing, invalid or revoked bearer token",
    403: "The caller's role may not do this",
    404: "Not found (or another solution's)",
    409: "Conflict with the current state",
    413: "Request body too large",
    414: "Address (path and query) too long",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    422: "Invalid input",
    503: "Storage full or database unavailable; retry after `Retry-After` seconds",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route decorator: the error statuses it answers besides the usual ones."""
    return {code: {"model": ErrorOut, "description": _DESCRIPTIONS.get(code, "Error")} for code in codes}


# ---------------------------------------------------------------------------------------------
# Validation errors without personal data
# ---------------------------------------------------------------------------------------------


def safe_loc(loc: Iterable[Any]) -> list[str | int]:
    """A validation error's location without anything that may be data.

    Positions (list indexes) and field names stay; the key of a free-form object (a
    variable named ``41987654``) and anything not shaped like a field name are dropped.
    """
    out: list[str | int] = []
    skip_key = False
    for part in loc:
        if skip_key:
            skip_key = False
            continue
        if isinstance(part, int) and not isinstance(part, bool):
            out.append(part)
        elif isinstance(part, str) and part in MAPPING_FIELDS and out and out[-1] != "[key]":
            out.append(part)
            skip_key = True
        elif isinstance(part, str) and (_FIELD_NAME.match(part) or part == "[key]"):
            out.append(part)
    return out


_LOCATIONS = ("body", "query", "path", "header", "cookie")


def _field_name(loc: list[str | int]) -> str:
    parts = [str(p) for p in loc if p != "[key]"]
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_detail(errors: Iterable[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A readable detail naming each field, and the errors without the offending input.

    Pydantic echoes the rejected value in ``input`` (and sometimes in ``ctx``); that may be a
    phone number or an email address, so only location, message and type leave the process.
    """
    clean: list[dict[str, Any]] = []
    for error in errors:
        kind = str(error.get("type", ""))
        if kind == "json_invalid":
            # Pydantic's location is the character offset; the body as a whole is what is wrong.
            clean.append({"loc": ["body"], "msg": "not valid JSON", "type": kind})
            continue
        clean.append({"loc": safe_loc(error.get("loc", ())), "msg": str(error.get("msg", "")), "type": kind})
    details = list(dict.fromkeys(f"{_field_name(e['loc'])}: {e['msg']}" for e in clean))
    return "; ".join(details) or "Invalid input", clean


def unprocessable(location: str, message: str, kind: str = "value_error") -> RequestValidationError:
    """A 422 for a part of the request found bad outside pydantic (a NUL), shaped like pydantic's."""
    return RequestValidationError([{"loc": (location,), "msg": message, "type": kind}])


# ---------------------------------------------------------------------------------------------
# NUL characters, refused for every request before any handler runs
# ---------------------------------------------------------------------------------------------

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Bodies that are text (a recording is never read here, whatever type it claims).
_TEXT_TYPES = frozenset({"application/json", "text/csv", "text/plain"})


# The longest request target (path and query) taken: what common proxies accept, and far more
# than any form or filter here writes. Longer answers 414 with a body, not a dropped connection.
MAX_TARGET_BYTES = 8 * 1024
# What the server's HTTP parser buffers for a request line and headers (uvicorn's h11 default is
# 16 KiB, and past it the connection was dropped with no answer): room for a 414 to be sent.
MAX_HEAD_BYTES = 1024 * 1024


async def refuse_overlong_target(request: Request) -> None:
    """An app-wide dependency: a request target over ``MAX_TARGET_BYTES`` is a 414 (CONTRACT §18)."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    if len(raw_path) + len(request.scope.get("query_string", b"")) > MAX_TARGET_BYTES:
        raise HTTPException(414, f"The address is too long: at most {MAX_TARGET_BYTES} bytes of path and query")


NOT_JSON = "body: must be JSON, sent as Content-Type: application/json"


async def refuse_non_json(request: Request) -> None:
    """An app-wide dependency: an API route that reads a JSON body answers a body declared as
    anything else (a form, XML, plain text) with 415, before it is read — not with a 422 saying
    the object is no object, nor a 400 from a form parser. A body without a type is read as JSON."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None or not route.path.startswith("/api/"):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise HTTPException(415, NOT_JSON)


async def refuse_nul(request: Request) -> None:
    """An app-wide dependency: a NUL in the path, the query or a JSON/form/text body is a 422.

    PostgreSQL cannot store NUL in text, and nothing a person types holds one. Bodies are
    read from Starlette's cache (the handler's own parsing already read them); a recording's
    audio stream is never touched.
    """
    if "\x00" in request.url.path:
        raise unprocessable("path", NUL_MESSAGE)
    raw_query = request.scope.get("query_string", b"")
    if b"%00" in raw_query or b"\x00" in raw_query:
        raise unprocessable("query", NUL_MESSAGE)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE") and not content_type:
        return
    if request.method == "PUT" and request.url.path.endswith("/recording"):
        # Audio is streamed to the blob store, never read as text: whatever type it claims, the
        # upload route answers it (415 for a type that is not audio), not a NUL found in a WAV.
        return
    if content_type.startswith(_FORM_TYPES):
        form = await request.form()  # one it cannot parse is a 400, answered as a 422 (http_error)
        if any("\x00" in key or (isinstance(value, str) and "\x00" in value) for key, value in form.multi_items()):
            raise unprocessable("body", NUL_MESSAGE)
    elif content_type in _TEXT_TYPES or content_type.endswith("+json"):
        body = await request.body()
        # JSON writes a NUL only as \u0000 (a raw one is malformed JSON, refused by the parser);
        # only a body that has the escape at all is parsed again to be sure it is not "\\u0000".
        if b"\x00" in body or (b"\\u0000" in body and has_nul(await request.json())):
            raise unprocessable("body", NUL_MESSAGE)


# ---------------------------------------------------------------------------------------------
# Answering
# ---------------------------------------------------------------------------------------------


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route of the app, the included routers' flattened (their paths are already whole)."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from _routes(original.routes)
        else:
            yield route


def allowed_methods(app: Any, scope: Scope) -> list[str]:
    """The methods of this path's own routes (CONTRACT §18), with OPTIONS.

    A path is matched by every template that fits it (``/requests/preview`` by ``/requests/{id}``
    too); its own routes are those of the most literal template, so ``Allow`` never lists a
    method that only a parameter route would take. HEAD only where the route answers it.
    """
    path = scope["path"]
    fitting = [
        route
        for route in _routes(app.router.routes)
        if getattr(route, "methods", None) and route.path_regex.match(path) is not None
    ]
    if not fitting:
        return []
    fewest = min(len(route.param_convertors) for route in fitting)
    own = {method for route in fitting if len(route.param_convertors) == fewest for method in route.methods}
    return [*(method for method in _METHODS if method in own), "OPTIONS"]


def _cached_principal(request: Request) -> Any:
    login = getattr(request.state, "page_login", None)
    return login.principal if login is not None else None


def _lookup_principal(request: Request) -> Any:
    """The page login, looked up if no handler did; None if the database cannot say."""
    if hasattr(request.state, "page_login"):
        return _cached_principal(request)
    from archivist.web.pages import page_principal

    services = request.app.state.services
    try:
        with services.session_factory() as session:
            return page_principal(request, session, services.clock())
    except Exception:  # noqa: BLE001 - an error page must render even when the database is down
        return None


def render_page_error(
    request: Request,
    status_code: int,
    message: str,
    principal: Any,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The HTML error page with the navigation (and *Log out*) when someone is logged in."""
    from archivist.web.pages import render

    context = {"title": _PAGE_TITLES.get(status_code, "Error"), "message": message}
    try:
        return render(
            request, "error.html", context, principal=principal, status_code=status_code, headers=dict(headers or {})
        )
    except Exception:
        log.exception("error page could not be rendered")
        return HTMLResponse(
            f"<!doctype html><title>Error</title><h1>{context['title']}</h1>",
            status_code=status_code,
            headers=dict(headers or {}),
        )


async def _answer(
    request: Request,
    status_code: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    look_up_login: bool = True,
) -> Response:
    if is_api(request.url.path):
        content: dict[str, Any] = {"detail": detail}
        if errors is not None:
            content["errors"] = errors
        return JSONResponse(content, status_code=status_code, headers=dict(headers or {}))
    principal = await run_in_threadpool(_lookup_principal, request) if look_up_login else _cached_principal(request)
    message = _PAGE_MESSAGES.get(status_code, detail)
    return render_page_error(request, status_code, message, principal, headers)


# FastAPI's answer to a body it could not even decode (not UTF-8, not form data): CONTRACT §6
# calls that invalid input, 422, like malformed JSON.


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:
        # Only the parsers answer 400 here (FastAPI's "There was an error parsing the body" for
        # JSON, Starlette's "Invalid multipart data." for a form): bad input, answered as such.
        issue = {"loc": ["body"], "msg": "not valid JSON or form data", "type": "body_unparseable"}
        return await _answer(request, 422, "body: not valid JSON or form data", errors=[issue])
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allow = allowed_methods(request.app, request.scope)
        headers["Allow"] = ", ".join(allow)
        if request.method == "OPTIONS" and allow:
            return Response(status_code=204, headers=headers)
    detail = exc.detail if isinstance(exc.detail, str) else "Error"
    if exc.status_code == 422:
        # A handler's own "field: message" (a filter, an identifier): the same shape as pydantic's.
        return await _answer(request, 422, detail, headers=headers, errors=[_issue_of(detail)])
    return await _answer(request, exc.status_code, detail, headers=headers)


_FIELD_PREFIX = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]{0,63}): (.+)$", re.DOTALL)


def _issue_of(detail: str) -> dict[str, Any]:
    match = _FIELD_PREFIX.match(detail)
    if match is None:
        return {"loc": [], "msg": detail, "type": "value_error"}
    return {"loc": match.group(1).split("."), "msg": match.group(2), "type": "value_error"}


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail, errors = validation_detail(exc.errors())
    return await _answer(request, 422, detail, errors=errors)


async def cursor_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CursorError)
    detail, errors = validation_detail([{"loc": ("query", "cursor"), "msg": exc.message, "type": "value_error"}])
    return await _answer(request, 422, detail, errors=errors)


# The one place a domain's refusal becomes a status (archivist/errors.py names the kinds).
_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (GoneError, 410),
    (InvalidError, 422),
)


def domain_status(exc: DomainError) -> int:
    """The HTTP status of a domain refusal; a kind not listed is a bug, answered 500 by the middleware."""
    for kind, code in _DOMAIN_STATUS:
        if isinstance(exc, kind):
            return code
    raise exc


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    code = domain_status(exc)
    if isinstance(exc, InvalidError):
        return await _answer(request, code, exc.detail, errors=[_issue_of(exc.detail)])
    return await _answer(request, code, str(exc))


# ---------------------------------------------------------------------------------------------
# Server errors
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    status_code: int
    detail: str
    retry: bool


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, sa_exc.DBAPIError) and current.orig is not None:
            yield current.orig
        current = current.__cause__ or current.__context__


def classify(exc: BaseException) -> Failure:
    """What an unexpected exception means to the client: storage full, database unavailable, or a bug."""
    for cause in _chain(exc):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return Failure(503, STORAGE_FULL, retry=True)
        if isinstance(cause, sqlite3.OperationalError) and "disk is full" in str(cause).lower():
            return Failure(503, STORAGE_FULL, retry=True)
    for cause in _chain(exc):
        # OperationalError covers SQLite's "database is locked" and PostgreSQL connections
        # refused, cut or timed out (psycopg's OperationalError, wrapped); TimeoutError is
        # SQLAlchemy's pool waiting for a connection in vain.
        if isinstance(cause, sa_exc.OperationalError | sa_exc.TimeoutError | sa_exc.DisconnectionError):
            return Failure(503, DATABASE_UNAVAILABLE, retry=True)
        if isinstance(cause, sqlite3.OperationalError):
            return Failure(503, DATABASE_UNAVAILABLE, retry=True)
        # Raised unwrapped where our code drives psycopg directly (COPY): a lock or statement
        # timeout (LockNotAvailable, QueryCanceled) or a lost connection.
        if isinstance(cause, psycopg.OperationalError):
            return Failure(503, DATABASE_UNAVAILABLE, retry=True)
    return Failure(500, SERVER_ERROR, retry=False)


def log_failure(exc: BaseException, scope: Scope, failure: Failure) -> None:
    """One line per failure: its type, where in our code, and the route — never its message."""
    from archivist.errors import where

    route = scope.get("route")
    template = getattr(route, "path", None) or "(no route)"
    log.error(
        "%s %s: %s at %s answered %d",
        scope.get("method", "-"),
        template,
        type(exc).__name__,
        where(exc),
        failure.status_code,
    )


class ServerErrorMiddleware:
    """Turns any exception the handlers did not answer into the failure's 500/503, logged once.

    Inside Starlette's own ServerErrorMiddleware, which would answer bare ``text/plain`` and
    let the server log the traceback with the exception's text.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except HTTPException:
            # Raised outside a route (the body limit's, while reading): its own middleware answers it.
            raise
        except Exception as exc:  # noqa: BLE001 - this is the app's last line of defence
            failure = classify(exc)
            log_failure(exc, scope, failure)
            if started:
                # Mid-stream (a CSV export): the body cannot be taken back. Ending without the
                # final chunk makes the server drop the connection, so the client sees it broke.
                return
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if failure.retry else {}
            request = Request(scope)
            response = await _answer(request, failure.status_code, failure.detail, headers=headers, look_up_login=False)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers and the middleware; call before other middleware is added."""
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(CursorError, cursor_error)
    app.add_exception_handler(DomainError, domain_error)
    app.add_middleware(ServerErrorMiddleware)
