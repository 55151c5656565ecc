"""Usernames are one name whatever their case (CONTRACT §14): uniqueness, login, throttling, the
migration that introduced the folded key, and the CLI that repairs and unlocks accounts."""

from __future__ import annotations

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import LoginFailure, Role, Solution, User
from archivist.accounts.sessions import MAX_FAILURES_PER_ACCOUNT
from archivist.accounts.usernames import USERNAME_RULE, UsernameError, fold_username, validate_username
from archivist.audit.models import AuditEvent
from archivist.schema import MigrationRefusedError, alembic_config, upgrade
from archivist.web.pages import AUTH_COOKIE
from tests.conftest import POSTGRES_URL, TEST_PASSWORD, TEST_SECRET_KEY, TokenMaker
from tests.functional.test_search_page_auth import csrf_from, login, login_form_data


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("admin", True),  # the plain case
        ("kari.nordmann@example.com", True),  # e-mail-like logins
        ("ola_n-2+x", True),  # the punctuation logins usually hold
        ("Åse", True),  # letters of any script
        ("  eva ", True),  # surrounding spaces are trimmed, not refused
        ("kari nordmann", False),  # a space inside
        ("<b>admin</b>", False),  # markup
        ('ad"min', False),  # a quote would break out of an attribute
        ("admin\x00", False),  # a NUL byte
        ("ad\tmin", False),  # a control character
        ("admin\u200b", False),  # an invisible zero-width space (a look-alike of admin)
        ("x" * 101, False),  # over-long
        ("", False),  # empty
    ],
)
def test_one_rule_says_what_a_username_may_be(name: str, ok: bool) -> None:
    if ok:
        assert validate_username(name) == name.strip()
    else:
        with pytest.raises(UsernameError) as caught:
            validate_username(name)
        assert str(caught.value) == USERNAME_RULE


def test_names_that_differ_only_in_case_or_form_fold_together() -> None:
    assert fold_username("ADMIN") == fold_username("admin") == fold_username(" Admin ")
    assert fold_username("STRASSE") == fold_username("straße")
    assert fold_username("ａｄｍｉｎ") == fold_username("admin")  # full-width letters
    assert fold_username("admin") != fold_username("admin2")


def test_admin_cannot_be_created_beside_admin(session_factory: sessionmaker[Session], solution: Solution) -> None:
    with session_factory() as session, session.begin():
        accounts.create_user(session, solution_id=solution.id, username="admin", role=Role.ADMIN, password="x" * 12)
    for other in ("ADMIN", "Admin", " admin "):
        with (
            session_factory() as session,
            session.begin(),
            pytest.raises(accounts.AccountError, match="exists already"),
        ):
            accounts.create_user(
                session, solution_id=solution.id, username=other, role=Role.SUPERVISOR, password="x" * 12
            )


def test_the_database_refuses_a_second_spelling_too(session_factory: sessionmaker[Session], solution: Solution) -> None:
    # Should a caller ever bypass create_user, the unique key still holds.
    from sqlalchemy.exc import IntegrityError

    with session_factory() as session, session.begin():
        session.add(User(solution_id=solution.id, username="admin", password_hash=None, role=Role.ADMIN))
    with pytest.raises(IntegrityError), session_factory() as session, session.begin():
        session.add(User(solution_id=solution.id, username="ADMIN", password_hash=None, role=Role.ADMIN))


def _fail_logins(client: TestClient, username: str, times: int) -> None:
    for _ in range(times):
        client.cookies.delete(AUTH_COOKIE)
        data = login_form_data(client, username, "wrong password!")
        assert client.post("/login", data=data, follow_redirects=False).status_code == 401


def test_login_matches_the_username_whatever_its_case(
    client: TestClient, make_token: TokenMaker, solution: Solution
) -> None:
    from tests.conftest import USERNAME_OF_TOKEN

    username = USERNAME_OF_TOKEN[make_token(Role.SUPERVISOR, solution)]
    data = login_form_data(client, username.upper(), TEST_PASSWORD)
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def test_failures_under_another_spelling_of_a_name_that_does_not_exist_lock_out_nobody_else(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    from tests.conftest import USERNAME_OF_TOKEN

    username = USERNAME_OF_TOKEN[make_token(Role.ADMIN, solution)]
    _fail_logins(client, username + "x", MAX_FAILURES_PER_ACCOUNT)
    client.cookies.delete(AUTH_COOKIE)
    data = login_form_data(client, username, TEST_PASSWORD)
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("a_admin", "\u0430_admin"),  # the probe's pair: a Cyrillic а before _admin
        ("\u0430_admin", "a_admin"),  # whichever came first, the look-alike is the second
        ("paypal", "p\u0430yp\u0430l"),  # two Cyrillic letters
        ("mary", "rnary"),  # r + n reads as m (ASCII only)
        ("olav", "0lav"),  # a digit zero for the letter O
        ("Olav", "0LAV"),  # and whatever the case of either
    ],
)
def test_a_username_that_looks_like_an_existing_one_is_refused(
    session_factory: sessionmaker[Session], solution: Solution, first: str, second: str
) -> None:
    # An audit entry by "а_admin" would pass for a_admin's (CONTRACT §18, Unicode TS 39 skeletons).
    with session_factory() as session, session.begin():
        accounts.create_user(session, solution_id=solution.id, username=first, role=Role.ADMIN, password="x" * 12)
    with (
        session_factory() as session,
        session.begin(),
        pytest.raises(accounts.AccountError, match="looks like an existing one"),
    ):
        accounts.create_user(session, solution_id=solution.id, username=second, role=Role.SUPERVISOR, password="x" * 12)


