"""*Archive - Anonymize* in headless Chromium: preview, Add, the night, Done and masked; cancel; errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from archivist.accounts.models import Role
from archivist.nightly.run import run_nightly
from archivist.nightly.summary import RunTrigger
from tests.browser.conftest import LiveServer
from tests.conftest import KEYRING
from tests.functional.anonymization_support import call, chat, oslo

pytestmark = pytest.mark.browser

PAGE = "/archive/anonymize"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


# The page has two forms with these labels (Add, and the look-up "Did we forget this person?"):
# the helpers below fill the Add form's.
def open_page(live: LiveServer, page: Any) -> None:
    live.clock.now = oslo(2026, 3, 10, 12, 0)
    live.login(page, Role.PRIVACY_OFFICER, next_path=PAGE)


def preview(page: Any, *, phone: str = "", email: str = "", raw_data: bool = False) -> Any:
    page.locator("#anonymize-form").get_by_label("Phone number").fill(phone)
    page.locator("#anonymize-form").get_by_label("Email address").fill(email)
    if raw_data:
        page.get_by_label("Raw data").check()
    page.get_by_role("button", name="Preview").click()
    box = page.locator("#preview")
    box.wait_for()
    return box


def test_row_entered_in_the_page_is_previewed_added_and_turns_done_and_masked_after_the_night(
    live: LiveServer, page: Any
) -> None:
    live.seed(
        [
            call("+4791234567", oslo(2026, 3, 9, 9), events=2),
            call("91234567", oslo(2026, 3, 9, 10)),
            chat("kari@example.com", oslo(2026, 3, 9, 11)),
            call("98765432", oslo(2026, 3, 9, 12)),
            # Someone else gives the person's number in a chat: a mention, not their interaction.
            {
                **chat("ola@example.com", oslo(2026, 3, 9, 13)),
                "messages": [{"at": oslo(2026, 3, 9, 13).isoformat(), "from": "customer", "text": "Ring 912 34 567"}],
            },
        ]
    )
    open_page(live, page)

    box = preview(page, phone="912 34 567", raw_data=True)
    assert "2 calls, 0 chats, 0 emails" in box.inner_text()
    assert "2 raw data rows" in box.inner_text()
    assert "1 mention in chat logs" in box.inner_text()
    page.get_by_role("button", name="Add").click()
    row = page.locator("#requests-table tbody tr").first
    row.wait_for()
    assert "Waiting" in row.inner_text()
    assert "91234567" in row.inner_text()
    assert "Added." in page.locator("#flash").inner_text()

    (summary,) = run_nightly(
        live.session_factory,
        live.blobs,
        oslo(2026, 3, 11, 2, 0),
        keyring=KEYRING,
        solution_id=live.solution.id,
        trigger=RunTrigger.CLI,
    )
    assert summary.requests_processed == 1
    page.reload()

    row = page.locator("#requests-table tbody tr").first
    text = row.inner_text()
    assert "Done" in text
    assert "91****67" in text
    assert "91234567" not in text
    assert "Anonymized: 2" in text
    assert "Raw data rows: 2" in text
    assert "Mentions replaced: 1" in text
    assert row.get_by_role("button", name="Cancel").count() == 0


def test_waiting_row_can_be_cancelled_after_confirming(live: LiveServer, page: Any) -> None:
    open_page(live, page)
    preview(page, email="kari@example.com")
    page.get_by_role("button", name="Add").click()
    page.locator("#requests-table tbody tr").first.wait_for()

    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Yes, cancel the row").click()

    page.locator("#requests .empty").wait_for()
    assert "cancelled" in page.locator("#flash").inner_text()


def test_a_mistyped_number_is_refused_with_the_form_to_use(live: LiveServer, page: Any) -> None:
    open_page(live, page)

    page.locator("#anonymize-form").get_by_label("Phone number").fill("4687654321")
    page.get_by_role("button", name="Preview").click()

    error = page.locator("#ae-phone")
    error.wait_for()
    assert "00 and the country code" in error.inner_text()
    assert page.locator("#anonymize-form").get_by_label("Phone number").get_attribute("aria-invalid") == "true"
    assert page.locator("#add-button").count() == 0


def test_a_number_matching_much_of_the_archive_is_warned_about_before_add(live: LiveServer, page: Any) -> None:
    # A switchboard number: half of the archive.
    live.seed(
        [call("22000000", oslo(2026, 3, 9, 9, n)) for n in range(5)]
        + [call(f"9123456{n}", oslo(2026, 3, 9, 10)) for n in range(5)]
    )
    open_page(live, page)

    box = preview(page, phone="22000000")

    assert "5 calls" in box.inner_text()
    assert "5 of the 10 interactions" in page.locator("#preview-warning").inner_text()


def test_the_seed_warnings_are_on_the_page(live: LiveServer, page: Any) -> None:
    open_page(live, page)

    text = page.locator("main").inner_text()
    assert "after the day you add the row are not anonymized" in text
    assert "cannot be found again" in text
    assert "Delete recordings and content" in text


def test_archive_anonymize_screenshot(live: LiveServer, page: Any, tmp_path: Path) -> None:
    """The README's screenshot: a Done row, a Waiting one, and a preview (see test_screenshots.py)."""
    live.seed([call("+4791234567", oslo(2026, 3, 9, 9), events=2), chat("kari@example.com", oslo(2026, 3, 9, 11))])
    open_page(live, page)
    preview(page, phone="91234567", email="kari@example.com", raw_data=True)
    page.get_by_role("button", name="Add").click()
    page.locator("#requests-table tbody tr").first.wait_for()
    run_nightly(
        live.session_factory, live.blobs, oslo(2026, 3, 11, 2, 0), keyring=KEYRING, solution_id=live.solution.id
    )
    page.reload()
    preview(page, phone="0046 70 123 45 67", raw_data=True)
    page.get_by_role("button", name="Add").click()
    page.locator("#requests-table tbody tr").nth(1).wait_for()
    preview(page, email="ola.nordmann@example.com")

    target = SCREENSHOTS if os.environ.get("ARCHIVIST_UPDATE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    path = target / "archive-anonymize.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_editing_after_the_preview_removes_it_so_add_matches_what_was_shown(live: LiveServer, page: Any) -> None:
    open_page(live, page)
    preview(page, phone="91234567")

    page.locator("#anonymize-form").get_by_label("Phone number").fill("98765432")

    assert page.locator("#preview").count() == 0
    assert page.get_by_role("button", name="Add").count() == 0


def test_a_supervisor_may_not_use_the_page(live: LiveServer, page: Any) -> None:
    live.login(page, Role.SUPERVISOR)

    response = page.goto(f"{live.url}{PAGE}")

    assert response is not None
    assert response.status == 403
    assert page.get_by_role("link", name="Archive - Anonymize").count() == 0
