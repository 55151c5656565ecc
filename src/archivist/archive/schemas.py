"""The shapes of interactions on the wire (CONTRACT §6), validated before anything is written."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, model_validator

from archivist.archive.models import Channel, Direction, Sender
from archivist.identifiers import EMAIL_HINT, read_customer
from archivist.nul import NUL_MESSAGE, has_nul
from archivist.times import ArchiveTime

MAX_VARIABLES = 200
MAX_MESSAGES = 5_000
MAX_EVENTS = 1_000
# A transcript (CONTRACT §17): segments of a call of at most a day, each at most a message long.
MAX_SEGMENTS = 20_000
MAX_SEGMENT_TEXT = 100_000
MAX_OFFSET_MS = 24 * 60 * 60 * 1000
# The longest decoded text of an email that arrived as MIME: its whole 25 MiB (CONTRACT §15).
MAX_EMAIL_TEXT = 25 * 1024 * 1024

_NAME_MAX = 200
Short = Annotated[str, StringConstraints(max_length=_NAME_MAX)]
VariableName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
VariableValue = Annotated[str, StringConstraints(max_length=4_000)]


# The validation context key an importer sets to a Counter: a customer email that is not an
# address in any accepted form is then dropped and counted there, not refused (CONTRACT §16).
IMPORT_SKIPPED = "import_skipped"
UNREADABLE_EMAIL = "unreadable_email"


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    name: Short | None = None

    @model_validator(mode="after")
    def _platform_forms(self, info: ValidationInfo) -> Self:
        # Identifiers at the edge (CONTRACT §16): `tel:`/`sip:`/`whatsapp:` numbers and
        # `Name <addr>`/`mailto:` addresses are read once, here, for the API and every importer.
        read = read_customer(self.phone, self.email, self.name)
        if read.email_unreadable:
            skipped = (info.context or {}).get(IMPORT_SKIPPED)
            if skipped is None:
                raise ValueError(f"customer.email: {EMAIL_HINT}")
            skipped[UNREADABLE_EMAIL] += 1
        self.phone, self.email = read.phone, read.email
        self.name = read.name[:_NAME_MAX] if read.name else read.name
        return self


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    at: ArchiveTime
    sender: Sender = Field(alias="from")
    text: Annotated[str, StringConstraints(max_length=100_000)]


Offset = Annotated[int, Field(strict=True, ge=0, le=MAX_OFFSET_MS)]


class SegmentIn(BaseModel):
    """A transcript segment: [begin_ms, end_ms) from the start of the recording, who spoke, what."""

    model_config = ConfigDict(extra="forbid")

    begin_ms: Offset
    end_ms: Offset
    speaker: Sender
    text: Annotated[str, StringConstraints(max_length=MAX_SEGMENT_TEXT)]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end_ms < self.begin_ms:
            raise ValueError("end_ms must not be before begin_ms")
        return self


class SegmentOut(BaseModel):
    begin_ms: int
    end_ms: int
    speaker: Sender
    text: str


class TranscriptContentOut(BaseModel):
    transcript: list[SegmentOut]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: ArchiveTime
    type: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    queue: Short | None = None
    agent: Short | None = None
    # Infinity and NaN are valid to Python's JSON reader, but no duration (and null in JSON out).
    duration_s: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)] | None = None


class InteractionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    direction: Direction
    started_at: ArchiveTime
    ended_at: ArchiveTime | None = None
    queue: Short | None = None
    agent: Short | None = None
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    customer: CustomerIn = Field(default_factory=CustomerIn)
    service_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    subject: Annotated[str, StringConstraints(max_length=998)] | None = None
    variables: Annotated[dict[VariableName, VariableValue], Field(max_length=MAX_VARIABLES)] = Field(
        default_factory=dict
    )
    messages: Annotated[list[MessageIn], Field(max_length=MAX_MESSAGES)] | None = None
    body: Annotated[str, StringConstraints(max_length=2_000_000)] | None = None
    events: Annotated[list[EventIn], Field(max_length=MAX_EVENTS)] = Field(default_factory=list)
    transcript: Annotated[list[SegmentIn], Field(max_length=MAX_SEGMENTS)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        # The web refuses NUL for every request; this covers the other way in, `archivist import`.
        if has_nul(data):
            raise ValueError(NUL_MESSAGE)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at must not be before started_at")
        if self.messages is not None and self.channel is not Channel.CHAT:
            raise ValueError("messages (a chat log) are only allowed on a chat")
        if self.body is not None and self.channel is not Channel.EMAIL:
            raise ValueError("body is only allowed on an email")
        if self.transcript is not None and self.channel is not Channel.CALL:
            raise ValueError("transcript is only allowed on a call")
        return self


class CustomerOut(BaseModel):
    phone: str | None
    email: str | None
    name: str | None


class InteractionOut(BaseModel):
    id: str
    external_id: str | None
    channel: Channel
    direction: Direction
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    queue: str | None
    agent: str | None
    customer: CustomerOut
    service_number: str | None
    subject: str | None
    variables: dict[str, Any]
    has_recording: bool
    has_content: bool
    anonymized: bool
    anonymized_at: datetime | None


class BatchOut(BaseModel):
    ids: list[str]


class MessageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    at: datetime
    sender: Sender = Field(serialization_alias="from")
    text: str


class ChatContentOut(BaseModel):
    messages: list[MessageOut]


class EmailHeadersOut(BaseModel):
    """An email's address headers, each one decoded string (addresses joined by ", "); None when absent."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    cc: str | None = None
    reply_to: str | None = None


class AttachmentOut(BaseModel):
    index: int
    filename: str
    content_type: str
    size: int
    sha256: str


class EmailContentOut(BaseModel):
    subject: str | None
    body: str
    # The HTML part, sanitised (CONTRACT §15); None for a message without one, or posted as JSON.
    html: str | None = None
    headers: EmailHeadersOut = Field(default_factory=EmailHeadersOut)
    attachments: list[AttachmentOut] = Field(default_factory=list)


class AttachmentIn(BaseModel):
    """An attachment already written to the blob store, as ``importers.mail`` hands it to ingestion."""

    model_config = ConfigDict(extra="forbid")

    index: int
    filename: str
    content_type: str
    size: int
    sha256: str
    blob_key: str
    # What its text writes (text parts, PDF text), read for the mention index only, never stored.
    text: str | None = None


class EmailIn(InteractionIn):
    """An email that arrived as MIME (CONTRACT §15), decoded: an interaction with its HTML, headers
    and attachments. Made by ``importers.mail`` from a parsed message, never from JSON."""

    # A whole decoded message may exceed the JSON body's bound; the 25 MiB message bound holds it.
    body: Annotated[str, StringConstraints(max_length=MAX_EMAIL_TEXT)] | None = None
    html: Annotated[str, StringConstraints(max_length=MAX_EMAIL_TEXT)] | None = None
    headers: dict[str, str | None] = Field(default_factory=dict)
    attachments: list[AttachmentIn] = Field(default_factory=list)

    def indexed_texts(self) -> list[str]:
        """Its texts besides the subject and body, for the mention index: the HTML and the headers."""
        return [text for text in (self.html, *self.headers.values()) if text]
