"""Writing interactions into the archive, set-wise.

A batch becomes a handful of multi-row INSERTs (interactions, chat messages, email bodies,
raw data rows, mention index rows) instead of one ORM object per row: at tens of millions of
interactions the per-object cost of the ORM is what limits ingestion.

Ingestion is two steps so that the expensive one can run in other processes (see
``importer``): ``prepare`` turns validated bodies into rows — normalising identifiers,
scanning texts for mentions, converting values for the database — without a session;
``write`` looks up which external ids are already archived and inserts the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.archive.mentions import (
    MentionKeyring,
    attachment_name_text,
    email_keys,
    external_id_text,
    identifiers_in,
    indexed_identifiers,
    texts_of,
)
from archivist.archive.models import (
    Channel,
    ChatMessage,
    EmailAttachment,
    EmailBody,
    Interaction,
    Mention,
    MentionKind,
    RawEvent,
    TranscriptSegment,
    fold_label,
)
from archivist.archive.schemas import EmailIn, InteractionIn
from archivist.db import CHUNK, Base, chunks, new_ids, table_of
from archivist.identifiers import normalize_caller, normalize_email_lenient

# Keeps each IN (...) list well under SQLite's variable limit: the one batch size.
_LOOKUP_CHUNK = CHUNK

# The columns ``prepare`` fills, in the order of its row tuples, and where the interaction id
# stands in them (so the rows of a body found already archived can be left out).
INTERACTION_COLUMNS = (
    "id",
    "solution_id",
    "external_id",
    "channel",
    "direction",
    "started_at",
    "ended_at",
    "queue",
    "agent",
    "queue_key",
    "agent_key",
    "customer_phone",
    "customer_phone_e164",
    "customer_email",
    "customer_email_norm",
    "customer_name",
    "service_number",
    "subject",
    "variables",
    "has_recording",
    "has_content",
    "anonymized_at",
    "created_at",
    "source_updated_at",
)
# Set by a re-delivery from what the platform delivered; the rest of the row is kept as it is
# (its id, recording, anonymization, when it was first archived).
_REDELIVERED = tuple(
    c for c in INTERACTION_COLUMNS if c not in ("id", "solution_id", "has_recording", "anonymized_at", "created_at")
)
MESSAGE_COLUMNS = ("solution_id", "interaction_id", "seq", "at", "sender", "text")
EMAIL_COLUMNS = ("interaction_id", "solution_id", "body", "html", "headers", "mention_keys")
ATTACHMENT_COLUMNS = (
    "solution_id",
    "interaction_id",
    "seq",
    "filename",
    "content_type",
    "size_bytes",
    "sha256",
    "blob_key",
    "mention_keys",
)
EVENT_COLUMNS = (
    "solution_id",
    "interaction_id",
    "at",
    "type",
    "queue",
    "agent",
    "customer",
    "customer_norm",
    "duration_s",
)
MENTION_COLUMNS = ("solution_id", "interaction_id", "key", "kind")
SEGMENT_COLUMNS = ("solution_id", "interaction_id", "seq", "begin_ms", "end_ms", "speaker", "text")

_TABLES: tuple[tuple[type[Base], tuple[str, ...], int], ...] = (
    (Interaction, INTERACTION_COLUMNS, 0),
    (ChatMessage, MESSAGE_COLUMNS, 1),
    (EmailBody, EMAIL_COLUMNS, 0),
    (RawEvent, EVENT_COLUMNS, 1),
    (Mention, MENTION_COLUMNS, 1),
    (EmailAttachment, ATTACHMENT_COLUMNS, 1),
    (TranscriptSegment, SEGMENT_COLUMNS, 1),
)

Row = tuple[Any, ...]


@dataclass(frozen=True)
class IngestResult:
    id: str
    created: bool
    # A re-delivery newer than what was archived replaced the stored fields (CONTRACT §16).
    updated: bool = False
    # Stored already erased: the record is of a person erased before (CONTRACT §16).
    erased: bool = False


@dataclass
class PreparedBatch:
    """Rows for every table, values already converted for ``dialect``; picklable, no session needed.

    ``bodies`` holds (external id, new interaction id) per body, in the order given, and
    ``updated`` the platform's update time of each (None: not a re-deliverable record).
    ``identifiers`` maps each mention key of the batch to its clear identifier: the erasure
    check (``anonymize.replay.write_checked``) needs the person a matching key names.
    ``external_ids`` maps each form an external id of the batch may be archived under (itself,
    or the pseudonym an erasure gave it) to the id: re-delivery looks up both.
    """

    dialect: str
    bodies: list[tuple[str | None, str]] = field(default_factory=list)
    updated: list[datetime | None] = field(default_factory=list)
    identifiers: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[Row]] = field(default_factory=lambda: {table_of(m).name: [] for m, _, _ in _TABLES})


@lru_cache(maxsize=65_536)
def _caller(raw: str, country: str) -> str | None:
    # Repeat callers are the norm in a contact centre, so parsing each distinct number
    # once per process pays off.
    return normalize_caller(raw, country)


@lru_cache(maxsize=65_536)
def _email(raw: str) -> str | None:
    return normalize_email_lenient(raw)


def _sqlite_time(value: datetime | None) -> str | None:
    # The same text SQLAlchemy's SQLite DATETIME (via UTCDateTime) writes.
    # isoformat is several times faster than strftime; [:26] drops the "+00:00".
    return None if value is None else value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _same_time(value: datetime | None) -> datetime | None:
    return value


def _json(value: dict[str, Any] | list[str] | None) -> str | None:
    # What the JSON column type writes (SQLite) and what COPY reads as json (PostgreSQL).
    return None if value is None else json.dumps(value)


def prepare(
    bodies: Sequence[InteractionIn],
    solution_id: str,
    country: str,
    now: datetime,
    *,
    keyring: MentionKeyring,
    dialect: str,
    updated_at: Sequence[datetime | None] | None = None,
) -> PreparedBatch:
    """Turn validated ``bodies`` into rows, each with a new interaction id; pure (no I/O).

    ``updated_at``: per body, the time the platform last changed the record (re-delivery).

    Every phone number and email address written in a chat message, the email subject or
    body, or a variable value becomes a mention row keyed by ``keyring``, so that erasure
    finds it without scanning the archive.
    """
    time: Callable[[datetime | None], Any] = _sqlite_time if dialect == "sqlite" else _same_time
    batch = PreparedBatch(dialect)
    interactions, messages, emails, events, mentions, attachments, segments = (
        batch.rows[table_of(m).name] for m, _, _ in _TABLES
    )
    created = time(now)
    sid = solution_id

    for index, (body, iid) in enumerate(zip(bodies, new_ids(len(bodies)), strict=True)):
        updated = updated_at[index] if updated_at is not None else None
        batch.bodies.append((body.external_id, iid))
        if body.external_id:
            batch.external_ids.update(keyring.external_id_forms(sid, [body.external_id]))
        batch.updated.append(updated)
        customer = body.customer
        phone_e164 = _caller(customer.phone, country) if customer.phone else None
        email_norm = _email(customer.email) if customer.email else None
        if body.channel is Channel.CHAT:
            has_content = bool(body.messages)
        elif body.channel is Channel.CALL:
            has_content = bool(body.transcript)
        else:
            has_content = body.body is not None
        interactions.append(
            (
                iid,
                sid,
                body.external_id,
                body.channel.value,
                body.direction.value,
                time(body.started_at),
                time(body.ended_at),
                body.queue,
                body.agent,
                fold_label(body.queue),
                fold_label(body.agent),
                customer.phone,
                phone_e164,
                customer.email,
                email_norm,
                customer.name,
                body.service_number,
                body.subject,
                _json(body.variables or None),
                False,
                has_content,
                None,
                created,
                time(updated),
            )
        )
        texts: list[str | None] = [body.subject, external_id_text(body.external_id)]
        texts += texts_of(body.variables)
        for seq, message in enumerate(body.messages or ()):
            messages.append((sid, iid, seq, time(message.at), message.sender.value, message.text))
            texts.append(message.text)
        # A call's transcript is its content, indexed like chat text (CONTRACT §17).
        for seq, segment in enumerate(body.transcript or ()):
            segments.append((sid, iid, seq, segment.begin_ms, segment.end_ms, segment.speaker.value, segment.text))
            texts.append(segment.text)
        found: set[tuple[MentionKind, str]] = set()
        if isinstance(body, EmailIn):  # arrived as MIME (CONTRACT §15): HTML, headers, attachments
            found = _email_attachment_rows(body, sid, iid, country, keyring, attachments)
        # An email's text is read apart from the rest: its row keeps the keys of what it writes.
        written = identifiers_in([body.body, *(body.indexed_texts() if isinstance(body, EmailIn) else ())], country)
        found |= written
        if body.body is not None:
            extras = (body.html, _json(body.headers or None)) if isinstance(body, EmailIn) else (None, None)
            emails.append((iid, sid, body.body, *extras, _json(email_keys(keyring, sid, written))))
        for kind, value in indexed_identifiers(texts, country, phone_e164, email_norm) | found:
            key = keyring.key(sid, value)
            mentions.append((sid, iid, key, kind.value))
            batch.identifiers[key] = value
        # A raw data row names the customer the way the interaction does: by phone for a
        # call, by address otherwise, so a request for either finds it.
        raw_customer = customer.phone if customer.phone else customer.email
        raw_norm = phone_e164 if customer.phone else email_norm
        for event in body.events:
            events.append(
                (
                    sid,
                    iid,
                    time(event.at),
                    event.type,
                    event.queue,
                    event.agent,
                    raw_customer,
                    raw_norm,
                    event.duration_s,
                )
            )
    return batch


def _email_attachment_rows(
    body: EmailIn, sid: str, iid: str, country: str, keyring: MentionKeyring, rows: list[Row]
) -> set[tuple[MentionKind, str]]:
    """Rows of an email's attachments; returns the identifiers their texts write, for the index.

    Each row keeps the keys of what its own text writes, so that erasure deletes exactly the
    attachments that write a person's identifier (CONTRACT §15).
    """
    found: set[tuple[MentionKind, str]] = set()
    for attachment in body.attachments:
        # Its name writes what it is about as much as its text does ("pass 912 34 567.png").
        written = identifiers_in([attachment_name_text(attachment.filename), attachment.text], country)
        keys = dict(sorted({keyring.key(sid, value): kind.value for kind, value in written}.items()))
        rows.append(
            (
                sid,
                iid,
                attachment.index,
                attachment.filename,
                attachment.content_type,
                attachment.size,
                attachment.sha256,
                attachment.blob_key,
                json.dumps(keys) if keys else None,
            )
        )
        found |= written
    return found


@dataclass(frozen=True)
class Archived:
    """An archived interaction as re-delivery needs it: its id, the platform's update time, whether erased."""

    id: str
    updated: datetime | None
    anonymized: bool


