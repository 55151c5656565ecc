"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from archivist.accounts.models import ApiToken, LoginFailure, Solution, User, WebSession
from archivist.anonymize.models import AnonymizationRequest, ErasureReceipt, NightlyRun
from archivist.archive.models import (
    ChatMessage,
    EmailBody,
    ErasedIdentifier,
    Interaction,
    Mention,
    PendingBlobDeletion,
    RawEvent,
    Recording,
)
from archivist.audit.models import AuditEvent
from archivist.db import Base

__all__ = [
    "AnonymizationRequest",
    "ApiToken",
    "AuditEvent",
    "Base",
    "ChatMessage",
    "EmailBody",
    "ErasedIdentifier",
    "ErasureReceipt",
    "Interaction",
    "LoginFailure",
    "Mention",
    "NightlyRun",
    "PendingBlobDeletion",
    "RawEvent",
    "Recording",
    "Solution",
    "User",
    "WebSession",
]
