"""`archivist import` with worker processes writes exactly what the single-process import writes."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Solution
from archivist.allocation import BULK_THRESHOLD
from archivist.archive.importer import CHUNKS_PER_TRANSACTION, IMPORT_BATCH, ImportReport, ImportStopped, import_lines
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import ChatMessage, EmailBody, Interaction, Mention, RawEvent
from archivist.demo.generator import generate
from tests.functional.conftest import ARCHIVIST, Runner

# Starts processes (the CLI, servers, workers): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
N = 2 * IMPORT_BATCH + 300  # three chunks, so rows cross chunk (and process) boundaries


def _lines() -> list[bytes]:
    items = []
    for item in generate(N, seed=11, start=datetime(2026, 1, 1, tzinfo=UTC), days=30):
        item.pop("recording_seconds", None)
        items.append(json.dumps(item))
    items[5] = '{"channel": "fax"}'  # bad in the first chunk
    items[IMPORT_BATCH + 7] = "{not json"  # bad in the second chunk, numbered across chunks
    items[IMPORT_BATCH + 8] = ""  # blank: skipped silently
    items[-1] = items[10]  # the same external_id again, in the last chunk
    return [(line + "\n").encode() for line in items]


def _import(
    factory: sessionmaker[Session], solution: Solution, lines: list[bytes], keyring: MentionKeyring, workers: int
) -> tuple[ImportReport, int]:
    consumed: list[int] = []
    report = import_lines(factory, solution, lines, NOW, consumed.append, keyring=keyring, workers=workers)
    return report, sum(consumed)


def _archive(factory: sessionmaker[Session], solution: Solution) -> dict[str, Any]:
    """What the solution holds, without its (random) interaction ids."""
    with factory() as session:
        by_id = {
            row.id: row.external_id
            for row in session.execute(
                select(Interaction.id, Interaction.external_id).where(Interaction.solution_id == solution.id)
            )
        }
        interactions = sorted(
            (
                i.external_id,
                i.channel.value,
                i.started_at,
                i.ended_at,
                i.customer_phone,
                i.customer_phone_e164,
                i.customer_email_norm,
                i.subject,
                json.dumps(i.variables, sort_keys=True),
                i.has_content,
            )
            for i in session.scalars(select(Interaction).where(Interaction.solution_id == solution.id))
        )
        children = {
            model.__tablename__: Counter(
                by_id[iid]
                for iid in session.scalars(select(model.interaction_id).where(model.solution_id == solution.id))
            )
            for model in (ChatMessage, EmailBody, RawEvent, Mention)
        }
        kinds = Counter(session.scalars(select(Mention.kind).where(Mention.solution_id == solution.id)))
    return {"interactions": interactions, "children": children, "mention_kinds": kinds}


def test_workers_write_what_one_process_writes(
    session_factory: sessionmaker[Session], solution: Solution, keyring: MentionKeyring
) -> None:
    with session_factory() as session, session.begin():
        parallel = accounts.create_solution(session, name="Parallel", country="NO", timezone="Europe/Oslo")
    lines = _lines()

    serial_report, serial_bytes = _import(session_factory, solution, lines, keyring, workers=0)
    parallel_report, parallel_bytes = _import(session_factory, parallel, lines, keyring, workers=2)

    assert serial_report == parallel_report
    assert serial_report.created == N - 4  # two bad lines, a blank one, a repeat
    assert serial_report.existing == 1
    assert [number for number, _ in serial_report.errors] == [6, IMPORT_BATCH + 8]
    assert serial_bytes == parallel_bytes == sum(len(line) for line in lines)  # the progress bar reaches the end
    serial, in_parallel = _archive(session_factory, solution), _archive(session_factory, parallel)
    assert serial == in_parallel
    assert sum(serial["children"]["mentions"].values()) > 100  # the texts were scanned in the workers too


def test_a_second_import_with_workers_finds_everything_archived(
    session_factory: sessionmaker[Session], solution: Solution, keyring: MentionKeyring
) -> None:
    lines = _lines()
    first, _ = _import(session_factory, solution, lines, keyring, workers=2)
    again, _ = _import(session_factory, solution, lines, keyring, workers=2)
    assert again.created == 0
    assert again.existing == first.created + first.existing
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == first.created


def test_a_failed_write_stops_the_workers_and_keeps_committed_chunks(
    session_factory: sessionmaker[Session], solution: Solution, keyring: MentionKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivist.archive import importer

    monkeypatch.setattr(importer, "CHUNKS_PER_TRANSACTION", 1)
    calls = 0
    real_write = importer.write  # type: ignore[attr-defined]  # the name the importer calls, replaced below

    def failing_write(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(importer, "write", failing_write)
    with pytest.raises(ImportStopped) as stopped:
        _import(session_factory, solution, _lines(), keyring, workers=2)
    assert multiprocessing.active_children() == []  # the worker processes have ended
    assert isinstance(stopped.value.__cause__, RuntimeError)
    # The first chunk's transaction committed (its bad line reported); the second rolled back whole.
    assert stopped.value.next_line == IMPORT_BATCH + 1
    assert (stopped.value.report.created, stopped.value.report.existing) == (IMPORT_BATCH - 1, 0)
    assert [number for number, _ in stopped.value.report.errors] == [6]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == IMPORT_BATCH - 1


@pytest.mark.parametrize("fails", [False, True], ids=["imported", "failed"])
def test_an_import_leaves_the_garbage_collector_as_it_found_it(
    session_factory: sessionmaker[Session],
    solution: Solution,
    keyring: MentionKeyring,
    monkeypatch: pytest.MonkeyPatch,
    fails: bool,
) -> None:
    from archivist.archive import importer

    seen: list[tuple[int, ...]] = []
    real_write = importer.write  # type: ignore[attr-defined]  # the name the importer calls, replaced below

    def watched_write(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        if fails:
            raise RuntimeError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(importer, "write", watched_write)
    before = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(ImportStopped) if fails else nullcontext():
        _import(session_factory, solution, _lines(), keyring, workers=0)
    assert seen
    assert seen[0][0] == BULK_THRESHOLD  # collections were rarer while importing
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def _stop_at(engine: Engine, external_id: str) -> Callable[[], None]:
    """A database trigger that fails the insert of ``external_id`` (as a full disk would); returns its removal."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER stop_import BEFORE INSERT ON interactions "
                    f"WHEN NEW.external_id = '{external_id}' BEGIN SELECT RAISE(ABORT, 'no space left'); END"
                )
            )
            drop = ["DROP TRIGGER stop_import"]
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION stop_import() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.external_id = '{external_id}' THEN RAISE EXCEPTION 'no space left'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER stop_import BEFORE INSERT ON interactions "
                    "FOR EACH ROW EXECUTE FUNCTION stop_import()"
                )
            )
            drop = ["DROP TRIGGER stop_import ON interactions", "DROP FUNCTION stop_import()"]

    def remove() -> None:
        with engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))

    return remove


