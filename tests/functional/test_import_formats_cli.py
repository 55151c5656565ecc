"""`archivist import` as CONTRACT §16 fixes it for every format: exit codes, the summary line, --dry-run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.archive.models import Interaction
from archivist.db import rowcount

# Starts processes (the CLI, servers, workers): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

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


def _contact(contact_id: str, phone: str, started: str) -> dict[str, object]:
    # Shaped as https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html documents it.
    return {
        "ContactId": contact_id,
        "Channel": "VOICE",
        "InitiationMethod": "INBOUND",
        "InitiationTimestamp": started,
        "LastUpdateTimestamp": started,
        "CustomerEndpoint": {"Address": phone, "Type": "TELEPHONE_NUMBER"},
    }


def test_a_platform_import_reports_bad_records_and_exits_1(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init")
    export = tmp_path / "export"
    export.mkdir()
    (export / "records.json").write_text(
        json.dumps(_contact("a", "+4791234567", "2026-03-01T08:00:00Z"))
        + "\n"
        + json.dumps({"ContactId": "b", "Channel": "VOICE"})
        + "\n"
    )
    result = run("import", "--format", "amazon-connect", str(export))
    assert result.returncode == 1
    assert "records.json:2: InitiationTimestamp" in result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["skipped"] == {"bad_record": 1}


def test_an_import_takes_in_the_ledger_a_restored_database_lacks(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    from sqlalchemy import delete

    from archivist.accounts.models import Solution
    from archivist.anonymize.models import LedgerKey
    from tests.functional.anonymization_support import enter, oslo

    run("init")
    with session_factory() as session:
        solution = session.scalars(select(Solution)).one()
        session.expunge(solution)
    enter(session_factory, solution, oslo(2026, 3, 5, 12), phone="91234567")
    assert run("nightly", "--as-of", "2026-03-06T03:00:00+01:00").returncode == 0
    with session_factory() as session, session.begin():
        # As if the database were restored from before the erasure (or made before migration 0011).
        assert rowcount(session.execute(delete(LedgerKey))) == 1
    export = tmp_path / "export"
    export.mkdir()
    (export / "records.json").write_text(
        json.dumps(_contact("late-delivery", "tel:+4791234567", "2026-03-02T08:00:00Z"))
    )
    result = run("import", "--format", "amazon-connect", str(export))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["erased_on_import"] == 1
    with session_factory() as session:
        stored = session.scalars(select(Interaction)).one()
        assert (stored.customer_phone_e164, stored.anonymized_at is not None) == (None, True)


def test_the_readme_worked_examples_run(run) -> None:  # type: ignore[no-untyped-def]
    import re
    import shlex

    root = Path(__file__).resolve().parents[2]
    section = (root / "README.md").read_text().split("## Importing from contact-centre platforms", 1)[1]
    section = section.split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(archivist import [^\n]+)\n```", section)
    assert len(commands) == 3
    run("init")
    for command in commands:
        args = [a if not a.startswith("docs/") else str(root / a) for a in shlex.split(command)[1:]]
        result = run(*args)
        assert result.returncode == 0, (command, result.stderr)
        summary = json.loads(result.stdout.splitlines()[-1])
        assert summary["created"] > 0