def test_names_that_only_share_letters_are_not_look_alikes(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    # Control: different names stay possible, in any script.
    with session_factory() as session, session.begin():
        for name in ("a_admin", "b_admin", "\u0430\u0434\u043c\u0438\u043d", "kari", "kari2", "Åse", "ase"):
            accounts.create_user(session, solution_id=solution.id, username=name, role=Role.ADMIN, password="x" * 12)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 7


def test_users_page_refuses_a_second_spelling_and_a_bad_name_with_a_message(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    login(client, make_token(Role.ADMIN, solution))
    csrf = csrf_from(client.get("/users").text)
    assert client.post("/users", data={"csrf_token": csrf, "username": "eva", "role": "supervisor"}).status_code == 200
    again = client.post("/users", data={"csrf_token": csrf, "username": "EVA", "role": "supervisor"})
    assert again.status_code == 422
    assert "exists already" in again.text
    assert again.headers["content-type"].startswith("text/html")
    markup = client.post("/users", data={"csrf_token": csrf, "username": "<i>eve</i>", "role": "supervisor"})
    assert markup.status_code == 422
    assert "no spaces or markup" in markup.text
    assert "<i>eve</i>" not in markup.text  # never rendered back unescaped
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.username_key == "eva")) == 1


# ---------------------------------------------------------------------------------------------
# The command line: rename, set-password
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow  # starts processes or runs long: `make test-fast` leaves it out
def test_cli_refuses_a_second_spelling_and_a_name_with_a_space(run) -> None:  # type: ignore[no-untyped-def]
    run("init")
    assert run("user", "create", "admin", "--role", "admin").returncode == 0
    twin = run("user", "create", "Admin", "--role", "admin")
    assert twin.returncode == 2
    assert "exists already" in twin.stderr
    spaced = run("user", "create", "kari nordmann", "--role", "admin")
    assert spaced.returncode == 2
    assert "no spaces" in spaced.stderr


@pytest.fixture
def cli_shares_the_app_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    # Throttled usernames are stored keyed by the secret: the CLI must use the app's to find them.
    monkeypatch.setenv("ARCHIVIST_SECRET_KEY", TEST_SECRET_KEY)


@pytest.mark.slow  # starts processes or runs long: `make test-fast` leaves it out
def test_set_password_reads_stdin_unlocks_a_throttled_admin_and_is_audited(  # type: ignore[no-untyped-def]
    cli_shares_the_app_secret: None, run, app: object, session_factory: sessionmaker[Session]
) -> None:
    run("init")
    assert (
        run("user", "create", "admin", "--role", "admin", "--password-stdin", stdin="old-password-1\n").returncode == 0
    )
    with TestClient(app) as browser:  # type: ignore[arg-type]
        _fail_logins(browser, "ADMIN", MAX_FAILURES_PER_ACCOUNT)
        browser.cookies.delete(AUTH_COOKIE)
        locked = browser.post(
            "/login", data=login_form_data(browser, "admin", "old-password-1"), follow_redirects=False
        )
        assert locked.status_code == 429
        result = run("user", "set-password", "Admin", stdin="new-password-2\n")
        assert result.returncode == 0, result.stderr
        assert "new-password-2" not in result.stdout + result.stderr
        browser.cookies.delete(AUTH_COOKIE)
        data = login_form_data(browser, "admin", "new-password-2")
        assert browser.post("/login", data=data, follow_redirects=False).status_code == 303
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0
        entry = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_reset")).one()
        assert entry.details is not None
        assert entry.details["failures_cleared"] == MAX_FAILURES_PER_ACCOUNT
        assert "new-password-2" not in str(entry.details)


@pytest.mark.slow  # starts processes or runs long: `make test-fast` leaves it out
def test_set_password_refuses_a_short_one_and_an_unknown_user(run) -> None:  # type: ignore[no-untyped-def]
    run("init")
    run("user", "create", "admin", "--role", "admin")
    short = run("user", "set-password", "admin", stdin="short\n")
    assert short.returncode == 2
    assert "at least" in short.stderr
    assert run("user", "set-password", "nobody", stdin="long-enough-1\n").returncode == 2


