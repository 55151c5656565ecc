"""Linked identifiers (CONTRACT §9): the preview lists the person's other identifiers, ``also`` erases them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize.models import AnonymizationRequest
from archivist.archive.models import Interaction
from archivist.audit.events import AuditAction
from archivist.audit.models import AuditEvent
from archivist.blobs.memory import MemoryBlobStore
from tests.conftest import Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, night, oslo
from tests.functional.test_mentions import chat_with, messages
from tests.functional.test_search_page_auth import csrf_from, login

URL = "/api/v1/anonymization-requests"
KARI = "+4791234567"
KARI_WORK = "+4748211093"
OLA = "+4798765432"


@pytest.fixture
def officer(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.PRIVACY_OFFICER, solution))


@pytest.fixture(autouse=True)
def _entry_time(clock: Clock) -> None:
    clock.now = oslo(2026, 3, 10, 12, 0)


def _kari_archive(factory: sessionmaker[Session], solution: Solution) -> list[str]:
    return archive(
        factory,
        solution,
        # Kari's own call: her work number and a customer number in its variables.
        call(KARI, oslo(2026, 3, 1, 9), variables={"callback": "482 11 093", "customer_no": "C-10042"}),
        # Her work number as the caller: only the link finds it.
        call(KARI_WORK, oslo(2026, 3, 2, 9), name="Kari N."),
        # A call from a withheld number that the CRM matched to her customer number.
        call("anonymous", oslo(2026, 3, 3, 9), name="Kari Nordmann", variables={"customer_no": "C-10042"}),
        # Ola writes her work number in his chat.
        chat_with(OLA, "Ola", oslo(2026, 3, 4, 9), "Kari sin jobbtelefon er 482 11 093"),
    )


def test_the_preview_lists_the_other_identifiers_found_with_the_person_masked(
    client: TestClient, officer: dict[str, str], session_factory: sessionmaker[Session], solution: Solution
) -> None:
    _kari_archive(session_factory, solution)

    response = client.post(f"{URL}/preview", json={"phone": "91234567"}, headers=officer)

    assert response.status_code == 200, response.text
    linked = response.json()["linked"]
    assert {"kind": "phone", "name": None, "value_masked": "48****93", "interactions": 1} in linked
    assert {"kind": "variable", "name": "customer_no", "value_masked": "C***", "interactions": 1} in linked
    assert "482 11 093" not in response.text
    assert "48211093" not in response.text
    assert "C-10042" not in response.text


def test_also_erases_the_linked_identifiers_with_the_request_and_is_forgotten_when_done(
    client: TestClient,
    officer: dict[str, str],
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
) -> None:
    own, work, withheld, olas = _kari_archive(session_factory, solution)
    body: dict[str, Any] = {
        "phone": "91234567",
        "also": {"phones": ["482 11 093"], "variables": [{"name": "customer_no", "value": "C-10042"}]},
    }
    expected = client.post(f"{URL}/preview", json=body, headers=officer).json()
    request_id = client.post(URL, json=body, headers=officer).json()["id"]

    summary = night(session_factory, blobs, oslo(2026, 3, 11, 2))

    assert (summary.interactions, summary.mentions_replaced) == (expected["interactions"], expected["mentions"])
    assert summary.interactions == 3  # her call, her work number's call, the withheld one
    with session_factory() as session:
        rows = {row.id: row for row in session.scalars(select(Interaction))}
        assert rows[own].variables == {"callback": "Anonymized", "customer_no": "Anonymized"}
        assert rows[work].customer_phone == "Anonymized"
        assert rows[withheld].customer_name == "Anonymized"
        assert rows[withheld].variables == {"customer_no": "Anonymized"}
        assert rows[olas].customer_name == "Ola"
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        assert request.also is None
    assert messages(session_factory, olas) == ["Kari sin jobbtelefon er Anonymized"]
    # The row and the receipt say what `also` added (CONTRACT §19): counted, and listed masked.
    done = client.get(f"{URL}/{request_id}", headers=officer).json()
    assert done["result"]["also"] == {"phones": 1, "emails": 0, "variables": 1}
    with session_factory() as session:
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        assert request.erased_masked == {"phones": ["91****67", "48****93"], "emails": []}


def test_a_bad_also_entry_is_refused_by_its_place_without_echoing_it(
    client: TestClient, officer: dict[str, str]
) -> None:
    response = client.post(URL, json={"phone": "91234567", "also": {"phones": ["12ab"]}}, headers=officer)

    assert response.status_code == 422
    assert "also.phones[0]" in response.text
    assert "12ab" not in response.text


def test_the_request_audit_entry_counts_the_also_identifiers_and_names_none(
    client: TestClient, officer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    body = {"phone": "91234567", "also": {"phones": ["482 11 093"], "emails": ["kari.jobb@example.com"]}}
    assert client.post(URL, json=body, headers=officer).status_code == 201

    with session_factory() as session:
        details = [
            e.details or {} for e in session.scalars(select(AuditEvent)) if e.action == AuditAction.REQUEST_ADDED
        ]
    assert details[-1]["also"] == {"phones": 1, "emails": 1, "variables": 0}
    assert "482" not in str(details)
    assert "jobb" not in str(details)


def test_the_page_offers_linked_identifiers_as_ticks_that_carry_no_values_and_adds_the_ticked_ones(
    client: TestClient, make_token: TokenMaker, session_factory: sessionmaker[Session], solution: Solution
) -> None:
    _kari_archive(session_factory, solution)
    login(client, make_token(Role.PRIVACY_OFFICER, solution))
    csrf = csrf_from(client.get("/archive/anonymize").text)
    form = {"csrf_token": csrf, "phone": "91234567"}

    page = client.post("/archive/anonymize/preview", data=form).text

    assert 'id="preview-linked"' in page
    # In full, for the officer to check it is hers (CONTRACT §19); the ticks carry keyed tokens only.
    assert "48****93" not in page
    ticks = re.findall(r'name="linked" value="([^"]*)"', page)
    assert len(ticks) >= 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", tick) for tick in ticks)
    # Tick the work number (its keyed token), then Add.
    labels = re.findall(r'name="linked" value="([0-9a-f]{64})">\s*(.*?)</label>', page, re.DOTALL)
    work = next(index for index, label in labels if '<strong class="linked-value">48211093</strong>' in label)
    assert any("C-10042" in label for _, label in labels)
    response = client.post("/archive/anonymize", data={**form, "linked": work}, follow_redirects=False)

    assert response.status_code == 303
    with session_factory() as session:
        request = session.scalars(select(AnonymizationRequest)).one()
        assert request.also == {"phones": [KARI_WORK], "emails": [], "variables": []}


def test_an_anonymous_call_found_both_by_its_callback_and_its_customer_number_counts_once(
    client: TestClient,
    officer: dict[str, str],
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
) -> None:
    archive(
        session_factory,
        solution,
        call("anonymous", oslo(2026, 3, 3, 9), variables={"callback": "912 34 567", "customer_no": "C-1"}),
    )
    body = {"phone": "91234567", "also": {"variables": [{"name": "customer_no", "value": "C-1"}]}}

    preview = client.post(f"{URL}/preview", json=body, headers=officer).json()
    client.post(URL, json=body, headers=officer)
    summary = night(session_factory, blobs, oslo(2026, 3, 11, 2))

    assert preview["interactions"] == summary.interactions == 1
    assert preview["variable_values"] == summary.variables_replaced == 2


def test_a_variable_name_with_a_quote_is_refused(client: TestClient, officer: dict[str, str]) -> None:
    # The name becomes a JSON path, which SQLite and PostgreSQL would read differently.
    body = {"phone": "91234567", "also": {"variables": [{"name": 'crm"id', "value": "C-1"}]}}
    response = client.post(URL, json=body, headers=officer)
    assert response.status_code == 422
    assert "also.variables[0]" in response.text
