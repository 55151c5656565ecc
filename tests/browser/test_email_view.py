"""An email that arrived as MIME, read in headless Chromium (CONTRACT §15): its HTML renders in
the sandboxed frame, no script runs and nothing loads from afar."""

from __future__ import annotations

from typing import Any

import pytest

from archivist.accounts.models import Role
from archivist.archive.mime import parse_message
from archivist.importers.mail import archive_emails
from tests.browser.conftest import LiveServer
from tests.conftest import KEYRING
from tests.functional.test_email_mime import xss_mail

pytestmark = pytest.mark.browser


def test_the_email_html_renders_in_its_frame_and_runs_no_script_and_loads_nothing_remote(
    live: LiveServer, page: Any
) -> None:
    parsed = parse_message(xss_mail(), received_at=live.clock())
    (archived,) = archive_emails(
        live.session_factory, live.blobs, live.solution.id, [parsed], keyring=KEYRING, now=live.clock()
    )
    dialogs: list[str] = []
    requested: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.on("request", lambda request: requested.append(request.url))
    live.login(page, Role.SUPERVISOR)

    page.goto(f"{live.url}/archive/interactions/{archived.id}")

    frame_element = page.locator("iframe.email-html")
    frame_element.wait_for()
    assert frame_element.get_attribute("sandbox") == ""
    frame = page.frame_locator("iframe.email-html")
    assert frame.locator("b", has_text="there").inner_text() == "there"
    assert page.get_by_role("link", name="x.html").get_attribute("href") == (
        f"/archive/interactions/{archived.id}/attachments/0"
    )
    page.wait_for_timeout(300)  # give any script, handler or image the time it would take
    assert dialogs == []
    assert [url for url in requested if "evil.example" in url] == []
