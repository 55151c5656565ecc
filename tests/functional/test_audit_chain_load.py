"""Reads' audit entries: written without a lock, chained later, never lost, and the chain still verifies.

Unit tests of ``chain_pending`` on the test's database, then a real ``archivist serve
--workers 2`` under a burst of reads: after the burst, and after SIGKILL in the middle of one.
"""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.audit.events import AuditAction, chain_all, chain_pending, record, verify_chain
from archivist.audit.models import AuditEvent
from archivist.db import utcnow
from tests.conftest import BACKEND, Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call
from tests.functional.serving_support import ARCHIVIST, Server, server_env

pytestmark = [pytest.mark.db, pytest.mark.slow]


def _read(factory: sessionmaker[Session], solution: Solution, clock: Clock, n: int = 0) -> int:
    with factory() as session, session.begin():
        return record(session, solution.id, "ola", AuditAction.INTERACTION_VIEWED, f"i{n}", at=clock.now).id


def _order(factory: sessionmaker[Session], solution: Solution) -> list[tuple[int, int | None]]:
    with factory() as session:
        rows = session.execute(
            select(AuditEvent.id, AuditEvent.seq).where(AuditEvent.solution_id == solution.id).order_by(AuditEvent.id)
        )
        return [(entry_id, seq) for entry_id, seq in rows]


def test_a_read_entry_is_only_inserted_and_waits_for_its_place(
    engine: Engine, session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement.split(None, 1)[0])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        entry = _read(session_factory, solution, clock)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # No lock (PostgreSQL's advisory SELECT, SQLite's no-op UPDATE), no read of the head.
    assert [s for s in sent if s not in {"BEGIN", "COMMIT"}] == ["INSERT"]
    with session_factory() as session:
        report = verify_chain(session, solution.id)
        assert (report.ok, report.entries, report.pending) == (True, 0, 1)
    with session_factory() as session, session.begin():
        assert chain_pending(session, solution.id) == 1
    with session_factory() as session:
        report = verify_chain(session, solution.id)
        assert (report.ok, report.entries, report.pending) == (True, 1, 0)
        assert session.get(AuditEvent, entry).seq == 1  # type: ignore[union-attr]


