"""The README's screenshot of *Archive - Search*, taken from demo data.

Always rendered (so the page is checked with realistic data); written into
``docs/screenshots/`` only with ``ARCHIVIST_UPDATE_SCREENSHOTS=1``:

    ARCHIVIST_UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from archivist.accounts.models import Role
from archivist.archive.models import Interaction
from archivist.demo.load import load_demo
from archivist.identifiers import render_phone
from tests.browser.conftest import LiveServer
from tests.conftest import KEYRING

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _frequent_caller(live: LiveServer) -> str:
    """The national form of the number that called most often: the demo's 'find this person'."""
    with live.session_factory() as session:
        e164 = session.scalar(
            select(Interaction.customer_phone_e164)
            .where(Interaction.customer_phone_e164.is_not(None), Interaction.has_recording.is_(True))
            .group_by(Interaction.customer_phone_e164)
            .order_by(func.count().desc(), Interaction.customer_phone_e164)
            .limit(1)
        )
    assert e164 is not None
    return render_phone(e164, live.solution.country)


def test_archive_search_screenshot(live: LiveServer, page: Any, tmp_path: Path) -> None:
    load_demo(live.session_factory, live.blobs, live.solution, 400, seed=7, now=live.clock(), keyring=KEYRING)
    live.login(page, Role.PRIVACY_OFFICER)
    page.get_by_label("Phone number").fill(_frequent_caller(live))
    page.get_by_role("button", name="Search").click()
    page.locator("table.results tbody tr").first.wait_for()
    page.locator("table.results tr:has(.badge.rec) a.open").first.click()
    page.locator("#details audio").wait_for()
    page.locator("#details audio").evaluate(
        "(el) => el.readyState >= 1 || new Promise((r) => el.addEventListener('loadedmetadata', r, { once: true }))"
    )

    target = SCREENSHOTS if os.environ.get("ARCHIVIST_UPDATE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    path = target / "archive-search.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
