"""Faults: a full blob store, a full or locked database, a connection cut during a night,
kill -9 during an upload. Each ends with a clear answer, nothing half-written, and recovery
on the next try (issue 13)."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.archive.models import Interaction, PendingBlobDeletion, Recording
from archivist.archive.recordings import UPLOAD_GRACE, drain_pending_blobs
from archivist.blobs.fsspec_store import FsspecBlobStore
from archivist.blobs.interfaces import STAGING_MAX_AGE, TEMP_MARKER
from archivist.blobs.memory import MemoryBlobStore
from archivist.demo.audio import make_wav
from archivist.web.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, STORAGE_FULL
from tests.conftest import BACKEND, Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, customer, enter, night, oslo

CANARY_PHONE = "41987654"
WAV = make_wav(0.5, seed=5)


def body(n: int = 0) -> dict[str, Any]:
    return {
        "channel": "call",
        "direction": "inbound",
        "started_at": f"2026-03-01T09:{n % 60:02d}:00+01:00",
        "customer": {"phone": CANARY_PHONE, "name": "Kari Canary"},
        "variables": {"note": "x" * 3000},
    }


def count(factory: sessionmaker[Session], model: type[Any]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def server_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "archivist.web.errors"]


def assert_unavailable(response: Any, detail: str) -> None:
    """503, JSON, Retry-After, and nothing of the input in the answer."""
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {"detail": detail}
    assert CANARY_PHONE not in response.text


class FullStore(MemoryBlobStore):
    """A blob store whose disk is full until ``full`` is set to False."""

    def __init__(self) -> None:
        super().__init__()
        self.full = True

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().put(key, data, content_type)


@pytest.fixture
def full_store() -> FullStore:
    return FullStore()


@pytest.fixture
def faulty_app(settings: Any, engine: Engine, full_store: FullStore, clock: Clock) -> Any:
    from archivist.web.app import create_app

    return create_app(settings, engine=engine, blobs=full_store, clock=clock)


def test_full_blob_store_answers_503_and_the_next_upload_succeeds(
    faulty_app: Any,
    full_store: FullStore,
    make_token: TokenMaker,
    solution: Solution,
    session_factory: sessionmaker[Session],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = make_token(Role.ADMIN, solution)
    with TestClient(faulty_app) as client:
        iid = client.post("/api/v1/interactions", json=body(), headers=auth(admin)).json()["id"]
        headers = {**auth(admin), "Content-Type": "audio/wav"}
        with caplog.at_level(logging.ERROR):
            refused = client.put(f"/api/v1/interactions/{iid}/recording", content=WAV, headers=headers)
        assert_unavailable(refused, STORAGE_FULL)
        # Logged once, by type and place, without the input.
        (line,) = server_errors(caplog)
        assert "OSError" in line
        assert "503" in line
        assert CANARY_PHONE not in line
        # Nothing half-written: no recording points anywhere; the registered key is only a
        # pending deletion, which the drain clears after the grace period.
        assert count(session_factory, Recording) == 0
        assert full_store.list_keys() == []
        assert count(session_factory, PendingBlobDeletion) == 1
        assert drain_pending_blobs(session_factory, full_store, clock() + UPLOAD_GRACE + timedelta(seconds=1)) == 1
        assert count(session_factory, PendingBlobDeletion) == 0
        # Space freed: the same upload now works.
        full_store.full = False
        assert client.put(f"/api/v1/interactions/{iid}/recording", content=WAV, headers=headers).status_code == 204
        played = client.get(f"/api/v1/interactions/{iid}/recording", headers=auth(admin))
        assert played.content == WAV


def test_full_blob_store_on_a_page_is_an_html_503(
    faulty_app: Any, make_token: TokenMaker, solution: Solution, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivist.archive import services as reads

    def disk_full(*_: Any, **__: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(reads, "search_interactions", disk_full)  # the page's search, via its action
    supervisor = make_token(Role.SUPERVISOR, solution)
    with TestClient(faulty_app) as client:
        from tests.functional.test_search_page_auth import csrf_from, login

        login(client, supervisor)
        form = client.get("/archive/search")
        response = client.post("/archive/search", data={"csrf_token": csrf_from(form.text)})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert "Log out" in response.text


@pytest.fixture
def sqlite_only() -> None:
    if BACKEND != "sqlite":
        pytest.skip("SQLite's own limit; the PostgreSQL variant is the locked-table test")


def test_full_database_answers_503_stores_nothing_and_recovers(
    sqlite_only: None,
    client: TestClient,
    engine: Engine,
    make_token: TokenMaker,
    solution: Solution,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = make_token(Role.ADMIN, solution)
    with engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()

    def cap(dbapi_connection: Any, _: Any) -> None:
        # A real full database: SQLite refuses to grow the file past this many pages.
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 8}")

    engine.dispose()
    event.listen(engine, "connect", cap)
    batch = [body(n) for n in range(200)]  # ~600 KB of variables: far more than 8 pages
    with caplog.at_level(logging.ERROR):
        refused = client.post("/api/v1/interactions/batch", json=batch, headers=auth(admin))
    assert_unavailable(refused, STORAGE_FULL)
    assert len(server_errors(caplog)) == 1
    assert count(session_factory, Interaction) == 0  # all or nothing
    event.remove(engine, "connect", cap)
    engine.dispose()
    accepted = client.post("/api/v1/interactions/batch", json=batch, headers=auth(admin))
    assert accepted.status_code == 200, accepted.text
    assert count(session_factory, Interaction) == 200


@contextmanager
def lock_held(engine: Engine) -> Iterator[Any]:
    """Another writer holds the lock ingestion needs, longer than the app's connections wait.

    Yields the holder's connection: ``rollback()`` on it releases the lock.
    """
    if BACKEND == "sqlite":
        setting = "PRAGMA busy_timeout=200"
        take = "BEGIN IMMEDIATE"
    else:
        setting = "SET lock_timeout = '200ms'"
        take = "LOCK TABLE interactions IN ACCESS EXCLUSIVE MODE"

    def impatient(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(setting)
        cursor.close()

    engine.dispose()
    event.listen(engine, "connect", impatient)
    holder = engine.connect()
    if BACKEND == "sqlite":
        holder.exec_driver_sql(take)
    else:
        holder.execute(text(take))
    try:
        yield holder
    finally:
        holder.rollback()
        holder.close()
        event.remove(engine, "connect", impatient)
        engine.dispose()


def test_locked_database_answers_503_and_the_retry_succeeds(
    engine: Engine,
    make_token: TokenMaker,
    solution: Solution,
    app: Any,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = make_token(Role.ADMIN, solution)
    with TestClient(app) as client, lock_held(engine) as holder:
        with caplog.at_level(logging.ERROR):
            refused = client.post("/api/v1/interactions", json=body(), headers=auth(admin))
        assert_unavailable(refused, DATABASE_UNAVAILABLE)
        (line,) = server_errors(caplog)
        # SQLite's "database is locked" (wrapped by SQLAlchemy) or PostgreSQL's lock timeout.
        assert "OperationalError" in line or "LockNotAvailable" in line
        assert "503" in line
        assert CANARY_PHONE not in line
        holder.rollback()  # the other writer finishes
        # The client's retry after Retry-After goes through.
        accepted = client.post("/api/v1/interactions", json=body(), headers=auth(admin))
        assert accepted.status_code == 201, accepted.text
    assert count(session_factory, Interaction) == 1


# ---------------------------------------------------------------------------------------------
# A database connection cut during a night
# ---------------------------------------------------------------------------------------------


@contextmanager
def connection_cut_on(engine: Engine, statement_start: str) -> Iterator[list[int]]:
    """Every statement starting with ``statement_start`` fails as a dropped connection would.

    Yields a list that counts the cuts.
    """
    cuts: list[int] = []

    def cut(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(statement_start):
            cuts.append(1)
            raise OperationalError(statement[:20], None, ConnectionResetError("server closed the connection"))

    event.listen(engine, "before_cursor_execute", cut)
    try:
        yield cuts
    finally:
        event.remove(engine, "before_cursor_execute", cut)


def test_connection_cut_during_a_night_leaves_requests_waiting_and_the_next_night_finishes(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
) -> None:
    entered = oslo(2026, 3, 10, 12, 0)
    (iid,) = archive(session_factory, solution, call(CANARY_PHONE, oslo(2026, 3, 1, 9)))
    request_id = enter(session_factory, solution, entered, phone=CANARY_PHONE)
    with connection_cut_on(engine, "UPDATE INTERACTIONS") as cuts:
        summary = night(session_factory, blobs, oslo(2026, 3, 11, 2, 0))
    assert cuts
    assert summary.requests_failed == 1
    # Nothing half-done: the request waits, its person is untouched.
    with session_factory() as session:
        assert session.get_one(AnonymizationRequest, request_id).status is RequestStatus.WAITING
    assert customer(session_factory, iid)["anonymized"] is False
    # The connection is back: the next night carries the request out.
    summary = night(session_factory, blobs, oslo(2026, 3, 12, 2, 0))
    assert summary.requests_failed == 0
    with session_factory() as session:
        assert session.get_one(AnonymizationRequest, request_id).status is RequestStatus.DONE
    assert customer(session_factory, iid)["anonymized"] is True


def test_nightly_api_with_the_database_gone_answers_503(
    client: TestClient, engine: Engine, make_token: TokenMaker, solution: Solution
) -> None:
    admin = make_token(Role.ADMIN, solution)
    with connection_cut_on(engine, "INSERT INTO NIGHTLY_RUNS"):
        response = client.post("/api/v1/nightly-runs", headers=auth(admin))
    assert_unavailable(response, DATABASE_UNAVAILABLE)
    assert client.post("/api/v1/nightly-runs", headers=auth(admin)).status_code == 200


# ---------------------------------------------------------------------------------------------
# kill -9 while a recording is being written
# ---------------------------------------------------------------------------------------------

UPLOADER = """
import sys, time
from datetime import datetime, UTC
from fastapi.testclient import TestClient
import archivist.blobs._common as common
from archivist.blobs import fsspec_store
from archivist.config import Settings
from archivist.web.app import create_app

