"""The archive's API: ingest interactions, read general information and content, recordings."""

from __future__ import annotations

import tempfile
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from archivist.anonymize import services as actions
from archivist.anonymize.replay import ingest_checked
from archivist.archive import attachments as attachment_service
from archivist.archive import content as content_service
from archivist.archive import recordings
from archivist.archive.audio import HEAD_BYTES, head_layout
from archivist.archive.mime import MAX_MESSAGE_BYTES, ParsedEmail, UnreadableMessageError, read_message
from archivist.archive.models import Direction, Interaction, Recording
from archivist.archive.presenters import interaction_out
from archivist.archive.schemas import (
    BatchOut,
    ChatContentOut,
    EmailContentOut,
    InteractionIn,
    InteractionOut,
    TranscriptContentOut,
)
from archivist.audit.events import AuditAction, record_for
from archivist.importers.mail import Archived, archive_emails
from archivist.web import errors
from archivist.web.attachments import attachment_response
from archivist.web.deps import (
    ContentDeleter,
    ContentReader,
    Ingester,
    Searcher,
    ServicesDep,
    SessionDep,
    SolutionDep,
)
from archivist.web.streaming import OPAQUE_TYPE, UNSUPPORTED_TYPE, recording_response, starts_playback, upload_type

router = APIRouter(prefix="/api/v1/interactions", tags=["interactions"])

MAX_BATCH = 1_000
_SPOOL_IN_MEMORY = 1024 * 1024


def _found(session: SessionDep, solution: SolutionDep, interaction_id: str) -> Interaction:
    interaction = content_service.get_interaction(session, solution.id, interaction_id)
    if interaction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Interaction not found")
    return interaction


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=InteractionOut,
    responses={200: {"model": InteractionOut, "description": "Archived before (the same external_id)"}},
)
def create_interaction(
    body: InteractionIn,
    response: Response,
    _: Ingester,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
) -> InteractionOut:
    """Archive one interaction; an ``external_id`` seen before returns the existing one (200)."""
    try:
        (result,) = ingest_checked(session, solution, [body], services.clock(), keyring=services.keyring)
        session.commit()
    except IntegrityError:
        # Two posts of the same external_id raced; the other one won, so answer with it.
        session.rollback()
        (result,) = ingest_checked(session, solution, [body], services.clock(), keyring=services.keyring)
        if result.created:
            raise
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return interaction_out(_found(session, solution, result.id), solution.country)


@router.post("/batch", response_model=BatchOut)
def create_batch(
    bodies: Annotated[list[InteractionIn], Body(max_length=MAX_BATCH)],
    _: Ingester,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
) -> BatchOut:
    """Archive up to 1,000 interactions at once, all or nothing."""
    results = ingest_checked(session, solution, bodies, services.clock(), keyring=services.keyring)
    session.commit()
    return BatchOut(ids=[r.id for r in results])


MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
NOT_MESSAGE_TYPE = "Content-Type must be message/rfc822: one complete email message (RFC 5322)"
MESSAGE_TOO_LARGE = f"The message is larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MiB"
_FEED = 64 * 1024