def archived_by_external_id(session: Session, solution_id: str, forms: dict[str, str]) -> dict[str, Archived]:
    """The archived interaction of each external id, found by any of its ``forms`` (form -> id, as
    ``MentionKeyring.external_id_forms`` gives them): what re-delivery and the mail importer look up."""
    found: dict[str, Archived] = {}
    stored = sorted(forms)
    for start in range(0, len(stored), _LOOKUP_CHUNK):
        chunk = stored[start : start + _LOOKUP_CHUNK]
        rows = session.execute(
            select(
                Interaction.external_id, Interaction.id, Interaction.source_updated_at, Interaction.anonymized_at
            ).where(Interaction.solution_id == solution_id, Interaction.external_id.in_(chunk))
        )
        found.update(
            {forms[ext]: Archived(id_, upd, anon is not None) for ext, id_, upd, anon in rows if ext is not None}
        )
    return found


def _newer(candidate: datetime | None, than: datetime | None) -> bool:
    return candidate is not None and (than is None or candidate > than)


@dataclass
class WritePlan:
    """What writing a prepared batch does: one result per body, the rows left out, and the
    re-deliveries (prepared id -> the archived interaction whose fields they replace)."""

    batch: PreparedBatch
    results: list[IngestResult]
    skipped: set[str]
    replaces: dict[str, str] = field(default_factory=dict)

    @property
    def written(self) -> list[str]:
        """The ids of the interactions this plan writes (created or replaced)."""
        return [r.id for r in self.results if r.created or r.updated]


