"""The nightly job's own tables: the record of each run, each solution's lease, and the storage steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from archivist.db import Base, BigIntId, UTCDateTime, new_id, utcnow


class NightlyRun(Base):
    """One run of the nightly job for one solution, with its summary (counts only)."""

    __tablename__ = "nightly_runs"
    __table_args__ = (Index("ix_nightly_runs_solution", "solution_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    trigger: Mapped[str] = mapped_column(String(20))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class NightlyLease(Base):
    """Who runs a solution's nightly job (``holder`` until ``expires_at``), and its last scheduled night."""

    __tablename__ = "nightly_leases"

    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True)
    # host:pid:random of the runner, new for every take: the same process taking twice is two holders.
    holder: Mapped[str] = mapped_column(String(100))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The local date (ISO) of the last scheduled night a runner started, and when one finished it.
    night: Mapped[str | None] = mapped_column(String(10))
    night_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StorageStep(Base):
    """One PostgreSQL storage step (``freed_space.py``) and what it did: a night that reaches its own
    step while another runs, and finds one that started after its erasures committed, shares that
    one's result instead of vacuuming the same shared tables again. No tenant's data: table names
    and counts. Unused on SQLite."""

    __tablename__ = "storage_steps"
    __table_args__ = (Index("ix_storage_steps_started", "started_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    vacuum_full: Mapped[bool] = mapped_column(Boolean)
    tables: Mapped[list[str]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
