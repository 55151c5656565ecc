"""The privacy officer's desk on the pages (CONTRACT §19): "Did we forget this person?" on
*Archive - Anonymize*, and the printable certificate of a done row's signed receipt."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize import certificate
from archivist.anonymize.models import AnonymizationRequest
from tests.conftest import Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, email, oslo
from tests.functional.test_search_page_auth import csrf_from, login

URL = "/api/v1/anonymization-requests"
# Three people whose done rows all read "a***@***.com".
ANNA, ARNE, AUD = "anna@example.com", "arne@example.com", "aud@example.com"


@pytest.fixture
def admin(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.ADMIN, solution))


def _add(client: TestClient, admin: dict[str, str], **body: object) -> str:
    response = client.post(URL, json=body, headers=admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _night(client: TestClient, admin: dict[str, str]) -> None:
    assert client.post("/api/v1/nightly-runs", headers=admin).status_code == 200


def _found(page: str) -> list[str]:
    """The request ids the look-up lists, in order."""
    area = page.split('id="lookup-area"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<tr id="found-([^"]+)"', area)


@pytest.fixture
def desk(
    client: TestClient,
    admin: dict[str, str],
    make_token: TokenMaker,
    session_factory: sessionmaker[Session],
    solution: Solution,
    clock: Clock,
) -> dict[str, str]:
    """Anna, Arne and Aud erased (alike once masked), Kari erased through another row's ``also``,
    and Arne's second row still waiting; the test client logged in as a privacy officer."""
    archive(
        session_factory,
        solution,
        email(ANNA, oslo(2026, 3, 1, 9)),
        email(ARNE, oslo(2026, 3, 1, 10)),
        email(AUD, oslo(2026, 3, 1, 11)),
        call("+4791234567", oslo(2026, 3, 1, 12)),
        email("kari@example.org", oslo(2026, 3, 1, 13)),
    )
    clock.now = oslo(2026, 3, 10, 12)
    people = (("anna", ANNA), ("arne", ARNE), ("aud", AUD))
    rows = {name: _add(client, admin, email=address) for name, address in people}
    rows["kari"] = _add(client, admin, phone="91234567", also={"emails": ["kari@example.org"]})
    _night(client, admin)
    clock.now = oslo(2026, 3, 11, 12)
    rows["arne_waiting"] = _add(client, admin, email=ARNE, raw_data=True)
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    rows["csrf"] = csrf_from(client.get("/archive/anonymize").text)
    return rows


def test_the_look_up_tells_apart_people_whose_done_rows_look_alike(client: TestClient, desk: dict[str, str]) -> None:
    page = client.get("/archive/anonymize").text
    assert page.count("a***@***.com") >= 3
    assert 'id="lookup-form"' in page
    assert "Did we forget this person?" in page

    arne = client.post("/archive/anonymize/lookup", data={"csrf_token": desk["csrf"], "email": "ARNE@example.com"})
    aud = client.post(
        "/archive/anonymize/lookup",
        data={"csrf_token": desk["csrf"], "email": AUD, "status": "done"},
        headers={"HX-Request": "true"},
    )

    assert arne.status_code == 200
    # Arne's two rows, newest first: the waiting one in full, the done one masked.
    assert _found(arne.text) == [desk["arne_waiting"], desk["arne"]]
    assert ARNE in arne.text
    assert "2 rows for this person" in arne.text
    assert f'href="/archive/anonymize/{desk["arne"]}/certificate"' in arne.text
    assert f'href="/archive/anonymize/{desk["arne"]}/receipt"' in arne.text
    # htmx gets the look-up area only.
    assert aud.status_code == 200
    assert aud.text.lstrip().startswith('<section id="lookup-area"')
    assert _found(aud.text) == [desk["aud"]]


def test_a_person_erased_through_another_rows_also_is_found_and_the_row_counts_what_also_added(
    client: TestClient, desk: dict[str, str]
) -> None:
    page = client.post("/archive/anonymize/lookup", data={"csrf_token": desk["csrf"], "email": "kari@example.org"}).text

    assert _found(page) == [desk["kari"]]
    row = page.split(f'id="found-{desk["kari"]}"', 1)[1].split("</tr>", 1)[0]
    assert "Also erased: 1 email address" in row
    assert "kari@example.org" not in row
    assert "91234567" not in row


def test_the_look_up_filters_by_status_and_says_when_nobody_matches(client: TestClient, desk: dict[str, str]) -> None:
    waiting = client.post(
        "/archive/anonymize/lookup", data={"csrf_token": desk["csrf"], "email": ARNE, "status": "waiting"}
    ).text
    nobody = client.post("/archive/anonymize/lookup", data={"csrf_token": desk["csrf"], "phone": "41234567"}).text

    assert _found(waiting) == [desk["arne_waiting"]]
    assert _found(nobody) == []
    assert "No row names this person" in nobody


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter the person&#39;s phone number or email address"),
        ({"phone": "not a number"}, 'id="le-phone"'),
        ({"email": ANNA, "status": "cancelled"}, "Choose a status from the list."),
        ({"email": "x" * 400}, 'id="le-email"'),
    ],
)
def test_a_bad_look_up_is_answered_on_the_form(
    client: TestClient, desk: dict[str, str], data: dict[str, str], message: str
) -> None:
    response = client.post("/archive/anonymize/lookup", data={"csrf_token": desk["csrf"], **data})

    assert response.status_code == 422
    assert message in response.text
    assert _found(response.text) == []


