"""Retention rules and legal holds on the wire (CONTRACT §10)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from archivist.archive.models import Channel
from archivist.retention.holds import MAX_HOLD_IDS, MAX_REASON
from archivist.retention.models import LegalHold, RetentionRule, RetentionWhat
from archivist.retention.rules import MAX_KEEP_DAYS
from archivist.times import ArchiveDate, ArchiveTime


class RetentionRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel | None = None
    queue: Annotated[str, StringConstraints(max_length=200)] | None = None
    what: RetentionWhat
    keep_days: Annotated[StrictInt, Field(ge=1, le=MAX_KEEP_DAYS)]


class RetentionRuleOut(BaseModel):
    id: str
    channel: Channel | None
    queue: str | None
    what: RetentionWhat
    keep_days: int
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, rule: RetentionRule) -> RetentionRuleOut:
        return cls(
            id=rule.id,
            channel=rule.channel,
            queue=rule.queue,
            what=rule.what,
            keep_days=rule.keep_days,
            created_at=rule.created_at.astimezone(UTC),
            created_by=rule.created_by,
        )


class RetentionPreviewOut(BaseModel):
    """What a rule would delete if the run were now."""

    recording: int
    content: int
    interaction: int
    raw_data: int


class LegalHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    reason: Annotated[str, StringConstraints(min_length=1, max_length=MAX_REASON)]
    # Within the archive's time range (times.py), like every time that comes in.
    until: Annotated[ArchiveDate, Field(ge=date(1970, 1, 1), lt=date(2100, 1, 1))] | None = None
    interaction_ids: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=32)]], Field(max_length=MAX_HOLD_IDS)
    ] = []
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    queue: Annotated[str, StringConstraints(max_length=200)] | None = None
    from_: Annotated[ArchiveTime | None, Field(alias="from")] = None
    to: ArchiveTime | None = None


class LegalHoldOut(BaseModel):
    """A hold as the API shows it: masked identifiers, never the person's number or address."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    reason: str
    until: date | None
    created_at: datetime
    created_by: str
    # How many interactions it covered when it was placed.
    interactions: int
    interaction_ids: list[str] | None = None
    phone: str | None
    email: str | None
    queue: str | None
    from_: Annotated[datetime | None, Field(serialization_alias="from")]
    to: datetime | None
    active: bool
    released_at: datetime | None
    released_by: str | None

    @classmethod
    def of(cls, hold: LegalHold, interaction_ids: list[str] | None = None) -> LegalHoldOut:
        return cls(
            id=hold.id,
            reason=hold.reason,
            until=hold.until,
            created_at=hold.created_at.astimezone(UTC),
            created_by=hold.created_by,
            interactions=hold.interactions,
            interaction_ids=interaction_ids,
            phone=hold.phone_masked,
            email=hold.email_masked,
            queue=hold.queue,
            from_=hold.from_at.astimezone(UTC) if hold.from_at else None,
            to=hold.to_at.astimezone(UTC) if hold.to_at else None,
            active=hold.released_at is None,
            released_at=hold.released_at.astimezone(UTC) if hold.released_at else None,
            released_by=hold.released_by,
        )
