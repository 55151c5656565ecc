"""Anonymization requests (the rows of *Archive - Anonymize*), their receipts and the ledger keys."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archivist.db import Base, BigIntId, UTCDateTime, new_id, utcnow
from archivist.enums import enum_column


class RequestStatus(enum.StrEnum):
    WAITING = "waiting"
    # Processed for everything a legal hold does not cover; finished the night after the last
    # hold is released (CONTRACT §10). Its identifiers are kept until then, and the row too.
    HELD = "held"
    DONE = "done"


class AnonymizationRequest(Base):
    """A person to forget. Waiting until the coming night, then done and masked.

    While waiting the normalised identifiers are kept (the run needs them); once done only
    the masked forms remain, so the table itself no longer holds the person's identity.
    """

    __tablename__ = "anonymization_requests"
    __table_args__ = (
        Index("ix_anonymization_requests_status", "solution_id", "status", "created_at"),
        Index("ix_anonymization_requests_created", "solution_id", "created_at", "id"),
        # Entering a person looks for a waiting request with their phone or address; a bulk
        # upload leaves thousands waiting, and without these each look-up scanned them all
        # (migration 0008).
        Index("ix_anonymization_requests_phone", "solution_id", "phone_e164"),
        Index("ix_anonymization_requests_email", "solution_id", "email_norm"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus), default=RequestStatus.WAITING)
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    email_norm: Mapped[str | None] = mapped_column(String(320))
    phone_masked: Mapped[str | None] = mapped_column(String(40))
    email_masked: Mapped[str | None] = mapped_column(String(40))
    raw_data: Mapped[bool] = mapped_column(Boolean, default=False)
    delete_content: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    # End of the local calendar day of entry: interactions that start later are left alone.
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Further identifiers of the same person, normalised ({"phones": [...], "emails": [...],
    # "variables": [{"name", "value"}]}); like phone_e164/email_norm, forgotten when done.
    also: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # {"phones": [...], "emails": [...]}: every identifier it erased (its own and ``also``'s),
    # masked, written when processed; what its receipt lists once the full ones are forgotten.
    erased_masked: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class LedgerKey(Base):
    """A keyed hash of an identifier a done request erased, with that erasure's cutoff and options.

    The database's copy of the erasure ledger (CONTRACT §11), for the check every write makes
    (§16: a record of a person erased before is stored already erased): one indexed look-up per
    batch, where the ledger itself is a folder of files. Written with the ledger entry, in the
    request's transaction; kept after the request row's purge, as the ledger is; and refilled
    from the ledger by ``anonymize.replay.sync_ledger_keys`` (a replay, every import), so a
    restored database holds it again. The officer's look-up of a person's done requests
    (CONTRACT §19, ``requests.requests_of``) and an export's "anonymized" count read it too.
    """

    __tablename__ = "ledger_keys"
    __table_args__ = (
        Index("ix_ledger_keys_key", "solution_id", "key"),
        UniqueConstraint("request_id", "key", name="uq_ledger_keys_request_key"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    solution_id: Mapped[str] = mapped_column(String(32))
    # No key to the request: the request row is purged after 12 months, the ledger is not.
    request_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime())
    raw_data: Mapped[bool] = mapped_column(Boolean)
    delete_content: Mapped[bool] = mapped_column(Boolean)


class ErasureReceipt(Base):
    """The signed receipt of a done request (CONTRACT §11); kept after the request row is purged.

    ``document`` is exactly what the receipt endpoint returns: the receipt, the key id and the
    signature. It holds masked identifiers and counts only.
    """

    __tablename__ = "erasure_receipts"
    __table_args__ = (Index("ix_erasure_receipts_processed", "solution_id", "processed_at", "request_id"),)

    # No key to the request: the request row is purged after 12 months, its receipt is not.
    request_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
