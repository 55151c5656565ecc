"""``--format ndjson``: our own shape, one ``POST /api/v1/interactions`` body a line.

A thin runner over ``archive.importer`` (which validates and prepares lines in worker
processes and writes them in file order), reporting through the §16 summary.
"""

from __future__ import annotations

import os
from collections import Counter

from archivist.archive.importer import ImportReport, ImportStopped, import_lines
from archivist.importers import ImportInterrupted, ImportJob, ImportSummary, SourceUnreadable
from archivist.importers.pipeline import checked_writer, solution_of
from archivist.importers.sources import open_source

# From this size on, starting worker processes (about a second each) pays for itself.
PARALLEL_IMPORT_BYTES = 4_000_000


def run(job: ImportJob) -> ImportSummary:
    """Import an NDJSON file; ``job.progress`` advances by bytes (the bar shows the file's size)."""
    source = open_source(job.source)
    if not source.single_file:
        raise SourceUnreadable("an NDJSON source is one file, not a folder")
    (name,) = source.files()
    size = source.size(name) or 0
    workers = job.workers
    if workers is None:
        workers = (os.cpu_count() or 1) if size > PARALLEL_IMPORT_BYTES else 0
    solution = solution_of(job)
    try:
        with source.open(name) as lines:
            report = import_lines(
                job.factory,
                solution,
                lines,
                job.now,
                job.progress,
                keyring=job.keyring,
                workers=workers,
                dry_run=job.dry_run,
                writer=checked_writer(job, solution),
            )
    except ImportStopped as stopped:
        raise ImportInterrupted(_summary(name, stopped.report), f"line {stopped.next_line}") from stopped.__cause__
    except OSError as exc:
        raise SourceUnreadable(f"the file cannot be read ({type(exc).__name__})") from None
    return _summary(name, report)


def _summary(name: str, report: ImportReport) -> ImportSummary:
    summary = ImportSummary(
        created=report.created,
        unchanged=report.existing,
        erased_on_import=report.erased,
        skipped=Counter(report.skipped),
    )
    for number, reason in report.errors:
        summary.add_bad(f"{name}:{number}", reason)
    summary.read = summary.created + summary.unchanged + len(report.errors)
    return summary
