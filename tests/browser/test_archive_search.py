"""*Archive - Search* in headless Chromium: find, play, read, and Anonymize and delete."""

from __future__ import annotations

import re
from typing import Any

import pytest

from archivist.accounts.models import Role
from archivist.demo.audio import make_wav
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def call(minute: int, phone: str = "+4791234567", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "call",
        "direction": "inbound",
        "started_at": f"2026-03-02T10:{minute:02d}:00+01:00",
        "ended_at": f"2026-03-02T10:{minute:02d}:40+01:00",
        "queue": "Support",
        "agent": "Ola Hansen",
        "customer": {"phone": phone, "name": "Kari Nordmann"},
        "variables": {"policy": "P-1234"},
    }
    body.update(overrides)
    return body


def chat(minute: int) -> dict[str, Any]:
    return call(
        minute,
        channel="chat",
        customer={"email": "kari.nordmann@example.com", "name": "Kari Nordmann"},
        messages=[
            {"at": f"2026-03-02T10:{minute:02d}:05+01:00", "from": "customer", "text": "Hei! Hvor er erstatningen?"},
            {"at": f"2026-03-02T10:{minute:02d}:40+01:00", "from": "agent", "text": "Den er utbetalt i dag."},
        ],
    )


def search_phone(page: Any, typed: str) -> None:
    page.get_by_label("Phone number").fill(typed)
    page.get_by_role("button", name="Search").click()


def test_search_by_number_typed_in_another_format(live: LiveServer, page: Any) -> None:
    live.seed([call(1), call(2, phone="+4798765432")])
    live.login(page, Role.SUPERVISOR)

    search_phone(page, "912 34 567")

    rows = page.locator("table.results tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1
    assert "91234567" in rows.first.inner_text()
    # The number never went into the URL.
    assert "912" not in page.url


def test_play_a_recording(live: LiveServer, page: Any) -> None:
    live.seed([call(1)], audio={0: make_wav(2.0, seed=5)})
    live.login(page, Role.SUPERVISOR)
    page.get_by_role("button", name="Search").click()

    page.locator("table.results a.open").first.click()
    audio = page.locator("#details audio")
    audio.wait_for()
    duration = audio.evaluate(
        """(el) => new Promise((resolve, reject) => {
            if (el.readyState >= 1) return resolve(el.duration);
            el.addEventListener("loadedmetadata", () => resolve(el.duration), { once: true });
            el.addEventListener("error", () => reject(new Error("audio error " + (el.error && el.error.code))));
            el.load();
        })"""
    )
    assert duration == pytest.approx(2.0, abs=0.05)
    # Seeking works because the server answers Range requests.
    position = audio.evaluate(
        """(el) => new Promise((resolve) => {
            el.addEventListener("seeked", () => resolve(el.currentTime), { once: true });
            el.currentTime = 1.5;
        })"""
    )
    assert position == pytest.approx(1.5, abs=0.1)


def test_open_a_chat_log(live: LiveServer, page: Any) -> None:
    live.seed([call(1), chat(2)])
    live.login(page, Role.SUPERVISOR)
    page.get_by_label("Channel").select_option("chat")
    page.get_by_role("button", name="Search").click()

    page.locator("table.results a.open").first.click()

    conversation = page.locator("#details .conversation")
    conversation.wait_for()
    assert "Hvor er erstatningen?" in conversation.inner_text()
    assert page.locator("#details .conversation li.from-agent").count() == 1


def test_anonymize_and_delete_shows_anonymized(live: LiveServer, page: Any) -> None:
    ids = live.seed([call(1), call(2), chat(3)], audio={0: make_wav(1.0, seed=1)})
    live.login(page, Role.PRIVACY_OFFICER)
    page.get_by_role("button", name="Search").click()
    page.locator("table.results tbody tr").first.wait_for()

    page.locator(f"#sel-{ids[0]}").check()
    page.locator(f"#sel-{ids[2]}").check()
    page.get_by_role("button", name="Anonymize and delete").click()

    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    text = dialog.inner_text()
    assert "2 requests are selected" in text
    assert "cannot be undone" in text
    page.get_by_role("button", name="Yes, anonymize and delete").click()

    page.locator(f"#row-{ids[0]} .badge.anon").wait_for()
    assert page.locator(f"#row-{ids[0]}").inner_text().count("Anonymized") == 1
    assert page.locator(f"#row-{ids[2]} .badge.anon").is_visible()
    assert page.locator(f"#row-{ids[1]} .badge.anon").count() == 0
    assert re.search("Anonymized 2 request", page.locator("#flash").inner_text())
    assert live.blobs.list_keys("recordings/") == []


def test_cancelling_the_confirmation_changes_nothing(live: LiveServer, page: Any) -> None:
    ids = live.seed([call(1)], audio={0: make_wav(1.0, seed=1)})
    live.login(page, Role.PRIVACY_OFFICER)
    page.get_by_role("button", name="Search").click()
    page.locator("table.results a.open").first.click()
    page.get_by_role("button", name="Delete recording").click()
    page.keyboard.press("Escape")  # the dialog's Cancel, as a keyboard user would
    assert not page.locator("#confirm-dialog").is_visible()
    assert len(live.blobs.list_keys("recordings/")) == 1
    assert page.locator(f"#row-{ids[0]} .badge.rec").is_visible()


def test_search_page_works_on_a_narrow_screen(live: LiveServer, page: Any) -> None:
    live.seed([call(1)])
    page.set_viewport_size({"width": 390, "height": 844})
    live.login(page, Role.SUPERVISOR)
    search_phone(page, "91234567")
    page.locator("table.results tbody tr").first.wait_for()
    # Nothing forces the page wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
