"""The audit trail: one entry per state change and per content access, a hash chain that
shows edits and deletions, retention that keeps the rest verifiable, and no personal data
in it or in the logs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution, User
from archivist.audit.events import (
    AuditAction,
    nightly_purge,
    record,
    verify_chain,
)
from archivist.audit.models import AuditEvent
from archivist.demo.audio import make_wav
from tests.conftest import USERNAME_OF_TOKEN, Clock, TokenMaker, auth
from tests.functional.test_search_page_auth import csrf_from, login, login_form_data

WAV = make_wav(0.3, seed=9)

# Used wherever an identifier can be typed or stored; none of these spellings may ever reach
# the audit table or a log line.
CANARY_PHONE = "+47 412 98 765"
CANARY_SPELLINGS = ("41298765", "4741298765", "412 98 765", "+4741298765")
CANARY_EMAIL = "Canary.Person@Example.ORG"
CANARY_EMAIL_SPELLINGS = ("canary.person@example.org", "canary.person")


def _actions(session_factory: sessionmaker[Session], solution: Solution) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEvent.action).where(AuditEvent.solution_id == solution.id).order_by(AuditEvent.id)
            )
        )


def _dump(session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session:
        rows = session.execute(text("SELECT * FROM audit_events")).all()
    return "\n".join(repr(tuple(r)) for r in rows).lower()


def _seed(client: TestClient, admin: str) -> dict[str, str]:
    bodies = [
        {
            "channel": "call",
            "direction": "inbound",
            "started_at": "2026-03-01T09:00:00+01:00",
            "customer": {"phone": CANARY_PHONE, "name": "Canary Person"},
            "events": [{"at": "2026-03-01T09:00:00+01:00", "type": "offered"}],
        },
        {
            "channel": "chat",
            "direction": "inbound",
            "started_at": "2026-03-01T10:00:00+01:00",
            "customer": {"email": CANARY_EMAIL},
            "messages": [{"at": "2026-03-01T10:00:05+01:00", "from": "customer", "text": f"ring {CANARY_PHONE}"}],
        },
        {"channel": "call", "direction": "inbound", "started_at": "2026-03-01T11:00:00+01:00"},
    ]
    ids = client.post("/api/v1/interactions/batch", json=bodies, headers=auth(admin)).json()["ids"]
    put = client.put(
        f"/api/v1/interactions/{ids[0]}/recording", content=WAV, headers={**auth(admin), "Content-Type": "audio/wav"}
    )
    assert put.status_code == 204
    return {"call": ids[0], "chat": ids[1], "plain": ids[2]}


def test_every_state_change_and_content_access_leaves_one_entry(
    client: TestClient,
    make_token: TokenMaker,
    solution: Solution,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = make_token(Role.ADMIN, solution)
    ids = _seed(client, admin)  # ingestion is not audited (see the README): it is the archive's input
    assert _actions(session_factory, solution) == []
    h = auth(admin)

    steps: list[tuple[Any, str | None]] = [
        (lambda: client.get("/api/v1/interactions", params={"phone": CANARY_PHONE}, headers=h), "search"),
        (lambda: client.get(f"/api/v1/interactions/{ids['call']}", headers=h), "interaction.viewed"),
        (lambda: client.get(f"/api/v1/interactions/{ids['chat']}/content", headers=h), "content.read"),
        (lambda: client.get(f"/api/v1/interactions/{ids['call']}/recording", headers=h), "recording.downloaded"),
        # A player seeking further into the same recording is the same listening.
        (
            lambda: client.get(f"/api/v1/interactions/{ids['call']}/recording", headers={**h, "Range": "bytes=100-"}),
            None,
        ),
        (lambda: client.delete(f"/api/v1/interactions/{ids['chat']}/content", headers=h), "content.deleted"),
        (lambda: client.delete(f"/api/v1/interactions/{ids['call']}/recording", headers=h), "recording.deleted"),
        (
            lambda: client.post("/api/v1/interactions/anonymize-and-delete", json={"ids": [ids["plain"]]}, headers=h),
            "interactions.anonymized_and_deleted",
        ),
        (
            lambda: client.post("/api/v1/anonymization-requests/preview", json={"phone": CANARY_PHONE}, headers=h),
            "request.previewed",
        ),
        (
            lambda: client.post(
                "/api/v1/anonymization-requests", json={"phone": CANARY_PHONE, "email": CANARY_EMAIL}, headers=h
            ),
            "request.added",
        ),
        (lambda: client.get("/api/v1/raw-data", headers=h), "raw_data.read"),
        (lambda: client.get("/api/v1/raw-data", params={"format": "csv"}, headers=h), "raw_data.exported"),
    ]
    expected: list[str] = []
    for step, action in steps:
        response = step()
        assert response.status_code < 300, response.text
        if action:
            expected.append(action)
        assert _actions(session_factory, solution) == expected

    request_id = client.get("/api/v1/anonymization-requests", headers=h).json()["items"][0]["id"]
    assert client.delete(f"/api/v1/anonymization-requests/{request_id}", headers=h).status_code == 204
    expected.append("request.cancelled")

    # The pages: a failed and a successful login, a search, an admin change, a logout.
    username = USERNAME_OF_TOKEN[admin]
    client.post("/login", data=login_form_data(client, username, "not the password"))
    expected.append("login.failed")
    login(client, admin)
    expected.append("login.succeeded")
    csrf = csrf_from(client.get("/archive/search").text)
    assert client.post("/archive/search", data={"csrf_token": csrf, "email": CANARY_EMAIL}).status_code == 200
    expected.append("search")
    client.post("/users", data={"csrf_token": csrf, "username": "new-person", "role": "supervisor"})
    expected.append("user.created")
    settings = {
        "csrf_token": csrf,
        "country": "NO",
        "timezone": "Europe/Oslo",
        "nightly_at": "03:30",
        "replacement": "Anonymized",
        "preview_warn_percent": "1",
        "audit_retention_days": "400",
    }
    assert client.post("/settings", data=settings, follow_redirects=False).status_code == 303
    expected.append("settings.changed")
    # Saving the same settings again changes nothing, so it records nothing.
    client.post("/settings", data=settings, follow_redirects=False)
    client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    expected.append("logout")
    assert _actions(session_factory, solution) == expected

    with session_factory() as session:
        entries = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        assert {e.actor for e in entries} == {username}
        search = next(e for e in entries if e.action == "search")
        assert search.details == {"filters": ["phone"], "results": 1, "next_page": False, "via": "api"}
        added = next(e for e in entries if e.action == "request.added")
        assert added.details is not None
        assert added.details["phone"] == "41****65"
        assert verify_chain(session, solution.id).ok

    dump = _dump(session_factory)
    logs = caplog.text.lower()
    for spelling in (*CANARY_SPELLINGS, *CANARY_EMAIL_SPELLINGS):
        assert spelling.lower() not in dump, spelling
        assert spelling.lower() not in logs, spelling


def test_audit_events_api_filters_and_pages(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session], clock: Clock
) -> None:
    officer = make_token(Role.PRIVACY_OFFICER, solution)
    with session_factory() as session, session.begin():
        for n in range(5):
            record(session, solution.id, "ola", AuditAction.SEARCH, None, {"n": n}, at=clock.now + timedelta(minutes=n))
        record(session, solution.id, "kari", AuditAction.CONTENT_READ, "x", at=clock.now + timedelta(minutes=10))
    h = auth(officer)
    everything = client.get("/api/v1/audit-events", headers=h).json()["items"]
    assert [e["action"] for e in everything][:2] == ["content.read", "search"]  # newest first
    assert set(everything[0]) >= {"at", "actor", "action", "target", "details"}
    only_ola = client.get("/api/v1/audit-events", params={"actor": "ola", "limit": 2}, headers=h).json()
    assert [e["details"]["n"] for e in only_ola["items"]] == [4, 3]
    page2 = client.get(
        "/api/v1/audit-events", params={"actor": "ola", "limit": 2, "cursor": only_ola["next_cursor"]}, headers=h
    ).json()
    assert [e["details"]["n"] for e in page2["items"]] == [2, 1]
    reads = client.get("/api/v1/audit-events", params={"action": "content.read"}, headers=h).json()["items"]
    assert [e["actor"] for e in reads] == ["kari"]
    window = client.get(
        "/api/v1/audit-events",
        params={
            "from": (clock.now + timedelta(minutes=1)).isoformat(),
            "to": (clock.now + timedelta(minutes=3)).isoformat(),
        },
        headers=h,
    ).json()["items"]
    assert [e["details"]["n"] for e in window] == [2, 1]
    assert client.get("/api/v1/audit-events", params={"action": "nope"}, headers=h).status_code == 422
    assert client.get("/api/v1/audit-events", params={"cursor": "nope"}, headers=h).status_code == 422


def test_audit_page_filters_by_user_and_action(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session], clock: Clock
) -> None:
    with session_factory() as session, session.begin():
        record(session, solution.id, "ola", AuditAction.SEARCH, None, {"filters": ["queue"]}, at=clock.now)
        record(session, solution.id, "kari", AuditAction.RECORDING_PLAYED, "rec-1", at=clock.now)
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    page = client.get("/audit", params={"actor": "kari"})
    assert page.status_code == 200
    assert "recording.played" in page.text
    assert "rec-1" in page.text
    assert '"queue"' not in page.text
    for label in ("User", "Action", "From", "To"):
        assert f">{label}</label>" in page.text


def _chain(session_factory: sessionmaker[Session], solution: Solution, clock: Clock, n: int = 5) -> list[int]:
    with session_factory() as session, session.begin():
        return [
            # A state change: chained at once (a read's entry waits for chain_pending, tested elsewhere).
            record(
                session,
                solution.id,
                "ola",
                AuditAction.SETTINGS_CHANGED,
                None,
                {"n": i},
                at=clock.now + timedelta(seconds=i),
            ).id
            for i in range(n)
        ]


def test_verify_detects_an_edited_entry(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    ids = _chain(session_factory, solution, clock)
    with session_factory() as session, session.begin():
        session.execute(update(AuditEvent).where(AuditEvent.id == ids[2]).values(actor="someone else"))
    with session_factory() as session:
        report = verify_chain(session, solution.id)
    assert (report.ok, report.broken_at, report.problem) == (False, ids[2], "its content was edited")


def test_verify_detects_a_deleted_entry(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    ids = _chain(session_factory, solution, clock)
    with session_factory() as session, session.begin():
        session.execute(delete(AuditEvent).where(AuditEvent.id == ids[2]))
    with session_factory() as session:
        report = verify_chain(session, solution.id)
    assert (report.ok, report.broken_at) == (False, ids[3])


def test_verify_detects_the_oldest_entry_deleted_outside_a_purge(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    ids = _chain(session_factory, solution, clock)
    with session_factory() as session, session.begin():
        session.execute(delete(AuditEvent).where(AuditEvent.id == ids[0]))
    with session_factory() as session:
        assert verify_chain(session, solution.id).broken_at == ids[1]


def test_retention_purge_keeps_the_rest_verifiable(
    session_factory: sessionmaker[Session], solution: Solution, other_solution: Solution, clock: Clock
) -> None:
    old = _chain(session_factory, solution, clock, 3)
    _chain(session_factory, other_solution, clock, 2)
    clock.advance(days=solution.audit_retention_days - 1)
    recent = _chain(session_factory, solution, clock, 2)
    with session_factory() as session, session.begin():
        assert nightly_purge(session, solution.id, clock.now + timedelta(days=1, hours=1)) >= 3
    with session_factory() as session:
        remaining = list(
            session.scalars(select(AuditEvent).where(AuditEvent.solution_id == solution.id).order_by(AuditEvent.id))
        )
        assert [e.id for e in remaining][:2] == recent
        assert remaining[-1].action == "audit.purged"
        assert remaining[-1].details is not None
        assert remaining[-1].details["entries"] == 3
        assert not set(old) & {e.id for e in remaining}
        assert verify_chain(session, solution.id).ok
        assert verify_chain(session, other_solution.id).entries == 2  # another solution's trail is untouched


def test_a_noted_head_shows_entries_deleted_from_the_end(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    ids = _chain(session_factory, solution, clock)
    with session_factory() as session:
        noted = verify_chain(session, solution.id).head
    assert noted is not None
    _chain(session_factory, solution, clock, 2)
    with session_factory() as session:
        assert verify_chain(session, solution.id, expect_head=noted).ok  # entries after it are fine
    with session_factory() as session, session.begin():
        session.execute(delete(AuditEvent).where(AuditEvent.id >= ids[-1]))  # the noted entry and all after it
    with session_factory() as session:
        assert verify_chain(session, solution.id).ok  # the chain alone cannot tell
        report = verify_chain(session, solution.id, expect_head=noted)
    assert not report.ok
    assert report.broken_at is None
    assert report.problem is not None
    assert "deleted from the end" in report.problem


def test_a_noted_head_removed_by_the_retention_purge_still_verifies(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    _chain(session_factory, solution, clock, 3)
    with session_factory() as session:
        noted = verify_chain(session, solution.id).head
    clock.advance(days=solution.audit_retention_days + 2)
    _chain(session_factory, solution, clock, 1)
    with session_factory() as session, session.begin():
        assert nightly_purge(session, solution.id, clock.now) == 3
    with session_factory() as session:
        assert verify_chain(session, solution.id, expect_head=noted).ok  # it is the purge's anchor


def test_entries_just_inside_retention_stay(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    _chain(session_factory, solution, clock, 2)
    with session_factory() as session, session.begin():
        assert nightly_purge(session, solution.id, clock.now + timedelta(days=solution.audit_retention_days)) == 0


def test_concurrent_appends_never_fork_the_chain(
    session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for n in range(10):
                with session_factory() as session, session.begin():
                    record(
                        session, solution.id, f"w{worker}", AuditAction.SETTINGS_CHANGED, None, {"n": n}, at=clock.now
                    )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with session_factory() as session:
        report = verify_chain(session, solution.id)
        assert report.ok
        assert report.entries == 40
        prev = list(session.scalars(select(AuditEvent.prev_hash).where(AuditEvent.solution_id == solution.id)))
        assert len(set(prev)) == 40  # no two entries claim the same predecessor


ARCHIVIST = str(Path(sys.executable).with_name("archivist"))


@pytest.mark.slow  # starts processes or runs long: `make test-fast` leaves it out
def test_cli_audit_verify_exits_1_and_names_the_broken_entry(
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    solution: Solution,
    clock: Clock,
) -> None:
    ids = _chain(session_factory, solution, clock)
    env = {**os.environ, "ARCHIVIST_DATABASE_URL": database_url, "ARCHIVIST_DATA_DIR": str(tmp_path / "var")}

    def verify(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ARCHIVIST, "audit", "verify", "--solution", solution.id, *options],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    intact = verify()
    assert intact.returncode == 0, intact.stderr
    assert "5 entries, chain intact" in intact.stdout
    head = intact.stdout.strip().rsplit(" ", 1)[-1]
    with session_factory() as session:
        assert head == verify_chain(session, solution.id).head
    assert verify("--expect-head", head).returncode == 0
    with session_factory() as session, session.begin():
        session.execute(delete(AuditEvent).where(AuditEvent.id == ids[-1]))
    assert verify().returncode == 0  # the newest entry is gone: only a noted head shows it
    truncated = verify("--expect-head", head)
    assert truncated.returncode == 1
    assert "deleted from the end" in truncated.stderr
    with session_factory() as session, session.begin():
        session.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(details={"n": 99}))
    broken = verify()
    assert broken.returncode == 1
    assert f"chain broken at entry #{ids[1]}" in broken.stderr
    every_solution = subprocess.run(
        [ARCHIVIST, "audit", "verify", "--expect-head", head], env=env, capture_output=True, text=True, check=False
    )
    assert every_solution.returncode == 2
    assert "--expect-head needs --solution" in every_solution.stderr


def test_disabled_users_cannot_log_in_and_the_attempt_is_recorded(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    token = make_token(Role.SUPERVISOR, solution)
    with session_factory() as session, session.begin():
        session.execute(update(User).where(User.username == USERNAME_OF_TOKEN[token]).values(disabled=True))
    response = client.post("/login", data=login_form_data(client, USERNAME_OF_TOKEN[token]))
    assert response.status_code == 401
    assert _actions(session_factory, solution) == ["login.failed"]


def test_the_nightly_run_records_each_request_it_carries_out(
    client: TestClient,
    make_token: TokenMaker,
    solution: Solution,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="archivist.nightly")
    admin = make_token(Role.ADMIN, solution)
    _seed(client, admin)
    added = client.post("/api/v1/anonymization-requests", json={"phone": CANARY_PHONE}, headers=auth(admin))
    assert client.post("/api/v1/nightly-runs", headers=auth(admin)).status_code == 200
    assert _actions(session_factory, solution) == ["request.added", "nightly.run_requested", "request.processed"]
    with session_factory() as session:
        processed = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.processed")).one()
        assert (processed.actor, processed.target) == ("system", added.json()["id"])
        assert processed.details is not None
        assert processed.details["interactions"] == 1
        report = verify_chain(session, solution.id)
        assert report.ok
    # The run logs the head it leaves, for keeping outside the database (verify --expect-head).
    assert f"audit chain head of solution {solution.id}: {report.head}" in caplog.text
    dump = _dump(session_factory)
    assert not any(spelling.lower() in dump for spelling in CANARY_SPELLINGS)


def test_the_anonymize_page_records_preview_add_and_cancel(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    csrf = csrf_from(client.get("/archive/anonymize").text)
    form = {"csrf_token": csrf, "phone": CANARY_PHONE, "email": CANARY_EMAIL}
    assert client.post("/archive/anonymize/preview", data=form).status_code == 200
    assert client.post("/archive/anonymize", data=form, follow_redirects=False).status_code == 303
    with session_factory() as session:
        request_id = session.scalars(select(AuditEvent.target).where(AuditEvent.action == "request.added")).one()
    client.post(f"/archive/anonymize/{request_id}/cancel", data={"csrf_token": csrf}, follow_redirects=False)
    assert _actions(session_factory, solution)[-3:] == ["request.previewed", "request.added", "request.cancelled"]
    dump = _dump(session_factory)
    assert not any(s.lower() in dump for s in (*CANARY_SPELLINGS, *CANARY_EMAIL_SPELLINGS))
