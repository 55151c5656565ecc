"""Reads' audit entries through a server's spool file (``audit.spool``, issue 26).

A server on SQLite spools; the mechanism is the same whatever database the entries are moved
into, so each test attaches a spool of its own in a temporary directory and runs on both.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.audit import spool
from archivist.audit.events import AuditAction, AuditChainer, chain_all, record, verify_chain
from archivist.audit.models import AuditEvent, AuditSpoolMark
from archivist.audit.spool import ReadSpool, move_spooled, spool_dir
from archivist.db import make_engine, make_session_factory
from tests.conftest import BACKEND, Clock

pytestmark = pytest.mark.db


@pytest.fixture
def read_spool(session_factory: sessionmaker[Session], tmp_path: Path) -> ReadSpool:
    spooled = ReadSpool(tmp_path / "spool")
    spooled.attach(session_factory)
    return spooled


def _read(
    factory: sessionmaker[Session], solution: Solution, clock: Clock, target: str, *, commit: bool = True
) -> None:
    with factory() as session:
        record(session, solution.id, "ola", AuditAction.INTERACTION_VIEWED, target, {"n": 1}, at=clock.now)
        if commit:
            session.commit()


def _entries(factory: sessionmaker[Session], solution: Solution) -> list[tuple[str | None, int | None]]:
    with factory() as session:
        mine = AuditEvent.solution_id == solution.id
        rows = session.execute(select(AuditEvent.target, AuditEvent.seq).where(mine).order_by(AuditEvent.id))
        return [(target, seq) for target, seq in rows]


def _files(read_spool: ReadSpool) -> list[Path]:
    return sorted(read_spool.directory.glob("reads-*.jsonl"))


def test_a_read_writes_its_entry_to_the_spool_on_commit_and_the_next_pass_moves_and_chains_it(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock, read_spool: ReadSpool
) -> None:
    _read(session_factory, solution, clock, "i1")
    _read(session_factory, solution, clock, "i2")
    assert _entries(session_factory, solution) == []  # the database took no write
    [file] = _files(read_spool)
    lines = [json.loads(line) for line in file.read_text().splitlines()]
    assert [(line["action"], line["target"], line["details"]) for line in lines] == [
        ("interaction.viewed", "i1", {"n": 1}),
        ("interaction.viewed", "i2", {"n": 1}),
    ]
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(read_spool.directory.stat().st_mode) == 0o700

    assert chain_all(session_factory, read_spool) == 2
    assert _entries(session_factory, solution) == [("i1", 1), ("i2", 2)]
    assert _files(read_spool) == []
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditSpoolMark)) == 0
        report = verify_chain(session, solution.id)
    assert (report.ok, report.entries, report.pending) == (True, 2, 0)
    # The entry's time survives the file: the chain's hash covers it.
    with session_factory() as session:
        assert session.scalar(select(AuditEvent.at).where(AuditEvent.target == "i1")) == clock.now


def test_a_read_that_rolls_back_leaves_no_entry_and_a_change_is_inserted_and_chained_at_once(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock, read_spool: ReadSpool
) -> None:
    _read(session_factory, solution, clock, "rolled back", commit=False)
    assert _files(read_spool) == []
    with session_factory() as session, session.begin():
        record(session, solution.id, "ola", AuditAction.SETTINGS_CHANGED, None, {"n": 1}, at=clock.now)
    assert _entries(session_factory, solution) == [(None, 1)]
    _read(session_factory, solution, clock, "after")  # the staged list starts empty again
    chain_all(session_factory, read_spool)
    assert _entries(session_factory, solution) == [(None, 1), ("after", 2)]


def test_a_file_a_live_writer_holds_is_left_and_a_dead_writers_file_is_moved(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock, read_spool: ReadSpool
) -> None:
    _read(session_factory, solution, clock, "live")
    assert move_spooled(session_factory, read_spool.directory) == 0  # held with flock by its writer
    assert len(_files(read_spool)) == 1

    # A killed worker's file: written, and no process holds it any more.
    dead = read_spool.directory / "reads-99999-0000000000000000.jsonl"
    line = {"solution_id": solution.id, "at": clock.now.isoformat(), "actor": "kari", "action": "search"}
    dead.write_text(json.dumps(line | {"target": None, "details": {"filters": ["phone"]}}) + "\n")
    assert move_spooled(session_factory, read_spool.directory) == 1
    assert not dead.exists()
    assert [t for t, _ in _entries(session_factory, solution)] == [None]
    read_spool.close()
    assert move_spooled(session_factory, read_spool.directory) == 1
    assert [t for t, _ in _entries(session_factory, solution)] == [None, "live"]


def test_a_file_whose_mover_died_after_its_commit_is_removed_without_moving_it_twice(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock, read_spool: ReadSpool
) -> None:
    _read(session_factory, solution, clock, "once")
    [file] = _files(read_spool)
    content = file.read_bytes()
    read_spool.move(session_factory)
    assert [t for t, _ in _entries(session_factory, solution)] == ["once"]
    # The state a mover leaves when it dies between its commit and removing the file.
    file.write_bytes(content)
    with session_factory() as session, session.begin():
        session.add(AuditSpoolMark(solution_id=solution.id, name=file.name))
    assert move_spooled(session_factory, read_spool.directory) == 0
    assert not file.exists()
    assert [t for t, _ in _entries(session_factory, solution)] == ["once"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditSpoolMark)) == 0


def test_a_line_cut_short_by_a_dying_writer_is_skipped_and_the_rest_is_moved(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock, read_spool: ReadSpool
) -> None:
    _read(session_factory, solution, clock, "whole")
    [file] = _files(read_spool)
    with file.open("ab") as torn:
        torn.write(b'{"solution_id": "' + solution.id.encode() + b'", "at": "2026-')
    read_spool.close()
    assert move_spooled(session_factory, read_spool.directory) == 1
    assert [t for t, _ in _entries(session_factory, solution)] == ["whole"]
    assert not file.exists()


def test_an_entry_the_database_refuses_keeps_its_file_for_the_next_pass(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock, read_spool: ReadSpool
) -> None:
    refused = read_spool.directory / "reads-99998-0000000000000000.jsonl"
    line = {"solution_id": "no such solution", "at": clock.now.isoformat(), "actor": "kari", "action": "search"}
    refused.write_text(json.dumps(line | {"target": None, "details": None}) + "\n")
    assert move_spooled(session_factory, read_spool.directory) == 0
    assert refused.exists()
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditSpoolMark)) == 0


def test_a_second_mover_waits_its_turn_for_a_file_being_moved(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock, read_spool: ReadSpool
) -> None:
    _read(session_factory, solution, clock, "one")
    read_spool.close()
    [file] = _files(read_spool)
    fd = os.open(file, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another mover has it
        assert move_spooled(session_factory, read_spool.directory) == 0
    finally:
        os.close(fd)
    assert move_spooled(session_factory, read_spool.directory) == 1


def test_a_server_spools_only_on_a_sqlite_file_and_the_chainer_attaches_and_detaches(
    engine: Engine, session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    directory = spool_dir(engine)
    chainer = AuditChainer(session_factory)
    if BACKEND == "sqlite":
        assert directory == Path(str(engine.url.database)).resolve().with_name("archivist.db-reads")
        assert chainer.spool is not None
    else:
        assert directory is None
        assert chainer.spool is None  # PostgreSQL: reads insert their entries, as they always did
    chainer.start()
    try:
        _read(session_factory, solution, clock, "served")
        with session_factory() as session:
            assert (spool.SPOOL in session.info) is (BACKEND == "sqlite")
    finally:
        chainer.stop()  # moves and chains what this process spooled
    assert _entries(session_factory, solution) == [("served", 1)]
    with session_factory() as session:
        assert spool.SPOOL not in session.info
    if directory is not None:
        assert list(directory.glob("reads-*")) == []


def test_an_in_memory_database_has_no_spool() -> None:
    memory = make_engine("sqlite://")
    assert spool_dir(memory) is None
    assert AuditChainer(make_session_factory(memory)).spool is None