original = common.copy_stream

def slow_copy(source, write):
    # Write the first chunk, tell the parent, then hang mid-blob until killed.
    write(source.read(65536))
    print("WRITING", flush=True)
    time.sleep(600)
    return original(source, write)

fsspec_store.copy_stream = slow_copy
settings = Settings(database_url=sys.argv[1], blob_url=sys.argv[2], secret_key="test-secret-key", data_dir=sys.argv[3])
with TestClient(create_app(settings)) as client:
    client.put(
        f"/api/v1/interactions/{sys.argv[4]}/recording",
        content=sys.stdin.buffer.read(),
        headers={"Authorization": "Bearer " + sys.argv[5], "Content-Type": "audio/wav"},
    )
"""


def test_kill_9_during_an_upload_leaves_nothing_visible_and_the_next_night_sweeps_it(
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    make_token: TokenMaker,
    tmp_path: Path,
) -> None:
    admin = make_token(Role.ADMIN, solution)
    (iid,) = archive(session_factory, solution, call(CANARY_PHONE, oslo(2026, 3, 1, 9)))
    root = tmp_path / "blobs"
    audio = make_wav(5.0, seed=9)  # several chunks, so the kill lands mid-blob
    process = subprocess.Popen(
        [sys.executable, "-c", UPLOADER, database_url, root.as_uri(), str(tmp_path / "var"), iid, admin],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(audio)
    process.stdin.close()
    deadline = time.monotonic() + 60
    line = b""
    while time.monotonic() < deadline and b"WRITING" not in line:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            pytest.fail(process.stderr.read().decode() if process.stderr else "uploader died")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    if process.stderr is not None:
        process.stderr.close()

    store = FsspecBlobStore(root.as_uri())
    staged = [p for p in root.rglob("*") if p.is_file()]
    assert len(staged) == 1
    assert TEMP_MARKER in staged[0].relative_to(root).as_posix()
    # Nothing visible: no blob listed, no recording row; the key waits as a pending deletion.
    assert store.list_keys() == []
    assert count(session_factory, Recording) == 0
    assert count(session_factory, PendingBlobDeletion) == 1
    # A fresh staging file is left alone (it could be an upload in progress) ...
    night(session_factory, store, oslo(2026, 3, 11, 2, 0))
    assert staged[0].exists()
    # ... and once it is older than STAGING_MAX_AGE the next night sweeps it.
    old = (datetime.now(UTC) - STAGING_MAX_AGE - timedelta(minutes=5)).timestamp()
    os.utime(staged[0], (old, old))
    night(session_factory, store, oslo(2026, 3, 12, 2, 0))
    assert [p for p in root.rglob("*") if p.is_file()] == []
    # The retry of the upload succeeds.
    from archivist.config import Settings
    from archivist.web.app import create_app

    settings = Settings(
        database_url=database_url, blob_url=root.as_uri(), secret_key="test-secret-key", data_dir=tmp_path / "var"
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        put = client.put(
            f"/api/v1/interactions/{iid}/recording", content=audio, headers={**auth(admin), "Content-Type": "audio/wav"}
        )
        assert put.status_code == 204
        assert client.get(f"/api/v1/interactions/{iid}/recording", headers=auth(admin)).content == audio
    assert json.dumps(store.list_keys()).count(iid) == 1