@router.post(
    "/email",
    status_code=status.HTTP_201_CREATED,
    response_model=InteractionOut,
    openapi_extra={"requestBody": {"content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}}}},
    responses={
        200: {"model": InteractionOut, "description": "Archived before (the same Message-ID)"},
        **errors.responses(413, 415),
    },
)
async def create_email(
    request: Request,
    response: Response,
    _: Ingester,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
    queue: Annotated[str | None, Query(max_length=200)] = None,
    direction: Direction | None = None,
) -> InteractionOut:
    """Archive one email as it arrived (CONTRACT §15); a Message-ID archived before returns the existing one (200)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() not in MESSAGE_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, NOT_MESSAGE_TYPE)
    # Spooled to disk past 1 MiB and parsed in a worker thread: a 25 MiB message neither sits
    # in memory twice nor holds up the event loop.
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_MESSAGE_BYTES:
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, MESSAGE_TOO_LARGE)
            spool.write(chunk)
        spool.seek(0)
        archived = await run_in_threadpool(
            _archive_spooled, spool, solution.id, solution.own_email_domains, direction, queue, services
        )
    if not archived.created:
        response.status_code = status.HTTP_200_OK
    return interaction_out(_found(session, solution, archived.id), solution.country)


def _archive_spooled(
    spool: tempfile.SpooledTemporaryFile[bytes],
    solution_id: str,
    own_domains: list[str],
    direction: Direction | None,
    queue: str | None,
    services: ServicesDep,
) -> Archived:
    now = services.clock()

    def archive(parsed: ParsedEmail) -> Archived:
        (archived,) = archive_emails(
            services.session_factory,
            services.blobs,
            solution_id,
            [parsed],
            keyring=services.keyring,
            now=now,
            queue=queue,
        )
        return archived

    try:
        parsed = read_message(
            iter(lambda: spool.read(_FEED), b""), received_at=now, own_domains=own_domains, direction=direction
        )
        try:
            archived = archive(parsed)
        except IntegrityError:
            # The same message posted twice at once: the other one won, so answer with it (its
            # attachment blobs written here stay registered and are deleted by the drain).
            archived = archive(parsed)
            if archived.created:
                raise
    except UnreadableMessageError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except ValidationError as exc:
        fields = sorted({".".join(map(str, errors.safe_loc(e["loc"]))) for e in exc.errors()})
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"The message cannot be archived: invalid {', '.join(fields)}"
        ) from None
    return archived


@router.get("/{interaction_id}", response_model=InteractionOut)
def get_interaction(
    interaction_id: str, principal: Searcher, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> InteractionOut:
    interaction = _found(session, solution, interaction_id)
    record_for(session, principal, AuditAction.INTERACTION_VIEWED, interaction.id, at=services.clock())
    session.commit()
    return interaction_out(interaction, solution.country)


@router.get("/{interaction_id}/content", response_model=ChatContentOut | EmailContentOut | TranscriptContentOut)
def get_content(
    interaction_id: str, principal: ContentReader, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> ChatContentOut | EmailContentOut | TranscriptContentOut:
    interaction = _found(session, solution, interaction_id)
    content = content_service.read_content(session, interaction)
    if content is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This interaction has no content (or it was deleted)")
    record_for(session, principal, AuditAction.CONTENT_READ, interaction.id, at=services.clock())
    session.commit()
    return content


@router.delete("/{interaction_id}/content", status_code=status.HTTP_204_NO_CONTENT, responses=errors.responses(409))
def delete_content(
    interaction_id: str, principal: ContentDeleter, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> None:
    actions.delete_content(session, solution, interaction_id, actor=principal, via="api", now=services.clock())
    services.commit_erasure(session)


@router.get(
    "/{interaction_id}/attachments/{index}",
    response_class=StreamingResponse,
    responses={200: {"content": {OPAQUE_TYPE: {}}, "description": "The attachment, as a download"}},
)
def get_attachment(
    interaction_id: str,
    index: Annotated[int, Path(ge=0, le=100_000)],
    principal: ContentReader,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
) -> Response:
    """Download one attachment of an email (CONTRACT §15); 404 once deleted."""
    interaction = _found(session, solution, interaction_id)
    response = attachment_response(attachment_service.get_attachment(session, interaction.id, index), services.blobs)
    record_for(session, principal, AuditAction.CONTENT_READ, interaction.id, {"attachment": index}, at=services.clock())
    session.commit()
    return response


@router.put(
    "/{interaction_id}/recording",
    status_code=status.HTTP_204_NO_CONTENT,
    openapi_extra={"requestBody": {"content": {"audio/*": {"schema": {"type": "string", "format": "binary"}}}}},
    responses=errors.responses(415),
)
async def put_recording(
    interaction_id: str,
    request: Request,
    _: Ingester,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
) -> None:
    """Store the request body as the interaction's recording (replacing any earlier one)."""
    content_type = upload_type(request.headers.get("content-type", ""))
    if content_type is None:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_TYPE)
    interaction = _found(session, solution, interaction_id)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            spool.write(chunk)
        spool.seek(0)
        head = spool.read(HEAD_BYTES)
        if not recordings.looks_like_audio(head[:16]):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "The body is not a recognised audio file (WAV, MP3, Ogg, …)"
            )
        spool.seek(0)
        key = recordings.new_blob_key(solution.id, interaction.id, content_type)
        recordings.register_upload(session, solution.id, key, services.clock())
        session.commit()
        services.blobs.put(key, spool, content_type)  # type: ignore[arg-type]
    recordings.attach_recording(
        session, interaction, key, content_type, size, services.clock(), wav_layout=head_layout(head, size)
    )
    services.commit_and_delete_blobs(session)


@router.get(
    "/{interaction_id}/recording",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"audio/*": {}, OPAQUE_TYPE: {}}, "description": "The whole recording"},
        206: {"content": {"audio/*": {}, OPAQUE_TYPE: {}}, "description": "The requested byte range"},
        416: {"description": "Range not satisfiable"},
    },
)
def get_recording(
    interaction_id: str,
    request: Request,
    principal: ContentReader,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
) -> Response:
    """Stream the recording; honours ``Range`` so a player can seek."""
    interaction = _found(session, solution, interaction_id)
    response = recording_response(request, session, session.get(Recording, interaction.id), services.blobs)
    if starts_playback(request, response):
        record_for(session, principal, AuditAction.RECORDING_DOWNLOADED, interaction.id, at=services.clock())
        session.commit()
    return response


@router.delete("/{interaction_id}/recording", status_code=status.HTTP_204_NO_CONTENT, responses=errors.responses(409))
def delete_recording(
    interaction_id: str, principal: ContentDeleter, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> None:
    actions.delete_recording(session, solution, interaction_id, actor=principal, via="api", now=services.clock())
    services.commit_and_delete_blobs(session)
