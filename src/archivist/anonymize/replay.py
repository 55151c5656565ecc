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

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.erasure import Counts, Person, Scope, erase_person
from archivist.anonymize.ledger import Ledger, LedgerEntry
from archivist.archive.mentions import MentionKeyring, identifiers_in, texts_of
from archivist.archive.models import ChatMessage, EmailBody, Interaction, Mention, RawEvent
from archivist.archive.recordings import drain_pending_deletions
from archivist.blobs import BlobStore
from archivist.db import chunks, engine_of, forget_freed_space, transaction

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
    with factory() as session:
        solution = session.get(Solution, solution_id)
        if solution is None:
            raise LookupError("no such solution")
        country, replacement = solution.country, solution.replacement
        wanted = {key for entry in entries for key in entry.keys}
        found = _identifiers_for(session, keyring, solution_id, country, wanted) if wanted else {}
    for entry in entries:
        person = _person(entry, found)
        # Also without a clear identifier, if the entry deleted content or raw data: what a later
        # request erased by the keys an earlier one left (erased_identifiers) is found by them
        # alone. Without either, such an entry has nothing left to change.
        if person.identifiers or (entry.keys and (entry.delete_content or entry.raw_data)):
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
                    session, scope, person, keyring=keyring, now=now, apply=True, erased_keys=entry.keys
                )
            if counts.changed:
                summary.entries_applied += 1
                summary.counts.add(counts)
        progress(1)
    summary.blobs_deleted = drain_pending_deletions(factory, blobs, now)
    if summary.entries_applied or summary.blobs_deleted:
        forget_freed_space(engine_of(factory))
    return summary


def _person(entry: LedgerEntry, found: dict[str, str]) -> Person:
    identifiers = sorted({found[key] for key in entry.keys if key in found})
    return Person(
        phones=tuple(i for i in identifiers if "@" not in i), emails=tuple(i for i in identifiers if "@" in i)
    )


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
        texts: list[str | None] = []
        for subject, variables in session.execute(
            select(Interaction.subject, Interaction.variables).where(Interaction.id.in_(chunk))
        ):
            texts += [subject, *texts_of(variables)]
        texts += session.scalars(select(ChatMessage.text).where(ChatMessage.interaction_id.in_(chunk)))
        texts += session.scalars(select(EmailBody.body).where(EmailBody.interaction_id.in_(chunk)))
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
