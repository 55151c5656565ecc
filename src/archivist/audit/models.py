"""The audit trail: who did what and when, with ids and masked identifiers only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from archivist.db import Base, BigIntId, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_time", "solution_id", "at", "id"),
        Index("ix_audit_events_chain", "solution_id", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Hash chain per solution, in ``seq`` order: each entry's hash covers its content and the
    # previous hash, so an edited or deleted entry breaks the chain. A read's entry is written
    # without a place (``seq``, ``prev_hash`` NULL, ``hash`` empty) and takes no lock; the next
    # chaining (a background pass of every server, any write's entry, the nightly purge,
    # ``audit verify``) gives it one. Not ``id`` order: on PostgreSQL ids are handed out before
    # commit, so an entry with a lower id can become visible after a higher one was chained.
    seq: Mapped[int | None] = mapped_column(BigIntId)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditSpoolMark(Base):
    """A spool file of reads' entries (``audit.spool``) whose entries are in ``audit_events``:
    one row for each solution with entries in the file (every table is keyed by solution).

    Written in the transaction that inserts the file's entries, so a file is moved once even
    when its mover dies between that commit and removing the file: the next mover finds the
    mark and only removes the file. Deleted again right after the file is removed.
    """

    __tablename__ = "audit_spool_marks"

    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