def test_a_state_change_chains_the_reads_waiting_before_it(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    first, second = _read(session_factory, solution, clock, 1), _read(session_factory, solution, clock, 2)
    with session_factory() as session, session.begin():
        change = record(session, solution.id, "ola", AuditAction.SETTINGS_CHANGED, None, {"n": 1}, at=clock.now)
        assert change.seq == 3
        assert change.hash
    assert _order(session_factory, solution) == [(first, 1), (second, 2), (change.id, 3)]
    with session_factory() as session:
        assert verify_chain(session, solution.id).ok
        assert verify_chain(session, solution.id).entries == 3


def test_an_edited_or_deleted_read_entry_breaks_the_chain_once_chained(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    ids = [_read(session_factory, solution, clock, n) for n in range(4)]
    chain_all(session_factory)
    with session_factory() as session, session.begin():
        session.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(target="someone else"))
    with session_factory() as session:
        report = verify_chain(session, solution.id)
    assert (report.ok, report.broken_at, report.problem) == (False, ids[1], "its content was edited")


@pytest.mark.skipif(BACKEND == "sqlite", reason="SQLite has one writer at a time: no entry can commit out of id order")
def test_an_entry_that_commits_after_a_later_one_was_chained_takes_the_next_place(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    late = session_factory()
    late.begin()
    late_id = record(late, solution.id, "ola", AuditAction.SEARCH, None, {"n": 0}, at=clock.now).id
    early_id = _read(session_factory, solution, clock, 1)  # a higher id, committed first
    assert early_id > late_id
    assert chain_all(session_factory) == 1
    late.commit()
    late.close()
    assert chain_all(session_factory) == 1
    assert _order(session_factory, solution) == [(late_id, 2), (early_id, 1)]
    with session_factory() as session:
        assert verify_chain(session, solution.id).ok


# ---------------------------------------------------------------------------------------------
# A real server under a burst of reads
# ---------------------------------------------------------------------------------------------


class Burst:
    """``clients`` threads reading details as fast as they can until stopped; counts answers."""

    def __init__(self, url: str, token: str, interaction_ids: list[str], clients: int = 16) -> None:
        self.url, self.token, self.ids = url, token, interaction_ids
        self.ok = self.failed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(clients)]

    def _run(self, n: int) -> None:
        with httpx2.Client(base_url=self.url, headers=auth(self.token), timeout=10) as client:
            i = n
            while not self._stop.is_set():
                try:
                    status = client.get(f"/api/v1/interactions/{self.ids[i % len(self.ids)]}").status_code
                except httpx2.HTTPError:
                    status = 0  # the server was killed under us
                with self._lock:
                    if status == 200:
                        self.ok += 1
                    else:
                        self.failed += 1
                i += 1

    def wait_for(self, answered: int, timeout: float = 60) -> None:
        """Until ``answered`` reads were answered (time, on a shared machine, says little)."""
        deadline = time.monotonic() + timeout
        while self.ok < answered and time.monotonic() < deadline:
            time.sleep(0.05)

    def start(self) -> Burst:
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def _viewed(factory: sessionmaker[Session], solution: Solution) -> tuple[int, int]:
    """(entries of details views, of them not chained yet)."""
    with factory() as session:
        viewed = AuditEvent.action == AuditAction.INTERACTION_VIEWED.value
        total = session.scalar(select(func.count()).select_from(AuditEvent).where(viewed)) or 0
        pending = session.scalar(select(func.count()).select_from(AuditEvent).where(viewed, AuditEvent.seq.is_(None)))
    return total, pending or 0


def _verify(env: dict[str, str], solution: Solution) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ARCHIVIST, "audit", "verify", "--solution", solution.id],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def burst_setup(
    database_url: str,
    session_factory: sessionmaker[Session],
    solution: Solution,
    make_token: TokenMaker,
    tmp_path: Path,
) -> tuple[dict[str, str], str, list[str]]:
    token = make_token(Role.SUPERVISOR, solution)
    ids = archive(
        session_factory, solution, *(call(f"9{n:07d}", utcnow() - timedelta(days=1, minutes=n)) for n in range(20))
    )
    env = server_env(database_url, tmp_path / "var", scheduler="false")
    return env, token, ids


def test_the_chain_is_intact_after_a_burst_of_reads_and_every_read_has_its_entry(
    burst_setup: tuple[dict[str, str], str, list[str]],
    session_factory: sessionmaker[Session],
    solution: Solution,
    tmp_path: Path,
) -> None:
    env, token, ids = burst_setup
    server = Server(env, tmp_path / "server.log").start()
    try:
        server.wait_ready()
        burst = Burst(server.url, token, ids).start()
        burst.wait_for(300)
        burst.stop()
        assert burst.ok >= 300
        assert burst.failed == 0
        # The servers' background chainers (one per worker) move them in from the spool on
        # SQLite and place them within a second or two.
        deadline = time.monotonic() + 15
        while _viewed(session_factory, solution) != (burst.ok, 0) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _viewed(session_factory, solution) == (burst.ok, 0)
    finally:
        server.stop()
    verified = _verify(env, solution)
    assert verified.returncode == 0, verified.stderr
    assert f"{burst.ok} entries, chain intact" in verified.stdout


def test_the_chain_is_intact_after_a_kill_during_a_burst_and_no_answered_read_lost_its_entry(
    burst_setup: tuple[dict[str, str], str, list[str]],
    session_factory: sessionmaker[Session],
    solution: Solution,
    tmp_path: Path,
) -> None:
    env, token, ids = burst_setup
    server = Server(env, tmp_path / "server.log").start()
    try:
        server.wait_ready()
        burst = Burst(server.url, token, ids).start()
        burst.wait_for(100)
        server.kill()  # SIGKILL to the supervisor and both workers, in the middle of requests
        answered = burst.ok
        burst.stop()
    finally:
        server.stop()
    assert answered >= 100

    verified = _verify(env, solution)  # chains what the dead workers left waiting, then checks
    assert verified.returncode == 0, verified.stderr
    total, pending = _viewed(session_factory, solution)
    assert pending == 0
    # Every answered read committed its entry before it answered; a read cut off by the kill
    # may have committed without answering, never the other way round.
    assert answered <= total <= answered + 16
