"""What a night reports (counts only, never an identifier) and what makes its erasures provable."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from archivist.anonymize.erasure import Erased
from archivist.anonymize.ledger import Ledger
from archivist.anonymize.processing import RequestResult
from archivist.anonymize.receipts import Signer
from archivist.config import Settings


class RunTrigger(enum.StrEnum):
    SCHEDULER = "scheduler"
    CLI = "cli"
    API = "api"


@dataclass(kw_only=True)
class RunSummary(Erased):
    """One solution's run: counts only, never an identifier. What its requests erased is
    ``Erased``'s counts, summed (``add``)."""

    solution_id: str
    run_id: str
    trigger: str
    as_of: datetime
    requests_processed: int = 0
    # Claimed by another runner at the same time (it does the work).
    requests_skipped: int = 0
    # Failed and rolled back: still waiting, retried by the next run.
    requests_failed: int = 0
    # False while the mention index was built by an older scanner: mentions in other people's
    # text written in forms only the current scanner reads may not be found until
    # `archivist reindex-mentions` has run. The person's own interactions are always complete.
    mention_index_current: bool = True
    requests_purged: int = 0
    blobs_deleted: int = 0
    duration_s: float = 0.0
    failed_request_ids: list[str] = field(default_factory=list)
    # What the storage step did after the commits (CONTRACT §11); empty if nothing was erased.
    storage: dict[str, Any] = field(default_factory=dict)
    receipts_issued: int = 0
    # Requests processed but kept "held" by a legal hold, and holds whose `until` passed.
    requests_held: int = 0
    holds_released: int = 0
    # Per retention rule: {rule_id, what, deleted} (CONTRACT §10).
    retention: list[dict[str, Any]] = field(default_factory=list)
    # Stopped between requests (shutdown, or the lease was taken over): the rest waits for the next runner.
    stopped: bool = False

    def add(self, result: RequestResult) -> None:
        self.requests_processed += 1
        self.requests_held += 1 if result.held else 0
        self.add_erased(result)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data

    def describe(self) -> str:
        return (
            f"nightly run for solution {self.solution_id} as of {self.as_of.isoformat()}: "
            f"{self.requests_processed} requests processed ({self.requests_skipped} taken by another run, "
            f"{self.requests_failed} failed), {self.interactions} interactions anonymized, "
            f"{self.raw_data_rows} raw data rows, {self.recordings_deleted} recordings and "
            f"{self.content_deleted} chat logs/emails deleted, {self.variables_replaced} variable values replaced, "
            f"{self.mentions_replaced} mentions in text replaced, "
            f"{self.audio_segments_silenced} spoken segments silenced, "
            f"{self.attachments_deleted} email attachments deleted, "
            f"{self.requests_held} of them held by a legal hold, {self.holds_released} holds ended, "
            + "".join(f"retention rule {r['rule_id']} deleted {r['deleted']} ({r['what']}), " for r in self.retention)
            + f"{self.requests_purged} old request rows deleted, {self.blobs_deleted} blobs removed, "
            f"{self.receipts_issued} receipts signed, {self.duration_s:.2f}s"
            + (
                ""
                if self.mention_index_current
                else "; the mention index is out of date: run archivist reindex-mentions"
            )
        )


@dataclass(frozen=True)
class ErasureProof:
    """What makes an erasure provable: the receipt signer and the ledger (CONTRACT §11)."""

    signer: Signer
    ledger: Ledger
    # PostgreSQL: VACUUM FULL rather than VACUUM after a run (ARCHIVIST_POSTGRES_VACUUM_FULL).
    vacuum_full: bool = False
    # PostgreSQL: the storage step's wait for older transactions (ARCHIVIST_STORAGE_WAIT_S).
    storage_wait_s: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ErasureProof:
        return cls(
            Signer.from_settings(settings),
            Ledger.from_settings(settings),
            settings.postgres_vacuum_full,
            settings.storage_wait_s,
        )
