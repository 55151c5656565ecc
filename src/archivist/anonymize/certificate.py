"""A signed receipt in words (CONTRACT §19): what the certificate page prints for a person or a file.

The receipt (``receipts.receipt_of``) is JSON for machines; an officer hands a person a page.
This reads a receipt's ``storage`` facts and ``result`` counts back as sentences, and nothing
else: the page shows the signed JSON beside it, so the words never have to be trusted alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _names(items: Any) -> str:
    return ", ".join(str(item) for item in items or [])


def storage_in_words(storage: Mapping[str, Any]) -> list[str]:
    """What the night's storage step did to the database files, one sentence per fact."""
    database = storage.get("database")
    if database == "sqlite":
        lines = []
        if storage.get("secure_delete"):
            lines.append(
                "The database overwrites freed pages with zeros (SQLite secure delete), "
                "so the erased values do not stay in its file."
            )
        if storage.get("wal_checkpoint") == "truncated":
            lines.append(
                "The write-ahead log was copied into the database and emptied: "
                "no old copy of the erased values is left in it."
            )
        else:
            lines.append(
                "The write-ahead log could not be emptied at once (a reader was busy); old page images may stay "
                "in it until the next night's step empties it."
            )
        return lines
    if database == "postgresql":
        lines = []
        older = int(storage.get("older_transactions") or 0)
        if storage.get("gave_up"):
            lines.append(
                f"The step gave up waiting for {_plural(older, 'older open transaction')}: "
                "what they could still see stays in the files until they end and the next night's step runs."
            )
        else:
            lines.append(
                "No transaction older than the erasure was open: no old version of the erased rows stayed visible."
            )
        if storage.get("vacuum_full"):
            lines.append(
                "The erasable tables, their indexes and their TOAST tables were rewritten into new files (VACUUM FULL)."
            )
        else:
            lines.append(
                "The erasable tables were vacuumed and their indexes rebuilt into new files; the tables' free space "
                "keeps the erased bytes, readable by no query, until PostgreSQL reuses it."
            )
        rewritten = storage.get("rewritten") or []
        lines.append(f"{_plural(len(rewritten), 'relation')} rewritten.")
        if storage.get("not_rewritten"):
            lines.append(f"Not rewritten: {_names(storage.get('not_rewritten'))}.")
        if storage.get("locked"):
            lines.append(f"Left to the next night, locked by an older transaction: {_names(storage.get('locked'))}.")
        if storage.get("statistics_rewritten"):
            lines.append("The planner's statistics were rebuilt, so they quote no erased value.")
        lines.append(
            "A checkpoint removed the replaced files from disk."
            if storage.get("checkpoint")
            else "No checkpoint could be made (the database role may not): replaced files go at the next checkpoint."
        )
        return lines
    return ["The receipt names no storage step."]


def out_of_reach(storage: Mapping[str, Any]) -> list[str]:
    """What no storage step of ours can reach, as the receipt lists it."""
    return [str(item) for item in dict.fromkeys(storage.get("out_of_reach") or [])]


def result_in_words(result: Mapping[str, Any] | None) -> list[str]:
    """The request's counts, one line each, leaving out the kinds it did not touch."""
    if not result:
        return []
    counts = [
        ("interactions", "call, chat or email anonymized", "calls, chats and emails anonymized"),
        ("mentions_replaced", "mention replaced in text", "mentions replaced in text"),
        ("variables_replaced", "variable value replaced", "variable values replaced"),
        ("raw_data_rows", "raw data row anonymized", "raw data rows anonymized"),
        ("recordings_deleted", "recording deleted", "recordings deleted"),
        ("content_deleted", "chat log or email content deleted", "chat logs and email contents deleted"),
        ("attachments_deleted", "email attachment deleted", "email attachments deleted"),
        ("audio_segments_silenced", "spoken segment silenced in recordings", "spoken segments silenced in recordings"),
        ("held", "interaction kept by a legal hold", "interactions kept by a legal hold"),
    ]
    lines = [
        _plural(int(result.get(key) or 0), one, many)
        for key, one, many in counts
        if key == "interactions" or result.get(key)
    ]
    also = result.get("also") or {}
    parts = [
        _plural(int(also.get(key) or 0), one, many)
        for key, one, many in (
            ("phones", "phone number", "phone numbers"),
            ("emails", "email address", "email addresses"),
            ("variables", "variable", "variables"),
        )
        if also.get(key)
    ]
    if parts:
        lines.append("Further identifiers of the person erased with the request: " + ", ".join(parts))
    return lines
