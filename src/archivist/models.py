"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from archivist.accounts.models import ApiToken, LoginFailure, Solution, User, WebSession
from archivist.anonymize.models import AnonymizationRequest, ErasureReceipt, LedgerKey
from archivist.archive.models import (
    ChatMessage,
    EmailAttachment,
    EmailBody,
    ErasedIdentifier,
    Interaction,
    Mention,
    PendingBlobDeletion,
    PendingBlobFill,
    RawEvent,
    Recording,
    TranscriptSegment,
)
from archivist.audit.models import AuditEvent, AuditSpoolMark
from archivist.db import Base
from archivist.exports.models import SubjectExport
from archivist.nightly.models import NightlyLease, NightlyRun
from archivist.retention.models import LegalHold, LegalHoldInteraction, RetentionRule

__all__ = [
    "AnonymizationRequest",
    "ApiToken",
    "AuditEvent",
    "AuditSpoolMark",
    "Base",
    "ChatMessage",
    "EmailAttachment",
    "EmailBody",
    "ErasedIdentifier",
    "ErasureReceipt",
    "Interaction",
    "LedgerKey",
    "LegalHold",
    "LegalHoldInteraction",
    "LoginFailure",
    "Mention",
    "NightlyLease",
    "NightlyRun",
    "PendingBlobDeletion",
    "PendingBlobFill",
    "RawEvent",
    "Recording",
    "RetentionRule",
    "Solution",
    "SubjectExport",
    "TranscriptSegment",
    "User",
    "WebSession",
]
