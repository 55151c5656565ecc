"""Bulk intake (CONTRACT §12): a CSV of people to forget, validated whole, previewed, then added at once.

A file is read and every line checked before anything is added (``parse_bulk``): one bad line
refuses the file with every bad line's number. Lines for the same person count once. Adding
calls ``requests.create_request`` for each person, so a line for someone with a waiting request
is *existing* and widens it exactly as an entry on the page does. The preview counts what each
row would change with the erasure engine itself (``erasure.erase_person`` without ``apply``),
for the first ``PREVIEW_ROWS`` rows; every row gets its status (new, waiting, duplicate),
looked up set-wise (``requests.covering_requests``).
Helpers take a session and never commit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.services import Principal
from archivist.anonymize import requests as service
from archivist.anonymize.erasure import Counts, Person, Scope, erase_person
from archivist.anonymize.models import AnonymizationRequest
from archivist.archive.mentions import MentionKeyring
from archivist.audit.events import AuditAction, record_for
from archivist.blobs import BlobStore

# A file of this many bytes holds some 50,000 lines; anything larger is refused with 413.
MAX_BULK_BYTES = 4 * 1024 * 1024
# People per file (lines after the header, blank lines not counted).
MAX_BULK_LINES = 20_000
# Bad lines reported; a file with more says how many there were in all.
MAX_ERRORS = 200
# Rows whose effect the preview counts with the erasure engine (tens of ms a row on a loaded
# machine, see docs/performance.md); further rows are validated and given their status only.
PREVIEW_ROWS = 100

# New requests listed per audit entry of an upload (one entry each would make 10,000 entries).
AUDIT_BATCH = 500

COLUMNS = ("phone", "email", "raw_data", "delete_content")
_TRUE = frozenset({"true"})
_FALSE = frozenset({"false", ""})


@dataclass(frozen=True)
class LineError:
    line: int
    detail: str  # says what form is expected; never repeats the value


class BulkInvalid(ValueError):  # noqa: N818 - a verdict on the file, raised like a validation error
    """The file, or some of its lines, cannot be taken; nothing is added."""

    def __init__(self, errors: Sequence[LineError], total: int | None = None) -> None:
        super().__init__(f"{total or len(errors)} line(s) are invalid")
        self.errors = list(errors)
        self.total = total or len(errors)


@dataclass
class BulkRow:
    """One person of the file: as typed (for the page), parsed, and the lines that named them."""

    line: int
    phone: str
    email: str
    raw_data: bool
    delete_content: bool
    ids: service.Identifiers
    # Further lines of the file for the same person: counted once, their options merged.
    duplicate_lines: list[int] = field(default_factory=list)


def _flag(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{name}: write true or false (or leave it empty for false)")


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (a spreadsheet's byte-order mark is dropped). Raises BulkInvalid."""
    if b"\x00" in data:
        raise BulkInvalid([LineError(1, "The file holds NUL bytes: save it as a CSV text file")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BulkInvalid([LineError(1, "The file is not UTF-8 text: save it as CSV UTF-8")]) from None


def parse_bulk(text: str, country: str) -> list[BulkRow]:
    """Every person of the file, in file order, each once; BulkInvalid naming every bad line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise BulkInvalid([LineError(1, f"The file is empty: the first line must be {','.join(COLUMNS)}")]) from None
    names = [name.strip().lower() for name in header]
    if sorted(names) != sorted(COLUMNS) and sorted(names) != sorted(COLUMNS[:2]):
        raise BulkInvalid([LineError(1, f"The first line must be the header {','.join(COLUMNS)}")])
    index = {name: i for i, name in enumerate(names)}
    errors: list[LineError] = []
    total_errors = 0
    rows: dict[tuple[str | None, str | None], BulkRow] = {}
    people = 0

    def fail(line: int, detail: str) -> None:
        nonlocal total_errors
        total_errors += 1
        if len(errors) < MAX_ERRORS:
            errors.append(LineError(line, detail))

    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # spreadsheets end files with blank lines
            people += 1
            if people > MAX_BULK_LINES:
                raise BulkInvalid([LineError(line, f"At most {MAX_BULK_LINES:,} people in one file: split it")])
            if len(cells) != len(names):
                fail(line, f"Expected {len(names)} fields ({','.join(names)}), found {len(cells)}")
                continue

            def cell(name: str, cells: list[str] = cells) -> str:
                return cells[index[name]].strip() if name in index else ""

            try:
                raw_data = _flag(cell("raw_data"), "raw_data")
                delete_content = _flag(cell("delete_content"), "delete_content")
                ids = service.parse_identifiers(cell("phone"), cell("email"), country)
            except service.RequestError as exc:
                fail(line, f"{exc.field}: {exc}")
                continue
            except ValueError as exc:
                fail(line, str(exc))
                continue
            key = (ids.phone_e164, ids.email_norm)
            seen = rows.get(key)
            if seen is not None:
                seen.raw_data = seen.raw_data or raw_data
                seen.delete_content = seen.delete_content or delete_content
                seen.duplicate_lines.append(line)
                continue
            rows[key] = BulkRow(line, cell("phone"), cell("email"), raw_data, delete_content, ids)
    except csv.Error:
        fail(reader.line_num, "The line is not valid CSV (an unclosed quote?)")
    if total_errors:
        raise BulkInvalid(errors, total_errors)
    if not rows:
        raise BulkInvalid([LineError(1, "The file names nobody: add a line per person under the header")])
    return list(rows.values())


@dataclass(frozen=True)
class BulkResult:
    added: list[AnonymizationRequest]
    existing: list[AnonymizationRequest]


def add_rows(
    session: Session, solution: Solution, rows: Sequence[BulkRow], *, created_by: str, now: datetime
) -> BulkResult:
    """Enter every row as a request, in the caller's one transaction (the caller audits the new ones).

    ``requests.create_requests`` is ``create_request`` for many at once: the same rules (a person
    with a waiting request is *existing*, and it is widened and audited), in a few queries.
    """
    entries = [service.Entry(row.ids, row.raw_data, row.delete_content) for row in rows]
    added: list[AnonymizationRequest] = []
    existing: list[AnonymizationRequest] = []
    for request, created in service.create_requests(session, solution, entries, created_by=created_by, now=now):
        (added if created else existing).append(request)
    return BulkResult(added, existing)


@dataclass(frozen=True)
class RowPreview:
    row: BulkRow
    # "new", or "waiting": a waiting request already covers the person (Add widens it).
    status: str
    counts: Counts | None  # None past PREVIEW_ROWS


@dataclass(frozen=True)
class BulkPreview:
    rows: list[RowPreview]
    people: int
    new: int
    waiting: int
    duplicate_lines: int
    previewed: int
    # Sums over the previewed rows (each row alone: an interaction two rows match counts twice).
    totals: Counts


def preview_rows(
    session: Session,
    solution: Solution,
    rows: Sequence[BulkRow],
    *,
    now: datetime,
    keyring: MentionKeyring,
    limit: int = PREVIEW_ROWS,
    blobs: BlobStore | None = None,
) -> BulkPreview:
    """What adding the file would do: each row's status, and for the first ``limit`` what it would change."""
    shown: list[RowPreview] = []
    totals = Counts()
    new = waiting = 0
    waiting_requests = service.covering_requests(session, solution.id, [row.ids for row in rows])
    for n, row in enumerate(rows):
        covered = waiting_requests[n] is not None
        if covered:
            waiting += 1
        else:
            new += 1
        counts = None
        if n < limit:
            scope = Scope(
                solution.id,
                solution.country,
                solution.replacement,
                cutoff=now,
                delete_content=row.delete_content,
                raw_data=row.raw_data,
            )
            person = Person.of(row.ids.phone_e164, row.ids.email_norm, service.Also())
            # With the blob store, as the night has it: whether a recording can be silenced is read there.
            counts = erase_person(session, scope, person, keyring=keyring, now=now, apply=False, blobs=blobs)
            totals.add(counts)
        shown.append(RowPreview(row, "waiting" if covered else "new", counts))
    return BulkPreview(
        rows=shown,
        people=len(rows),
        new=new,
        waiting=waiting,
        duplicate_lines=sum(len(row.duplicate_lines) for row in rows),
        previewed=min(limit, len(rows)),
        totals=totals,
    )


def audit_bulk(
    session: Session, principal: Principal, result: BulkResult, country: str, *, now: datetime, via: str
) -> None:
    """The audit trail of an upload: the new requests (masked, as one entry each would hold), in
    entries of ``AUDIT_BATCH``; widened requests were audited by the request service."""
    added = [{"id": row.id, **service.audit_details(row, country)} for row in result.added]
    parts = max(1, -(-len(added) // AUDIT_BATCH))
    for part in range(parts):
        details = {
            "added": len(result.added),
            "existing": len(result.existing),
            "part": part + 1,
            "of": parts,
            "requests": added[part * AUDIT_BATCH : (part + 1) * AUDIT_BATCH],
            "via": via,
        }
        record_for(session, principal, AuditAction.REQUESTS_BULK_ADDED, None, details, at=now)
