"""The web application factory: API, pages and health check, built from settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from archivist.blobs import BlobStore, make_blob_store
from archivist.config import Settings, get_settings
from archivist.db import make_engine, make_session_factory, utcnow
from archivist.web import pages
from archivist.web.api import anonymization, audit, interactions, raw_data, receipts, search
from archivist.web.deps import Services
from archivist.web.middleware import AccessLogMiddleware, BodyLimitMiddleware

log = logging.getLogger(__name__)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _validation_detail(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A readable detail naming each field, and the errors without the offending input.

    Pydantic echoes the rejected value in ``input``; that may be a phone number or an email
    address, so it is dropped before anything leaves the process or reaches a log.
    """
    clean: list[dict[str, Any]] = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")} for e in errors
    ]
    detail = "; ".join(f"{_field_name(tuple(e['loc']))}: {e['msg']}" for e in clean) or "Invalid input"
    return detail, clean


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    blobs: BlobStore | None = None,
    clock: Callable[[], datetime] = utcnow,
    scheduler: bool = False,
) -> FastAPI:
    """Build the app. ``scheduler`` starts the in-process nightly scheduler with the app."""
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
            from archivist.anonymize.scheduler import NightlyScheduler

            nightly = NightlyScheduler(
                services.session_factory, services.blobs, services.clock, keyring=services.keyring, proof=services.proof
            )
            nightly.start()
        running_app.state.nightly_scheduler = nightly
        try:
            yield
        finally:
            if nightly is not None:
                nightly.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="Archivist",
        summary="A contact-centre archive that can forget.",
        version="0.1.0",
    )
    app.state.services = services
    app.state.run_scheduler = scheduler

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors = _validation_detail(list(exc.errors()))
        return JSONResponse(status_code=422, content=jsonable_encoder({"detail": detail, "errors": errors}))

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
    app.include_router(raw_data.router)
    app.include_router(audit.router)
    pages.install(app)

    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_json_bytes,
        recording_limit=settings.max_recording_bytes,
    )
    app.add_middleware(AccessLogMiddleware)
    return app