def plan_write(session: Session, solution_id: str, batch: PreparedBatch) -> WritePlan:
    """Which bodies of ``batch`` are new, which replace an archived one, which change nothing; reads only.

    Re-delivery (CONTRACT §16): a body whose ``external_id`` is archived replaces the stored
    fields when its update time is newer than the stored one, and changes nothing when it is
    older, equal or absent — nor when the archived interaction was anonymized: it stays so.
    Of bodies repeating an ``external_id`` within the batch, the newest counts (the first of
    equals); the others change nothing.
    """
    dialect = session.connection().dialect.name
    if dialect != batch.dialect:
        raise ValueError(f"batch prepared for {batch.dialect}, written to {dialect}")
    known = archived_by_external_id(session, solution_id, batch.external_ids) if batch.external_ids else {}
    chosen: dict[str, int] = {}
    for index, (ext, _) in enumerate(batch.bodies):
        if ext and (ext not in chosen or _newer(batch.updated[index], batch.updated[chosen[ext]])):
            chosen[ext] = index
    final: dict[str, IngestResult] = {}  # external id -> the result of the body that counts
    replaces: dict[str, str] = {}
    for ext, index in chosen.items():
        iid, archived = batch.bodies[index][1], known.get(ext)
        if archived is None:
            final[ext] = IngestResult(iid, created=True)
        elif not archived.anonymized and _newer(batch.updated[index], archived.updated):
            final[ext] = IngestResult(archived.id, created=False, updated=True)
            replaces[iid] = archived.id
        else:
            final[ext] = IngestResult(archived.id, created=False)
    results: list[IngestResult] = []
    skipped: set[str] = set()
    for index, (ext, iid) in enumerate(batch.bodies):
        if not ext:
            results.append(IngestResult(iid, created=True))
        elif chosen[ext] == index:
            results.append(final[ext])
            if not (final[ext].created or final[ext].updated):
                skipped.add(iid)
        else:
            results.append(IngestResult(final[ext].id, created=False))
            skipped.add(iid)
    return WritePlan(batch, results, skipped, replaces)