def test_the_look_up_needs_the_csrf_token_and_the_officers_permission(
    client: TestClient, desk: dict[str, str], make_token: TokenMaker, solution: Solution
) -> None:
    assert client.post("/archive/anonymize/lookup", data={"email": ANNA}).status_code == 403
    with TestClient(client.app) as supervisor:
        login(supervisor, make_token(Role.SUPERVISOR, solution))
        csrf = csrf_from(supervisor.get("/archive/search").text)
        assert supervisor.post("/archive/anonymize/lookup", data={"csrf_token": csrf, "email": ANNA}).status_code == 403


def test_the_certificate_prints_what_the_signed_receipt_says_and_how_to_verify_it(
    client: TestClient, desk: dict[str, str], admin: dict[str, str]
) -> None:
    response = client.get(f"/archive/anonymize/{desk['kari']}/certificate")
    receipt = client.get(f"{URL}/{desk['kari']}/receipt", headers=admin).json()
    keys = client.get("/api/v1/signing-keys", headers=admin).json()

    assert response.status_code == 200
    text = html.unescape(response.text)
    assert "Certificate of erasure" in text
    # Every identifier the row erased, masked as the receipt lists them, its own and its also's.
    assert receipt["receipt"]["phones_masked"]
    assert receipt["receipt"]["emails_masked"]
    for masked in receipt["receipt"]["phones_masked"] + receipt["receipt"]["emails_masked"]:
        assert masked in text
    assert "91234567" not in text
    assert "kari@example.org" not in text
    assert "Further identifiers of the person erased with the request: 1 email address" in text
    # The storage step in words, what stays out of reach, and the signature with how to check it.
    storage = receipt["receipt"]["storage"]
    if storage["database"] == "sqlite":
        assert "write-ahead log" in text
    else:
        assert ("gave up waiting" in text) if storage["gave_up"] else ("older than the erasure" in text)
    for item in storage["out_of_reach"]:
        assert item in text
    assert receipt["key_id"] in text
    assert receipt["signature"] in text
    assert keys[0]["key_id"] == receipt["key_id"]
    assert f"archivist receipt verify receipt-{desk['kari']}.json" in text
    assert "GET /api/v1/signing-keys" in text
    # Times in the solution's zone (Oslo): processed 2026-03-10 12:00 local.
    assert "2026-03-10 12:00" in text
    assert "@media print" in client.get("/static/app.css").text


def test_a_waiting_rows_certificate_is_not_ready_and_another_solutions_is_not_found(
    client: TestClient,
    desk: dict[str, str],
    make_token: TokenMaker,
    other_solution: Solution,
) -> None:
    waiting = client.get(f"/archive/anonymize/{desk['arne_waiting']}/certificate")
    missing = client.get("/archive/anonymize/0123456789abcdef0123456789abcdef/certificate")
    assert waiting.status_code == 409
    assert "not done yet" in waiting.text
    assert missing.status_code == 404

    # Another solution's officer: Anna's done row answers as if it never was.
    with TestClient(client.app) as theirs:
        login(theirs, make_token(Role.PRIVACY_OFFICER, other_solution))
        assert theirs.get(f"/archive/anonymize/{desk['anna']}/certificate").status_code == 404
        assert theirs.get(f"/archive/anonymize/{desk['arne_waiting']}/certificate").status_code == 404


def test_a_privacy_officer_reads_the_retention_rules_on_legal_holds_but_cannot_change_them(
    client: TestClient, admin: dict[str, str], make_token: TokenMaker, solution: Solution
) -> None:
    body = {"channel": "call", "queue": "Sales", "what": "recording", "keep_days": 30}
    assert client.post("/api/v1/retention-rules", json=body, headers=admin).status_code == 201
    login(client, make_token(Role.PRIVACY_OFFICER, solution))

    page = client.get("/legal-holds")

    assert page.status_code == 200
    rules = page.text.split('id="retention-rules"', 1)[1].split("</section>", 1)[0]
    assert "Sales" in rules
    assert ">30<" in rules
    assert "Recordings" in rules
    assert 'id="rules-read-only"' in rules
    # Read-only: no Delete, no form, and Settings stays the admins'.
    assert "/settings/retention-rules" not in rules
    assert 'id="rule-form"' not in rules
    assert client.get("/settings").status_code == 403


