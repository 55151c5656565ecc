"""Email as it arrives (CONTRACT §15): ``archivist import --format eml|mbox|maildir``, and the
write path ``POST /api/v1/interactions/email`` shares with them.

``archive_emails`` takes a session factory and commits (a task, like every importer): first the
attachments' blob keys are registered as pending deletions and committed, then the bytes are written, then the
interactions are ingested and the registrations cleared in one transaction. A crash anywhere
leaves at worst blobs that the pending-deletion drain removes — never an attachment's bytes
that no row points at and nothing will delete. Messages already archived (by Message-ID) are
found first, so their attachments are never written again.

The runners read one message at a time (an ``.eml`` file, a message of an mbox or a Maildir,
through the standard library's ``mailbox``), parse it, and hand chunks to ``archive_emails``;
a message that cannot be read is reported by file (and 1-based position in an mbox) and skipped.
"""

from __future__ import annotations

import hashlib
import mailbox
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.replay import ingest_checked
from archivist.archive.attachments import new_blob_key
from archivist.archive.importer import describe
from archivist.archive.ingest import IngestResult, archived_by_external_id
from archivist.archive.mentions import MentionKeyring
from archivist.archive.mime import MAX_MESSAGE_BYTES, ParsedEmail, UnreadableMessageError, parse_message, readable_text
from archivist.archive.models import Channel, EmailAttachment, PendingBlobDeletion
from archivist.archive.recordings import drain_pending_blobs, register_upload
from archivist.archive.schemas import AttachmentIn, CustomerIn, EmailIn
from archivist.blobs import BlobStore
from archivist.db import chunks
from archivist.identifiers import normalize_email_lenient
from archivist.importers import ImportInterrupted, ImportJob, ImportSummary, SourceUnreadable
from archivist.importers.sources import Source, open_source


@dataclass(frozen=True)
class Archived:
    """What became of one message: the interaction, and whether this call created it."""

    id: str
    created: bool
    attachments: int
    # Stored already erased: a message of a person erased before (CONTRACT §16).
    erased: bool = False


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


