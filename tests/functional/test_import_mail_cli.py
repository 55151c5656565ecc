"""`archivist import --format eml|mbox|maildir` (CONTRACT §15, §16): real files, the real CLI."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import EmailAttachment, EmailBody, Interaction
from tests import mail_samples as samples
from tests.conftest import Clock

# Starts processes (the CLI, servers, workers): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow


def _count(factory: sessionmaker[Session], model: type[Any]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _summary(stdout: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(stdout.splitlines()[-1])
    return summary


def _line(stderr: str) -> str:
    return " ".join(stderr.split())


def test_a_folder_of_eml_files_is_imported_recursively_bad_ones_reported_and_a_rerun_changes_nothing(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    run("init")
    root = tmp_path / "mail"
    (root / "2026" / "03").mkdir(parents=True)
    (root / "a.eml").write_bytes(samples.quoted_printable_soft_breaks())
    (root / "2026" / "b.eml").write_bytes(samples.with_attachments())
    (root / "2026" / "03" / "c.EML").write_bytes(samples.forwarded())
    (root / "2026" / "03" / "empty.eml").write_bytes(b"")
    (root / "notes.txt").write_text("not mail, not an .eml: not read")

    first = run("import", "--format", "eml", str(root))

    assert first.returncode == 1, first.stderr
    assert _summary(first.stdout) == {
        "read": 4,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "skipped": {"bad_record": 1},
        "erased_on_import": 0,
        "recordings": 0,
        "transcripts": 0,
    }
    # (the console may wrap a long line: compared with the wrapping undone)
    assert "2026/03/empty.eml: The body is not an email message: it has no header block (RFC 5322)" in _line(
        first.stderr
    )
    assert _count(session_factory, Interaction) == 3
    assert _count(session_factory, EmailAttachment) == 4  # three of one mail, one inside the forward
    assert len([p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]) == 4

    again = run("import", "--format", "eml", str(root))
    assert (_summary(again.stdout)["created"], _summary(again.stdout)["unchanged"]) == (0, 3)
    assert _count(session_factory, Interaction) == 3
    assert len([p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]) == 4


def test_a_single_eml_file(run, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    run("init")
    path = tmp_path / "one.eml"
    path.write_bytes(samples.base64_windows_1252())
    result = run("import", "--format", "eml", str(path))
    assert result.returncode == 0, result.stderr
    assert _summary(result.stdout)["created"] == 1
    with session_factory() as session:
        body = session.scalars(select(EmailBody.body)).one()
    assert "nummeret mitt er 912 34 567" in body


def test_an_mbox_reports_a_bad_message_by_its_number_and_keeps_the_rest(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    run("init")
    path = tmp_path / "inbox.mbox"
    sep = b"From MAILER-DAEMON Mon Mar  2 10:00:00 2026\n"
    path.write_bytes(
        sep
        + samples.quoted_printable_soft_breaks().replace(b"\r\n", b"\n")
        + b"\n"
        + sep
        + b"just a line of text, no header block\n\n"
        + sep
        + samples.with_attachments().replace(b"\r\n", b"\n")
        + b"\n"
    )
    result = run("import", "--format", "mbox", str(path))
    assert result.returncode == 1
    assert "inbox.mbox:2: The body is not an email message" in _line(result.stderr)
    summary = _summary(result.stdout)
    assert (summary["read"], summary["created"], summary["skipped"]) == (3, 2, {"bad_record": 1})
    assert _count(session_factory, EmailAttachment) == 3


def test_a_maildir_is_imported_and_dry_run_writes_nothing(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    run("init")
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    box.add(samples.missing_date())
    box.add(samples.wrong_charset())
    box.close()

    dry = run("import", "--format", "maildir", "--dry-run", str(tmp_path / "Maildir"))
    assert dry.returncode == 0, dry.stderr
    assert _summary(dry.stdout)["created"] == 2
    assert _count(session_factory, Interaction) == 0

    real = run("import", "--format", "maildir", str(tmp_path / "Maildir"))
    assert real.returncode == 0, real.stderr
    assert _summary(real.stdout)["created"] == 2
    assert _count(session_factory, Interaction) == 2


def test_a_missing_mbox_exits_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init")
    result = run("import", "--format", "mbox", str(tmp_path / "nothing.mbox"))
    assert result.returncode == 2


def test_a_failure_mid_import_stops_it_naming_where_and_a_rerun_finishes_it(
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    solution: Solution,
    keyring: MentionKeyring,
    clock: Clock,
) -> None:
    import pytest

    from archivist.blobs.memory import MemoryBlobStore
    from archivist.importers import ImportInterrupted, ImportJob
    from archivist.importers.mail import run_eml
    from tests.functional.test_email_mime import FailingStore

    (tmp_path / "a.eml").write_bytes(samples.with_attachments())
    job = ImportJob(str(tmp_path), solution.id, session_factory, FailingStore(), keyring, clock())
    with pytest.raises(ImportInterrupted) as stopped:
        run_eml(job)
    assert stopped.value.position == "a.eml"
    assert isinstance(stopped.value.__cause__, OSError)
    assert _count(session_factory, Interaction) == 0
    # The store is back: the same import finishes the work.
    again = run_eml(ImportJob(str(tmp_path), solution.id, session_factory, MemoryBlobStore(), keyring, clock()))
    assert (again.read, again.created) == (1, 1)
