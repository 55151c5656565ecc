"""The demo archive is the same from one seed: two loads make identical data (the issue saw
1,403 against 1,405 recordings), whatever time of the day each ran."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Solution
from archivist.archive.models import Interaction, Recording
from archivist.blobs.memory import MemoryBlobStore
from archivist.demo.load import load_demo
from tests.conftest import KEYRING


def _snapshot(factory: sessionmaker[Session], blobs: MemoryBlobStore, solution: Solution) -> list[tuple[Any, ...]]:
    """Everything a demo load decides, by external id (interaction ids are random by design)."""
    with factory() as session:
        rows = session.execute(
            select(Interaction, Recording.blob_key)
            .outerjoin(Recording, Recording.interaction_id == Interaction.id)
            .where(Interaction.solution_id == solution.id)
            .order_by(Interaction.external_id)
        ).all()
        out = []
        for i, key in rows:
            audio = hashlib.sha256(b"".join(blobs.open_range(key))).hexdigest() if key else None
            out.append(
                (
                    i.external_id,
                    i.channel,
                    i.started_at,
                    i.queue,
                    i.agent,
                    i.customer_phone,
                    i.customer_email,
                    i.customer_name,
                    i.variables,
                    i.has_recording,
                    audio,
                )
            )
        return out


def test_two_loads_with_one_seed_on_one_day_make_the_same_archive(
    session_factory: sessionmaker[Session], blobs: MemoryBlobStore
) -> None:
    with session_factory() as session, session.begin():
        first = accounts.create_solution(session, name="A", country="NO", timezone="Europe/Oslo")
        second = accounts.create_solution(session, name="B", country="NO", timezone="Europe/Oslo")
    morning = datetime(2026, 3, 10, 7, 12, 5, 123456, tzinfo=UTC)
    evening = datetime(2026, 3, 10, 21, 47, 59, 999, tzinfo=UTC)
    a = load_demo(session_factory, blobs, first, 300, 1, morning, keyring=KEYRING)
    b = load_demo(session_factory, blobs, second, 300, 1, evening, keyring=KEYRING)
    assert (a.created, a.recordings) == (b.created, b.recordings) == (300, a.recordings)
    assert a.recordings > 0
    one, other = _snapshot(session_factory, blobs, first), _snapshot(session_factory, blobs, second)
    assert len(one) == 300
    assert one == other
