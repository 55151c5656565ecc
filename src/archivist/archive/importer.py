"""Importing interactions from NDJSON: good lines are kept, bad ones reported by number."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.ingest import ingest
from archivist.archive.mentions import MentionKeyring
from archivist.archive.schemas import InteractionIn

IMPORT_BATCH = 1_000


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def describe(exc: ValidationError) -> str:
    """The fields and what is wrong with them, without the rejected values (personal data)."""
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error.get("loc", ())) or "line"
        parts.append(f"{loc}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def import_lines(
    factory: sessionmaker[Session],
    solution: Solution,
    lines: Iterable[bytes],
    now: datetime,
    progress: Callable[[int], None] = lambda _: None,
    *,
    keyring: MentionKeyring,
) -> ImportReport:
    """Validate and ingest NDJSON ``lines``, committing every ``IMPORT_BATCH`` good ones.

    ``progress`` is called with the number of bytes consumed since the last call.
    """
    report = ImportReport()
    batch: list[InteractionIn] = []

    def flush() -> None:
        if not batch:
            return
        with factory() as session, session.begin():
            results = ingest(session, solution, batch, now, keyring=keyring)
        report.created += sum(r.created for r in results)
        report.existing += sum(not r.created for r in results)
        batch.clear()

    for number, line in enumerate(lines, start=1):
        progress(len(line))
        if not line.strip():
            continue
        try:
            batch.append(InteractionIn.model_validate_json(line))
        except ValidationError as exc:
            report.errors.append((number, describe(exc)))
            continue
        if len(batch) >= IMPORT_BATCH:
            flush()
    flush()
    return report
