"""Every table is either rewritten by PostgreSQL's storage step or says why it holds nothing erasure replaces.

The storage step (``freed_space.py``) vacuums only ``db.ERASED_TABLES``: a table erasure writes to
that is missing there keeps the erased text in its dead row versions, readable from the relation
files, while the receipt says the step ran. That happened to ``transcript_segments`` (CONTRACT §17) and to
``legal_holds`` (a released hold clears the person it named):
a new table must be placed on one side or the other here before it can land.
"""

from __future__ import annotations

import archivist.models  # noqa: F401 - every model registered on the metadata
from archivist.db import ERASED_TABLES, Base

# Tables erasure never writes a person's identifier into, each with the reason.
HOLDS_NO_ERASED_TEXT = {
    "api_tokens": "token hashes and names staff gave them",
    "audit_events": "masked identifiers only (CONTRACT §8)",
    "audit_spool_marks": "spool file names",
    "erased_identifiers": "keyed hashes",
    "erasure_receipts": "counts and masked identifiers",
    "ledger_keys": "keyed hashes",
    "legal_hold_interactions": "ids",
    "login_failures": "user names tried at login, not archived people",
    "nightly_leases": "ids and times",
    "nightly_runs": "counts and ids",
    "pending_blob_deletions": "blob keys (ids)",
    "pending_blob_fills": "byte offsets",
    "retention_rules": "rule settings",
    "solutions": "settings",
    "storage_steps": "table names and counts",
    "users": "staff accounts",
    "web_sessions": "session ids",
}


def test_every_table_is_erased_by_the_storage_step_or_says_why_not() -> None:
    tables = set(Base.metadata.tables)
    assert set(ERASED_TABLES) | set(HOLDS_NO_ERASED_TEXT) == tables
    assert not set(ERASED_TABLES) & set(HOLDS_NO_ERASED_TEXT)


def test_the_content_tables_are_erased() -> None:
    # What an interaction says, in every form it arrives (chat, email, transcript, attachment names).
    assert {"chat_messages", "email_bodies", "email_attachments", "transcript_segments"} <= set(ERASED_TABLES)
