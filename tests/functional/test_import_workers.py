"""`archivist import` with worker processes writes exactly what the single-process import writes."""

from __future__ import annotations

import gc
import json
import multiprocessing
from collections import Counter
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Solution
from archivist.archive.importer import IMPORT_BATCH, ImportReport, import_lines
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import ChatMessage, EmailBody, Interaction, Mention, RawEvent
from archivist.demo.generator import generate

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
    real_write = importer.write

    def failing_write(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(importer, "write", failing_write)
    with pytest.raises(RuntimeError, match="disk full"):
        _import(session_factory, solution, _lines(), keyring, workers=2)
    assert multiprocessing.active_children() == []  # the worker processes have ended
    with session_factory() as session:
        # The first chunk's transaction committed; the second rolled back whole.
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
    real_write = importer.write

    def watched_write(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        if fails:
            raise RuntimeError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(importer, "write", watched_write)
    before = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(RuntimeError, match="disk full") if fails else nullcontext():
        _import(session_factory, solution, _lines(), keyring, workers=0)
    assert seen
    assert seen[0][0] == importer._GC_THRESHOLD  # collections were rarer while importing
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_cli_import_with_workers(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    run("init")
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"".join(_lines()))
    result = run("import", "--workers", "2", str(path))
    assert result.returncode == 1  # bad lines
    assert f"line {IMPORT_BATCH + 8}:" in result.stderr
    assert f"imported {N - 4} interactions, 1 already archived, 2 bad lines" in result.stdout
    refused = run("import", "--workers", "-1", str(path))
    assert refused.returncode == 2
    assert "--workers" in refused.stderr
