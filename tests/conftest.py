"""Shared fixtures: a real database per test (SQLite file or PostgreSQL), blobs, clock, app.

Which database: SQLite files by default; with ``ARCHIVIST_TEST_POSTGRES_URL`` set (a URL
to any database on the server, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``)
every test that uses the database runs on a fresh PostgreSQL database made for this run.
The schema always comes from the Alembic migrations.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Role, Solution
from archivist.archive.mentions import MentionKeyring
from archivist.blobs.memory import MemoryBlobStore
from archivist.config import Settings
from archivist.db import make_engine, make_session_factory
from archivist.models import Base
from archivist.schema import upgrade

# CI shares two cores between test workers, PostgreSQL and Chromium: data generation can be
# slow for reasons that say nothing about the code, so the health check on generation speed
# and the per-example deadline would only add flakiness. The properties are still checked.
hypothesis.settings.register_profile(
    "archivist",
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
hypothesis.settings.load_profile("archivist")

POSTGRES_URL = os.environ.get("ARCHIVIST_TEST_POSTGRES_URL")
BACKEND = "postgresql" if POSTGRES_URL else "sqlite"
# The secret of the test settings; helpers that ingest without an app derive the same mention keys.
TEST_SECRET_KEY = "test-secret-key"
KEYRING = MentionKeyring(TEST_SECRET_KEY)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that touches the database is a "db" test: CI runs those again on PostgreSQL.
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


def pytest_report_header() -> str:
    return f"archivist test database: {BACKEND}"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    # argon2's production cost (64 MiB, 3 passes) would dominate a suite that makes
    # hundreds of users; the algorithm and code path stay the same.
    from argon2 import PasswordHasher

    from archivist.accounts import passwords

    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = original


def backup_database(name: str) -> str:
    """The name of the copy a restore drill makes of the test database ``name`` (PostgreSQL)."""
    return f"{name}_backup"


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database made once per run (per xdist worker)."""
    if POSTGRES_URL:
        server = make_url(POSTGRES_URL)
        name = f"archivist_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            # A restore drill's copy, left only by a test that failed between its backup and restore.
            conn.execute(text(f'DROP DATABASE IF EXISTS "{backup_database(name)}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        yield str(path)


@pytest.fixture
def database_url(_template: str, tmp_path: Path) -> str:
    if POSTGRES_URL:
        return _template
    path = tmp_path / "archivist.db"
    shutil.copyfile(_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    if POSTGRES_URL:
        # Each test starts from empty tables: the runs share one migrated database.
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@dataclass
class Clock:
    """A clock tests can set and move; handed to the app and services as ``now``."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))


@pytest.fixture
def blobs() -> MemoryBlobStore:
    return MemoryBlobStore()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        blob_url="memory://",
        secret_key=TEST_SECRET_KEY,
    )


@pytest.fixture
def keyring() -> MentionKeyring:
    """The mention keys the ``settings`` fixture gives the app."""
    return KEYRING


@pytest.fixture
def solution(session_factory: sessionmaker[Session]) -> Solution:
    with session_factory() as session, session.begin():
        return accounts.create_solution(
            session, name="Test centre", country="NO", timezone="Europe/Oslo", is_default=True
        )


@pytest.fixture
def other_solution(session_factory: sessionmaker[Session]) -> Solution:
    with session_factory() as session, session.begin():
        return accounts.create_solution(session, name="Other centre", country="SE", timezone="Europe/Stockholm")


TEST_PASSWORD = "correct horse battery"
# The username behind each token TokenMaker made, so page tests can log in as the same user
# through the password form with nothing but the token in hand.
USERNAME_OF_TOKEN: dict[str, str] = {}


class TokenMaker:
    """Makes a user of a role in a solution and returns its bearer token.

    The user's password is ``TEST_PASSWORD`` and ``USERNAME_OF_TOKEN`` maps the token to its
    username, for tests that log in through the page login form.
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.count = 0

    def __call__(self, role: Role, solution: Solution) -> str:
        self.count += 1
        username = f"{role.value}-{self.count}-{solution.id[-6:]}"
        with self.factory() as session, session.begin():
            user = accounts.create_user(
                session, solution_id=solution.id, username=username, role=role, password=TEST_PASSWORD
            )
            token = accounts.create_token(session, user, "test")
        USERNAME_OF_TOKEN[token] = username
        return token


@pytest.fixture
def make_token(session_factory: sessionmaker[Session]) -> TokenMaker:
    return TokenMaker(session_factory)


@pytest.fixture
def app(settings: Settings, engine: Engine, blobs: MemoryBlobStore, clock: Clock):  # type: ignore[no-untyped-def]
    from archivist.web.app import create_app

    return create_app(settings, engine=engine, blobs=blobs, clock=clock)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
