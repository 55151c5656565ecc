"""The command line, through its real entry point in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.archive.models import EmailAttachment, Interaction, RawEvent
from tests.conftest import auth

# Starts processes (the CLI, servers, workers): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow


def test_init_prints_the_same_solution_id_twice(run) -> None:  # type: ignore[no-untyped-def]
    first = run("init")
    assert first.returncode == 0, first.stderr
    again = run("init")
    assert again.stdout.strip() == first.stdout.strip()
    assert len(first.stdout.strip()) == 32


def test_bad_country_is_refused_with_a_message(run) -> None:  # type: ignore[no-untyped-def]
    run("init")
    result = run("solution", "create", "--name", "X", "--country", "XX", "--timezone", "Europe/Oslo")
    assert result.returncode == 2
    assert "ISO 3166" in result.stderr


def test_token_from_the_cli_opens_the_api(run, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    run("init")
    created = run("user", "create", "ola", "--role", "supervisor")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("password: ")
    token = run("token", "create", "ola", "--label", "script").stdout.strip().splitlines()[-1]
    assert client.get("/api/v1/interactions/nope", headers=auth(token)).status_code == 404


def test_password_from_stdin_is_not_printed(run) -> None:  # type: ignore[no-untyped-def]
    run("init")
    result = run("user", "create", "kari", "--role", "admin", "--password-stdin", stdin="s3cret-passphrase\n")
    assert result.returncode == 0, result.stderr
    assert "s3cret" not in result.stdout


def test_import_keeps_good_lines_and_reports_bad_ones_by_number(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    run("init")
    good = {
        "channel": "call",
        "direction": "inbound",
        "started_at": "2026-03-01T09:00:00+01:00",
        "customer": {"phone": "+4791234567"},
        "events": [{"at": "2026-03-01T09:00:00+01:00", "type": "offered"}],
    }
    lines = [
        json.dumps({**good, "external_id": "a"}),
        json.dumps({**good, "channel": "fax", "customer": {"phone": "+4799999999"}}),
        "{not json",
        "",
        json.dumps({**good, "external_id": "b"}),
    ]
    path = tmp_path / "in.ndjson"
    path.write_text("\n".join(lines) + "\n")
    result = run("import", str(path))
    assert result.returncode == 1
    # CONTRACT §16: a bad record by file and 1-based line; the summary is stdout's last line.
    assert "in.ndjson:2: channel" in result.stderr
    assert "in.ndjson:3:" in result.stderr
    assert "99999999" not in result.stderr + result.stdout
    assert "imported 2 interactions" in result.stdout
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "read": 4,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped": {"bad_record": 2},
        "erased_on_import": 0,
        "recordings": 0,
        "transcripts": 0,
    }
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 2
        assert session.scalar(select(func.count()).select_from(RawEvent)) == 2
    again = run("import", str(path))
    assert "imported 0 interactions, 2 already archived" in again.stdout


def test_quickstart_creates_admin_once_and_keeps_data(run, session_factory: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    first = run("quickstart", "--interactions", "40", "--port", "8011")
    assert first.returncode == 0, first.stderr
    # The port `make run PORT=8011` chose, never 8000 whatever the port (issue 24).
    assert "http://127.0.0.1:8011/api/v1/interactions?limit=5" in first.stdout
    assert "open http://127.0.0.1:8011/login and log in as 'admin'" in first.stdout
    assert ":8000" not in first.stdout
    assert "API token: arch_" in first.stdout
    # 40 synthetic interactions and 5 emails as a mail system delivers them (CONTRACT §15).
    assert "and 5 emails as they arrived" in first.stdout
    second = run("quickstart", "--interactions", "40")
    assert "API token" not in second.stdout
    # The next steps every time, on the default port of `archivist serve`.
    assert "open http://127.0.0.1:8000/login and log in as 'admin'" in second.stdout
    assert "Keeping the existing archive (45 interactions)" in second.stdout
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 45
        assert session.scalar(select(func.count()).select_from(EmailAttachment)) == 3


def test_reindex_mentions_rebuilds_a_lost_index(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    from sqlalchemy import delete

    from archivist.archive.models import Mention

    run("init")
    chat = {
        "channel": "chat",
        "direction": "inbound",
        "started_at": "2026-03-01T10:00:00+01:00",
        "customer": {"email": "ola@example.com"},
        "messages": [
            {"at": "2026-03-01T10:00:01+01:00", "from": "customer", "text": "Ring 912 34 567 or kari@example.com"}
        ],
    }
    path = tmp_path / "chat.ndjson"
    path.write_text(json.dumps(chat) + "\n")
    assert run("import", str(path)).returncode == 0

    def keys() -> list[str]:
        with session_factory() as session:
            return sorted(session.scalars(select(Mention.key)))

    indexed = keys()
    assert len(indexed) == 3  # the customer's address, and the number and address in the chat
    with session_factory() as session, session.begin():
        session.execute(delete(Mention))
    result = run("reindex-mentions")
    assert result.returncode == 0, result.stderr
    assert "re-indexed 1 interactions" in result.stdout
    assert keys() == indexed
