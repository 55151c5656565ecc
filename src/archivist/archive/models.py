"""The archive: interactions (calls, chats, emails), their content, recordings and raw data.

Customer identifiers are stored twice: as they came (what is shown) and normalised
(E.164 / lower-case email, what is matched), so that search and anonymisation are index
lookups and never a scan.
"""

from __future__ import annotations

import enum
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from archivist.db import Base, BigIntId, UTCDateTime, new_id, utcnow
from archivist.enums import enum_column


class Channel(enum.StrEnum):
    CALL = "call"
    CHAT = "chat"
    EMAIL = "email"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Sender(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


def fold_label(value: str | None) -> str | None:
    """The search key of a queue or agent name: trimmed, NFKC, casefolded; None when blank.

    What the *Queue* and *Agent* filters match, so that ``support`` finds ``Support`` through
    an index on the key; the name itself is kept as it came, for display.
    """
    if value is None or not value.strip():
        return None
    return unicodedata.normalize("NFKC", value.strip()).casefold()


def _folded(column: str) -> Any:
    # For rows made through the ORM (ingestion writes the keys itself, by COPY or executemany).
    def default(context: DefaultExecutionContext) -> str | None:
        parameters = context.get_current_parameters()  # type: ignore[no-untyped-call]
        return fold_label(parameters.get(column))

    return default


def kept_indexes() -> list[Index]:
    """The partial indexes of the interactions that still have a recording or content (migration 0023)."""
    return [
        Index(
            f"ix_interactions_{what}_kept{suffix}",
            "solution_id",
            *by,
            "started_at",
            "id",
            postgresql_where=text(f"{flag} IS true"),
            sqlite_where=text(f"{flag} IS 1"),
        )
        for what, flag in KEPT_FLAGS
        for suffix, by in (("", ()), ("_by_channel", ("channel",)), ("_by_queue", ("queue_key",)))
    ]


KEPT_FLAGS = (("recording", "has_recording"), ("content", "has_content"))


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("solution_id", "external_id", name="uq_interactions_external_id"),
        Index("ix_interactions_time", "solution_id", "started_at", "id"),
        Index("ix_interactions_phone", "solution_id", "customer_phone_e164", "started_at", "id"),
        Index("ix_interactions_email", "solution_id", "customer_email_norm", "started_at", "id"),
        Index("ix_interactions_queue_key", "solution_id", "queue_key", "started_at", "id"),
        Index("ix_interactions_agent_key", "solution_id", "agent_key", "started_at", "id"),
        # What a recording or content retention rule can still delete, in the order it pages
        # (retention.rules): an interaction leaves these indexes when it loses its recording or
        # content, so a night's pass reads what is there to delete, not every interaction the
        # rules have emptied on earlier nights. One per shape of rule (every channel, a channel,
        # a queue), so that a rule for one queue does not read the other queues' recordings,
        # kept by no rule. The predicate is written as the pass writes its condition, which is
        # what lets each database's planner use the index.
        *kept_indexes(),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, 10))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, 10))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    queue: Mapped[str | None] = mapped_column(String(200))
    agent: Mapped[str | None] = mapped_column(String(200))
    # fold_label(queue) and fold_label(agent): what the filters match (case-insensitively).
    queue_key: Mapped[str | None] = mapped_column(String(600), default=_folded("queue"))
    agent_key: Mapped[str | None] = mapped_column(String(600), default=_folded("agent"))
    customer_phone: Mapped[str | None] = mapped_column(String(64))
    customer_phone_e164: Mapped[str | None] = mapped_column(String(20))
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_email_norm: Mapped[str | None] = mapped_column(String(320))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    service_number: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(998))
    variables: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    has_recording: Mapped[bool] = mapped_column(Boolean, default=False)
    has_content: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the platform last changed the record it was imported from: a re-delivery replaces the
    # stored fields only if it is newer (CONTRACT §16). None for what came without one (the API).
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Rows that belong to an interaction (chat messages, email bodies, raw data, mentions) carry
# its solution_id for tenant filtering without a join, but no key to solutions: the key to
# the interaction ties them to a solution already, and a second check per row made bulk
# ingestion on PostgreSQL twice as slow (migration 0004).


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_interaction", "interaction_id", "seq"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    solution_id: Mapped[str] = mapped_column(String(32))
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    sender: Mapped[Sender] = mapped_column(enum_column(Sender, 10))
    text: Mapped[str] = mapped_column(Text)


class TranscriptSegment(Base):
    """One segment of a call's transcript (CONTRACT §17): who spoke, what, and when in the recording.

    The times say where in the audio the text was spoken, so that erasure can silence exactly the
    segments in which it replaced a person's identifier.
    """

    __tablename__ = "transcript_segments"
    __table_args__ = (Index("ix_transcript_segments_interaction", "interaction_id", "seq"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    solution_id: Mapped[str] = mapped_column(String(32))
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    # Milliseconds from the start of the recording; the segment is [begin_ms, end_ms).
    begin_ms: Mapped[int] = mapped_column(BigIntId)
    end_ms: Mapped[int] = mapped_column(BigIntId)
    speaker: Mapped[Sender] = mapped_column(enum_column(Sender, 10))
    text: Mapped[str] = mapped_column(Text)


class EmailBody(Base):
    __tablename__ = "email_bodies"

    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True)
    solution_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    # A message that arrived as MIME (CONTRACT §15): its HTML part, sanitised, and its decoded
    # address headers {"from", "to", "cc", "reply_to"}; None for an email posted as JSON.
    html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # The mention index keys of what its body, HTML and headers write (sorted; [] for nothing),
    # so that an erasure re-reads only the emails that write the person, not every text of every
    # interaction the index names; None (kept before migration 0017): read it.
    mention_keys: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))


