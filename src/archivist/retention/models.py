"""Retention rules (what goes by itself after ``keep_days``) and legal holds (what must stay)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archivist.archive.models import Channel
from archivist.db import Base, UTCDateTime, new_id, utcnow
from archivist.enums import enum_column


class RetentionWhat(enum.StrEnum):
    """What a rule deletes (CONTRACT §10)."""

    RECORDING = "recording"
    CONTENT = "content"
    # The whole interaction with its recording and content; its raw data rows stay, customer replaced.
    INTERACTION = "interaction"
    RAW_DATA = "raw_data"


class RetentionRule(Base):
    """Delete ``what`` of interactions (of ``channel`` and/or ``queue``) that started more than ``keep_days`` ago.

    No two rules of a solution share channel, queue and what: for one interaction and one
    ``what`` the most specific rule decides, so a tie would have no answer.
    """

    __tablename__ = "retention_rules"
    __table_args__ = (Index("ix_retention_rules_solution", "solution_id", "what"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel, 10))
    queue: Mapped[str | None] = mapped_column(String(200))
    what: Mapped[RetentionWhat] = mapped_column(enum_column(RetentionWhat, 20))
    keep_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class LegalHold(Base):
    """Interactions that must stay as they are (a legal claim, a regulator's order).

    A hold names interaction ids (``legal_hold_interactions``), a person (their normalised
    phone and/or address: a hold on a person must be able to recognise them, like a waiting
    request; released, only the masked forms remain), or a queue, each within ``from_at`` /
    ``to_at`` if given. Active while ``released_at`` is empty; ``until`` (a local date,
    inclusive) is when the nightly run releases it by itself.
    """

    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_active", "solution_id", "released_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[date | None] = mapped_column(Date)
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    email_norm: Mapped[str | None] = mapped_column(String(320))
    phone_masked: Mapped[str | None] = mapped_column(String(40))
    email_masked: Mapped[str | None] = mapped_column(String(40))
    queue: Mapped[str | None] = mapped_column(String(200))
    from_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    to_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How many interactions it covered when it was placed (later ones within from/to join it).
    interactions: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[str | None] = mapped_column(String(100))


class LegalHoldInteraction(Base):
    """An interaction a hold names by id."""

    __tablename__ = "legal_hold_interactions"
    __table_args__ = (Index("ix_legal_hold_interactions_interaction", "interaction_id"),)

    hold_id: Mapped[str] = mapped_column(ForeignKey("legal_holds.id", ondelete="CASCADE"), primary_key=True)
    solution_id: Mapped[str] = mapped_column(String(32))
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True)
