"""The shapes of anonymization requests and previews on the wire (CONTRACT §6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.anonymize.processing import RequestResult
from archivist.anonymize.requests import MAX_ALSO, is_overdue, shown_email, shown_phone


class VariableIn(BaseModel):
    """A variable that identifies the person, such as a customer number."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    value: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AlsoIn(BaseModel):
    """Further identifiers of the same person, erased with the request (CONTRACT §9)."""

    model_config = ConfigDict(extra="forbid")

    phones: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=MAX_ALSO)] = []
    emails: Annotated[list[Annotated[str, StringConstraints(max_length=320)]], Field(max_length=MAX_ALSO)] = []
    variables: Annotated[list[VariableIn], Field(max_length=MAX_ALSO)] = []


class RequestIn(BaseModel):
    """What *Archive - Anonymize* asks for: at least one of phone / email (checked by the service)."""

    model_config = ConfigDict(extra="forbid")

    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    raw_data: StrictBool = False
    delete_content: StrictBool = False
    also: AlsoIn | None = None


# A done request's counts: the shape the nightly run stores (one definition, ``RequestResult``).
ResultOut = RequestResult


class RequestOut(BaseModel):
    id: str
    status: RequestStatus
    # Full (in the seed's convention) while waiting; masked once done.
    phone: str | None
    email: str | None
    raw_data: bool
    delete_content: bool
    created_at: datetime
    created_by: str
    processed_at: datetime | None
    result: ResultOut | None
    # Interactions that start at or after this instant are left as they are.
    cutoff: datetime
    # Still waiting after the GDPR month.
    overdue: bool

    @classmethod
    def of(cls, request: AnonymizationRequest, country: str, now: datetime) -> RequestOut:
        # A held request was processed too (for everything its holds do not cover).
        done = request.status is not RequestStatus.WAITING
        return cls(
            id=request.id,
            status=request.status,
            phone=shown_phone(request, country),
            email=shown_email(request),
            raw_data=request.raw_data,
            delete_content=request.delete_content,
            # UTC whatever the object holds, so that a new row and a re-read one look alike.
            created_at=request.created_at.astimezone(UTC),
            created_by=request.created_by,
            processed_at=request.processed_at.astimezone(UTC) if done and request.processed_at else None,
            # The stored dict, validated into the dataclass by the field's type.
            result=request.result if done else None,
            cutoff=request.cutoff.astimezone(UTC),
            overdue=is_overdue(request, now),
        )


class RequestPage(BaseModel):
    items: list[RequestOut]
    next_cursor: str | None


class BulkOut(BaseModel):
    """What a bulk upload did: people added, and people who already had a waiting request."""

    added: int
    existing: int
