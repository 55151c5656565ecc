"""In Chromium: *Nightly runs* (CONTRACT §19): Run now asks first, then lists the run; a card per run on a phone."""

from __future__ import annotations

from typing import Any

import pytest

from archivist.accounts.models import Role
from tests.browser.conftest import LiveServer


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_runs_the_night_from_the_page_after_confirming(live: LiveServer, page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    live.login(page, Role.ADMIN, next_path="/nightly-runs")
    page.get_by_role("link", name="Nightly runs").first.wait_for()
    assert page.get_by_text("No nightly run yet.").is_visible()

    page.get_by_role("button", name="Run now").click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible()
    assert "cannot be undone" in dialog.inner_text()
    page.get_by_role("button", name="Yes, run now").click()

    page.wait_for_url("**/nightly-runs?notice=done")
    assert page.locator("#runs-notice").is_visible()
    row = page.locator("#runs-table tbody tr").first
    assert row.get_attribute("data-status") == "done"
    assert "Done" in row.inner_text()
    # No sideways scrolling: on a phone the table is a card per run.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wrap = page.locator("#runs-table").locator("xpath=..")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
    if width == 390:
        cell = row.locator("td").first
        assert cell.evaluate("td => getComputedStyle(td).display") == "block"
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"Started: "'
