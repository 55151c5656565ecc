"""*Archive - Access* and the bulk upload of *Archive - Anonymize* in headless Chromium."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from archivist.accounts.models import Role
from archivist.demo.audio import make_wav
from tests.browser.conftest import LiveServer
from tests.functional.anonymization_support import call, chat, oslo

pytestmark = pytest.mark.browser

ACCESS = "/archive/access"
ANONYMIZE = "/archive/anonymize"
CANARY = "CANARY-SOMEONE-ELSE"


def test_officer_previews_exports_and_downloads_a_persons_zip_with_a_verified_manifest(
    live: LiveServer, page: Any, tmp_path: Path
) -> None:
    wav = make_wav(0.3, seed=3)
    ids = live.seed(
        [
            call("91234567", oslo(2026, 3, 1, 9), events=1),
            chat("kari@example.com", oslo(2026, 3, 2, 9)),
            {
                **chat("ola@example.com", oslo(2026, 3, 3, 9)),
                "messages": [{"at": oslo(2026, 3, 3, 9).isoformat(), "from": "customer", "text": f"{CANARY} 91234567"}],
            },
        ],
        audio={0: wav},
    )
    live.clock.now = oslo(2026, 3, 10, 12)
    live.login(page, Role.PRIVACY_OFFICER, next_path=ACCESS)
    assert page.get_by_role("link", name="Archive - Access").get_attribute("aria-current") == "page"

    page.get_by_label("Phone number").fill("912 34 567")
    page.get_by_label("Email address").fill("Kari@Example.com")
    page.get_by_role("button", name="Preview").click()
    counts = page.locator("#access-preview-counts")
    counts.wait_for()
    assert "1 call, 1 chat, 0 emails" in counts.inner_text()
    assert "1 recording" in counts.inner_text()
    assert "1 mention in other people's conversations" in counts.inner_text()

    page.get_by_role("button", name="Export").click()
    link = page.locator("#exports-table").get_by_role("link", name="Download ZIP")
    link.wait_for()
    row = page.locator("#exports-table tbody tr").first
    assert "91****67" in row.inner_text()
    assert "k***@***.com" in row.inner_text()
    assert "912 34 567" not in page.content()  # the form was reset, the list is masked

    with page.expect_download() as info:
        link.click()
    page.locator("#download-status").filter(has_text="Download started").wait_for()
    target = tmp_path / "export.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as archive_:
        manifest = json.loads(archive_.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(archive_.read(entry["name"])).hexdigest() == entry["sha256"]
        assert archive_.read(f"recordings/{ids[0]}.wav") == wav
        document = json.loads(archive_.read("interactions.json"))
        assert [i["id"] for i in document["interactions"]] == ids[:2]
        assert [m["interaction_id"] for m in document["mentioned_in"]] == [ids[2]]
        assert CANARY.encode() not in b"".join(archive_.read(n) for n in archive_.namelist())
    page.reload()
    assert page.locator("#exports-table tbody tr").first.locator("td").nth(6).inner_text() == "1"


def test_a_bad_phone_number_is_shown_next_to_the_field_and_nothing_is_exported(live: LiveServer, page: Any) -> None:
    live.login(page, Role.PRIVACY_OFFICER, next_path=ACCESS)
    page.get_by_label("Phone number").fill("12ab")
    page.get_by_role("button", name="Preview").click()
    page.locator("#xe-phone").wait_for()
    assert page.get_by_label("Phone number").get_attribute("aria-invalid") == "true"
    assert page.locator("#access-preview").count() == 0
    assert page.locator("#no-exports").is_visible()


def test_supervisors_have_no_access_page(live: LiveServer, page: Any) -> None:
    live.login(page, Role.SUPERVISOR, next_path="/archive/search")
    assert page.get_by_role("link", name="Archive - Access").count() == 0
    response = page.goto(f"{live.url}{ACCESS}")
    assert response is not None
    assert response.status == 403


def _upload(page: Any, body: str) -> None:
    page.get_by_label("CSV file", exact=True).set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": body.encode()}]
    )
    page.get_by_role("button", name="Check file").click()


def test_bulk_upload_shows_every_bad_line_and_adds_nothing(live: LiveServer, page: Any) -> None:
    live.login(page, Role.PRIVACY_OFFICER, next_path=ANONYMIZE)
    _upload(page, "phone,email,raw_data,delete_content\n91234567,,,\nabc,,,\n,kari@,,\n")
    errors = page.locator("#bulk-errors")
    errors.wait_for()
    text = errors.inner_text()
    assert "2 lines of the file are wrong" in text
    assert "Line 3: phone:" in text
    assert "Line 4: email:" in text
    assert page.locator("#bulk-add-button").count() == 0
    assert page.locator("#requests-table").count() == 0


def test_bulk_upload_previews_each_row_and_add_all_makes_them_waiting(live: LiveServer, page: Any) -> None:
    live.seed([call("91234567", oslo(2026, 3, 1, 9), events=2), call("91234567", oslo(2026, 3, 2, 9))])
    live.clock.now = oslo(2026, 3, 10, 12)
    live.login(page, Role.PRIVACY_OFFICER, next_path=ANONYMIZE)
    _upload(
        page,
        "phone,email,raw_data,delete_content\n912 34 567,,true,\n,ola@example.com,,\n+4791234567,,,true\n",
    )
    table = page.locator("#bulk-table")
    table.wait_for()
    assert "2 people: 2 new, 0 already Waiting" in page.locator("#bulk-summary").inner_text()
    assert "1 line repeating a person above" in page.locator("#bulk-summary").inner_text()
    first = table.locator("tbody tr").first
    cells = [c.inner_text() for c in first.locator("td").all()]
    assert cells[0].startswith("2 (also 4)")
    assert cells[5] == "2"  # calls
    assert cells[8] == "2"  # raw data rows: the file asked for them
    page.get_by_role("button", name="Add all").click()
    # Asked first (issue 24): what Add all does, and that the night cannot be undone.
    dialog = page.locator("#confirm-dialog")
    assert "Add 2 new rows?" in dialog.inner_text()
    assert "cannot be undone" in dialog.inner_text()
    page.get_by_role("button", name="Yes, add all").click()
    page.wait_for_url(f"{live.url}{ANONYMIZE}?added=2&widened=0")
    assert "2 rows added" in page.locator("#anonymize-notice").inner_text()
    rows = page.locator("#requests-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    assert all(status == "waiting" for status in [r.get_attribute("data-status") for r in rows.all()])
