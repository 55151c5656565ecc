"""Subject access exports (GDPR Art. 15, CONTRACT §12): plan what a person's copy holds, then stream it.

The person's own interactions are the erasure engine's (``erasure.own_interaction_ids``): what
we would erase for them is exactly what we hand them. Other people's interactions that mention
them are found through the mention index and listed as references (id, time, channel) only:
their content is somebody else's data. ``plan_export`` decides what goes in (ids and counts);
``stream_export`` writes the ZIP from the plan, batch by batch, so neither 5,000 calls nor 2 GB
of audio is ever held in memory. Helpers take a session and never commit.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.access.criteria import Criteria, CriteriaBox
from archivist.access.letter import HeldItem, LetterFacts, RuleWords, letter
from archivist.access.zipstream import Entry, Written, stream_zip
from archivist.accounts.models import Solution
from archivist.anonymize.erasure import Person, Scope, own_interaction_ids
from archivist.anonymize.operators import rowcount
from archivist.anonymize.requests import Also, Anonymized, anonymized_for, parse_identifiers
from archivist.archive.content import read_content
from archivist.archive.mentions import MentionKeyring, mentioning
from archivist.archive.mime import safe_filename
from archivist.archive.models import (
    Channel,
    ChatMessage,
    EmailAttachment,
    EmailBody,
    Interaction,
    Mention,
    RawEvent,
    Recording,
)
from archivist.archive.presenters import interaction_out
from archivist.archive.raw_data import CSV_COLUMNS, csv_cell, row_dict
from archivist.archive.recordings import read_recording
from archivist.blobs import BlobStore
from archivist.db import chunks
from archivist.errors import GoneError, NotFoundError
from archivist.exports.models import ExportStatus, SubjectExport
from archivist.identifiers import mask_email, mask_phone_e164, render_phone
from archivist.retention.rules import rules_of

# How long an export can be downloaded; after that its criteria are deleted (CONTRACT §12).
EXPORT_DAYS = 7
EXPORT_LIFETIME = timedelta(days=EXPORT_DAYS)
# Recent exports listed on the page and by the API.
MAX_LISTED = 100
# Interactions read per step while streaming: memory stays flat whatever the person has.
BATCH = 200

T = TypeVar("T")

INTERACTIONS_FILE = "interactions.json"
RAW_DATA_FILE = "raw_data.csv"
MANIFEST_FILE = "manifest.json"
SUMMARY_FILE = "summary.html"


class ExportNotFoundError(NotFoundError):
    """No such export in this solution (another solution's is just as absent)."""

    def __init__(self) -> None:
        super().__init__("Subject export not found")


class ExportExpiredError(GoneError):
    """The export's time is over: its criteria are (or are about to be) deleted."""

    def __init__(
        self,
        message: str = (
            f"This export has expired ({EXPORT_DAYS} days after it was made) and whose data it was is no "
            "longer stored: make a new export"
        ),
    ) -> None:
        super().__init__(message)


class ExportErasedError(ExportExpiredError):
    """An erasure since forgot an identifier the export was made for (CONTRACT §18)."""

    def __init__(self) -> None:
        super().__init__(
            "This export is gone: an erasure since forgot the person it was made for, so it would hand "
            "their data back. Make a new export to see what is still held."
        )


@dataclass(frozen=True)
class ExportCounts:
    """What an export holds: counts only, never an identifier."""

    calls: int
    chats: int
    emails: int
    recordings: int
    raw_data_rows: int
    # Other people's interactions that mention the person, listed as references only.
    mentioned_in: int

    def as_dict(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "chats": self.chats,
            "emails": self.emails,
            "recordings": self.recordings,
            "raw_data_rows": self.raw_data_rows,
            "mentioned_in": self.mentioned_in,
        }


@dataclass(frozen=True)
class ExportPlan:
    """What goes into one export, by id; the stream reads the rows again batch by batch."""

    interaction_ids: tuple[str, ...]  # the person's own, oldest first
    raw_row_ids: tuple[int, ...]  # oldest first
    mention_ids: tuple[str, ...]  # other people's interactions that mention them, oldest first
    counts: ExportCounts
    # What erasures took from the person already: said, never listed (CONTRACT §18).
    anonymized: Anonymized


def person_of(criteria: Criteria) -> Person:
    return Person.of(criteria.phone_e164, criteria.email_norm, Also())


def parse_criteria(phone: str | None, email: str | None, country: str) -> Criteria:
    """The identifiers as typed, validated by the one rule requests use; raises RequestError."""
    ids = parse_identifiers(phone, email, country)
    return Criteria(ids.phone_e164, ids.email_norm)


def plan_export(
    session: Session, solution: Solution, criteria: Criteria, *, cutoff: datetime, keyring: MentionKeyring
) -> ExportPlan:
    """Everything of the person's that started before ``cutoff``: own interactions, raw rows, references."""
    scope = Scope(solution.id, solution.country, solution.replacement, cutoff=cutoff)
    person = person_of(criteria)
    own = own_interaction_ids(session, scope, person, keyring=keyring)
    timed: list[tuple[datetime, str, Channel]] = []
    recordings = 0
    raw: dict[int, datetime] = {}
    for chunk in chunks(own):
        columns = select(Interaction.started_at, Interaction.id, Interaction.channel)
        timed.extend(
            (at, iid, channel) for at, iid, channel in session.execute(columns.where(Interaction.id.in_(chunk)))
        )
        recordings += len(
            session.scalars(select(Recording.interaction_id).where(Recording.interaction_id.in_(chunk))).all()
        )
        of_own = select(RawEvent.id, RawEvent.at).where(RawEvent.interaction_id.in_(chunk))
        raw.update(dict(session.execute(of_own).all()))
    if person.identifiers:
        # Raw rows that name the person without belonging to an interaction of theirs (the
        # erasure engine's raw data step reads the same rows).
        named = select(RawEvent.id, RawEvent.at).where(
            RawEvent.solution_id == solution.id,
            RawEvent.customer_norm.in_(person.identifiers),
            RawEvent.at < cutoff,
        )
        raw.update(dict(session.execute(named).all()))
    timed.sort()
    own_set = set(own)
    keys = [keyring.key(solution.id, identifier) for identifier in person.identifiers]
    mentions: list[tuple[datetime, str]] = []
    if keys:
        mentions = [
            (at, iid)
            for iid, at in session.execute(
                select(Mention.interaction_id, Interaction.started_at)
                .join(Interaction, Interaction.id == Mention.interaction_id)
                .where(mentioning(solution.id, keys, cutoff))
                .group_by(Mention.interaction_id, Interaction.started_at)
            )
            if iid not in own_set
        ]
        mentions.sort()
    counts = ExportCounts(
        calls=sum(1 for _, _, channel in timed if channel is Channel.CALL),
        chats=sum(1 for _, _, channel in timed if channel is Channel.CHAT),
        emails=sum(1 for _, _, channel in timed if channel is Channel.EMAIL),
        recordings=recordings,
        raw_data_rows=len(raw),
        mentioned_in=len(mentions),
    )
    return ExportPlan(
        anonymized=anonymized_for(session, solution.id, keys),
        interaction_ids=tuple(iid for _, iid, _ in timed),
        raw_row_ids=tuple(rid for rid, _ in sorted(raw.items(), key=lambda item: (item[1], item[0]))),
        mention_ids=tuple(iid for _, iid in mentions),
        counts=counts,
    )


def anonymized_json(anonymized: Anonymized) -> dict[str, object]:
    """``anonymized`` as the export row stores it and the API shows it: a count and a time."""
    last = anonymized.last_at
    return {"interactions": anonymized.interactions, "last_at": last.astimezone(UTC).isoformat() if last else None}


def masked(criteria: Criteria, country: str) -> tuple[str | None, str | None]:
    """The criteria as the page, the list and the audit trail show them."""
    return (
        mask_phone_e164(criteria.phone_e164, country) if criteria.phone_e164 else None,
        mask_email(criteria.email_norm) if criteria.email_norm else None,
    )


def create_export(
    session: Session,
    solution: Solution,
    criteria: Criteria,
    *,
    created_by: str,
    now: datetime,
    keyring: MentionKeyring,
    box: CriteriaBox,
) -> SubjectExport:
    """Record an export of everything of the person's before ``now``; the download streams it later."""
    plan = plan_export(session, solution, criteria, cutoff=now, keyring=keyring)
    phone_masked, email_masked = masked(criteria, solution.country)
    export = SubjectExport(
        solution_id=solution.id,
        status=ExportStatus.READY,
        created_at=now,
        created_by=created_by,
        expires_at=now + EXPORT_LIFETIME,
        cutoff=now,
        phone_masked=phone_masked,
        email_masked=email_masked,
        counts={**plan.counts.as_dict(), "anonymized": anonymized_json(plan.anonymized)},
        downloads=0,
    )
    session.add(export)
    session.flush()  # the id is the sealed value's associated data
    export.criteria = box.seal(solution.id, export.id, criteria)
    # What an erasure of the person matches to purge this export (``access.purge``).
    export.keys = sorted(keyring.key(solution.id, identifier) for identifier in person_of(criteria).identifiers)
    session.flush()
    return export


def get_export(session: Session, solution_id: str, export_id: str) -> SubjectExport:
    export = session.scalars(
        select(SubjectExport).where(SubjectExport.id == export_id, SubjectExport.solution_id == solution_id)
    ).first()
    if export is None:
        raise ExportNotFoundError()
    return export


def list_exports(session: Session, solution_id: str, limit: int = MAX_LISTED) -> list[SubjectExport]:
    """The solution's most recent exports, newest first."""
    return list(
        session.scalars(
            select(SubjectExport)
            .where(SubjectExport.solution_id == solution_id)
            .order_by(SubjectExport.created_at.desc(), SubjectExport.id.desc())
            .limit(limit)
        )
    )


def status_at(export: SubjectExport, now: datetime) -> ExportStatus:
    """Expired from ``expires_at`` on, whether or not the purge has run yet; erased once an erasure purged it."""
    if export.status is ExportStatus.ERASED:
        return ExportStatus.ERASED
    if export.status is ExportStatus.EXPIRED or now >= export.expires_at or export.criteria is None:
        return ExportStatus.EXPIRED
    return ExportStatus.READY


def open_for_download(
    session: Session, solution: Solution, export_id: str, *, now: datetime, box: CriteriaBox
) -> tuple[SubjectExport, Criteria]:
    """The export and its criteria, counted as downloaded; ExportExpiredError once its time is over."""
    export = get_export(session, solution.id, export_id)
    state = status_at(export, now)
    if state is ExportStatus.ERASED:
        raise ExportErasedError()
    if state is ExportStatus.EXPIRED or export.criteria is None:
        raise ExportExpiredError()
    criteria = box.open(solution.id, export.id, export.criteria)
    export.downloads += 1
    export.last_downloaded_at = now
    session.flush()
    return export, criteria


def purge_expired_exports(session: Session, now: datetime, solution_id: str | None = None) -> int:
    """Forget the criteria of every export whose time is over (the nightly run's purge step)."""
    query = update(SubjectExport).where(
        SubjectExport.expires_at <= now,
        or_(
            SubjectExport.status == ExportStatus.READY,
            SubjectExport.criteria.is_not(None),
            SubjectExport.phone_masked.is_not(None),
            SubjectExport.email_masked.is_not(None),
        ),
    )
    if solution_id is not None:
        query = query.where(SubjectExport.solution_id == solution_id)
    return rowcount(
        session.execute(
            query.values(
                status=ExportStatus.EXPIRED, criteria=None, keys=None, phone_masked=None, email_masked=None
            ).execution_options(synchronize_session=False)
        )
    )


# ---------------------------------------------------------------------------------------------
# The ZIP
# ---------------------------------------------------------------------------------------------


def stream_export(
    factory: sessionmaker[Session],
    blobs: BlobStore,
    solution: Solution,
    export: SubjectExport,
    criteria: Criteria,
    *,
    keyring: MentionKeyring,
) -> Iterator[bytes]:
    """The export's ZIP in chunks, read in its own session (the response outlives the request's).

    The plan is made again at download time with the export's own cutoff, so an interaction
    erased since is not handed out, and one archived since (but started before) is.
    """
    country, timezone = solution.country, solution.timezone
    export_id, created_at, cutoff = export.id, export.created_at, export.cutoff
    with factory() as session:
        plan = plan_export(session, solution, criteria, cutoff=cutoff, keyring=keyring)
        recordings: dict[str, tuple[str, str, int]] = {}
        for chunk in chunks(plan.interaction_ids):
            for iid, key, content_type, size in session.execute(
                select(
                    Recording.interaction_id, Recording.blob_key, Recording.content_type, Recording.size_bytes
                ).where(Recording.interaction_id.in_(chunk))
            ):
                recordings[iid] = (key, content_type, size)
        # Email attachments (CONTRACT §15): interaction id -> [(index, zip path, blob key, size)].
        attachments: dict[str, list[tuple[int, str, str, int]]] = {}
        for chunk in chunks(plan.interaction_ids):
            for iid, seq, filename, key, size in session.execute(
                select(
                    EmailAttachment.interaction_id,
                    EmailAttachment.seq,
                    EmailAttachment.filename,
                    EmailAttachment.blob_key,
                    EmailAttachment.size_bytes,
                )
                .where(EmailAttachment.interaction_id.in_(chunk))
                .order_by(EmailAttachment.interaction_id, EmailAttachment.seq)
            ):
                attachments.setdefault(iid, []).append((seq, attachment_path(iid, seq, filename), key, size))
        missing: list[str] = []
        missing_attachments: list[str] = []

        def file_name(iid: str, key: str) -> str:
            # The stored blob's own extension (``.wav``, ``.mp3``, …), given when it was uploaded.
            ext = key.rsplit(".", 1)[-1] if "." in key.rsplit("/", 1)[-1] else "bin"
            return f"recordings/{iid}.{ext}"

        def interactions_json() -> Iterator[bytes]:
            header = {
                "export_id": export_id,
                "created_at": created_at.isoformat(),
                "covers_interactions_started_before": cutoff.isoformat(),
                "subject": {
                    "phone": render_phone(criteria.phone_e164, country) if criteria.phone_e164 else None,
                    "email": criteria.email_norm,
                },
            }
            yield json.dumps(header, ensure_ascii=False)[:-1].encode() + b', "interactions": ['
            first = True
            for batch in _batches(plan.interaction_ids):
                for item in _own_items(session, batch, country, recordings, file_name, attachments):
                    yield (b"" if first else b",\n") + json.dumps(item, ensure_ascii=False).encode()
                    first = False
                session.expunge_all()
            yield b'],\n"mentioned_in": ['
            first = True
            for batch in _batches(plan.mention_ids):
                rows = session.execute(
                    select(Interaction.id, Interaction.started_at, Interaction.channel).where(Interaction.id.in_(batch))
                )
                by_id = {iid: (at, channel) for iid, at, channel in rows}
                for iid in batch:
                    if iid not in by_id:
                        continue
                    at, channel = by_id[iid]
                    reference = {"interaction_id": iid, "started_at": at.isoformat(), "channel": channel.value}
                    yield (b"" if first else b",\n") + json.dumps(reference).encode()
                    first = False
            yield b"]}\n"

        def raw_data_csv() -> Iterator[bytes]:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            for batch in _batches(plan.raw_row_ids, 2_000):
                rows = {row.id: row for row in session.scalars(select(RawEvent).where(RawEvent.id.in_(batch)))}
                for rid in batch:
                    if rid in rows:
                        writer.writerow([csv_cell(v) for v in row_dict(rows[rid]).values()])
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
                session.expunge_all()
            yield buffer.getvalue().encode()

        def audio(key: str) -> Iterator[bytes]:
            yield from blobs.open_range(key)

        def recording(key: str) -> Iterator[bytes]:
            # With the silence of an erasure whose fill is still pending (recordings.read_recording).
            yield from read_recording(session, blobs, key)

        def recording_entries() -> Iterator[Entry]:
            # Checked as the stream reaches each one: a recording deleted since the plan is
            # left out and named in the manifest, rather than written as an empty file.
            for iid in plan.interaction_ids:
                if iid not in recordings:
                    continue
                key, _, size = recordings[iid]
                if not blobs.exists(key):
                    missing.append(iid)
                    continue
                yield Entry(file_name(iid, key), functools.partial(recording, key), compress=False, size_hint=size)

        def attachment_entries() -> Iterator[Entry]:
            # Like recordings: one deleted since the plan is named in the manifest, not written empty.
            for iid in plan.interaction_ids:
                for _, path, key, size in attachments.get(iid, ()):
                    if not blobs.exists(key):
                        missing_attachments.append(path)
                        continue
                    yield Entry(path, functools.partial(audio, key), size_hint=size)

        facts = LetterFacts(
            solution_name=solution.name,
            country=country,
            timezone=timezone,
            created_at=created_at,
            phone=render_phone(criteria.phone_e164, country) if criteria.phone_e164 else None,
            email=criteria.email_norm,
            calls=plan.counts.calls,
            chats=plan.counts.chats,
            emails=plan.counts.emails,
            recordings=plan.counts.recordings,
            raw_data_rows=plan.counts.raw_data_rows,
            mentioned_in=plan.counts.mentioned_in,
            anonymized=plan.anonymized.interactions,
            anonymized_last_at=plan.anonymized.last_at,
            purposes=solution.access_purposes,
            recipients=solution.access_recipients,
            source=solution.access_source,
            rules=[RuleWords(r.what, r.channel, r.queue, r.keep_days) for r in rules_of(session, solution.id)],
        )

        def held_items() -> Iterator[HeldItem]:
            for batch in _batches(plan.interaction_ids):
                rows = {
                    row.id: row
                    for row in session.execute(
                        select(
                            Interaction.id,
                            Interaction.started_at,
                            Interaction.channel,
                            Interaction.direction,
                            Interaction.queue,
                            Interaction.has_recording,
                        ).where(Interaction.id.in_(batch))
                    )
                }
                for iid in batch:
                    if (row := rows.get(iid)) is not None:
                        yield HeldItem(row.started_at, row.channel, row.direction, row.queue, row.has_recording)

        entries = itertools.chain(
            # The letter first: what a person opening the ZIP should read (CONTRACT §19).
            [Entry(SUMMARY_FILE, lambda: letter(facts, held_items()))],
            [Entry(INTERACTIONS_FILE, interactions_json), Entry(RAW_DATA_FILE, raw_data_csv)],
            recording_entries(),
            attachment_entries(),
        )

        def manifest(written: list[Written]) -> Iterable[Entry]:
            document = {
                "export_id": export_id,
                "created_at": created_at.isoformat(),
                "counts": plan.counts.as_dict(),
                "files": [{"name": w.name, "size": w.size, "sha256": w.sha256} for w in written],
                # Recordings the archive listed but the store no longer had (deleted meanwhile).
                "recordings_missing": sorted(missing),
                "attachments_missing": sorted(missing_attachments),
            }
            body = json.dumps(document, indent=2).encode()
            return [Entry(MANIFEST_FILE, lambda: [body])]

        modified = created_at.astimezone(ZoneInfo(timezone))
        yield from stream_zip(entries, modified=modified, finish=manifest)


def _batches(ids: Sequence[T], size: int = BATCH) -> Iterator[list[T]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def attachment_path(interaction_id: str, index: int, filename: str) -> str:
    """Where an email attachment lies in the ZIP (CONTRACT §15): no path, control or reserved character."""
    return f"attachments/{interaction_id}/{index}-{safe_filename(filename) or 'attachment'}"


def _own_items(
    session: Session,
    batch: list[str],
    country: str,
    recordings: dict[str, tuple[str, str, int]],
    file_name: Callable[[str, str], str],
    attachments: dict[str, list[tuple[int, str, str, int]]],
) -> Iterator[dict[str, object]]:
    """The person's own interactions of one batch, in the batch's order, each with its content."""
    rows = {i.id: i for i in session.scalars(select(Interaction).where(Interaction.id.in_(batch)))}
    messages: dict[str, list[dict[str, object]]] = {}
    for m in session.scalars(
        select(ChatMessage)
        .where(ChatMessage.interaction_id.in_(batch))
        .order_by(ChatMessage.interaction_id, ChatMessage.seq)
    ):
        messages.setdefault(m.interaction_id, []).append(
            {"at": m.at.isoformat(), "from": m.sender.value, "text": m.text}
        )
    email = select(EmailBody.interaction_id, EmailBody.body).where(EmailBody.interaction_id.in_(batch))
    bodies = dict(session.execute(email).all())

    for iid in batch:
        interaction = rows.get(iid)
        if interaction is None:
            continue
        item: dict[str, object] = interaction_out(interaction, country).model_dump(mode="json")
        content: dict[str, object] | None = None
        if interaction.has_content and interaction.channel is Channel.CHAT:
            content = {"messages": messages.get(iid, [])}
        elif interaction.has_content and interaction.channel is Channel.CALL:
            # The call's transcript, as GET …/content shows it (CONTRACT §17).
            shown = read_content(session, interaction)
            content = shown.model_dump(mode="json") if shown else None
        elif interaction.has_content and interaction.channel is Channel.EMAIL and iid in bodies:
            # The email as GET …/content shows it (HTML, headers, attachments), each attachment
            # with the file that holds it in this ZIP.
            shown = read_content(session, interaction)
            mail: dict[str, Any] = shown.model_dump(mode="json", by_alias=True) if shown else {}
            files = {index: path for index, path, _, _ in attachments.get(iid, ())}
            for attachment in mail.get("attachments", []):
                attachment["file"] = files.get(attachment["index"])
            content = mail
        item["content"] = content
        recording = recordings.get(iid)
        item["recording"] = file_name(iid, recording[0]) if recording else None
        yield item
