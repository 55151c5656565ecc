"""The archive's search API and *Anonymize and delete* (CONTRACT §6).

Registered before ``interactions.router`` so that the fixed path ``/anonymize-and-delete``
is matched before the ``/{interaction_id}`` routes.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from archivist.anonymize import erasure
from archivist.anonymize import services as actions
from archivist.archive import services as reads
from archivist.archive.models import Channel, Direction
from archivist.archive.presenters import interactions_out
from archivist.archive.schemas import InteractionOut
from archivist.archive.search import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    make_filters,
    parse_time,
)
from archivist.web import errors
from archivist.web.deps import ContentDeleter, Searcher, ServicesDep, SessionDep, SolutionDep

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/interactions", tags=["interactions"])

InteractionId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class InteractionPage(BaseModel):
    items: list[InteractionOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class AnonymizeAndDeleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[InteractionId], Field(min_length=1, max_length=erasure.MAX_IDS)]
    raw_data: StrictBool = False


class AnonymizeAndDeleteOut(BaseModel):
    anonymized: int
    recordings_deleted: int
    content_deleted: int
    raw_data_rows: int
    # The customer's own phone, email or name replaced in the text that remains (the subject).
    mentions_replaced: int = 0


@router.get("", response_model=InteractionPage)
def list_interactions(
    principal: Searcher,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
    phone: Annotated[str | None, Query(max_length=64, description="Any accepted form, e.g. 91234567")] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    channel: Channel | None = None,
    direction: Direction | None = None,
    queue: Annotated[str | None, Query(max_length=200, description="Exact queue name")] = None,
    agent: Annotated[str | None, Query(max_length=200, description="Exact agent name")] = None,
    from_: Annotated[
        str | None, Query(alias="from", max_length=40, description="Started at or after (ISO 8601 with offset)")
    ] = None,
    to: Annotated[str | None, Query(max_length=40, description="Started before (ISO 8601 with offset)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> InteractionPage:
    """Search the archive, newest first. Phone and email match the normalised identifier,
    so ``+47 912 34 567``, ``0047 91234567`` and ``91234567`` find the same calls; an
    anonymized interaction is never found by its former identifier."""
    filters = make_filters(
        solution.country,
        phone=phone,
        email=email,
        channel=channel,
        direction=direction,
        queue=queue,
        agent=agent,
        started_from=parse_time("from", from_),
        started_to=parse_time("to", to),
    )
    page = reads.search(
        session,
        solution,
        filters,
        typed={
            "phone": phone,
            "email": email,
            "channel": channel,
            "direction": direction,
            "queue": queue,
            "agent": agent,
            "from": from_,
            "to": to,
        },
        limit=limit,
        cursor=cursor,
        actor=principal,
        via="api",
        now=services.clock(),
    )
    session.commit()
    return InteractionPage(items=interactions_out(page.items, solution.country), next_cursor=page.next_cursor)


@router.post("/anonymize-and-delete", response_model=AnonymizeAndDeleteOut, responses=errors.responses(404, 409))
def anonymize_and_delete(
    body: AnonymizeAndDeleteIn,
    principal: ContentDeleter,
    session: SessionDep,
    solution: SolutionDep,
    services: ServicesDep,
) -> AnonymizeAndDeleteOut:
    """Delete the recordings and content of ``ids`` and replace the customer's phone, email,
    name and every variable value with the replacement text, in one transaction; with
    ``raw_data`` their raw data rows too. Any unknown id (or another solution's): 404, and
    nothing is changed."""
    result = actions.anonymize_and_delete(
        session,
        solution,
        body.ids,
        raw_data=body.raw_data,
        keyring=services.keyring,
        actor=principal,
        via="api",
        now=services.clock(),
    )
    services.commit_erasure(session)
    log.info("anonymize and delete: %d interactions, %d recordings", result.anonymized, result.recordings_deleted)
    return AnonymizeAndDeleteOut(
        anonymized=result.anonymized,
        recordings_deleted=result.recordings_deleted,
        content_deleted=result.content_deleted,
        raw_data_rows=result.raw_data_rows,
        mentions_replaced=result.mentions_replaced,
    )
