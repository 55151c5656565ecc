"""Serving a whole contact centre (CONTRACT §13): many workers and servers on one database.

The night tests start two real ``archivist serve --workers 2`` (four schedulers) on the
test's database, SQLite file or PostgreSQL, with a night that is due: it runs once, and when
the server holding the lease is killed mid-run the other one finishes it. The read-path
tests count the statements a read sends.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import ApiToken, Role, Solution
from archivist.accounts.tokens import LAST_USED_RESOLUTION
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.audit.models import AuditEvent
from archivist.db import utcnow
from archivist.nightly.lease import lease_of
from archivist.nightly.models import NightlyRun
from tests.conftest import Clock, TokenMaker, auth
from tests.functional.anonymization_support import WAV, archive, call, enter
from tests.functional.serving_support import Server, server_env

pytestmark = [pytest.mark.db, pytest.mark.slow]

# A lease this short makes a takeover quick; the pause makes a run last long enough to kill.
LEASE_SECONDS = "3"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _due_night(factory: sessionmaker[Session], solution: Solution, requests: int) -> list[str]:
    """``requests`` waiting requests and a nightly time five minutes ago (due, within the grace)."""
    now = utcnow()
    local = (now - timedelta(minutes=5)).astimezone(ZoneInfo(solution.timezone))
    with factory() as session, session.begin():
        session.execute(update(Solution).where(Solution.id == solution.id).values(nightly_at=local.strftime("%H:%M")))
    phones = [f"9{n:07d}" for n in range(1000, 1000 + requests)]
    archive(factory, solution, *(call(phone, now - timedelta(days=2)) for phone in phones))
    return [enter(factory, solution, now - timedelta(days=1), phone=phone) for phone in phones]


def _wait_until_done(factory: sessionmaker[Session], ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with factory() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(AnonymizationRequest)
                .where(AnonymizationRequest.id.in_(ids), AnonymizationRequest.status == RequestStatus.WAITING)
            )
        if waiting == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{waiting} requests still waiting after {timeout}s")


def _wait_until_night_finished(factory: sessionmaker[Session], solution: Solution, timeout: float) -> None:
    """Its requests done is not the end of a run: blobs, purges, the storage step and receipts follow."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with factory() as session:
            lease = lease_of(session, solution.id)
        if lease is not None and lease.night_finished_at is not None:
            return
        time.sleep(0.2)
    raise AssertionError(f"the night was not finished after {timeout}s")


def _processed_entries(factory: sessionmaker[Session], solution: Solution) -> list[str]:
    with factory() as session:
        return list(
            session.scalars(
                select(AuditEvent.target).where(
                    AuditEvent.solution_id == solution.id, AuditEvent.action == "request.processed"
                )
            )
        )


def test_two_servers_run_a_due_night_exactly_once(
    database_url: str, session_factory: sessionmaker[Session], solution: Solution, tmp_path: Path, servers: list[Server]
) -> None:
    ids = _due_night(session_factory, solution, 10)
    env = server_env(database_url, tmp_path / "var", nightly_lease_seconds=LEASE_SECONDS)
    for n in range(2):
        servers.append(Server(env, tmp_path / f"server{n}.log").start())
    for server in servers:
        server.wait_ready()

    _wait_until_done(session_factory, ids, timeout=60)
    _wait_until_night_finished(session_factory, solution, timeout=30)
    # Past a lease and two watches: nobody starts the night again.
    time.sleep(int(LEASE_SECONDS) * 2 + 1)

    with session_factory() as session:
        runs = list(session.scalars(select(NightlyRun).where(NightlyRun.solution_id == solution.id)))
        lease = lease_of(session, solution.id)
    assert [(r.trigger, r.finished_at is not None) for r in runs] == [("scheduler", True)]
    assert runs[0].summary is not None
    assert runs[0].summary["requests_processed"] == 10
    assert sorted(_processed_entries(session_factory, solution)) == sorted(ids)  # each request once
    assert lease is not None
    assert lease.night_finished_at is not None


