"""No personal data in logs, run records or stored errors: a canary person goes through everything."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.blobs.memory import MemoryBlobStore
from tests.conftest import Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, chat, night, oslo

PHONE_TYPED = "+47 41 99 88 77"
EMAIL_TYPED = "Canary.Person@Example.org"
# Every way the canary could leak: digits in any convention, the address in any case.
NEEDLES = ("41998877", "4741998877", "41 99 88 77", "canary.person", "canary.person@example.org")


def leaks(haystack: str) -> list[str]:
    lowered = haystack.lower()
    return [n for n in NEEDLES if n in lowered]


def table_text(factory: sessionmaker[Session], table: str) -> str:
    with factory() as session:
        rows = session.execute(text(f"SELECT * FROM {table}")).mappings().all()  # noqa: S608 - fixed names
    return repr([dict(r) for r in rows])


@pytest.fixture
def canary(session_factory: sessionmaker[Session], solution: Solution) -> None:
    archive(
        session_factory,
        solution,
        call("+4741998877", oslo(2026, 3, 9, 9), events=2, variables={"callback": "41998877"}),
        chat("canary.person@example.org", oslo(2026, 3, 9, 10), events=1),
    )


@pytest.mark.usefixtures("canary")
def test_the_whole_journey_logs_and_stores_no_identifier(
    client: TestClient,
    make_token: TokenMaker,
    solution: Solution,
    session_factory: sessionmaker[Session],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    officer = auth(make_token(Role.PRIVACY_OFFICER, solution))
    admin = auth(make_token(Role.ADMIN, solution))
    clock.now = oslo(2026, 3, 10, 12, 0)
    body = {"phone": PHONE_TYPED, "email": EMAIL_TYPED, "raw_data": True, "delete_content": True}

    assert client.post("/api/v1/anonymization-requests/preview", json=body, headers=officer).status_code == 200
    request_id = client.post("/api/v1/anonymization-requests", json=body, headers=officer).json()["id"]
    client.get("/api/v1/anonymization-requests", params={"status": "waiting"}, headers=officer)
    # Bad input is refused without echoing it.
    bad = client.post("/api/v1/anonymization-requests", json={"phone": "41998877x"}, headers=officer)
    assert bad.status_code == 422
    assert leaks(bad.text) == []
    clock.now = oslo(2026, 3, 11, 2, 0)
    summary = client.post("/api/v1/nightly-runs", headers=admin)
    assert summary.json()["interactions"] == 2
    done = client.get(f"/api/v1/anonymization-requests/{request_id}", headers=officer)

    assert leaks(done.text) == []
    assert leaks(summary.text) == []
    assert leaks(caplog.text) == []
    assert leaks(table_text(session_factory, "anonymization_requests")) == []
    assert leaks(table_text(session_factory, "nightly_runs")) == []
    assert "nightly run for solution" in caplog.text  # the summary was logged, counts only


@pytest.mark.usefixtures("canary")
def test_a_failing_request_logs_and_records_no_identifier_from_the_error(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.functional.anonymization_support import enter

    caplog.set_level(logging.DEBUG)
    enter(session_factory, solution, oslo(2026, 3, 10, 12), phone=PHONE_TYPED, email=EMAIL_TYPED)

    def fail_with_the_identifier_in_the_text(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        # As a real database error does: its message quotes the statement's parameters.
        if statement.lstrip().upper().startswith("UPDATE INTERACTIONS"):
            raise RuntimeError(f"simulated database error, parameters were {parameters!r}")

    event.listen(engine, "before_cursor_execute", fail_with_the_identifier_in_the_text)
    try:
        summary = night(session_factory, blobs, oslo(2026, 3, 11, 2, 0))
    finally:
        event.remove(engine, "before_cursor_execute", fail_with_the_identifier_in_the_text)

    assert summary.requests_failed == 1
    assert "RuntimeError at " in caplog.text
    assert leaks(caplog.text) == []
    assert leaks(repr(summary.as_dict())) == []
    assert leaks(table_text(session_factory, "nightly_runs")) == []
    # Still waiting, so it still (and only) holds what the next run needs.
    assert "+4741998877" in table_text(session_factory, "anonymization_requests")