def test_add_all_says_how_many_rows_it_added_and_widened(
    client: TestClient, admin: dict[str, str], make_token: TokenMaker, solution: Solution, clock: Clock
) -> None:
    clock.now = oslo(2026, 3, 10, 12)
    _add(client, admin, phone="91234567")
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    csrf = csrf_from(client.get("/archive/anonymize").text)
    text = "phone,email,raw_data,delete_content\n91234567,,true,\n,ola@example.com,,\n,kari@example.com,,\n"

    preview = client.post(
        "/archive/anonymize/bulk/preview",
        data={"csrf_token": csrf},
        files={"file": ("people.csv", text.encode(), "text/csv")},
    )
    added = client.post("/archive/anonymize/bulk", data={"csrf_token": csrf, "csv": text}, follow_redirects=False)

    # Asked first, saying what Add all will do.
    assert 'data-confirm="Add 2 new rows and widen 1 Waiting row?' in preview.text
    assert added.status_code == 303
    assert added.headers["location"] == "/archive/anonymize?added=2&widened=1"
    page = client.get(added.headers["location"]).text
    assert (
        "Added from the file: 2 rows added, 1 Waiting row widened (not added twice). "
        "They are Waiting and will be anonymized the coming night." in page
    )
    assert "ola@example.com" not in added.headers["location"]
    assert client.get("/archive/anonymize?added=-1").status_code == 422


def test_reset_password_and_revoke_token_ask_first_and_say_what_they_did(
    client: TestClient, make_token: TokenMaker, solution: Solution
) -> None:
    login(client, make_token(Role.ADMIN, solution))
    csrf = csrf_from(client.get("/users").text)
    created = client.post("/users", data={"csrf_token": csrf, "username": "eva", "role": "supervisor"})
    user_id = re.search(r'href="/users/([0-9a-f]+)">eva<', created.text)
    assert user_id
    user_page = f"/users/{user_id.group(1)}"
    client.post(f"{user_page}/tokens", data={"csrf_token": csrf, "label": "PBX"})

    page = client.get(user_page).text
    reset = client.post(f"{user_page}/password", data={"csrf_token": csrf})

    assert re.search(r'action="[^"]+/password" data-confirm="A new password is generated', page)
    assert re.search(r'action="[^"]+/revoke" data-confirm="This API token stops working at once', page)
    assert 'data-confirm-button="Yes, reset the password"' in page
    assert "The password was reset and the user&#39;s sessions ended." in reset.text
    assert 'id="new-password"' in reset.text


def test_pages_show_numbers_in_one_format_whatever_form_they_came_in(
    client: TestClient,
    admin: dict[str, str],
    make_token: TokenMaker,
    session_factory: sessionmaker[Session],
    solution: Solution,
) -> None:
    archive(session_factory, solution, call("+47 912 34 567", oslo(2026, 3, 1, 9), events=1))
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    csrf = csrf_from(client.get("/archive/anonymize").text)

    raw_page = client.get("/raw-data", params={"from": "2026-03-01", "to": "2026-03-01"}).text
    raw_api = client.get("/api/v1/raw-data", headers=admin).json()
    bulk = client.post(
        "/archive/anonymize/bulk/preview",
        data={"csrf_token": csrf},
        files={"file": ("people.csv", b"phone,email\n+47 912 34 567,Kari@Example.com\n", "text/csv")},
    ).text

    # The seed's convention (national digits), as search, details and the request rows show it.
    assert '<td data-label="Customer" class="customer">91234567</td>' in raw_page
    assert "+47 912 34 567" not in raw_page
    # The API keeps the raw row as delivered.
    assert raw_api["items"][0]["customer"] == "+47 912 34 567"
    row = bulk.split('id="bulk-table"', 1)[1].split("</tr>", 2)[1]
    assert '<td data-label="Phone number">91234567</td>' in row
    assert '<td data-label="Email address">kari@example.com</td>' in row


def test_a_postgresql_storage_step_that_gave_up_is_said_in_words_with_what_it_left() -> None:
    storage = {
        "database": "postgresql",
        "vacuum_full": False,
        "rewritten": ["ix_interactions_customer", "ix_mentions_key"],
        "not_rewritten": [],
        "gave_up": True,
        "older_transactions": 1,
        "locked": ["chat_messages"],
        "statistics_rewritten": False,
        "checkpoint": False,
        "out_of_reach": ["WAL segments and archives", "backups", "WAL segments and archives"],
    }

    lines = certificate.storage_in_words(storage)

    assert lines[0].startswith("The step gave up waiting for 1 older open transaction:")
    assert "2 relations rewritten." in lines
    assert "Left to the next night, locked by an older transaction: chat_messages." in lines
    assert any(line.startswith("No checkpoint could be made") for line in lines)
    assert certificate.out_of_reach(storage) == ["WAL segments and archives", "backups"]
    assert certificate.result_in_words({"interactions": 0, "also": {"phones": 2}}) == [
        "0 calls, chats and emails anonymized",
        "Further identifiers of the person erased with the request: 2 phone numbers",
    ]


def test_the_certificate_outlives_the_rows_purge(
    client: TestClient, desk: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    # The row goes 12 months after entry; the signed receipt, and so its certificate, stays.
    with session_factory() as session, session.begin():
        session.execute(delete(AnonymizationRequest).where(AnonymizationRequest.id == desk["aud"]))

    response = client.get(f"/archive/anonymize/{desk['aud']}/certificate")

    assert response.status_code == 200
    assert "a***@***.com" in response.text