def test_killing_the_server_that_holds_the_lease_leaves_the_night_to_the_other(
    database_url: str, session_factory: sessionmaker[Session], solution: Solution, tmp_path: Path, servers: list[Server]
) -> None:
    ids = _due_night(session_factory, solution, 16)
    # 16 requests with a 400 ms pause after each: a run of about 7 s to kill in the middle of.
    env = server_env(
        database_url, tmp_path / "var", nightly_lease_seconds=LEASE_SECONDS, nightly_request_pause_ms="400"
    )
    for n in range(2):
        servers.append(Server(env, tmp_path / f"server{n}.log").start())
    for server in servers:
        server.wait_ready()

    deadline = time.monotonic() + 60
    holder_pid, done = None, 0
    done_now: int | None
    while time.monotonic() < deadline:
        with session_factory() as session:
            lease = lease_of(session, solution.id)
            done_now = session.scalar(
                select(func.count())
                .select_from(AnonymizationRequest)
                .where(AnonymizationRequest.id.in_(ids), AnonymizationRequest.status == RequestStatus.DONE)
            )
        done = done_now or 0
        if lease is not None and lease.holder and done >= 2:
            holder_pid = int(lease.holder.split(":")[1])
            break
        time.sleep(0.1)
    assert holder_pid is not None, "no run started"
    assert done is not None
    assert done < len(ids), "the run finished before it could be killed"
    (holder,) = [s for s in servers if holder_pid in s.pids]
    holder.kill()
    (survivor,) = [s for s in servers if s is not holder]

    _wait_until_done(session_factory, ids, timeout=60)
    _wait_until_night_finished(session_factory, solution, timeout=30)

    with session_factory() as session:
        runs = list(
            session.scalars(
                select(NightlyRun).where(NightlyRun.solution_id == solution.id).order_by(NightlyRun.started_at)
            )
        )
        lease = lease_of(session, solution.id)
    # The killed run never finished; the survivor's did, with the rest of the night.
    assert [r.finished_at is not None for r in runs] == [False, True]
    assert runs[1].summary is not None
    assert 0 < runs[1].summary["requests_processed"] < len(ids)
    assert sorted(_processed_entries(session_factory, solution)) == sorted(ids)  # none twice, none lost
    assert lease is not None
    assert lease.night_finished_at is not None
    assert int(lease.holder.split(":")[1]) in survivor.pids
    survivor.wait_ready(timeout=5)  # and it kept serving


def test_sigterm_stops_the_run_between_requests_and_finishes_requests_in_flight(
    database_url: str,
    session_factory: sessionmaker[Session],
    solution: Solution,
    tmp_path: Path,
    servers: list[Server],
    make_token: TokenMaker,
) -> None:
    ids = _due_night(session_factory, solution, 20)
    token = make_token(Role.ADMIN, solution)
    (interaction_id,) = archive(session_factory, solution, call("41234567", utcnow() - timedelta(days=3)))
    env = server_env(database_url, tmp_path / "var", nightly_lease_seconds="60", nightly_request_pause_ms="500")
    server = Server(env, tmp_path / "server.log", workers=1).start()
    servers.append(server)
    server.wait_ready()
    recording = WAV + bytes(8 * 1024 * 1024)  # 8 MB, read slowly below
    put = httpx2.put(
        f"{server.url}/api/v1/interactions/{interaction_id}/recording",
        content=recording,
        headers={**auth(token), "Content-Type": "audio/wav"},
        timeout=30,
    )
    assert put.status_code == 204
    with session_factory() as session:
        assert lease_of(session, solution.id) is not None  # the night has started

    received = 0
    with httpx2.stream(
        "GET", f"{server.url}/api/v1/interactions/{interaction_id}/recording", headers=auth(token), timeout=30
    ) as response:
        assert response.status_code == 200
        started = time.monotonic()
        for chunk in response.iter_bytes(64 * 1024):
            if received == 0:
                server.process.send_signal(15)  # type: ignore[union-attr]  # SIGTERM while the body is in flight
            received += len(chunk)
            time.sleep(0.005)
    assert received == len(recording)  # the request in flight was finished, not cut
    assert server.process is not None
    # uvicorn re-raises the signal it shut down on once it is done, so the exit is SIGTERM's.
    assert server.process.wait(timeout=30) in (0, -15)
    assert time.monotonic() - started < 20  # it did not wait for the whole night (20 x 0.5 s and more)

    with session_factory() as session:
        statuses = [session.get(AnonymizationRequest, i).status for i in ids]  # type: ignore[union-attr]
        lease = lease_of(session, solution.id)
        run = session.scalars(select(NightlyRun).where(NightlyRun.solution_id == solution.id)).one()
    assert RequestStatus.WAITING in statuses  # stopped between requests...
    assert run.summary is not None
    assert run.summary["stopped"] is True  # ...and recorded as stopped
    assert lease is not None
    assert lease.night_finished_at is None  # the night is left to the next server
    assert lease.expires_at <= utcnow()  # released at once, not left to expire


# ---------------------------------------------------------------------------------------------
# Reads that do not queue
# ---------------------------------------------------------------------------------------------


