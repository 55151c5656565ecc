"""Browser fixtures: the real app under uvicorn on a free port, and headless Debian Chromium.

``live`` serves ``create_app`` on 127.0.0.1 from a background thread, backed by this test's
SQLite file (or PostgreSQL) database and an in-memory blob store, and can seed data and log
a browser page in. ``page`` is a fresh 1280×800 browser context per test. Chromium is the
system's (``/usr/bin/chromium``, installed by apt in CI); a downloaded browser is never used.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Role, Solution, User
from archivist.archive import recordings
from archivist.archive.ingest import ingest
from archivist.archive.models import Interaction
from archivist.archive.schemas import InteractionIn
from archivist.blobs.memory import MemoryBlobStore
from archivist.config import Settings
from tests.conftest import KEYRING, TEST_PASSWORD, Clock

CHROMIUM = os.environ.get("ARCHIVIST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
# Long enough for a cold Chromium on a busy CI machine, short enough to fail fast.
TIMEOUT_MS = 10_000


# Without Chromium the browser tests fail, saying why: skipped silently, a CI machine that
# lost its browser would pass without ever loading a page. A developer without one opts out.
ALLOW_NO_BROWSER = os.environ.get("ARCHIVIST_ALLOW_NO_BROWSER") == "1"
NO_BROWSER = (
    f"no Chromium at {CHROMIUM}: install Debian's package (apt install chromium), point "
    "ARCHIVIST_CHROMIUM at one, or set ARCHIVIST_ALLOW_NO_BROWSER=1 to skip the browser tests"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if not Path(CHROMIUM).exists() and ALLOW_NO_BROWSER:
                item.add_marker(pytest.mark.skip(reason=NO_BROWSER))


@pytest.fixture(autouse=True)
def _chromium_is_there() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(NO_BROWSER, pytrace=False)


@dataclass
class LiveServer:
    """The running app, its services, and helpers to seed data and log a page in."""

    url: str
    app: FastAPI
    session_factory: sessionmaker[Session]
    blobs: MemoryBlobStore
    clock: Clock
    solution: Solution
    _users: int = field(default=0)

    def user(self, role: Role, solution: Solution | None = None) -> str:
        """Make a user of ``role`` (password ``TEST_PASSWORD``) and return its username."""
        self._users += 1
        username = f"browser-{role.value}-{self._users}"
        with self.session_factory() as session, session.begin():
            accounts.create_user(
                session,
                solution_id=(solution or self.solution).id,
                username=username,
                role=role,
                password=TEST_PASSWORD,
            )
        return username

    def token(self, role: Role, solution: Solution | None = None) -> str:
        username = self.user(role, solution)
        with self.session_factory() as session, session.begin():
            user = session.scalars(select(User).where(User.username == username)).one()
            return accounts.create_token(session, user, "browser test")

    def login(self, page: Any, role: Role = Role.PRIVACY_OFFICER, next_path: str = "/archive/search") -> str:
        """Log ``page`` in through the login form as a new user of ``role``; returns the username."""
        username = self.user(role)
        page.goto(f"{self.url}/login?next={next_path}")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{self.url}{next_path}")
        return username

    def seed(self, bodies: Sequence[dict[str, Any]], audio: dict[int, bytes] | None = None) -> list[str]:
        """Archive ``bodies`` (API shape) through the ingest service; ``audio`` maps index → WAV."""
        now = self.clock()
        with self.session_factory() as session, session.begin():
            results = ingest(
                session, self.solution, [InteractionIn.model_validate(b) for b in bodies], now, keyring=KEYRING
            )
        ids = [r.id for r in results]
        for index, wav in (audio or {}).items():
            key = recordings.new_blob_key(self.solution.id, ids[index], "audio/wav")
            self.blobs.put(key, wav, "audio/wav")
            with self.session_factory() as session, session.begin():
                interaction = session.get(Interaction, ids[index])
                assert interaction is not None
                recordings.attach_recording(session, interaction, key, "audio/wav", len(wav), now)
        return ids


def _free_socket() -> socket.socket:
    # Handing uvicorn the bound socket avoids the race of "find a free port, then bind it".
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live(
    settings: Settings,
    engine: Engine,
    session_factory: sessionmaker[Session],
    blobs: MemoryBlobStore,
    clock: Clock,
    solution: Solution,
) -> Iterator[LiveServer]:
    from archivist.web.app import create_app

    app = create_app(settings, engine=engine, blobs=blobs, clock=clock)
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app, session_factory, blobs, clock, solution)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()