@pytest.mark.slow  # starts processes or runs long: `make test-fast` leaves it out
def test_rename_keeps_the_password_and_refuses_a_clash(  # type: ignore[no-untyped-def]
    run, app: object, session_factory: sessionmaker[Session]
) -> None:
    run("init")
    run("user", "create", "kari", "--role", "admin", "--password-stdin", stdin="kari-password-1\n")
    run("user", "create", "ola", "--role", "supervisor")
    clash = run("user", "rename", "kari", "OLA")
    assert clash.returncode == 2
    assert "exists already" in clash.stderr
    look_alike = run("user", "rename", "kari", "\u043ela")  # Cyrillic о for o: ola's look-alike
    assert look_alike.returncode == 2
    assert "looks like an existing one" in look_alike.stderr
    renamed = run("user", "rename", "kari", "kari.nordmann")
    assert renamed.returncode == 0, renamed.stderr
    with TestClient(app) as browser:  # type: ignore[arg-type]
        data = login_form_data(browser, "Kari.Nordmann", "kari-password-1")
        assert browser.post("/login", data=data, follow_redirects=False).status_code == 303
    with session_factory() as session:
        user = session.scalars(select(User).where(User.username == "kari.nordmann")).one()
        assert user.username_key == "kari.nordmann"
        entry = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.renamed")).one()
        assert entry.target == user.id


# ---------------------------------------------------------------------------------------------
# Migration 0009 on an archive that already holds two spellings of one name
# ---------------------------------------------------------------------------------------------


def _archive_at_0008_with(engine: Engine, usernames: list[tuple[str, str]]) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        conn.execute(
            text(
                "INSERT INTO solutions (id, name, country, timezone, nightly_at, replacement, preview_warn_share,"
                " audit_retention_days, is_default, mention_scanner_version, created_at) VALUES ('s1', 'Old', 'NO',"
                " 'Europe/Oslo', '02:00', 'Anonymized', 0.01, 365, true, 1, '2026-01-01 00:00:00+00:00')"
            )
        )
        for user_id, username in usernames:
            conn.execute(
                text(
                    "INSERT INTO users (id, solution_id, username, password_hash, role, disabled, created_at)"
                    " VALUES (:id, 's1', :name, NULL, 'admin', false, '2026-01-01 00:00:00+00:00')"
                ),
                {"id": user_id, "name": username},
            )
        conn.execute(
            text(
                "INSERT INTO interactions (id, solution_id, channel, direction, started_at, queue, agent,"
                " has_recording, has_content, created_at) VALUES ('i1', 's1', 'call', 'inbound',"
                " '2026-01-01 00:00:00+00:00', ' Support ', 'Kari', false, false, '2026-01-01 00:00:00+00:00')"
            )
        )


@pytest.fixture
def bare_engine(tmp_path):  # type: ignore[no-untyped-def]
    """An empty database of its own (not the migrated template), on the backend under test."""
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from archivist.db import make_engine

    if POSTGRES_URL:
        server = make_url(POSTGRES_URL)
        name = f"archivist_mig_{uuid.uuid4().hex[:12]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(server.set(database=name).render_as_string(hide_password=False))
        yield engine
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()


@pytest.mark.db
def test_upgrade_refuses_an_archive_with_two_spellings_naming_their_ids(bare_engine: Engine) -> None:
    _archive_at_0008_with(bare_engine, [("u-lower", "admin"), ("u-upper", "ADMIN"), ("u-other", "kari")])
    with pytest.raises(MigrationRefusedError) as refused:
        upgrade(bare_engine)
    message = str(refused.value)
    assert "u-lower, u-upper" in message
    assert "archivist user rename OLD NEW" in message
    assert "u-other" not in message
    # Nothing changed: the archive is still at 0008, its users as they were.
    with bare_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0008"
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 3


@pytest.mark.db
def test_rename_repairs_a_refused_archive_and_the_upgrade_then_folds_every_key(bare_engine: Engine) -> None:
    from archivist.db import make_session_factory

    _archive_at_0008_with(bare_engine, [("u-lower", "admin"), ("u-upper", "ADMIN")])
    with pytest.raises(MigrationRefusedError):
        upgrade(bare_engine)
    factory = make_session_factory(bare_engine)
    with factory() as session, session.begin():
        renamed = accounts.rename_user(session, "ADMIN", "admin2")
    assert (renamed.user_id, renamed.old) == ("u-upper", "ADMIN")
    upgrade(bare_engine)
    with bare_engine.connect() as conn:
        keys = {row[0]: row[1] for row in conn.execute(text("SELECT id, username_key FROM users"))}
        assert keys == {"u-lower": "admin", "u-upper": "admin2"}
        folded = conn.execute(text("SELECT queue_key, agent_key FROM interactions")).one()
        assert tuple(folded) == ("support", "kari")
