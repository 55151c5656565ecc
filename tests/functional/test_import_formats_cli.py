"""`archivist import` as CONTRACT §16 fixes it for every format: exit codes, the summary line, --dry-run."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.archive.models import Interaction

CALL = {
    "channel": "call",
    "direction": "inbound",
    "started_at": "2026-03-01T09:00:00+01:00",
    "customer": {"phone": "+4791234567"},
}


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Interaction)) or 0


def test_unknown_format_and_unreadable_source_exit_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init")
    path = tmp_path / "in.ndjson"
    path.write_text(json.dumps({**CALL, "external_id": "a"}) + "\n")
    unknown = run("import", "--format", "fax", str(path))
    assert unknown.returncode == 2
    assert "unknown format" in unknown.stderr
    missing = run("import", str(tmp_path / "nothing-here.ndjson"))
    assert missing.returncode == 2
    folder = run("import", str(tmp_path))  # ndjson is one file, not a folder
    assert folder.returncode == 2


def test_dry_run_counts_and_writes_nothing(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    run("init")
    path = tmp_path / "in.ndjson"
    path.write_text(json.dumps({**CALL, "external_id": "a"}) + "\n" + json.dumps({**CALL, "external_id": "b"}) + "\n")
    dry = run("import", "--dry-run", str(path))
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout.splitlines()[-1])["created"] == 2
    assert _count(session_factory) == 0
    real = run("import", str(path))
    assert json.loads(real.stdout.splitlines()[-1])["created"] == 2
    assert _count(session_factory) == 2