class Statements:
    """The INSERT/UPDATE/DELETE statements and lock calls an engine sends while counting."""

    def __init__(self, engine: Engine) -> None:
        self.sent: list[str] = []
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.sent.append(" ".join(statement.split()))

    @property
    def writes(self) -> list[str]:
        return [s for s in self.sent if s.split(" ", 1)[0] in {"INSERT", "UPDATE", "DELETE"} or "advisory" in s]

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_the_token_last_use_is_written_at_most_once_a_minute(
    client: TestClient,
    engine: Engine,
    solution: Solution,
    make_token: TokenMaker,
    clock: Clock,
    session_factory: sessionmaker[Session],
) -> None:
    token = make_token(Role.SUPERVISOR, solution)

    def last_used() -> object:
        with session_factory() as session:
            return session.scalars(select(ApiToken.last_used_at).where(ApiToken.user_id.is_not(None))).one()

    statements = Statements(engine)
    try:
        assert client.get("/api/v1/interactions", headers=auth(token)).status_code == 200
        first = clock.now
        for _ in range(5):
            clock.advance(seconds=10)  # 50 s in all: within the minute
            assert client.get("/api/v1/interactions", headers=auth(token)).status_code == 200
        token_writes = [s for s in statements.writes if "api_tokens" in s]
        assert len(token_writes) == 1
        assert last_used() == first
        clock.advance(seconds=11)  # now 61 s after the first use
        assert client.get("/api/v1/interactions", headers=auth(token)).status_code == 200
        assert last_used() == clock.now
        assert len([s for s in statements.writes if "api_tokens" in s]) == 2
    finally:
        statements.close()
    assert timedelta(minutes=1) == LAST_USED_RESOLUTION


def test_a_token_used_elsewhere_within_the_minute_is_not_written_again(
    session_factory: sessionmaker[Session], solution: Solution, make_token: TokenMaker, clock: Clock
) -> None:
    from archivist.accounts.tokens import LastUse

    make_token(Role.SUPERVISOR, solution)
    with session_factory() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    # Two processes that both read "never used": the database condition lets one write.
    first, second = LastUse(), LastUse()
    with session_factory() as session, session.begin():
        assert first.note(session, token_id, None, clock.now)
    with session_factory() as session, session.begin():
        assert not second.note(session, token_id, None, clock.now + timedelta(seconds=30))
    with session_factory() as session, session.begin():
        # This process tried at +30 s: its own next try is a minute after that.
        assert second.note(session, token_id, None, clock.now + timedelta(seconds=91))


def test_a_search_and_a_details_view_write_one_row_and_take_no_solution_lock(
    client: TestClient,
    engine: Engine,
    solution: Solution,
    make_token: TokenMaker,
    session_factory: sessionmaker[Session],
) -> None:
    token = make_token(Role.SUPERVISOR, solution)
    (interaction_id,) = archive(session_factory, solution, call("91234567", utcnow() - timedelta(days=1)))
    assert client.get("/api/v1/interactions", headers=auth(token)).status_code == 200  # the token's use noted

    statements = Statements(engine)
    try:
        assert client.get("/api/v1/interactions", params={"phone": "91234567"}, headers=auth(token)).status_code == 200
        assert client.get(f"/api/v1/interactions/{interaction_id}", headers=auth(token)).status_code == 200
    finally:
        statements.close()
    # One INSERT of the audit entry each; no UPDATE (neither the token nor the lock's no-op UPDATE).
    assert [s.split(" (", 1)[0] for s in statements.writes] == ["INSERT INTO audit_events"] * 2


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def test_workers_stop_when_their_supervisor_is_killed(
    database_url: str, solution: Solution, tmp_path: Path, servers: list[Server]
) -> None:
    # SIGKILL to the supervisor alone (a crash, the OOM killer): its workers must not go on serving.
    server = Server(server_env(database_url, tmp_path / "var", scheduler="false"), tmp_path / "server.log")
    servers.append(server.start())
    server.wait_ready()
    assert server.process is not None
    workers = server.pids - {server.process.pid}
    assert len(workers) >= 2
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers), server.log.read_text()[-2000:]


def test_an_overlong_address_is_answered_414_by_a_real_server(
    database_url: str, solution: Solution, tmp_path: Path, servers: list[Server]
) -> None:
    # Over uvicorn's default 16 KiB head the connection was dropped with no answer at all.
    server = Server(server_env(database_url, tmp_path / "var", scheduler="false"), tmp_path / "server.log", workers=1)
    servers.append(server.start())
    server.wait_ready()
    # Raw bytes: HTTP clients refuse to send such an address at all.
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(f"GET /api/v1/interactions?agent={'a' * 200_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 414 "), answer[:200]
    assert b'"detail"' in answer
