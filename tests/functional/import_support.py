"""Helpers for the importer tests: a job on the test database, the rows an import left."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import ChatMessage, Interaction, RawEvent, Recording
from archivist.blobs import BlobStore
from archivist.importers import ImportFormat, ImportJob, ImportSummary, run_import

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def run(
    fmt: ImportFormat,
    source: str | Path,
    factory: sessionmaker[Session],
    solution: Solution,
    blobs: BlobStore,
    keyring: MentionKeyring,
    *,
    mapping: str | Path | None = None,
    dry_run: bool = False,
    now: datetime = NOW,
) -> ImportSummary:
    job = ImportJob(
        source=str(source),
        solution_id=solution.id,
        factory=factory,
        blobs=blobs,
        keyring=keyring,
        now=now,
        dry_run=dry_run,
        mapping=str(mapping) if mapping is not None else None,
    )
    return run_import(fmt, job)


def by_external_id(factory: sessionmaker[Session], external_id: str) -> Interaction:
    with factory() as session:
        found = session.scalar(select(Interaction).where(Interaction.external_id == external_id))
        assert found is not None, external_id
        session.expunge(found)
        return found


def messages(factory: sessionmaker[Session], interaction_id: str) -> list[tuple[str, str]]:
    with factory() as session:
        return [
            (m.sender.value, m.text)
            for m in session.scalars(
                select(ChatMessage).where(ChatMessage.interaction_id == interaction_id).order_by(ChatMessage.seq)
            )
        ]


def events(factory: sessionmaker[Session], interaction_id: str) -> list[tuple[str, str | None, str | None]]:
    with factory() as session:
        return [
            (e.type, e.queue, e.agent)
            for e in session.scalars(
                select(RawEvent).where(RawEvent.interaction_id == interaction_id).order_by(RawEvent.at)
            )
        ]


def recording_key(factory: sessionmaker[Session], interaction_id: str) -> str | None:
    with factory() as session:
        row = session.get(Recording, interaction_id)
        return None if row is None else row.blob_key
