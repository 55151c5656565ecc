"""Replaying the erasure ledger after a backup is restored (CONTRACT §11).

A restored database holds again the people erased since the backup was made. Each committed
ledger entry names its person by keyed hashes only, so replay first finds which identifiers
of the restored archive have those keys (the mention index, keyed the same way, names the
interactions whose customer is or whose text writes one of them), then erases each entry's
person through the same engine as the nightly run (``erasure.erase_person``), one
transaction per entry. On an archive where nothing came back
no key matches, and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.erasure import Counts, Person, Scope, erase_person
from archivist.anonymize.ledger import Ledger, LedgerEntry
from archivist.anonymize.models import LedgerKey
from archivist.archive.ingest import IngestResult, PreparedBatch, WritePlan, apply_write, plan_write, prepare
from archivist.archive.mentions import MentionKeyring, identifiers_in, stored_texts
from archivist.archive.models import Interaction, Mention, RawEvent
from archivist.archive.recordings import drain_pending_blobs
from archivist.archive.schemas import InteractionIn
from archivist.blobs import BlobStore
from archivist.db import chunks, engine_of, forget_freed_space, table_of, transaction

# Rows streamed per fetch while the keys are matched: memory does not grow with the archive.
_STREAM = 5_000


@dataclass
class ReplaySummary:
    """What a replay changed in one solution: counts only."""

    solution_id: str
    entries: int = 0
    # Entries whose person the restored archive holds again.
    entries_applied: int = 0
    counts: Counts = field(default_factory=Counts)
    blobs_deleted: int = 0

    def describe(self) -> str:
        c = self.counts
        return (
            f"replay for solution {self.solution_id}: {self.entries} ledger entries, "
            f"{self.entries_applied} found again in the archive; {c.interactions} interactions anonymized, "
            f"{c.raw_data_rows} raw data rows, {c.recordings_deleted} recordings and {c.content_deleted} "
            f"chat logs/emails deleted, {c.variables_replaced} variable values and {c.mentions_replaced} "
            f"mentions replaced, {self.blobs_deleted} blobs removed"
        )


def replay_solution(
    factory: sessionmaker[Session],
    blobs: BlobStore,
    ledger: Ledger,
    solution_id: str,
    now: datetime,
    *,
    keyring: MentionKeyring,
    progress: Callable[[int], None] = lambda _: None,
) -> ReplaySummary:
    """Re-apply every committed ledger entry of a solution to the archive as it is now."""
    summary = ReplaySummary(solution_id)
    entries = list(ledger.entries(solution_id))
    summary.entries = len(entries)
    with transaction(factory) as session:
        # A restored database lacks the keys of erasures done since its backup: every write checks them.
        sync_ledger_keys(session, ledger, solution_id)
    with factory() as session:
        solution = session.get(Solution, solution_id)
        if solution is None:
            raise LookupError("no such solution")
        country, replacement = solution.country, solution.replacement
        wanted = {key for entry in entries for key in entry.keys}
        found = _identifiers_for(session, keyring, solution_id, country, wanted) if wanted else {}
        indexed = _indexed(session, solution_id, wanted - found.keys())
    for entry in entries:
        person = _person(entry, found)
        # Also without a clear identifier, if the entry deleted content or raw data: what a later
        # request erased by the keys an earlier one left (erased_identifiers) is found by them
        # alone; and if the index still names one of its keys: an attachment that wrote it (its
        # file is not read again) is found by the key. Without any of these, nothing is left to change.
        if person.identifiers or (
            entry.keys and (entry.delete_content or entry.raw_data or not indexed.isdisjoint(entry.keys))
        ):
            scope = Scope(
                solution_id=solution_id,
                country=country,
                replacement=replacement,
                cutoff=entry.cutoff,
                delete_content=entry.delete_content,
                raw_data=entry.raw_data,
            )
            with transaction(factory) as session:
                counts = erase_person(
                    session, scope, person, keyring=keyring, now=now, apply=True, erased_keys=entry.keys, blobs=blobs
                )
            if counts.changed:
                summary.entries_applied += 1
                summary.counts.add(counts)
        progress(1)
    summary.blobs_deleted = drain_pending_blobs(factory, blobs, now)
    if summary.entries_applied or summary.blobs_deleted:
        forget_freed_space(engine_of(factory))
    return summary


def _person(entry: LedgerEntry, found: dict[str, str]) -> Person:
    identifiers = sorted({found[key] for key in entry.keys if key in found})
    return Person(
        phones=tuple(i for i in identifiers if "@" not in i), emails=tuple(i for i in identifiers if "@" in i)
    )


def _indexed(session: Session, solution_id: str, keys: set[str]) -> set[str]:
    """Those of ``keys`` the mention index still holds."""
    return {
        key
        for chunk in chunks(sorted(keys))
        for key in session.scalars(
            select(Mention.key).where(Mention.solution_id == solution_id, Mention.key.in_(chunk)).distinct()
        )
    }


def _identifiers_for(
    session: Session, keyring: MentionKeyring, solution_id: str, country: str, wanted: set[str]
) -> dict[str, str]:
    """key -> identifier for the wanted keys that the archive holds in some form.

    The mention index names every interaction whose customer is, or whose text writes, a
    wanted identifier (index lookups); reading those back and keying what they hold recovers
    the clear values. Raw data rows without an interaction are the one place the index does
    not cover: they are read by the raw data's interaction index (``interaction_id IS NULL``).
    """
    found: dict[str, str] = {}

    def match(values: Iterable[str | None]) -> None:
        for value in values:
            if value is not None and (key := keyring.key(solution_id, value)) in wanted:
                found[key] = value

    def mentioned(keys: Iterable[str]) -> list[str]:
        return sorted(
            {
                iid
                for chunk in chunks(sorted(keys))
                for iid in session.scalars(
                    select(Mention.interaction_id).where(Mention.solution_id == solution_id, Mention.key.in_(chunk))
                )
            }
        )

    # First the customers (a column read), then the texts only where a key is still unmatched
    # (the scanner costs far more than a read).
    for chunk in chunks(mentioned(wanted)):
        for phone, email in session.execute(
            select(Interaction.customer_phone_e164, Interaction.customer_email_norm).where(Interaction.id.in_(chunk))
        ):
            match((phone, email))
    for chunk in chunks(mentioned(wanted - found.keys())):
        # Every text the index read, an email's HTML and headers too: an address someone was only
        # copied on is learnt back there, or the drill would leave it in the restored archive.
        texts = [text for held in stored_texts(session, chunk).values() for text in held.all()]
        match(value for _, value in identifiers_in(texts, country))
    # Only the interaction index may serve this: with the solution or the customer in the
    # condition, SQLite walks the customer index instead, every raw row there is (ten per call).
    match(
        customer
        for customer, owner in session.execute(
            select(RawEvent.customer_norm, RawEvent.solution_id)
            .where(RawEvent.interaction_id.is_(None))
            .execution_options(yield_per=_STREAM)
        )
        if owner == solution_id
    )
    return found


# ---------------------------------------------------------------------------------------------
# Every write held against the ledger (CONTRACT §16): an erased person never comes back
# ---------------------------------------------------------------------------------------------


class _Solution(Protocol):
    id: str
    country: str
    replacement: str


def remember_erasure(session: Session, entry: LedgerEntry) -> None:
    """Copy a ledger entry's keys, cutoff and options into ``ledger_keys`` (idempotent). Does not commit."""
    if not entry.keys:
        return
    have = set(
        session.scalars(
            select(LedgerKey.key).where(LedgerKey.request_id == entry.request_id, LedgerKey.key.in_(entry.keys))
        )
    )
    new = sorted(set(entry.keys) - have)
    if new:
        session.execute(
            insert(LedgerKey),
            [
                {
                    "solution_id": entry.solution_id,
                    "request_id": entry.request_id,
                    "key": key,
                    "cutoff": entry.cutoff,
                    "raw_data": entry.raw_data,
                    "delete_content": entry.delete_content,
                }
                for key in new
            ],
        )