def apply_write(session: Session, plan: WritePlan) -> list[IngestResult]:
    """Insert what ``plan`` found new and replace what it found re-delivered; returns its
    results. Does not commit."""
    if plan.replaces:
        _clear_replaced(session, sorted(plan.replaces.values()))
    for model, columns, id_at in _TABLES:
        rows = plan.batch.rows[table_of(model).name]
        if plan.skipped:
            rows = [row for row in rows if row[id_at] not in plan.skipped]
        if plan.replaces:
            if model is Interaction:
                _update_replaced(session, [row for row in rows if row[0] in plan.replaces], plan.replaces)
                rows = [row for row in rows if row[0] not in plan.replaces]
            elif model is EmailAttachment:
                # Attachments are blobs of a MIME message, which is never re-delivered: kept as they are.
                rows = [row for row in rows if row[id_at] not in plan.replaces]
            else:
                rows = [_moved(row, id_at, plan.replaces) for row in rows]
        if rows:
            _bulk_insert(session, model, columns, rows)
    return plan.results


def _moved(row: Row, id_at: int, replaces: dict[str, str]) -> Row:
    target = replaces.get(row[id_at])
    return row if target is None else (*row[:id_at], target, *row[id_at + 1 :])


def _clear_replaced(session: Session, ids: list[str]) -> None:
    """Remove what a re-delivery brings anew: chat log, email text, transcript, raw data rows, index rows."""
    for chunk in chunks(ids):
        for model in (ChatMessage, EmailBody, RawEvent, Mention, TranscriptSegment):
            session.execute(delete(model).where(model.interaction_id.in_(chunk)))


def _update_replaced(session: Session, rows: list[Row], replaces: dict[str, str]) -> None:
    """Set an archived interaction's fields to those of its newer delivery (values converted as for insert)."""
    if not rows:
        return
    at = {name: i for i, name in enumerate(INTERACTION_COLUMNS)}
    connection = session.connection()
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    assignments = ", ".join(f'"{c}" = {mark}' for c in _REDELIVERED)
    statement = f'UPDATE "interactions" SET {assignments} WHERE "id" = {mark}'  # noqa: S608 - our columns
    values = [(*(row[at[c]] for c in _REDELIVERED), replaces[row[0]]) for row in rows]
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.executemany(statement, values)
    finally:
        cursor.close()


def write(session: Session, solution_id: str, batch: PreparedBatch) -> list[IngestResult]:
    """Insert a prepared batch and return one result per body, in order. Does not commit.

    ``plan_write`` then ``apply_write``: see them for what is written.
    """
    return apply_write(session, plan_write(session, solution_id, batch))


def _bulk_insert(session: Session, model: type[Base], columns: tuple[str, ...], rows: list[Row]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) on the session's connection and transaction.

    Bypasses SQLAlchemy's per-value bind processing, which profiling showed costing more
    than the inserts themselves: PostgreSQL gets COPY, SQLite one executemany of a prepared
    statement; ``prepare`` converted the values exactly as the column types would store them.
    """
    table = table_of(model)
    connection = session.connection()
    names = ", ".join(f'"{c}"' for c in columns)
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    elif connection.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        cursor = driver.cursor()
        try:
            cursor.executemany(
                f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',  # noqa: S608 - names are our columns
                rows,
            )
        finally:
            cursor.close()
    else:
        raise ValueError(f"ingestion supports SQLite and PostgreSQL, not {connection.dialect.name}")


def ingest(
    session: Session,
    solution: Solution,
    bodies: Sequence[InteractionIn],
    now: datetime,
    *,
    keyring: MentionKeyring,
) -> list[IngestResult]:
    """Insert ``bodies`` (already validated) and return one result per body, in order.

    ``prepare`` then ``write`` in this process: see them for what is written. Does not commit.
    """
    dialect = session.connection().dialect.name
    batch = prepare(bodies, solution.id, solution.country, now, keyring=keyring, dialect=dialect)
    return write(session, solution.id, batch)