def test_cli_import_stopped_by_a_database_failure_says_what_is_kept_and_a_rerun_finishes(
    tmp_path: Path,
    run: Runner,
    engine: Engine,
) -> None:
    run("init")
    total = CHUNKS_PER_TRANSACTION * IMPORT_BATCH + 500  # one whole transaction, then a part of the next
    items = list(generate(total, seed=12, start=datetime(2026, 1, 1, tzinfo=UTC), days=30))
    for item in items:
        item.pop("recording_seconds", None)
    path = tmp_path / "in.ndjson"
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    remove = _stop_at(engine, items[total - 10]["external_id"])
    try:
        stopped = run("import", "--workers", "0", str(path))
    finally:
        remove()
    assert stopped.returncode == 1
    kept = CHUNKS_PER_TRANSACTION * IMPORT_BATCH
    assert f"import stopped at line {kept + 1} (" in stopped.stderr
    assert f"{kept} interactions before it are archived" in stopped.stderr
    assert "no space left" not in stopped.stderr  # the database's text is not repeated
    assert "Traceback" not in stopped.stderr
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Interaction.__table__)) == kept
    again = run("import", "--workers", "0", str(path))
    assert again.returncode == 0, again.stderr
    assert f"imported {total - kept} interactions, {kept} already archived (0 updated), 0 bad records" in again.stdout


