"""Writing interactions into the archive, set-wise.

A batch becomes a handful of multi-row INSERTs (interactions, chat messages, email bodies,
raw data rows, mention index rows) instead of one ORM object per row: at tens of millions of
interactions the per-object cost of the ORM is what limits ingestion.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.archive.mentions import MentionKeyring, identifiers_in, mention_rows
from archivist.archive.models import Channel, ChatMessage, EmailBody, Interaction, Mention, RawEvent
from archivist.archive.schemas import InteractionIn
from archivist.db import Base, new_id, table_of
from archivist.identifiers import normalize_caller, normalize_email_lenient

# Keeps each IN (...) list well under SQLite's variable limit.
_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class IngestResult:
    id: str
    created: bool


@lru_cache(maxsize=65_536)
def _caller(raw: str, country: str) -> str | None:
    # Repeat callers are the norm in a contact centre, so parsing each distinct number
    # once per process pays off.
    return normalize_caller(raw, country)


@lru_cache(maxsize=65_536)
def _email(raw: str) -> str | None:
    return normalize_email_lenient(raw)


def _existing_ids(session: Session, solution_id: str, external_ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(external_ids), _LOOKUP_CHUNK):
        chunk = external_ids[start : start + _LOOKUP_CHUNK]
        rows = session.execute(
            select(Interaction.external_id, Interaction.id).where(
                Interaction.solution_id == solution_id, Interaction.external_id.in_(chunk)
            )
        )
        found.update({ext: id_ for ext, id_ in rows if ext is not None})
    return found


def _bulk_insert(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) on the session's connection and transaction.

    Bypasses SQLAlchemy's per-value bind processing, which profiling showed costing more
    than the inserts themselves: PostgreSQL gets COPY, SQLite one executemany of a prepared
    statement with values converted here exactly as the column types would store them.
    """
    table = table_of(model)
    connection = session.connection()
    columns = list(rows[0].keys())
    names = ", ".join(f'"{c}"' for c in columns)
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_pg_value(row[c]) for c in columns])
    elif connection.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        cursor = driver.cursor()
        try:
            cursor.executemany(
                f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',  # noqa: S608 - names are our columns
                ([_sqlite_value(row[c]) for c in columns] for row in rows),
            )
        finally:
            cursor.close()
    else:
        session.execute(insert(table), rows)


def _pg_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _sqlite_value(value: Any) -> Any:
    # The same text SQLAlchemy's SQLite DATETIME (via UTCDateTime) and JSON types write.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def ingest(
    session: Session,
    solution: Solution,
    bodies: Sequence[InteractionIn],
    now: datetime,
    *,
    keyring: MentionKeyring,
) -> list[IngestResult]:
    """Insert ``bodies`` (already validated) and return one result per body, in order.

    A body whose ``external_id`` is already archived (or repeated earlier in the batch) is
    not written again: its result names the existing interaction with ``created=False``.
    Every phone number and email address written in a chat message, the email subject or
    body, or a variable value is indexed in ``mentions`` under ``keyring``'s key, so that
    erasure finds it without scanning the archive. Does not commit.
    """
    external_ids = sorted({b.external_id for b in bodies if b.external_id})
    known = _existing_ids(session, solution.id, external_ids) if external_ids else {}

    results: list[IngestResult] = []
    interactions: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    emails: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    mentions: list[dict[str, Any]] = []
    sid = solution.id

    for body in bodies:
        if body.external_id and body.external_id in known:
            results.append(IngestResult(known[body.external_id], created=False))
            continue
        iid = new_id()
        if body.external_id:
            known[body.external_id] = iid
        results.append(IngestResult(iid, created=True))

        customer = body.customer
        phone_e164 = _caller(customer.phone, solution.country) if customer.phone else None
        email_norm = _email(customer.email) if customer.email else None
        has_content = bool(body.messages) if body.channel is Channel.CHAT else body.body is not None
        interactions.append(
            {
                "id": iid,
                "solution_id": sid,
                "external_id": body.external_id,
                "channel": body.channel,
                "direction": body.direction,
                "started_at": body.started_at,
                "ended_at": body.ended_at,
                "queue": body.queue,
                "agent": body.agent,
                "customer_phone": customer.phone,
                "customer_phone_e164": phone_e164,
                "customer_email": customer.email,
                "customer_email_norm": email_norm,
                "customer_name": customer.name,
                "service_number": body.service_number,
                "subject": body.subject,
                "variables": body.variables or None,
                "has_recording": False,
                "has_content": has_content,
                "anonymized_at": None,
                "created_at": now,
            }
        )
        for seq, message in enumerate(body.messages or ()):
            messages.append(
                {
                    "solution_id": sid,
                    "interaction_id": iid,
                    "seq": seq,
                    "at": message.at,
                    "sender": message.sender,
                    "text": message.text,
                }
            )
        if body.body is not None:
            emails.append({"interaction_id": iid, "solution_id": sid, "body": body.body})
        texts: list[str | None] = [m.text for m in body.messages or ()]
        texts += [body.body, body.subject, *(v for v in (body.variables or {}).values() if isinstance(v, str))]
        found = identifiers_in(texts, solution.country)
        if found:
            mentions.extend(mention_rows(keyring, sid, iid, found))
        # A raw data row names the customer the way the interaction does: by phone for a
        # call, by address otherwise, so a request for either finds it.
        raw_customer = customer.phone if customer.phone else customer.email
        raw_norm = phone_e164 if customer.phone else email_norm
        for event in body.events:
            events.append(
                {
                    "solution_id": sid,
                    "interaction_id": iid,
                    "at": event.at,
                    "type": event.type,
                    "queue": event.queue,
                    "agent": event.agent,
                    "customer": raw_customer,
                    "customer_norm": raw_norm,
                    "duration_s": event.duration_s,
                }
            )

    for model, rows in (
        (Interaction, interactions),
        (ChatMessage, messages),
        (EmailBody, emails),
        (RawEvent, events),
        (Mention, mentions),
    ):
        if rows:
            _bulk_insert(session, model, rows)
    return results
