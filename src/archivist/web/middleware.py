"""ASGI middleware: body size limits and an access log that never holds personal data."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qsl, urlencode

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archivist.identifiers import mask_identifier

access_log = logging.getLogger("archivist.access")

# Query parameters that may carry a person's identifier (in any letter case: ``Phone``,
# ``EMAIL``); their values are masked.
SENSITIVE_PARAMS = frozenset({"phone", "email", "q", "customer"})


def scrub_query(query: str) -> str:
    """The query string with identifiers masked, re-encoded (so it holds no control characters)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, mask_identifier(v) if k.strip().lower() in SENSITIVE_PARAMS and v else v) for k, v in pairs])


def escape_for_log(raw: bytes) -> str:
    """Bytes as sent, for one log line: printable ASCII as is, anything else (CR, LF, NUL,
    quotes, non-ASCII) as ``\\xNN``, so no input can forge a line or a field."""
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else f"\\x{b:02x}" for b in raw)


def logged_target(scope: Scope) -> str:
    """The request target as the access log writes it: the path as sent, the query masked."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    query = scope.get("query_string", b"").decode("latin-1")
    return escape_for_log(raw_path) + ("?" + escape_for_log(scrub_query(query).encode()) if query else "")


class AccessLogMiddleware:
    """Logs method, path, masked query, status and duration for each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            access_log.info(
                '%s "%s %s" %d %.1fms',
                scope.get("client", ("-",))[0] if scope.get("client") else "-",
                escape_for_log(scope["method"].encode("latin-1", "replace")),
                logged_target(scope),
                status_code,
                (time.perf_counter() - started) * 1000,
            )


class BodyTooLarge(HTTPException):
    """Raised while streaming; an HTTPException so FastAPI's body parsing re-raises it as is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body too large: the limit is {limit} bytes")


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, *, default_limit: int, recording_limit: int) -> None:
        self.app = app
        self.default_limit = default_limit
        self.recording_limit = recording_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.recording_limit if scope["path"].endswith("/recording") else self.default_limit
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    await _send_413(send, limit)
                    return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await _send_413(send, limit)


async def _send_413(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"Request body too large: the limit is {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
