"""In Chromium, at 1280 and 390 px: the officer's desk on *Archive - Anonymize* (CONTRACT §19).

"Did we forget this person?" tells apart people whose done rows look alike, and leads to the
printable certificate; the preview shows linked identifiers in full to the officer; the
tables are a card per row on a phone, with nothing scrolling sideways.
"""

from __future__ import annotations

from typing import Any

import pytest

from archivist.accounts.models import Role
from archivist.anonymize.nightly import RunTrigger, run_nightly
from archivist.anonymize.requests import create_request
from tests.browser.conftest import LiveServer
from tests.conftest import KEYRING
from tests.functional.anonymization_support import call, email, oslo

PAGE = "/archive/anonymize"
PEOPLE = ("anna@example.com", "arne@example.com", "aud@example.com")


def _erase_three_alike(live: LiveServer) -> None:
    """Anna, Arne and Aud erased by a night: their done rows all read a***@***.com."""
    live.seed([email(address, oslo(2026, 3, 9, 9 + n)) for n, address in enumerate(PEOPLE)])
    with live.session_factory() as session, session.begin():
        for address in PEOPLE:
            create_request(
                session,
                live.solution,
                phone=None,
                email=address,
                raw_data=False,
                delete_content=False,
                created_by="officer",
                now=oslo(2026, 3, 10, 9),
            )
    run_nightly(
        live.session_factory,
        live.blobs,
        oslo(2026, 3, 11, 2),
        keyring=KEYRING,
        solution_id=live.solution.id,
        trigger=RunTrigger.CLI,
        proof=live.app.state.services.proof,
    )


def _fits(page: Any, width: int, table: str) -> None:
    """Nothing scrolls sideways: not the page, and no table inside its box."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wrap = page.locator(table).locator("xpath=..")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
    if width == 390:
        cell = page.locator(f"{table} tbody td").first
        assert cell.evaluate("td => getComputedStyle(td).display") == "block"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_officer_looks_a_person_up_and_prints_the_certificate(live: LiveServer, page: Any, width: int) -> None:
    _erase_three_alike(live)
    live.clock.now = oslo(2026, 3, 12, 12)
    page.set_viewport_size({"width": width, "height": 844})
    live.login(page, Role.PRIVACY_OFFICER, next_path=PAGE)
    assert page.locator("#requests-table tbody tr").count() == 3
    assert page.locator("#requests-table").inner_text().count("a***@***.com") == 3
    _fits(page, width, "#requests-table")

    form = page.locator("#lookup-form")
    form.get_by_label("Email address").fill("arne@example.com")
    form.get_by_label("Status").select_option("done")
    form.get_by_role("button", name="Look up").click()
    page.locator("#lookup-table").wait_for()

    rows = page.locator("#lookup-table tbody tr")
    assert rows.count() == 1
    assert "1 row for this person (done)" in page.locator("#lookup-summary").inner_text()
    assert "a***@***.com" in rows.first.inner_text()
    assert "arne@example.com" not in page.locator("#lookup-table").inner_text()
    _fits(page, width, "#lookup-table")

    rows.first.get_by_role("link", name="Certificate").click()
    page.wait_for_url("**/certificate")
    certificate = page.locator("#certificate")
    assert "Certificate of erasure" in certificate.inner_text()
    assert "a***@***.com" in page.locator("#certificate-identifiers").inner_text()
    assert "archivist receipt verify" in page.locator("#certificate-verify").inner_text()
    assert page.locator("#certificate-key-id").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.get_by_role("button", name="Print").is_visible()
    # On paper: the certificate alone, without the navigation or the buttons.
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.get_by_role("button", name="Print").is_visible()
    assert certificate.is_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_preview_shows_linked_identifiers_in_full_to_the_officer(live: LiveServer, page: Any, width: int) -> None:
    live.seed([call("+4791234567", oslo(2026, 3, 9, 9), variables={"callback": "482 11 093"})])
    live.clock.now = oslo(2026, 3, 10, 12)
    page.set_viewport_size({"width": width, "height": 844})
    live.login(page, Role.PRIVACY_OFFICER, next_path=PAGE)

    form = page.locator("#anonymize-form")
    form.get_by_label("Phone number").fill("91234567")
    form.get_by_role("button", name="Preview").click()
    linked = page.locator("#preview-linked")
    linked.wait_for()

    assert "48211093" in linked.inner_text()
    assert "48****93" not in linked.inner_text()
    # The tick carries a keyed token, never the value.
    tick = linked.locator("input[name='linked']").first
    assert "482" not in (tick.get_attribute("value") or "")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
