"""From records read out of an export to the archive: the one write path every platform runner shares.

A runner turns its export into ``Record``s (a validated body, its position, its update time,
where its recording lies) or ``Bad`` positions, lazily; ``write_records`` takes them a chunk at a
time through ``archive.ingest`` (``prepare``, then ``anonymize.replay.write_checked``: re-delivery
and the erasure check), copies each chunk's recordings into the blob store as streams, and
commits the chunk as one transaction — so a killed import leaves every record written whole or
not at all, and running it again finishes it.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.anonymize.replay import write_checked
from archivist.archive.audio import HEAD_BYTES, head_layout
from archivist.archive.importer import Writer, describe
from archivist.archive.ingest import IngestResult, PreparedBatch, WritePlan, plan_write, prepare
from archivist.archive.recordings import (
    Upload,
    attach_recordings,
    drain_pending_blobs,
    new_blob_key,
    register_upload,
)
from archivist.archive.schemas import IMPORT_SKIPPED, InteractionIn
from archivist.db import transaction
from archivist.importers import ImportJob, ImportSummary, SourceUnreadable
from archivist.importers.sources import Source

# Records per transaction: the ingest's batch size, so the erasure check is one look-up a chunk.
CHUNK_RECORDS = 1_000

# Audio containers by file extension, for the recording's Content-Type.
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".webm": "audio/webm",
    ".m4a": "audio/mp4",
}


@dataclass
class Record:
    """One interaction read from an export, validated, with what travels beside it."""

    position: str  # "calls/2026/a.json:3": the file and the 1-based record number
    body: InteractionIn
    updated_at: datetime | None = None
    recording: str | None = None  # a path relative to the source


@dataclass(frozen=True)
class Bad:
    """A record that could not be read: its position and why, without its content."""

    position: str
    reason: str
    counted_as: str = "bad_record"


@dataclass(frozen=True)
class Skipped:
    """A record read but not archived by design (an Amazon Connect TASK), counted under ``reason``."""

    position: str
    reason: str


Item = Record | Bad | Skipped


def validated(position: str, data: dict[str, Any], summary: ImportSummary) -> InteractionIn | Bad:
    """``data`` as an interaction body, read as the API reads it; an unreadable customer email is
    dropped and counted (CONTRACT §16), any other fault makes the record bad."""
    # Counted apart and added only for a record that is kept (a plain dict: a Counter a record
    # cost more than its validation's own bookkeeping).
    seen: defaultdict[str, int] = defaultdict(int)
    try:
        body = InteractionIn.model_validate(data, context={IMPORT_SKIPPED: seen})
    except ValidationError as exc:
        return Bad(position, describe(exc))
    if seen:
        summary.skipped.update(seen)
    return body


# Text read ahead of the value being decoded before a value that does not parse is taken for a
# bad one (a record is far smaller): memory stays bounded on a corrupt file.
_LOOKAHEAD = 4 * 1024 * 1024
_BLANK = re.compile(r"[\s\ufeff]*")
_BETWEEN = re.compile(r"[\s,]*")


def json_records(name: str, stream: Iterable[bytes]) -> Iterator[tuple[str, Any]]:
    """(position, value) of every JSON value in a file: one a line, a JSON array, or values
    concatenated back to back (Kinesis Data Firehose writes contact records so).

    Streaming: the file is read in pieces and only the text from the value being decoded on is
    held. A value that does not parse yields ``(position, ValueError)``; in a file of lines the
    next line is read on, otherwise (an array, values across lines) the file ends there.
    """
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces = iter(stream)
    text, pos, number = "", 0, 0
    in_array: bool | None = None
    exhausted = False
    while True:
        pos = (_BETWEEN if in_array else _BLANK).match(text, pos).end()  # type: ignore[union-attr]
        if pos < len(text):
            if in_array is None:
                in_array = text[pos] == "["
                if in_array:
                    pos += 1
                    continue
            if in_array and text[pos] == "]":
                return
            try:
                value, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                if exhausted or len(text) - pos > _LOOKAHEAD:
                    number += 1
                    yield f"{name}:{number}", ValueError("not valid JSON")
                    newline = text.find("\n", pos)
                    if in_array or newline < 0:
                        return
                    pos = newline + 1
                    continue
            else:
                # A value that ends exactly where the text read so far ends may go on (a number).
                if end < len(text) or exhausted:
                    number += 1
                    yield f"{name}:{number}", value
                    pos = end
                    continue
        if exhausted:
            return
        piece = next(pieces, None)
        exhausted = piece is None
        text = text[pos:] + utf8.decode(piece or b"", final=exhausted)
        pos = 0


def read_pieces(handle: Any, size: int = 1 << 20) -> Iterator[bytes]:
    while piece := handle.read(size):
        yield piece


def solution_of(job: ImportJob) -> Solution:
    with job.factory() as session:
        solution = session.get(Solution, job.solution_id)
        if solution is None:
            raise SourceUnreadable("no such solution")
        session.expunge(solution)
    return solution


@dataclass
class _Uploads:
    """The recordings of a chunk, copied into the blob store before its transaction."""

    # prepared id -> (key, type, size, WAV layout)
    keys: dict[str, tuple[str, str, int, dict[str, int] | None]] = field(default_factory=dict)


def write_records(job: ImportJob, source: Source, items: Iterable[Item], summary: ImportSummary) -> None:
    """Archive ``items`` chunk by chunk (see the module docstring); counts go to ``summary``."""
    solution = solution_of(job)
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK_RECORDS)):
        records: list[Record] = []
        for item in chunk:
            if isinstance(item, Record):
                records.append(item)
            elif isinstance(item, Bad):
                summary.read += 1
                summary.add_bad(item.position, item.reason, counted_as=item.counted_as)
            else:
                summary.read += 1
                summary.skipped[item.reason] += 1
        if records:
            _write_chunk(job, source, solution, records, summary)
        job.progress(len(chunk))


def _write_chunk(
    job: ImportJob, source: Source, solution: Solution, records: list[Record], summary: ImportSummary
) -> None:
    summary.read += len(records)
    with job.factory() as session:
        dialect = session.get_bind().dialect.name
    batch = prepare(
        [r.body for r in records],
        solution.id,
        solution.country,
        job.now,
        keyring=job.keyring,
        dialect=dialect,
        updated_at=[r.updated_at for r in records],
    )
    if job.dry_run:
        with job.factory() as session:
            plan = plan_write(session, solution.id, batch)
        _count(summary, plan.results)
        summary.recordings += sum(
            1
            for record, (_, iid), result in zip(records, batch.bodies, plan.results, strict=True)
            if record.recording and iid not in plan.skipped and (result.created or result.updated)
        )
        return
    # Which records will be written (a rerun skips what is archived): only their recordings are
    # copied. A chunk without recordings (most of them) need not ask.
    uploads = _Uploads()
    if any(record.recording for record in records):
        with job.factory() as session:
            plan = plan_write(session, solution.id, batch)
        target = {iid: (r.id if r.updated else iid) for (_, iid), r in zip(batch.bodies, plan.results, strict=True)}
        wanted = [
            (iid, record.recording)
            for record, (_, iid) in zip(records, batch.bodies, strict=True)
            if record.recording and iid not in plan.skipped
        ]
        uploads = _upload(job, source, solution.id, target, wanted)

    def attach(session: Session, plan: WritePlan) -> None:
        attached = [
            Upload(result.id, *uploads.keys[iid])
            for (_, iid), result in zip(plan.batch.bodies, plan.results, strict=True)
            if iid in uploads.keys and (result.created or result.updated) and iid not in plan.skipped
        ]
        attach_recordings(session, solution.id, attached, job.now)
        summary.recordings += len(attached)

    with transaction(job.factory) as session:
        results = write_checked(session, solution, batch, job.now, keyring=job.keyring, attach=attach, blobs=job.blobs)
    _count(summary, results)
    if any(r.erased for r in results) or uploads.keys:
        # Recordings an erasure (or a newer delivery) let go, and uploads that were not attached.
        drain_pending_blobs(job.factory, job.blobs, job.now)


def _count(summary: ImportSummary, results: Iterable[Any]) -> None:
    for result in results:
        if result.created:
            summary.created += 1
        elif result.updated:
            summary.updated += 1
        else:
            summary.unchanged += 1
        summary.erased_on_import += result.erased


def _upload(
    job: ImportJob, source: Source, solution_id: str, target: dict[str, str], wanted: list[tuple[str, str]]
) -> _Uploads:
    """Copy recordings into the blob store, streamed; each key first registered as a pending
    deletion (committed), so that a blob a crash leaves unattached is deleted after the grace period."""
    uploads = _Uploads()
    if not wanted:
        return uploads
    planned: list[tuple[str, str, str, str]] = []  # (prepared id, path, key, content type)
    for iid, path in wanted:
        suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
        content_type = AUDIO_TYPES.get(suffix, "application/octet-stream")
        planned.append((iid, path, new_blob_key(solution_id, target[iid], content_type), content_type))
    with transaction(job.factory) as session:
        for _, _, key, _ in planned:
            register_upload(session, solution_id, key, job.now)
    for iid, path, key, content_type in planned:
        try:
            with source.open(path) as stream:
                # The header on the way: silencing this recording later needs no read of the blob.
                head = stream.read(HEAD_BYTES)
                stream.seek(0)
                size = job.blobs.put(key, stream, content_type)  # type: ignore[arg-type]
        except OSError:
            continue  # the record is kept without it; the registered key expires
        uploads.keys[iid] = (key, content_type, size, head_layout(head, size))
    return uploads


def checked_writer(job: ImportJob, solution: Solution) -> Writer:
    """The NDJSON importer's writer: each chunk held against the erasure ledger (``write_checked``)."""

    def write(session: Session, batch: PreparedBatch) -> list[IngestResult]:
        return write_checked(session, solution, batch, job.now, keyring=job.keyring)

    return write
