"""*Archive - Anonymize* offers each done row's signed receipt as a file (CONTRACT §11)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize.receipts import verify
from archivist.web.api import receipts as receipts_api
from tests.conftest import Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, oslo
from tests.functional.test_search_page_auth import login


def test_a_done_row_links_its_receipt_which_downloads_and_verifies_and_a_waiting_row_has_none(
    client: TestClient,
    make_token: TokenMaker,
    session_factory: sessionmaker[Session],
    solution: Solution,
    clock: Clock,
) -> None:
    archive(session_factory, solution, call("+4793456781", oslo(2026, 3, 1, 9)))
    clock.now = oslo(2026, 3, 10, 12)
    admin = auth(make_token(Role.ADMIN, solution))
    done = client.post("/api/v1/anonymization-requests", json={"phone": "93456781"}, headers=admin).json()["id"]
    assert client.post("/api/v1/nightly-runs", headers=admin).status_code == 200
    waiting = client.post("/api/v1/anonymization-requests", json={"phone": "93456782"}, headers=admin).json()["id"]
    login(client, make_token(Role.PRIVACY_OFFICER, solution))

    page = client.get("/archive/anonymize").text
    response = client.get(f"/archive/anonymize/{done}/receipt")

    assert f'href="/archive/anonymize/{done}/receipt"' in page
    assert f'href="/archive/anonymize/{waiting}/receipt"' not in page
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="receipt-{done}.json"'
    document = json.loads(response.text)
    keys = {k["key_id"]: k["public_key"] for k in client.get("/api/v1/signing-keys", headers=admin).json()}
    assert verify(document, keys)
    assert document["receipt"]["request_id"] == done
    assert "93456781" not in response.text
    assert client.get(f"/archive/anonymize/{waiting}/receipt").status_code == 404


def test_receipts_of_one_night_page_by_request_id(
    client: TestClient,
    make_token: TokenMaker,
    session_factory: sessionmaker[Session],
    solution: Solution,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One night's receipts share their time: paging by time alone would repeat the first page.
    monkeypatch.setattr(receipts_api, "MAX_RECEIPTS", 1)
    clock.now = oslo(2026, 3, 10, 12)
    admin = auth(make_token(Role.ADMIN, solution))
    for phone in ("93456781", "93456782", "93456783"):
        client.post("/api/v1/anonymization-requests", json={"phone": phone}, headers=admin)
    assert client.post("/api/v1/nightly-runs", headers=admin).status_code == 200

    seen: list[str] = []
    after: dict[str, str] = {}
    while page := client.get("/api/v1/receipts", params=after, headers=admin).json():
        assert len(page) == 1
        seen.append(page[0]["receipt"]["request_id"])
        after = {"after": seen[-1]}

    assert len(seen) == len(set(seen)) == 3
    assert client.get("/api/v1/receipts", params={"after": "nope"}, headers=admin).status_code == 422
