"""In Chromium, at 1280 and 390 px: the officer's desk on *Archive - Anonymize* (CONTRACT §19).

"Did we forget this person?" tells apart people whose done rows look alike, and leads to the
printable certificate; the preview shows linked identifiers in full to the officer; the
tables are a card per row on a phone, with nothing scrolling sideways.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from archivist.accounts import services as accounts
from archivist.accounts.models import Role, Solution, User
from archivist.anonymize.requests import create_request
from archivist.nightly.run import run_nightly
from archivist.nightly.summary import RunTrigger
from archivist.retention.holds import parse_criteria, place_hold
from archivist.retention.models import RetentionWhat
from archivist.retention.rules import DraftRule, add_rule
from tests.browser.conftest import LiveServer
from tests.conftest import KEYRING
from tests.functional.anonymization_support import call, email, oslo

PAGE = "/archive/anonymize"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
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
    # (A random hex token holds "482" one time in seventy; it never holds the whole number.)
    assert "48211093" not in (tick.get_attribute("value") or "")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _support_chat(day: int) -> dict[str, Any]:
    return {
        "channel": "chat",
        "direction": "inbound",
        "started_at": f"2026-03-{day:02d}T10:00:00+01:00",
        "queue": "Support",
        "customer": {"email": f"person{day}@example.com"},
        "messages": [{"at": f"2026-03-{day:02d}T10:00:05+01:00", "from": "customer", "text": "Hei"}],
    }


@pytest.mark.parametrize("width", [1280, 390])
def test_a_held_interaction_is_refused_as_an_error_naming_the_hold(live: LiveServer, page: Any, width: int) -> None:
    ids = live.seed([_support_chat(1), _support_chat(2)])
    with live.session_factory() as session, session.begin():
        solution = session.get(Solution, live.solution.id)
        assert solution is not None
        criteria = parse_criteria(
            solution, interaction_ids=[], phone=None, email="person1@example.com", queue=None, from_at=None, to_at=None
        )
        place_hold(session, solution, criteria, reason="Tax audit 2026", until=None, created_by="t", now=live.clock())
    page.set_viewport_size({"width": width, "height": 844})
    live.login(page, Role.PRIVACY_OFFICER)
    page.get_by_role("button", name="Search").click()
    page.locator("table.results tbody tr").first.wait_for()

    for interaction_id in ids:
        page.locator(f"#row-{interaction_id} input[name='ids']").check()
    page.get_by_role("button", name="Anonymize and delete").click()
    dialog = page.locator("#confirm-dialog")
    assert "legal hold" in dialog.inner_text()
    page.get_by_role("button", name="Yes, anonymize and delete").click()

    flash = page.locator("#flash")
    flash.get_by_text("Nothing was changed").wait_for()
    assert flash.get_attribute("role") == "alert"
    assert "is-error" in (flash.get_attribute("class") or "")
    assert "“Tax audit 2026”" in flash.inner_text()
    assert not re.search(r"[0-9a-f]{32}", flash.inner_text())
    # Green means done: the error is styled apart from a success.
    assert flash.evaluate("el => getComputedStyle(el).backgroundColor") != "rgb(234, 247, 239)"


@pytest.mark.parametrize("width", [1280, 390])
def test_an_officer_reads_the_retention_rules_on_legal_holds(live: LiveServer, page: Any, width: int) -> None:
    with live.session_factory() as session, session.begin():
        draft = DraftRule(channel=None, queue="Sales", what=RetentionWhat.RECORDING, keep_days=30)
        add_rule(session, live.solution.id, draft, created_by="admin", now=live.clock())
    page.set_viewport_size({"width": width, "height": 844})
    live.login(page, Role.PRIVACY_OFFICER, next_path="/legal-holds")

    rules = page.locator("#retention-rules")
    assert "Sales" in rules.inner_text()
    assert "Read-only here" in rules.inner_text()
    assert rules.get_by_role("button").count() == 0
    _fits(page, width, "#rules-table")


@pytest.mark.parametrize("width", [1280, 390])
def test_reset_password_and_revoke_token_ask_first_and_say_what_they_did(
    live: LiveServer, page: Any, width: int
) -> None:
    target = live.user(Role.SUPERVISOR)
    with live.session_factory() as session, session.begin():
        user = session.scalars(select(User).where(User.username == target)).one()
        accounts.create_token(session, user, "PBX integration")
        user_id = user.id
    page.set_viewport_size({"width": width, "height": 844})
    live.login(page, Role.ADMIN, next_path="/users")
    _fits(page, width, "#users-table")
    page.goto(f"{live.url}/users/{user_id}")
    _fits(page, width, "#tokens-table")

    # Cancel leaves everything as it was.
    page.get_by_role("button", name="Reset password").click()
    dialog = page.locator("#confirm-dialog")
    assert "stops working" in dialog.inner_text()
    dialog.get_by_role("button", name="Cancel").click()
    assert page.locator("#new-password").count() == 0

    page.get_by_role("button", name="Reset password").click()
    page.get_by_role("button", name="Yes, reset the password").click()
    page.locator("#new-password").wait_for()
    assert "The password was reset" in page.locator("p.notice").inner_text()

    page.get_by_role("button", name="Revoke token PBX integration").click()
    assert "cannot be undone" in dialog.inner_text()
    page.get_by_role("button", name="Yes, revoke the token").click()
    page.wait_for_url("**/users/*?notice=revoked")
    assert "The token was revoked" in page.locator("p.notice").inner_text()
    assert "Revoked" in page.locator("#tokens-table").inner_text()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_officers_tables_fit_the_screen_as_cards_on_a_phone(live: LiveServer, page: Any, width: int) -> None:
    ids = live.seed(
        [
            call("+4791234567", oslo(2026, 3, 9, 9), events=3),
            _support_chat(2),
            email("kari@example.org", oslo(2026, 3, 9)),
        ]
    )
    with live.session_factory() as session, session.begin():
        solution = session.get(Solution, live.solution.id)
        assert solution is not None
        criteria = parse_criteria(
            solution, interaction_ids=[ids[0]], phone=None, email=None, queue=None, from_at=None, to_at=None
        )
        place_hold(
            session, solution, criteria, reason="Case 2026-14 (tingrett)", until=None, created_by="t", now=live.clock()
        )
    page.set_viewport_size({"width": width, "height": 844})
    live.login(page, Role.ADMIN, next_path="/legal-holds")
    _fits(page, width, "#holds-table")
    for path, table in (("/raw-data?from=&to=", "#raw-data-table"), ("/audit", "#audit-entries")):
        page.goto(f"{live.url}{path}")
        page.locator(f"{table} tbody tr").first.wait_for()
        _fits(page, width, table)
        if width == 390:
            label = page.locator(f"{table} tbody td").first.evaluate("td => getComputedStyle(td, '::before').content")
            assert label == '"Time: "'


def test_officer_desk_screenshots(live: LiveServer, page: Any, tmp_path: Path) -> None:
    """The README's screenshots of the look-up and the certificate (written with ARCHIVIST_UPDATE_SCREENSHOTS=1)."""
    _erase_three_alike(live)
    live.clock.now = oslo(2026, 3, 12, 12)
    live.login(page, Role.PRIVACY_OFFICER, next_path=PAGE)
    form = page.locator("#lookup-form")
    form.get_by_label("Email address").fill("arne@example.com")
    form.get_by_role("button", name="Look up").click()
    page.locator("#lookup-table").wait_for()

    target = SCREENSHOTS if os.environ.get("ARCHIVIST_UPDATE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    lookup = target / "officer-lookup.png"
    page.locator("#lookup-area").screenshot(path=str(lookup))
    page.locator("#lookup-table").get_by_role("link", name="Certificate").click()
    page.locator("#certificate").wait_for()
    certificate = target / "certificate.png"
    page.screenshot(path=str(certificate), full_page=True)
    assert lookup.stat().st_size > 10_000
    assert certificate.stat().st_size > 10_000


@pytest.mark.parametrize("width", [1280, 390])
def test_the_bulk_preview_and_the_exports_fit_a_phone(live: LiveServer, page: Any, width: int) -> None:
    live.seed([call("+4791234567", oslo(2026, 3, 1, 9), events=1), email("kari@example.com", oslo(2026, 3, 2, 9))])
    live.clock.now = oslo(2026, 3, 10, 12)
    page.set_viewport_size({"width": width, "height": 844})
    live.login(page, Role.PRIVACY_OFFICER, next_path=PAGE)
    page.get_by_label("CSV file", exact=True).set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": b"phone,email\n+47 912 34 567,\n"}]
    )
    page.get_by_role("button", name="Check file").click()
    page.locator("#bulk-table").wait_for()
    # The number as the rows will show it once added, not as typed.
    assert "91234567" in page.locator("#bulk-table").inner_text()
    _fits(page, width, "#bulk-table")

    page.goto(f"{live.url}/archive/access")
    page.get_by_label("Email address").fill("kari@example.com")
    page.get_by_role("button", name="Preview").click()
    page.locator("#access-preview-counts").wait_for()
    page.get_by_role("button", name="Export").click()
    page.locator("#exports-table").get_by_role("link", name="Download ZIP").wait_for()
    _fits(page, width, "#exports-table")
