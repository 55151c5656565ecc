"""In Chromium: log in with a password, see only the pages of the role, log out."""

from __future__ import annotations

from typing import Any

import pytest

from archivist.accounts.models import Role
from tests.browser.conftest import LiveServer
from tests.conftest import TEST_PASSWORD

NAV = (
    "Archive - Search",
    "Archive - Anonymize",
    "Archive - Access",
    "Raw data",
    "Audit log",
    "Legal holds",
    "Nightly runs",
    "Settings",
    "Users",
)

# Role -> the navigation it sees (CONTRACT §4, §8, §10 and §12).
SEES = {
    Role.SUPERVISOR: ("Archive - Search", "Raw data"),
    Role.PRIVACY_OFFICER: (
        "Archive - Search",
        "Archive - Anonymize",
        "Archive - Access",
        "Raw data",
        "Audit log",
        "Legal holds",
        "Nightly runs",
    ),
    Role.ADMIN: NAV,
}


def _nav(page: Any) -> list[str]:
    return [text.strip() for text in page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()]


@pytest.mark.parametrize("role", list(SEES))
def test_role_sees_only_its_pages_then_logs_out(live: LiveServer, page: Any, role: Role) -> None:
    live.login(page, role)
    assert _nav(page) == list(SEES[role])
    for label in SEES[role]:
        page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).first.inner_text() == label
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live.url}/login")
    page.goto(f"{live.url}/archive/search")
    page.wait_for_url(f"{live.url}/login?next=/archive/search")
    assert page.get_by_label("Password").is_visible()


def test_wrong_password_shows_an_error_and_no_navigation(live: LiveServer, page: Any) -> None:
    username = live.user(Role.ADMIN)
    page.goto(f"{live.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD + "x")
    page.get_by_role("button", name="Log in").click()
    assert "do not match" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("navigation", name="Main").count() == 0
