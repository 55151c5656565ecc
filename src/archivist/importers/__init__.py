"""Importers: one module per source, each a reader and a mapping into the one ingest path.

``archivist import SOURCE --format FMT`` (CONTRACT §16) picks a runner from ``RUNNERS`` and
prints its ``ImportSummary``. A runner reads its source as a stream (files one by one, records
one by one), reports bad records by position and skips them, and writes through
``archive.ingest`` — never a second ingest path.
"""

from __future__ import annotations

import enum
import importlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, cast

from archivist.allocation import bulk_allocation

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from archivist.anonymize.ledger import Ledger
    from archivist.archive.mentions import MentionKeyring
    from archivist.blobs import BlobStore

__all__ = [
    "RUNNERS",
    "ImportFormat",
    "ImportInterrupted",
    "ImportJob",
    "ImportSummary",
    "Runner",
    "SourceUnreadable",
    "import_source",
    "run_import",
]


class ImportFormat(enum.StrEnum):
    NDJSON = "ndjson"
    AMAZON_CONNECT = "amazon-connect"
    GENESYS = "genesys"
    CSV = "csv"
    EML = "eml"
    MBOX = "mbox"
    MAILDIR = "maildir"


class SourceUnreadable(Exception):  # noqa: N818 - the agreed name (CONTRACT §16: exit 2)
    """The source cannot be read at all (missing, not a folder/file, no access, a bad mapping).

    Its message names what failed, never a record's content: it is printed and may be logged.
    """


class ImportInterrupted(Exception):  # noqa: N818 - not an error of the input: the import stopped
    """An import stopped by a failure (its ``__cause__``) or Ctrl-C, not by bad records.

    ``summary`` counts what was committed; ``position`` names the first record not imported
    (``line 10001``). Its text holds positions only — the cause's text may quote data.
    """

    def __init__(self, summary: ImportSummary, position: str) -> None:
        super().__init__(f"import stopped at {position}")
        self.summary = summary
        self.position = position


def _no_progress(n: int) -> None:
    """The default ``progress``: nobody watches."""


@dataclass
class ImportSummary:
    """The §16 summary of one import; ``bad`` lists (position, reason) without personal data."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    erased_on_import: int = 0
    recordings: int = 0
    transcripts: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": dict(sorted(self.skipped.items())),
            "erased_on_import": self.erased_on_import,
            "recordings": self.recordings,
            "transcripts": self.transcripts,
        }

    def add_bad(self, position: str, reason: str, *, counted_as: str = "bad_record") -> None:
        """A record that could not be read: reported at ``position`` and skipped under ``counted_as``."""
        self.bad.append((position, reason))
        self.skipped[counted_as] += 1


@dataclass(frozen=True)
class ImportJob:
    """What every runner gets: where to read, where to write, and how to report progress."""

    source: str  # a local path or an fsspec URL
    solution_id: str
    factory: sessionmaker[Session]  # runners commit per chunk through it
    blobs: BlobStore
    keyring: MentionKeyring
    now: datetime
    dry_run: bool = False
    mapping: str | None = None
    progress: Callable[[int], None] = _no_progress  # advance by n records (ndjson: by n bytes)
    workers: int | None = None  # processes preparing records where a runner can use them; None: its choice


Runner = Callable[[ImportJob], ImportSummary]

# format -> "module:function", imported only when asked for (an import never loads every reader).
RUNNERS: dict[ImportFormat, str] = {
    ImportFormat.NDJSON: "archivist.importers.ndjson:run",
    ImportFormat.AMAZON_CONNECT: "archivist.importers.amazon_connect:run",
    ImportFormat.GENESYS: "archivist.importers.genesys:run",
    ImportFormat.CSV: "archivist.importers.csv:run",
    ImportFormat.EML: "archivist.importers.mail:run_eml",
    ImportFormat.MBOX: "archivist.importers.mail:run_mbox",
    ImportFormat.MAILDIR: "archivist.importers.mail:run_maildir",
}


def runner_for(fmt: ImportFormat) -> Runner:
    """The runner of ``fmt``; SourceUnreadable if no runner is registered for it yet."""
    target = RUNNERS.get(fmt)
    if target is None:
        raise SourceUnreadable(f"no importer for the format {fmt.value}")
    module_name, _, name = target.partition(":")
    return cast("Runner", getattr(importlib.import_module(module_name), name))


def run_import(fmt: ImportFormat, job: ImportJob) -> ImportSummary:
    """Run the importer of ``fmt`` on ``job``; raises SourceUnreadable when the source cannot be read.

    Garbage is collected less often meanwhile (``allocation.bulk_allocation``): an import's
    chunks allocate much and free it by reference counting."""
    runner = runner_for(fmt)
    with bulk_allocation():
        return runner(job)


def import_source(fmt: ImportFormat, job: ImportJob, ledger: Ledger) -> ImportSummary:
    """An import as ``archivist import`` and a queued import run it: unless a dry run, the database's
    copy of the erasure ledger first takes in what the ledger holds and it does not (a restored
    backup), since every write is held against it (CONTRACT §16); then the runner of ``fmt``.
    Raises SourceUnreadable and ImportInterrupted as the runners do."""
    if not job.dry_run:
        from archivist.anonymize.replay import sync_ledger_keys

        with job.factory() as session, session.begin():
            sync_ledger_keys(session, ledger, job.solution_id)
    return run_import(fmt, job)