def sync_ledger_keys(session: Session, ledger: Ledger, solution_id: str) -> int:
    """Copy in the committed ledger entries ``ledger_keys`` lacks (a restored database, an
    erasure done before migration 0011); returns how many. Does not commit."""
    have = set(session.scalars(select(LedgerKey.request_id).where(LedgerKey.solution_id == solution_id).distinct()))
    added = 0
    for entry in ledger.entries(solution_id):
        if entry.request_id not in have and entry.keys:
            remember_erasure(session, entry)
            added += 1
    return added


@dataclass(frozen=True)
class _Erasure:
    request_id: str
    cutoff: datetime
    raw_data: bool
    delete_content: bool


def _erasures_of(session: Session, solution_id: str, keys: set[str]) -> dict[_Erasure, set[str]]:
    """The erasures whose keys are among ``keys``, each with the keys it matched: one look-up (chunked)."""
    found: dict[_Erasure, set[str]] = {}
    for chunk in chunks(sorted(keys)):
        for key, request_id, cutoff, raw_data, delete_content in session.execute(
            select(
                LedgerKey.key, LedgerKey.request_id, LedgerKey.cutoff, LedgerKey.raw_data, LedgerKey.delete_content
            ).where(LedgerKey.solution_id == solution_id, LedgerKey.key.in_(chunk))
        ):
            found.setdefault(_Erasure(request_id, cutoff, raw_data, delete_content), set()).add(key)
    return found


