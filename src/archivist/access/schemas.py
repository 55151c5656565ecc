"""The shapes of subject access exports on the wire (CONTRACT §12)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from archivist.access.export import status_at
from archivist.exports.models import ExportStatus, SubjectExport


class SubjectExportIn(BaseModel):
    """Whose data: at least one of phone / email, in any accepted form (checked by the service)."""

    model_config = ConfigDict(extra="forbid")

    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None


class ExportCountsOut(BaseModel):
    calls: int
    chats: int
    emails: int
    recordings: int
    raw_data_rows: int


class AnonymizedOut(BaseModel):
    """How many of the person's interactions were anonymized before the export, and when last."""

    interactions: int
    last_at: datetime | None


class SubjectExportOut(BaseModel):
    id: str
    status: ExportStatus
    created_at: datetime
    expires_at: datetime
    created_by: str
    # Masked, and gone once the export has expired.
    phone: str | None
    email: str | None
    counts: ExportCountsOut
    # Other people's interactions that mention the person, listed in the ZIP as references only.
    mentioned_in: int
    # Interactions erasures already took from the person: neither listed nor counted above.
    anonymized: AnonymizedOut
    downloads: int
    last_downloaded_at: datetime | None

    @classmethod
    def of(cls, export: SubjectExport, now: datetime) -> SubjectExportOut:
        counts = export.counts or {}
        return cls(
            id=export.id,
            status=status_at(export, now),
            created_at=export.created_at,
            expires_at=export.expires_at,
            created_by=export.created_by,
            phone=export.phone_masked,
            email=export.email_masked,
            counts=ExportCountsOut(**{name: int(counts.get(name, 0)) for name in ExportCountsOut.model_fields}),
            mentioned_in=int(counts.get("mentioned_in", 0)),
            anonymized=AnonymizedOut.model_validate(counts.get("anonymized") or {"interactions": 0, "last_at": None}),
            downloads=export.downloads,
            last_downloaded_at=export.last_downloaded_at,
        )


class SubjectExportList(BaseModel):
    items: list[SubjectExportOut]
