"""The shapes of nightly runs on the wire (CONTRACT §6, §19)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from archivist.nightly.runs import RunStatus, RunView


class NightlyRunOut(BaseModel):
    solution_id: str
    run_id: str
    trigger: str
    as_of: datetime
    requests_processed: int
    requests_skipped: int
    requests_failed: int
    interactions: int
    raw_data_rows: int
    recordings_deleted: int
    content_deleted: int
    variables_replaced: int
    mentions_replaced: int
    audio_segments_silenced: int = 0
    attachments_deleted: int = 0
    requests_purged: int
    blobs_deleted: int
    duration_s: float
    failed_request_ids: list[str] = Field(default_factory=list)
    # False while the mention index is an older scanner's: run `archivist reindex-mentions`.
    mention_index_current: bool = True
    # What the storage step did after the commits (CONTRACT §11); empty if nothing was erased.
    storage: dict[str, object] = Field(default_factory=dict)
    receipts_issued: int = 0
    # Processed but kept "held" by a legal hold; holds released because their `until` passed.
    requests_held: int = 0
    holds_released: int = 0
    # Per retention rule: what it deleted (CONTRACT §10).
    retention: list[dict[str, object]] = Field(default_factory=list)


class NightlyRunRecord(BaseModel):
    """One nightly run as listed (CONTRACT §19): when, why, how it ended, and its counts."""

    id: str
    solution_id: str
    as_of: datetime
    started_at: datetime
    finished_at: datetime | None
    trigger: str
    status: RunStatus
    summary: dict[str, object] | None

    @classmethod
    def of(cls, view: RunView) -> NightlyRunRecord:
        return cls(
            id=view.id,
            solution_id=view.solution_id,
            as_of=view.as_of.astimezone(UTC),
            started_at=view.started_at.astimezone(UTC),
            finished_at=view.finished_at.astimezone(UTC) if view.finished_at else None,
            trigger=view.trigger,
            status=view.status,
            summary=view.summary,
        )


class NightlyRunPage(BaseModel):
    items: list[NightlyRunRecord]
    next_cursor: str | None
