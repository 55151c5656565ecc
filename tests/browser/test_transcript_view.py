"""A call's transcript beside its player, in headless Chromium (CONTRACT §17): clicking a segment
plays the recording from where it was said, and the view fits a phone's width."""

from __future__ import annotations

from typing import Any

import pytest

from archivist.accounts.models import Role
from tests.browser.conftest import LiveServer
from tests.wav_samples import PCM, Layout, make_wav

pytestmark = pytest.mark.browser

CALL = {
    "channel": "call",
    "direction": "inbound",
    "started_at": "2026-03-01T09:00:00+01:00",
    "customer": {"phone": "+4791234567", "name": "Kari Nordmann"},
    "transcript": [
        {"begin_ms": 0, "end_ms": 1500, "speaker": "agent", "text": "Kundeservice, hva gjelder det?"},
        {"begin_ms": 2500, "end_ms": 4000, "speaker": "customer", "text": "Nummeret mitt er 912 34 567 " * 6},
    ],
}


@pytest.mark.parametrize("width", [1280, 390])
def test_clicking_a_transcript_segment_plays_the_recording_from_there(live: LiveServer, page: Any, width: int) -> None:
    (iid,) = live.seed([CALL], audio={0: make_wav(Layout(PCM, 16), 8000 * 5)})
    page.set_viewport_size({"width": width, "height": 844})
    live.login(page, Role.SUPERVISOR)

    page.goto(f"{live.url}/archive/interactions/{iid}")

    segment = page.get_by_role("button", name="Play from 0:02: customer")
    segment.wait_for()
    assert page.locator("audio").is_visible()
    page.evaluate("document.querySelector('audio').muted = true")
    segment.click()
    page.wait_for_function("Math.abs(document.querySelector('audio').currentTime - 2.5) < 0.6")
    # Nothing forces the page wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