def test_cli_import_with_workers(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    run("init")
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"".join(_lines()))
    result = run("import", "--workers", "2", str(path))
    assert result.returncode == 1  # bad lines
    assert f"in.ndjson:{IMPORT_BATCH + 8}:" in result.stderr
    assert f"imported {N - 4} interactions, 1 already archived (0 updated), 2 bad records" in result.stdout
    refused = run("import", "--workers", "-1", str(path))
    assert refused.returncode == 2
    assert "--workers" in refused.stderr


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended; only its parent's wait is missing


def _all_end(pids: set[int], within: float = 20) -> bool:
    """Whether every process of ``pids`` has ended within ``within`` seconds (the resource
    tracker ends only once it sees the main process gone)."""
    deadline = time.monotonic() + within
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _write_demo(path: Path, count: int, seed: int) -> None:
    with path.open("w") as fh:
        for item in generate(count, seed=seed, start=datetime(2026, 1, 1, tzinfo=UTC), days=30):
            item.pop("recording_seconds", None)
            fh.write(json.dumps(item) + "\n")


def _start_import(path: Path, database_url: str) -> subprocess.Popen[str]:
    """`archivist import --workers 2` as a terminal would start it: its own process group, Ctrl-C live."""
    env = {**os.environ, "ARCHIVIST_DATABASE_URL": database_url, "ARCHIVIST_DATA_DIR": str(path.parent / "var")}
    main = subprocess.Popen(
        [ARCHIVIST, "import", "--workers", "2", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A background child of a non-interactive shell inherits SIGINT ignored; a terminal's does not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while len(_children(main.pid)) < 3 and time.monotonic() < deadline:  # two workers and a resource tracker
        time.sleep(0.05)
    return main


def test_ctrl_c_stops_the_import_cleanly_and_says_what_is_kept(
    tmp_path: Path,
    run: Runner,
    database_url: str,
    session_factory: sessionmaker[Session],
) -> None:
    run("init")
    path = tmp_path / "in.ndjson"
    _write_demo(path, 40 * IMPORT_BATCH, seed=14)
    main = _start_import(path, database_url)
    workers = _children(main.pid)
    deadline = time.monotonic() + 60
    while _count(session_factory) == 0 and main.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # under way: a transaction has been committed
    os.killpg(main.pid, signal.SIGINT)  # what Ctrl-C does: the whole group
    _, stderr = main.communicate(timeout=60)
    assert main.returncode == 130
    assert "Traceback" not in stderr  # neither from the main process nor from a worker
    match = re.search(
        r"import stopped at line (\d+) \(interrupted\): (\d+) interactions before it are archived", stderr
    )
    assert match, stderr
    next_line, kept = (int(g) for g in match.groups())
    assert kept == next_line - 1
    assert 0 < kept < 40 * IMPORT_BATCH
    assert _count(session_factory) == kept
    assert _all_end(workers)


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Interaction)) or 0


def test_workers_end_when_the_import_is_killed_outright(tmp_path: Path, run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    run("init")
    path = tmp_path / "in.ndjson"
    _write_demo(path, 40 * IMPORT_BATCH, seed=13)
    main = _start_import(path, database_url)
    workers = _children(main.pid)
    main.kill()  # SIGKILL: no clean-up of its own runs
    main.communicate()
    assert len(workers) >= 3, "the workers never started"
    assert _all_end(workers)
