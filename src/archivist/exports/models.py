"""Subject access exports (CONTRACT §12): a person's data handed to them, GDPR Art. 15."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from archivist.db import Base, UTCDateTime, new_id, utcnow
from archivist.enums import enum_column


class ExportStatus(enum.StrEnum):
    READY = "ready"
    EXPIRED = "expired"
    # An erasure forgot an identifier the export was made for (CONTRACT §18): gone, like expired.
    ERASED = "erased"


class SubjectExport(Base):
    """One export: whose data (encrypted, until it expires), what it held, who made it.

    ``criteria`` is the person's normalised identifiers sealed with a key derived from the
    server secret (``access.criteria``), so that the download can be made later without the
    identifiers being readable in the database, a backup or a URL. At expiry the sealed
    criteria and the masked forms are deleted; the row keeps only counts and who and when.
    """

    __tablename__ = "subject_exports"
    __table_args__ = (
        Index("ix_subject_exports_created", "solution_id", "created_at", "id"),
        Index("ix_subject_exports_expiry", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    status: Mapped[ExportStatus] = mapped_column(enum_column(ExportStatus, 10), default=ExportStatus.READY)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Interactions that started before this instant are in the export (its creation time).
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime())
    criteria: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The mention-index keys of the criteria's identifiers (keyed hashes, never the values): what
    # an erasure matches to purge the export (``access.purge``). Deleted with the criteria.
    keys: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    phone_masked: Mapped[str | None] = mapped_column(String(40))
    email_masked: Mapped[str | None] = mapped_column(String(40))
    # {calls, chats, emails, recordings, raw_data_rows, mentions}: counts only.
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    last_downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
