"""Two officers entering the same person at the same moment make one request, not two."""

from __future__ import annotations

import threading
from contextlib import suppress
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize import requests
from archivist.anonymize.models import AnonymizationRequest
from tests.functional.anonymization_support import oslo

NOW = oslo(2026, 3, 10, 12, 0)


def test_the_same_person_entered_twice_at_once_makes_one_request(
    session_factory: sessionmaker[Session], solution: Solution, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each entry waits after its lookup for the other to look too: without a lock both find
    # nothing and both add. With the lock the second entry cannot look until the first has
    # committed, so the first stops waiting after a moment and the second finds its request.
    barrier = threading.Barrier(2)
    real_lookup = requests.covering_request

    def lookup_then_wait(*args: Any) -> AnonymizationRequest | None:
        found = real_lookup(*args)
        with suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=2)
        return found

    monkeypatch.setattr(requests, "covering_request", lookup_then_wait)
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def enter(raw_data: bool) -> None:
        try:
            with session_factory() as session, session.begin():
                request, created = requests.create_request(
                    session,
                    solution,
                    phone="+47 22 06 01 22",
                    email=None,
                    raw_data=raw_data,
                    delete_content=False,
                    created_by="officer",
                    now=NOW,
                )
                results.append((request.id, created))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=enter, args=(flag,)) for flag in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(created for _, created in results) == [False, True]
    assert len({request_id for request_id, _ in results}) == 1
    with session_factory() as session:
        (row,) = session.scalars(select(AnonymizationRequest)).all()
    assert row.raw_data  # whichever came second, the wider entry is what waits