class EmailAttachment(Base):
    """An attachment of an email (CONTRACT §15): metadata here, the bytes in the blob store.

    ``mention_keys`` are the mention index's keys of the identifiers its text writes (text parts,
    PDF text), so erasure knows which attachments write a person's number or address without
    reading the files again — and deletes those, since a file cannot be rewritten faithfully.
    """

    __tablename__ = "email_attachments"

    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    solution_id: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigIntId)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(300))
    # index key -> kind ("phone"/"email") of each identifier its text writes; None when it writes none.
    mention_keys: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))


class Recording(Base):
    """Metadata of a recording; the audio itself lives in the blob store under ``blob_key``."""

    __tablename__ = "recordings"

    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    blob_key: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigIntId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Where a WAV's samples are (``audio.WavLayout``), read from its header as it was stored, so
    # that silencing needs no read of the blob; None: not a WAV we can silence, or not read then.
    wav_layout: Mapped[dict[str, int] | None] = mapped_column(JSON)


class RawEvent(Base):
    """A statistics raw data row. Anonymisation rewrites its customer, never deletes it."""

    __tablename__ = "raw_events"
    __table_args__ = (
        Index("ix_raw_events_time", "solution_id", "at", "id"),
        # With "at", the request lookup (customer before the cutoff) is one index range; without
        # it SQLite preferred the time index and scanned every raw row before the cutoff.
        Index("ix_raw_events_customer", "solution_id", "customer_norm", "at"),
        Index("ix_raw_events_interaction", "interaction_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    solution_id: Mapped[str] = mapped_column(String(32))
    interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    type: Mapped[str] = mapped_column(String(40))
    queue: Mapped[str | None] = mapped_column(String(200))
    agent: Mapped[str | None] = mapped_column(String(200))
    customer: Mapped[str | None] = mapped_column(String(320))
    customer_norm: Mapped[str | None] = mapped_column(String(320))
    duration_s: Mapped[float | None] = mapped_column(Float)


class MentionKind(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"


class Mention(Base):
    """An identifier of an interaction: its customer's, or one written in its text (chat, email, subject, variables).

    ``key`` is an HMAC of the normalised identifier under a per-solution key derived from
    the server secret: the index finds the interactions to re-read for a request without
    holding the identifier, and without a plain hash anyone could reverse by trying every
    phone number.
    """

    __tablename__ = "mentions"
    __table_args__ = (
        Index("ix_mentions_key", "solution_id", "key"),
        Index("ix_mentions_interaction", "interaction_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    solution_id: Mapped[str] = mapped_column(String(32))
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[MentionKind] = mapped_column(enum_column(MentionKind, 5))


class ErasedIdentifier(Base):
    """An identifier an anonymized interaction lost, as the mention index keys it (never the value).

    Erasure clears the customer's phone and email, so without these rows a later request for the
    same person (by their other identifier, to delete content, for raw data) or the replay of a
    done request after a backup is restored could no longer find the interaction.
    """

    __tablename__ = "erased_identifiers"
    __table_args__ = (
        Index("ix_erased_identifiers_key", "solution_id", "key"),
        UniqueConstraint("interaction_id", "key", name="uq_erased_identifiers_interaction_key"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    solution_id: Mapped[str] = mapped_column(String(32))
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))


class PendingBlobDeletion(Base):
    """A blob that must go: written in the same transaction that stops pointing at it.

    The deletion itself happens after commit and is retried until it succeeds, so a crash
    between the database and the blob store never leaves audio behind. Uploads register
    their key here first (with ``not_before`` in the future) and remove the row when the
    recording row is committed, so an upload that dies half-way is cleaned up too.
    """

    __tablename__ = "pending_blob_deletions"
    __table_args__ = (Index("ix_pending_blob_deletions_due", "not_before"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    blob_key: Mapped[str] = mapped_column(String(300))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PendingBlobFill(Base):
    """Bytes of a blob to overwrite (digital silence over spoken identifiers), written in the
    transaction of the erasure that decided it.

    The fill happens after commit, in place where the store can, and is retried until it
    succeeds; filling is idempotent, so a fill cut off by a crash is simply done again. ``spans``
    are byte offsets (``[[start, stop], ...]``, sorted, disjoint), never anything personal.
    """

    __tablename__ = "pending_blob_fills"
    __table_args__ = (
        Index("ix_pending_blob_fills_due", "not_before"),
        # A recording is read with its pending fills applied (``recordings.read_recording``).
        Index("ix_pending_blob_fills_key", "blob_key"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    blob_key: Mapped[str] = mapped_column(String(300))
    spans: Mapped[list[list[int]]] = mapped_column(JSON)
    fill_byte: Mapped[int] = mapped_column(Integer)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
