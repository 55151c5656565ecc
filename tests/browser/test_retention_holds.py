"""Legal holds and retention rules in headless Chromium: place and release a hold, save a rule after
its preview, and the *Held* mark on *Archive - Search*."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from archivist.accounts.models import Role, Solution
from archivist.retention.holds import held_among, parse_criteria, place_hold
from archivist.retention.models import LegalHold, RetentionRule
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def chat(day: int, queue: str = "Support") -> dict[str, Any]:
    return {
        "channel": "chat",
        "direction": "inbound",
        "started_at": f"2026-03-{day:02d}T10:00:00+01:00",
        "queue": queue,
        "customer": {"email": "kari.nordmann@example.com"},
        "messages": [{"at": f"2026-03-{day:02d}T10:00:05+01:00", "from": "customer", "text": "Hei"}],
    }


def test_place_and_release_a_hold(live: LiveServer, page: Any) -> None:
    ids = live.seed([chat(1), chat(2)])
    live.login(page, Role.PRIVACY_OFFICER, next_path="/legal-holds")
    assert page.get_by_role("link", name="Legal holds").get_attribute("aria-current") == "page"

    # A reason is required: the message appears next to the field, nothing is placed.
    page.get_by_label("Interaction ids").fill(ids[0])
    page.get_by_role("button", name="Place hold").click()
    page.locator("#he-reason").wait_for()
    assert page.get_by_label("Reason").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Interaction ids").input_value() == ids[0]  # what was typed stays

    page.get_by_label("Reason").fill("Claim 2026-17")
    page.get_by_role("button", name="Place hold").click()
    page.get_by_text("The hold was placed: it covers 1 interaction now.").wait_for()
    row = page.locator("#holds-table tbody tr").first
    assert "1 interaction by id" in row.inner_text()
    assert "Claim 2026-17" in row.inner_text()
    assert page.get_by_label("Reason").input_value() == ""  # a fresh form for the next hold
    with live.session_factory() as session:
        assert held_among(session, live.solution.id, ids) == {ids[0]}

    row.get_by_role("button", name="Release").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert "released" in dialog.inner_text()
    page.get_by_role("button", name="Yes, release the hold").click()
    page.get_by_text("The hold was released.").wait_for()
    assert "Released" in page.locator("#holds-table tbody tr").first.inner_text()
    assert page.locator("#holds-table").get_by_role("button", name="Release").count() == 0
    with live.session_factory() as session:
        hold = session.scalars(select(LegalHold)).one()
        assert hold.released_at is not None
        assert held_among(session, live.solution.id, ids) == set()


def test_save_a_rule_after_its_preview(live: LiveServer, page: Any) -> None:
    # The clock stands at 10 March; keeping 5 days deletes the chats of 1 and 2 March.
    live.seed([chat(1), chat(2), chat(9), chat(1, queue="Sales")])
    live.login(page, Role.ADMIN, next_path="/settings")
    section = page.locator("#retention-rules")
    assert section.get_by_role("button", name="Save").count() == 0  # only after a preview

    section.get_by_label("Channel").select_option("chat")
    section.get_by_label("Queue").fill("Support")
    section.get_by_label("Delete", exact=True).select_option("content")
    section.get_by_label("Keep (days)").fill("5")
    section.get_by_role("button", name="Preview").click()
    counts = page.locator("#rule-preview-counts")
    counts.wait_for()
    assert counts.inner_text() == "Tonight this rule would delete 2 chat logs and emails."

    page.locator("#rule-save-button").click()
    page.get_by_text("The retention rule was saved.").wait_for()
    row = page.locator("#rules-table tbody tr").first
    assert "Support" in row.inner_text()
    assert "Chat logs and email bodies" in row.inner_text()
    with live.session_factory() as session:
        rule = session.scalars(select(RetentionRule)).one()
        assert (rule.queue, rule.what.value, rule.keep_days) == ("Support", "content", 5)
        assert rule.channel is not None
        assert rule.channel.value == "chat"


def test_held_interactions_are_marked_on_search(live: LiveServer, page: Any) -> None:
    ids = live.seed([chat(1), chat(2)])
    with live.session_factory() as session, session.begin():
        solution = session.get(Solution, live.solution.id)
        assert solution is not None
        criteria = parse_criteria(
            solution, interaction_ids=[ids[0]], phone=None, email=None, queue=None, from_at=None, to_at=None
        )
        place_hold(session, solution, criteria, reason="Case 3", until=None, created_by="test", now=live.clock())
    live.login(page, Role.PRIVACY_OFFICER)
    page.get_by_role("button", name="Search").click()
    page.locator("table.results tbody tr").first.wait_for()

    badge = page.locator(f"#row-{ids[0]} .badge.held")
    assert badge.is_visible()
    assert "legal hold" in (badge.get_attribute("title") or "")
    assert page.locator(f"#row-{ids[1]} .badge.held").count() == 0

    page.locator(f"#row-{ids[0]} a.open").click()
    note = page.locator("#details #held-note")
    note.wait_for()
    assert "legal hold" in note.inner_text()
    assert page.locator("#details").get_by_role("button", name="Delete chat log").is_disabled()
