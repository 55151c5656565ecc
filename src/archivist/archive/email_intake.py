"""Archiving parsed emails (CONTRACT §15): attachments to the blob store, the rest through the one ingest path.

Takes a session factory and commits (a task, like the importers): first the attachments' blob
keys are registered as pending deletions and committed, then the bytes are written, then the
interactions are ingested and the registrations cleared in one transaction. A crash anywhere
leaves at worst blobs that the pending-deletion drain removes — never an attachment's bytes
that no row points at and nothing will delete. Messages already archived (by Message-ID) are
found first, so their attachments are never written again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.attachments import new_blob_key
from archivist.archive.ingest import IngestResult, ingest
from archivist.archive.mentions import MentionKeyring
from archivist.archive.mime import ParsedEmail, readable_text
from archivist.archive.models import Channel, Interaction, PendingBlobDeletion
from archivist.archive.recordings import register_upload
from archivist.archive.schemas import AttachmentIn, CustomerIn, EmailIn
from archivist.blobs import BlobStore
from archivist.db import chunks
from archivist.identifiers import normalize_email_lenient


@dataclass(frozen=True)
class Archived:
    """What became of one message: the interaction, and whether this call created it."""

    id: str
    created: bool
    attachments: int


def email_body(parsed: ParsedEmail, attachments: Sequence[AttachmentIn], queue: str | None) -> EmailIn:
    """The interaction of a parsed message, as ingestion takes it (validated here)."""
    # A From that is no address ("undisclosed", a bare name) leaves the customer without one:
    # it would match nobody, and a request could never erase it (CONTRACT §15).
    address = parsed.customer_email if normalize_email_lenient(parsed.customer_email) else None
    return EmailIn(
        channel=Channel.EMAIL,
        direction=parsed.direction,
        started_at=parsed.started_at,
        queue=queue,
        external_id=parsed.external_id,
        customer=CustomerIn(email=address, name=parsed.customer_name),
        subject=parsed.subject,
        body=parsed.body,
        html=parsed.html,
        headers=parsed.headers,
        attachments=list(attachments),
    )


def _archived(session: Session, solution_id: str, external_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in chunks(sorted(set(external_ids))):
        for ext, iid in session.execute(
            select(Interaction.external_id, Interaction.id).where(
                Interaction.solution_id == solution_id, Interaction.external_id.in_(chunk)
            )
        ):
            if ext is not None:
                found[ext] = iid
    return found


def archive_emails(
    factory: sessionmaker[Session],
    blobs: BlobStore,
    solution_id: str,
    messages: Sequence[ParsedEmail],
    *,
    keyring: MentionKeyring,
    now: datetime,
    queue: str | None = None,
) -> list[Archived]:
    """Archive ``messages`` (one chunk of an import, or one posted message); one result each, in order.

    Raises pydantic's ValidationError (nothing written but pending blobs) if a message cannot be
    an interaction, e.g. a ``queue`` too long; messages are validated before any blob is written.
    """
    with factory() as session, session.begin():
        known = _archived(session, solution_id, [m.external_id for m in messages])
        # Validate what can be validated before any blob exists: the same body, without attachments.
        for message in messages:
            if message.external_id not in known:
                email_body(message, [], queue)
        fresh: list[tuple[ParsedEmail, list[str]]] = []
        seen: set[str] = set()
        for message in messages:
            if message.external_id in known or message.external_id in seen:
                continue
            seen.add(message.external_id)
            keys = [new_blob_key(solution_id, a.index) for a in message.attachments]
            for key in keys:
                register_upload(session, solution_id, key, now)
            fresh.append((message, keys))
    bodies: list[EmailIn] = []
    for message, keys in fresh:
        stored: list[AttachmentIn] = []
        for attachment, key in zip(message.attachments, keys, strict=True):
            data = attachment.payload()
            size = blobs.put(key, data, attachment.content_type)
            stored.append(
                AttachmentIn(
                    index=attachment.index,
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    size=size,
                    sha256=hashlib.sha256(data).hexdigest(),
                    blob_key=key,
                    text=readable_text(attachment.content_type, data),
                )
            )
            del data  # one attachment's bytes at a time
        bodies.append(email_body(message, stored, queue))
    with factory() as session, session.begin():
        solution = session.get(Solution, solution_id)
        if solution is None:
            raise LookupError("no such solution")
        results: dict[str, IngestResult] = {}
        if bodies:
            for body, result in zip(bodies, ingest(session, solution, bodies, now, keyring=keyring), strict=True):
                results[body.external_id or ""] = result
        # Created rows own their blobs now; a message another writer archived first (a race) leaves
        # its copies registered, and the drain removes them.
        owned = [
            key
            for body in bodies
            if results[body.external_id or ""].created
            for key in (a.blob_key for a in body.attachments)
        ]
        for chunk in chunks(owned):
            session.execute(delete(PendingBlobDeletion).where(PendingBlobDeletion.blob_key.in_(chunk)))
    out: list[Archived] = []
    counted: set[str] = set()
    for message in messages:
        ext = message.external_id
        if ext in known:
            out.append(Archived(known[ext], created=False, attachments=0))
        else:
            result = results[ext]
            first = ext not in counted and result.created
            counted.add(ext)
            out.append(Archived(result.id, created=first, attachments=len(message.attachments) if first else 0))
    return out
