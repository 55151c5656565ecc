"""The web application factory: API, pages and health check, built from settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine, text

from archivist.audit.events import AuditChainer
from archivist.blobs import BlobStore, make_blob_store
from archivist.config import Settings, get_settings
from archivist.db import make_engine, make_session_factory, utcnow
from archivist.web import errors, pages
from archivist.web.api import (
    anonymization,
    audit,
    interactions,
    raw_data,
    receipts,
    retention,
    search,
    subject_exports,
)
from archivist.web.api import settings as settings_api
from archivist.web.deps import Services
from archivist.web.middleware import AccessLogMiddleware, BodyLimitMiddleware
from archivist.web.pages import docs as api_docs

log = logging.getLogger(__name__)


# Added to every API operation where they can happen (routes declare the rest themselves).
# 414: any address can be sent with a query string past MAX_TARGET_BYTES, whatever it declares.
_EVERYWHERE = (414, 503)
_AUTHENTICATED = (401, 403)


def _error_schema(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document as the app really answers: our 422 shape, and the errors of each route.

    FastAPI declares 422 as its own array ``detail``; ours is a string ``detail`` plus
    ``errors`` (``archivist.web.errors``), so the declared schemas are replaced by those.
    """
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (errors.ErrorOut, errors.ValidationIssueOut, errors.ValidationErrorOut):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        schemas[model.__name__] = schema
    # FastAPI's own names, still referenced by every operation's 422: point them at ours.
    schemas["HTTPValidationError"] = _error_schema("ValidationErrorOut")
    schemas["ValidationError"] = _error_schema("ValidationIssueOut")
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            statuses = operation.setdefault("responses", {})
            codes = list(_EVERYWHERE)
            if path.startswith("/api/"):
                codes += _AUTHENTICATED
            if "{" in path:
                codes.append(404)
            if "requestBody" in operation:
                codes.append(413)
                if "application/json" in operation["requestBody"].get("content", {}):
                    codes.append(415)  # errors.refuse_non_json
            if operation.get("parameters") or "requestBody" in operation:
                codes.append(422)
            for code in codes:
                statuses.setdefault(
                    str(code),
                    {
                        "description": errors.responses(code)[code]["description"],
                        "content": {
                            "application/json": {
                                "schema": _error_schema("ValidationErrorOut" if code == 422 else "ErrorOut")
                            }
                        },
                    },
                )
    app.openapi_schema = document
    return document


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    blobs: BlobStore | None = None,
    clock: Callable[[], datetime] = utcnow,
    scheduler: bool = False,
    chain_audit: bool = False,
) -> FastAPI:
    """Build the app. ``scheduler`` starts the in-process nightly scheduler with the app, ``chain_audit``
    the background chaining of read entries (both what `archivist serve` asks for)."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.resolved_database_url)
    services = Services(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        blobs=blobs or make_blob_store(settings.resolved_blob_url),
        clock=clock,
    )

    @asynccontextmanager
    async def lifespan(running_app: FastAPI) -> AsyncIterator[None]:
        # The nightly scheduler lives and dies with the server (only `archivist serve` asks for it).
        nightly = None
        if scheduler:
            from archivist.nightly.lease import LeasePolicy
            from archivist.nightly.scheduler import NightlyScheduler

            nightly = NightlyScheduler(
                services.session_factory,
                services.blobs,
                services.clock,
                keyring=services.keyring,
                proof=services.proof,
                policy=LeasePolicy.from_settings(services.settings),
            )
            nightly.start()
        running_app.state.nightly_scheduler = nightly
        # Reads' audit entries are chained in the background (CONTRACT §13; `archivist serve` asks for it).
        chainer = AuditChainer(services.session_factory) if chain_audit else None
        if chainer is not None:
            chainer.start()
        try:
            yield
        finally:
            if nightly is not None:
                nightly.shutdown()
            if chainer is not None:
                chainer.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Archivist",
        summary="A contact-centre archive that can forget.",
        version="0.1.0",
        # /docs is served from our own static files (web/pages/docs.py), not from a CDN.
        docs_url=None,
        # One check of every request's target length, one of the body's type on JSON routes, and
        # one for NUL characters in its path, query and body (PostgreSQL cannot store them),
        # before any handler reads them.
        dependencies=[
            Depends(errors.refuse_overlong_target),
            Depends(errors.refuse_non_json),
            Depends(errors.refuse_nul),
        ],
    )
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    app.state.services = services
    app.state.run_scheduler = scheduler

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    # search first: its fixed /anonymize-and-delete must win over /{interaction_id}.
    app.include_router(search.router)
    app.include_router(interactions.router)
    app.include_router(anonymization.router)
    app.include_router(receipts.router)
    app.include_router(retention.router)
    app.include_router(raw_data.router)
    app.include_router(audit.router)
    app.include_router(subject_exports.router)
    app.include_router(settings_api.router)
    pages.install(app)
    app.include_router(api_docs.router)
    # After pages.install, so that its page-specific handlers stay and ours answer the rest.
    errors.install(app)

    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_json_bytes,
        recording_limit=settings.max_recording_bytes,
    )
    app.add_middleware(AccessLogMiddleware)
    return app