def write_checked(
    session: Session,
    solution: _Solution,
    batch: PreparedBatch,
    now: datetime,
    *,
    keyring: MentionKeyring,
    attach: Callable[[Session, WritePlan], None] | None = None,
    blobs: BlobStore | None = None,
) -> list[IngestResult]:
    """Write ``batch`` (``archive.ingest``'s plan and apply), held against the erasure ledger.

    Every identifier the written records hold — customer or written in their texts, as the
    mention index keys them — is looked up in ``ledger_keys`` once for the batch. For each
    erasure that matches, its person is erased again through the one engine (``erase_person``,
    as a replay does), with that erasure's cutoff and options: a record of theirs that started
    before the cutoff is stored already erased (``erased`` in its result), their identifiers in
    anybody's text replaced, and with *Delete recordings and content* no recording or content
    kept. ``attach`` runs between the write and the check (an importer's recordings); ``blobs`` holds
    them, so that what they say of the person is silenced (else such a recording is deleted). Does not commit.
    """
    plan = plan_write(session, solution.id, batch)
    written_prepared = {iid for _, iid in batch.bodies if iid not in plan.skipped}
    keys = {row[2] for row in batch.rows[table_of(Mention).name] if row[1] in written_prepared}
    matches = _erasures_of(session, solution.id, keys) if keys else {}
    results = apply_write(session, plan)
    if attach is not None:
        attach(session, plan)
    if not matches:
        return results
    for erasure, matched in sorted(matches.items(), key=lambda item: (item[0].cutoff, item[0].request_id)):
        identifiers = sorted({batch.identifiers[key] for key in matched if key in batch.identifiers})
        person = Person(
            phones=tuple(i for i in identifiers if "@" not in i), emails=tuple(i for i in identifiers if "@" in i)
        )
        scope = Scope(
            solution_id=solution.id,
            country=solution.country,
            replacement=solution.replacement,
            cutoff=erasure.cutoff,
            delete_content=erasure.delete_content,
            raw_data=erasure.raw_data,
        )
        erase_person(session, scope, person, keyring=keyring, now=now, apply=True, blobs=blobs)
    written = plan.written
    erased = {
        iid
        for chunk in chunks(written)
        for iid in session.scalars(
            select(Interaction.id).where(Interaction.id.in_(chunk), Interaction.anonymized_at.is_not(None))
        )
    }
    return [replace(r, erased=True) if (r.created or r.updated) and r.id in erased else r for r in results]


def ingest_checked(
    session: Session, solution: _Solution, bodies: Sequence[InteractionIn], now: datetime, *, keyring: MentionKeyring
) -> list[IngestResult]:
    """``archive.ingest.ingest`` held against the erasure ledger (``write_checked``): what the API
    writes. Does not commit."""
    dialect = session.connection().dialect.name
    batch = prepare(bodies, solution.id, solution.country, now, keyring=keyring, dialect=dialect)
    return write_checked(session, solution, batch, now, keyring=keyring)
