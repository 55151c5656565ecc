"""The pages' finish in headless Chromium: progress on slow actions, errors that keep the form
in line, details in view on a phone, offline /docs, the Users table and Raw data paging."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from archivist.accounts.models import Role, User
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def call(minute: int, phone: str = "+4791234567", events: int = 0) -> dict[str, Any]:
    at = f"2026-03-02T{10 + minute // 60:02d}:{minute % 60:02d}:00+01:00"
    return {
        "channel": "call",
        "direction": "inbound",
        "started_at": at,
        "queue": "Support",
        "agent": "Ola Hansen",
        "customer": {"phone": phone, "name": "Kari Nordmann"},
        "events": [{"at": at, "type": f"event-{i}", "queue": "Support"} for i in range(events)],
    }


def _settled_top(page: Any, selector: str) -> float:
    """The element's top in the viewport once scrolling has stopped moving it."""
    last = None
    for _ in range(50):
        box = page.locator(selector).bounding_box()
        assert box is not None
        if last is not None and abs(box["y"] - last) < 0.5:
            return float(box["y"])
        last = box["y"]
        page.wait_for_timeout(50)
    return float(last or 0)


def test_search_button_shows_progress_and_cannot_be_pressed_twice(live: LiveServer, page: Any) -> None:
    live.seed([call(1)])
    live.login(page, Role.SUPERVISOR)
    held: list[Any] = []

    def hold_searches(route: Any) -> None:
        # Held (answered later), so the page stays mid-request while we look at it.
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page.route("**/archive/search", hold_searches)
    button = page.get_by_role("button", name="Search")
    button.click()
    page.locator("#search-working").wait_for(state="visible")
    assert button.is_disabled()
    button.click(force=True)  # a second press while it works does nothing
    page.wait_for_timeout(300)
    assert len(held) == 1
    held[0].continue_()
    page.locator("table.results tbody tr").first.wait_for()
    assert len(held) == 1
    expect(page.get_by_role("button", name="Search")).to_be_enabled()
    # htmx takes the indicator's class off after the swap settles, a tick after the button
    # comes back: wait for it rather than read it once.
    expect(page.locator("#search-working")).to_be_hidden()


def test_a_field_error_keeps_the_other_fields_in_line(live: LiveServer, page: Any) -> None:
    live.login(page, Role.SUPERVISOR)
    page.get_by_label("Phone number").fill("ring meg")
    page.get_by_role("button", name="Search").click()
    page.locator("#e-phone").wait_for()
    assert page.locator(".field-error").count() == 1  # once, not twice
    phone = page.get_by_label("Phone number").bounding_box()
    email = page.get_by_label("Email address").bounding_box()
    assert phone is not None
    assert email is not None
    assert abs(phone["y"] - email["y"]) < 1


def test_opened_details_come_into_view_at_390_px(live: LiveServer, page: Any) -> None:
    live.seed([call(minute) for minute in range(30)])
    page.set_viewport_size({"width": 390, "height": 844})
    live.login(page, Role.SUPERVISOR)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.results tbody tr")
    rows.first.wait_for()
    rows.nth(29).locator("a.open").click()
    details = page.locator("#details .detail-body")
    details.wait_for()
    # (Polled from here: the page's CSP forbids the string evaluation wait_for_function uses.)
    top = _settled_top(page, "#details")
    assert -60 < top < 60  # at the top of the screen, not far below the fold


def test_docs_render_with_no_network_beyond_the_server(live: LiveServer, page: Any) -> None:
    outside: list[str] = []

    def only_ours(route: Any) -> None:
        if route.request.url.startswith(live.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_ours)
    page.goto(f"{live.url}/docs")
    # A 1.7 MB bundle on a busy CI machine: more time than a page fragment gets.
    page.locator(".swagger-ui .info .title").wait_for(timeout=30_000)
    assert "Archivist" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock").first.wait_for()
    assert outside == []


def test_users_table_keeps_a_long_name_inside_and_disable_asks_first(live: LiveServer, page: Any) -> None:
    long_name = "a" * 40 + "." + "b" * 59
    live.login(page, Role.ADMIN, next_path="/users")
    page.get_by_label("Username").fill(long_name)
    page.get_by_role("button", name="Create user").click()
    page.locator("#new-password").wait_for()
    page.goto(f"{live.url}/users")
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.get_by_role("link", name=long_name).click()
    page.get_by_role("button", name="Disable user").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert "API token" in page.locator("#confirm-text").inner_text()
    page.get_by_role("button", name="Cancel").click()
    with live.session_factory() as session:
        assert session.scalars(select(User.disabled).where(User.username == long_name)).one() is False
    page.get_by_role("button", name="Disable user").click()
    page.locator("#confirm-ok").click()
    page.wait_for_url("**notice=disabled**")
    with live.session_factory() as session:
        assert session.scalars(select(User.disabled).where(User.username == long_name)).one() is True


def test_raw_data_next_page_lands_on_the_rows_and_previous_goes_back(live: LiveServer, page: Any) -> None:
    live.seed([call(1, events=150)])
    live.login(page, Role.SUPERVISOR, next_path="/raw-data")
    page.get_by_label("From").fill("2026-03-02")
    page.get_by_label("To").fill("2026-03-02")
    page.get_by_role("button", name="Show").click()
    assert "Rows 1–100 of 150" in page.locator("#raw-count").inner_text()
    page.get_by_role("link", name="Next page").scroll_into_view_if_needed()
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url("**#raw-rows")
    assert "Rows 101–150 of 150" in page.locator("#raw-count").inner_text()
    top = page.locator("#raw-rows").bounding_box()
    assert top is not None
    assert abs(top["y"]) < 5  # the reader is at the top of the rows, not the bottom of the page
    page.get_by_role("link", name="Previous page").click()
    expect(page.locator("#raw-count")).to_contain_text("Rows 1–100 of 150")