def _archived(
    session: Session, keyring: MentionKeyring, solution_id: str, external_ids: Sequence[str]
) -> dict[str, str]:
    """Message-ID -> the interaction archived under it, or under the pseudonym an erasure gave it."""
    forms = keyring.external_id_forms(solution_id, set(external_ids))
    return {ext: archived.id for ext, archived in archived_by_external_id(session, solution_id, forms).items()}


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
        known = _archived(session, keyring, solution_id, [m.external_id for m in messages])
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
            # Held against the erasure ledger like every write (CONTRACT §16): a person erased
            # before is stored already erased, attachments that write them gone.
            written = ingest_checked(session, solution, bodies, now, keyring=keyring)
            for body, result in zip(bodies, written, strict=True):
                results[body.external_id or ""] = result
        # The attachment rows written own their blobs now. A message another writer archived first
        # (a race), or an attachment the erasure check deleted at once, leaves its blob registered,
        # and the drain removes it.
        created = [result.id for result in results.values() if result.created]
        owned = [
            key
            for chunk in chunks(created)
            for key in session.scalars(
                select(EmailAttachment.blob_key).where(EmailAttachment.interaction_id.in_(chunk))
            )
        ]
        for chunk in chunks(owned):
            session.execute(delete(PendingBlobDeletion).where(PendingBlobDeletion.blob_key.in_(chunk)))
    if any(result.erased for result in results.values()):
        drain_pending_blobs(factory, blobs, now)
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
            out.append(
                Archived(
                    result.id,
                    created=first,
                    attachments=len(message.attachments) if first else 0,
                    erased=first and result.erased,
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# The runners (CONTRACT §15, §16)
# ---------------------------------------------------------------------------------------------

# Messages archived per transaction, and the most bytes of parsed mail held waiting for one:
# typical mail goes 200 at a time, a chunk of 25 MiB messages stays a few of them.
CHUNK_MESSAGES = 200
CHUNK_BYTES = 32 * 1024 * 1024
TOO_LARGE = f"larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MiB"
UNREADABLE = "the file cannot be read"

# (position, the message's bytes or why it cannot be had)
Raw = tuple[str, bytes | str]


def run_eml(job: ImportJob) -> ImportSummary:
    """A ``.eml`` file, or every ``.eml`` file under a folder (recursively, in name order)."""
    source = open_source(job.source)
    names = [n for n in source.files() if source.single_file or n.lower().endswith(".eml")]
    return _run(job, _eml_messages(source, names))


def _eml_messages(source: Source, names: list[str]) -> Iterator[Raw]:
    for name in names:
        size = source.size(name)
        if size is not None and size > MAX_MESSAGE_BYTES:
            yield name, TOO_LARGE
            continue
        try:
            with source.open(name) as handle:
                data = handle.read(MAX_MESSAGE_BYTES + 1)
        except OSError:
            yield name, UNREADABLE
            continue
        yield name, (TOO_LARGE if len(data) > MAX_MESSAGE_BYTES else data)


def run_mbox(job: ImportJob) -> ImportSummary:
    """An mbox file (a local path): each message by its 1-based number in the file."""
    path = _local(job.source)
    if not path.is_file():
        raise SourceUnreadable("an mbox source is one file")
    try:
        box = mailbox.mbox(str(path), create=False)
        keys = list(box.iterkeys())
    except (OSError, mailbox.Error) as exc:
        raise SourceUnreadable(f"the mbox cannot be read ({type(exc).__name__})") from None
    return _run(job, _mailbox_messages(box, [(f"{path.name}:{n}", key) for n, key in enumerate(keys, start=1)]))


def run_maildir(job: ImportJob) -> ImportSummary:
    """A Maildir (a local folder with ``cur``/``new``/``tmp``): each message by its unique name."""
    path = _local(job.source)
    if not (path / "cur").is_dir() and not (path / "new").is_dir():
        raise SourceUnreadable("a Maildir source is a folder with cur/ and new/")
    try:
        box = mailbox.Maildir(str(path), factory=None, create=False)
        keys = sorted(box.iterkeys())
    except (OSError, mailbox.Error) as exc:
        raise SourceUnreadable(f"the Maildir cannot be read ({type(exc).__name__})") from None
    return _run(job, _mailbox_messages(box, [(f"{path.name}/{key}", key) for key in keys]))


def _local(source: str) -> Path:
    # The standard library's mailbox reads local files only.
    if "://" in source and not source.startswith("file://"):
        raise SourceUnreadable("mbox and Maildir sources must be local paths")
    path = Path(source.removeprefix("file://"))
    if not path.exists():
        raise SourceUnreadable("the source does not exist")
    return path


def _mailbox_messages(box: mailbox.Mailbox[mailbox.Message], keys: list[tuple[str, str]]) -> Iterator[Raw]:
    for position, key in keys:
        try:
            data = box.get_bytes(key)
        except (OSError, KeyError, mailbox.Error):
            yield position, UNREADABLE
            continue
        yield position, (TOO_LARGE if len(data) > MAX_MESSAGE_BYTES else data)


def _run(job: ImportJob, messages: Iterable[Raw]) -> ImportSummary:
    summary = ImportSummary()
    with job.factory() as session:
        solution = session.get(Solution, job.solution_id)
        if solution is None:
            raise SourceUnreadable("no such solution")
        own_domains = list(solution.own_email_domains or [])
    chunk: list[ParsedEmail] = []
    first = ""  # the position of the chunk's first message: where a stopped import resumes
    held = 0
    try:
        for position, data in messages:
            summary.read += 1
            parsed = _parse(position, data, job.now, own_domains, summary)
            job.progress(1)
            if parsed is None:
                continue
            first = first or position
            chunk.append(parsed)
            held += len(data)
            if len(chunk) >= CHUNK_MESSAGES or held >= CHUNK_BYTES:
                _flush(job, chunk, summary)
                chunk, first, held = [], "", 0
        if chunk:
            _flush(job, chunk, summary)
    except (Exception, KeyboardInterrupt) as exc:
        if isinstance(exc, SourceUnreadable):
            raise
        # What was committed stays (each chunk is one transaction); running the import again
        # skips it by Message-ID. The summary counts what was committed.
        summary.read -= len(chunk)
        raise ImportInterrupted(summary, first or "the next message") from exc
    return summary


def _parse(
    position: str, data: bytes | str, now: datetime, own_domains: list[str], summary: ImportSummary
) -> ParsedEmail | None:
    if isinstance(data, str):
        summary.add_bad(position, data)
        return None
    try:
        parsed = parse_message(data, received_at=now, own_domains=own_domains)
        email_body(parsed, [], None)  # validated here, so one bad message never fails its chunk
    except UnreadableMessageError as exc:
        summary.add_bad(position, str(exc))
        return None
    except ValidationError as exc:
        summary.add_bad(position, describe(exc))
        return None
    return parsed


def _flush(job: ImportJob, chunk: list[ParsedEmail], summary: ImportSummary) -> None:
    if job.dry_run:
        with job.factory() as session:
            known = _archived(session, job.keyring, job.solution_id, [m.external_id for m in chunk])
        seen: set[str] = set()
        for message in chunk:
            if message.external_id in known or message.external_id in seen:
                summary.unchanged += 1
            else:
                summary.created += 1
            seen.add(message.external_id)
        return
    for archived in archive_emails(job.factory, job.blobs, job.solution_id, chunk, keyring=job.keyring, now=job.now):
        if archived.created:
            summary.created += 1
        else:
            summary.unchanged += 1
        summary.erased_on_import += archived.erased
