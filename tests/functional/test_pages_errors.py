"""A bad form value re-renders the form as HTML with the message next to its field, once
(CONTRACT §14) — never FastAPI's JSON; and the form's own pieces that pages rely on."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from tests.conftest import TokenMaker, auth
from tests.functional.anonymization_support import archive, call, chat, oslo
from tests.functional.test_search_page_auth import csrf_from, login

HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin_csrf(client: TestClient, make_token: TokenMaker, solution: Solution) -> str:
    login(client, make_token(Role.ADMIN, solution))
    return csrf_from(client.get("/archive/search").text)


def _field_error(html: str, error_id: str) -> str:
    """The one message shown under a field (``<p class="field-error" id=…>``)."""
    found = re.findall(rf'<p class="field-error" id="{error_id}">([^<]*)</p>', html)
    assert len(found) == 1, f"expected one {error_id} message, found {found}"
    return str(found[0])


def _is_page(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert not response.text.lstrip().startswith("{")


@pytest.mark.parametrize(
    ("field", "value", "error_id", "message"),
    [
        ("queue", "q" * 201, "e-queue", "At most 200 characters"),  # over-long: was bare JSON
        ("phone", "9" * 65, "e-phone", "At most 64 characters"),  # over-long: was bare JSON
        ("email", "a" * 321, "e-email", "At most 320 characters"),  # over-long: was bare JSON
        ("cursor", "c" * 201, None, "At most 200 characters"),  # no field of its own: above the form
        ("phone", "ring meg", "e-phone", "national number"),  # refused by the service: shown once
        ("channel", "fax", "e-channel", "Choose one of the listed values"),  # a select's error, next to it
    ],
)
def test_search_form_shows_each_error_once_next_to_its_field(
    client: TestClient, admin_csrf: str, field: str, value: str, error_id: str | None, message: str
) -> None:
    for headers in (HTMX, {}):
        response = client.post("/archive/search", data={"csrf_token": admin_csrf, field: value}, headers=headers)
        _is_page(response)
        assert response.text.count(message) == 1
        if error_id:
            assert message in _field_error(response.text, error_id)
            assert 'id="form-errors"' not in response.text  # no second copy in a summary


@pytest.mark.parametrize(
    ("data", "error_id", "message"),
    [
        ({"phone": "9" * 65}, "ae-phone", "At most 64 characters"),  # over-long: was bare JSON
        ({"email": "x" * 321}, "ae-email", "At most 320 characters"),  # over-long: was bare JSON
        ({"phone": "12"}, "ae-phone", "national number"),  # the service's own message
    ],
)
@pytest.mark.parametrize("url", ["/archive/anonymize/preview", "/archive/anonymize"])
def test_anonymize_form_shows_each_error_once_next_to_its_field(
    client: TestClient, admin_csrf: str, url: str, data: dict[str, str], error_id: str, message: str
) -> None:
    response = client.post(url, data={"csrf_token": admin_csrf, **data}, headers=HTMX)
    _is_page(response)
    assert message in _field_error(response.text, error_id)
    assert response.text.count(message) == 1
    assert 'id="form-errors"' not in response.text


def test_settings_form_refuses_over_long_values_next_to_the_field(client: TestClient, admin_csrf: str) -> None:
    form = {
        "csrf_token": admin_csrf,
        "country": "NO",
        "timezone": "Europe/Oslo" + "x" * 100,
        "nightly_at": "02:00",
        "replacement": "R" * 101,
        "preview_warn_percent": "1" * 40,
        "audit_retention_days": "365",
    }
    response = client.post("/settings", data=form)
    _is_page(response)
    assert _field_error(response.text, "e-timezone") == "At most 64 characters"
    assert _field_error(response.text, "e-replacement") == "At most 100 characters"
    assert _field_error(response.text, "e-preview_warn_percent") == "At most 16 characters"
    assert 'id="e-country"' not in response.text


def test_users_form_refuses_an_over_long_name_as_a_page(client: TestClient, admin_csrf: str) -> None:
    response = client.post("/users", data={"csrf_token": admin_csrf, "username": "u" * 500, "role": "supervisor"})
    _is_page(response)
    assert "1 to 100 letters" in response.text
    assert "u" * 500 not in response.text
    long_label = client.post("/users/nobody/tokens", data={"csrf_token": admin_csrf, "label": "l" * 500})
    assert long_label.status_code == 404  # the user is looked up first, as before


def test_search_form_offers_the_queues_and_agents_and_matches_them_ignoring_case(
    client: TestClient, admin_csrf: str, session_factory: sessionmaker[Session], solution: Solution
) -> None:
    first = call("91234567", oslo(2026, 3, 1, 9))
    second = chat("kari@example.com", oslo(2026, 3, 2, 9))
    archive(
        session_factory,
        solution,
        {**first, "queue": "Support", "agent": "Kari Nordmann"},
        {**second, "queue": "  Billing ", "agent": "Ola"},
    )
    page = client.get("/archive/search").text
    assert '<datalist id="queue-choices"><option value="Billing"><option value="Support"></datalist>' in page
    assert '<option value="Kari Nordmann">' in page
    found = client.post("/archive/search", data={"csrf_token": admin_csrf, "queue": "SUPPORT"}, headers=HTMX)
    assert found.status_code == 200
    assert found.text.count('<tr id="row-') == 1
    agent = client.post("/archive/search", data={"csrf_token": admin_csrf, "agent": "kari nordmann "}, headers=HTMX)
    assert agent.text.count('<tr id="row-') == 1
    billing = client.post("/archive/search", data={"csrf_token": admin_csrf, "queue": "billing"}, headers=HTMX)
    assert billing.text.count('<tr id="row-') == 1


def test_search_and_preview_buttons_show_progress_and_cannot_be_pressed_twice(
    client: TestClient, admin_csrf: str
) -> None:
    search = client.get("/archive/search").text
    assert 'hx-indicator="#search-working" hx-disabled-elt="#search-button"' in search
    assert 'id="search-working"' in search
    anonymize = client.get("/archive/anonymize").text
    assert 'hx-indicator="#preview-working" hx-disabled-elt="#preview-button"' in anonymize
    preview = client.post(
        "/archive/anonymize/preview", data={"csrf_token": admin_csrf, "phone": "91234567"}, headers=HTMX
    ).text
    assert 'hx-disabled-elt="#add-button"' in preview


def test_chat_customer_email_is_shown_trimmed(
    client: TestClient,
    admin_csrf: str,
    session_factory: sessionmaker[Session],
    solution: Solution,
    make_token: TokenMaker,
) -> None:
    token = make_token(Role.SUPERVISOR, solution)
    (iid,) = archive(session_factory, solution, chat("  Siri.Haugen@example.com  ", oslo(2026, 3, 2, 9)))
    details = client.get(f"/archive/interactions/{iid}", headers=HTMX).text
    assert "<dd>Siri.Haugen@example.com</dd>" in details
    results = client.post("/archive/search", data={"csrf_token": admin_csrf}, headers=HTMX).text
    assert "Siri.Haugen@example.com  " not in results
    assert "Siri.Haugen@example.com" in results
    api = client.get(f"/api/v1/interactions/{iid}", headers=auth(token)).json()
    assert api["customer"]["email"] == "Siri.Haugen@example.com"


def test_docs_load_swagger_ui_from_our_own_static_files(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    references = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert references, docs.text
    assert all(ref.startswith("/static/swagger-ui/") for ref in references), references
    assert "//" not in "".join(references)
    assert '"validatorUrl": null' in docs.text
    for ref in references:
        assert client.get(ref).status_code == 200, ref


def test_raw_data_page_has_previous_and_totals(
    client: TestClient, admin_csrf: str, session_factory: sessionmaker[Session], solution: Solution
) -> None:
    from archivist.web.pages import raw_data as raw_page

    per_page = raw_page.PAGE_SIZE
    archive(session_factory, solution, *(call("91234567", oslo(2026, 3, 1, 9), events=per_page + 30) for _ in range(2)))
    total = 2 * (per_page + 30)
    first = client.get("/raw-data", params={"from": "2026-03-01", "to": "2026-03-01"}).text
    assert f"Rows 1–{per_page} of {total}" in first
    assert 'id="previous-page"' not in first
    next_href = re.search(r'id="next-page" href="([^"]+)"', first)
    assert next_href
    assert next_href.group(1).endswith("#raw-rows")  # lands on the rows, not the bottom
    second = client.get(next_href.group(1).replace("&amp;", "&")).text
    assert f"Rows {per_page + 1}–{2 * per_page} of {total}" in second
    back = re.search(r'id="previous-page" href="([^"]+)"', second)
    assert back
    again = client.get(back.group(1).replace("&amp;", "&")).text
    assert f"Rows 1–{per_page} of {total}" in again
    third = client.get(re.search(r'id="next-page" href="([^"]+)"', second).group(1).replace("&amp;", "&")).text  # type: ignore[union-attr]
    assert f"Rows {2 * per_page + 1}–{total} of {total}" in third
    back_to_second = re.search(r'id="previous-page" href="([^"]+)"', third)
    assert back_to_second
    assert f"Rows {per_page + 1}–" in client.get(back_to_second.group(1).replace("&amp;", "&")).text
