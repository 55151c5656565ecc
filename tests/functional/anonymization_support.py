"""Helpers for the anonymization and nightly-run tests: archive interactions, enter requests, snapshot.

Everything goes through the real services (ingest, create_request, run_nightly) on the test's
real database; time is always passed in, never read from the wall clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.requests import create_request
from archivist.archive.ingest import ingest
from archivist.archive.models import (
    ChatMessage,
    EmailBody,
    Interaction,
    PendingBlobDeletion,
    RawEvent,
    Recording,
)
from archivist.archive.recordings import attach_recording, new_blob_key
from archivist.archive.schemas import InteractionIn
from archivist.blobs import BlobStore
from archivist.nightly.run import run_nightly
from archivist.nightly.summary import RunSummary, RunTrigger
from tests.conftest import KEYRING

OSLO = ZoneInfo("Europe/Oslo")
INGESTED_AT = datetime(2026, 1, 1, tzinfo=OSLO)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32)


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, fold: int = 0) -> datetime:
    """A local Oslo wall-clock time (``fold=1`` picks the second of a repeated hour)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=OSLO, fold=fold)


_counter = 0


def _external_id(prefix: str) -> str:
    global _counter
    _counter += 1
    return f"{prefix}-{_counter}"


def call(
    phone: str | None,
    started_at: datetime,
    *,
    external_id: str | None = None,
    name: str | None = "Kari Nordmann",
    variables: dict[str, str] | None = None,
    events: int = 0,
) -> dict[str, Any]:
    return {
        "channel": "call",
        "direction": "inbound",
        "started_at": started_at.isoformat(),
        "external_id": external_id or _external_id("call"),
        "customer": {"phone": phone, "name": name},
        "variables": variables or {},
        "events": [{"at": started_at.isoformat(), "type": f"event-{i}", "queue": "Support"} for i in range(events)],
    }


def chat(email: str, started_at: datetime, *, external_id: str | None = None, events: int = 0) -> dict[str, Any]:
    return {
        "channel": "chat",
        "direction": "inbound",
        "started_at": started_at.isoformat(),
        "external_id": external_id or _external_id("chat"),
        "customer": {"email": email, "name": "Kari"},
        "messages": [{"at": started_at.isoformat(), "from": "customer", "text": "Hei"}],
        "events": [{"at": started_at.isoformat(), "type": f"chat-{i}"} for i in range(events)],
    }


def email(address: str, started_at: datetime, *, external_id: str | None = None) -> dict[str, Any]:
    return {
        "channel": "email",
        "direction": "inbound",
        "started_at": started_at.isoformat(),
        "external_id": external_id or _external_id("email"),
        "customer": {"email": address},
        "subject": "Faktura",
        "body": "Hei, se vedlegg.",
    }


def archive(factory: sessionmaker[Session], solution: Solution, *bodies: dict[str, Any]) -> list[str]:
    """Archive ``bodies`` (API shapes) and return their interaction ids, in order."""
    with factory() as session, session.begin():
        results = ingest(
            session, solution, [InteractionIn.model_validate(b) for b in bodies], INGESTED_AT, keyring=KEYRING
        )
    return [r.id for r in results]


def record(factory: sessionmaker[Session], blobs: BlobStore, interaction_id: str, now: datetime) -> str:
    """Give an interaction a recording (blob + row), as the upload endpoint would."""
    with factory() as session, session.begin():
        interaction = session.get(Interaction, interaction_id)
        assert interaction is not None
        key = new_blob_key(interaction.solution_id, interaction.id, "audio/wav")
        blobs.put(key, WAV, "audio/wav")
        attach_recording(session, interaction, key, "audio/wav", len(WAV), now)
    return key


def enter(
    factory: sessionmaker[Session],
    solution: Solution,
    now: datetime,
    *,
    phone: str | None = None,
    email: str | None = None,
    raw_data: bool = False,
    delete_content: bool = False,
    created_by: str = "privacy-officer",
) -> str:
    """Enter a request as the page would at ``now``; returns its id."""
    with factory() as session, session.begin():
        request, _ = create_request(
            session,
            solution,
            phone=phone,
            email=email,
            raw_data=raw_data,
            delete_content=delete_content,
            created_by=created_by,
            now=now,
        )
        return request.id


def night(
    factory: sessionmaker[Session], blobs: BlobStore, now: datetime, solution: Solution | None = None
) -> RunSummary:
    """Run the nightly job for ``solution`` (default: the only one) and return its summary."""
    summaries = run_nightly(
        factory, blobs, now, keyring=KEYRING, solution_id=solution.id if solution else None, trigger=RunTrigger.CLI
    )
    assert len(summaries) == 1
    return summaries[0]


def customer(factory: sessionmaker[Session], interaction_id: str) -> dict[str, Any]:
    with factory() as session:
        i = session.get(Interaction, interaction_id)
        assert i is not None
        return {
            "phone": i.customer_phone,
            "phone_e164": i.customer_phone_e164,
            "email": i.customer_email,
            "email_norm": i.customer_email_norm,
            "name": i.customer_name,
            "variables": i.variables,
            "anonymized": i.anonymized_at is not None,
        }


def anonymized(factory: sessionmaker[Session], interaction_id: str) -> bool:
    return bool(customer(factory, interaction_id)["anonymized"])


def archive_state(factory: sessionmaker[Session], blobs: BlobStore) -> dict[str, Any]:
    """Everything a run can change, keyed by stable names (external ids), not random ids."""
    with factory() as session:
        interactions = {
            i.external_id: (
                i.customer_phone,
                i.customer_phone_e164,
                i.customer_email,
                i.customer_email_norm,
                i.customer_name,
                i.variables,
                i.has_recording,
                i.has_content,
                i.anonymized_at,
            )
            for i in session.scalars(select(Interaction))
        }
        external: dict[str, str | None] = {
            row.id: row.external_id for row in session.execute(select(Interaction.id, Interaction.external_id))
        }
        raw = sorted(
            (
                external.get(r.interaction_id or "", "-"),
                r.type,
                r.at.isoformat(),
                r.customer or "",
                r.customer_norm or "",
            )
            for r in session.scalars(select(RawEvent))
        )
        recordings = sorted(str(external[r.interaction_id]) for r in session.scalars(select(Recording)))
        messages = sorted(
            (external[i], n)
            for i, n in session.execute(
                select(ChatMessage.interaction_id, func.count()).group_by(ChatMessage.interaction_id)
            )
        )
        bodies = sorted(str(external[e.interaction_id]) for e in session.scalars(select(EmailBody)))
        pending = session.scalar(select(func.count()).select_from(PendingBlobDeletion))
    return {
        "interactions": interactions,
        "raw": raw,
        "recordings": recordings,
        "messages": messages,
        "bodies": bodies,
        "pending_blob_deletions": pending,
        "blobs": len(blobs.list_keys("recordings/")),
    }
