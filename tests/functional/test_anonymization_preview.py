"""The preview: what a request would change if it ran now, and the warning for a broad match."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize.models import AnonymizationRequest
from archivist.blobs.memory import MemoryBlobStore
from tests.conftest import Clock, TokenMaker, auth
from tests.functional.anonymization_support import archive, call, chat, email, night, oslo, record

URL = "/api/v1/anonymization-requests"
NOW = oslo(2026, 3, 10, 12, 0)


@pytest.fixture
def officer(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.PRIVACY_OFFICER, solution))


@pytest.fixture(autouse=True)
def _now(clock: Clock) -> None:
    clock.now = NOW


@pytest.fixture
def kari(session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore) -> None:
    """Kari: 3 calls (one recorded, one with her number in a variable), 2 chats, 1 email; others around her."""
    calls = archive(
        session_factory,
        solution,
        call("91234567", oslo(2026, 3, 1, 9), events=2),
        call("+4791234567", oslo(2026, 3, 2, 9), events=2, variables={"callback": "912 34 567", "menu": "2"}),
        call("0047 91234567", oslo(2026, 3, 3, 9), events=2),
    )
    record(session_factory, blobs, calls[0], NOW)
    archive(
        session_factory,
        solution,
        chat("kari@example.com", oslo(2026, 3, 4, 9), events=1),
        chat("Kari@Example.com", oslo(2026, 3, 5, 9), events=1),
        email("kari@example.com", oslo(2026, 3, 6, 9)),
        *[call(f"9876543{n}", oslo(2026, 3, 1, 10 + n), events=1) for n in range(10)],
        # After "now": not there yet as far as a run now is concerned.
        call("91234567", oslo(2026, 3, 10, 15, 0)),
    )


@pytest.mark.usefixtures("kari")
def test_preview_counts_per_channel_and_only_what_the_options_would_touch(
    client: TestClient, officer: dict[str, str]
) -> None:
    plain = client.post(f"{URL}/preview", json={"phone": "91234567", "email": "kari@example.com"}, headers=officer)
    full = client.post(
        f"{URL}/preview",
        json={"phone": "91234567", "email": "kari@example.com", "raw_data": True, "delete_content": True},
        headers=officer,
    )

    assert plain.status_code == 200, plain.text
    assert plain.json() | {"share": None, "warning": None} == {
        "calls": 3,
        "chats": 2,
        "emails": 1,
        "interactions": 6,
        "raw_data_rows": 0,
        "recordings": 0,
        "content": 0,
        "variable_values": 1,
        "mentions": 0,
        "archive_size": 17,
        "share": None,
        "warning": None,
        "mention_index_current": True,
        "linked": [],
        "held": 0,
        "attachments": 0,
        "audio_segments_silenced": 0,
    }
    assert (full.json()["raw_data_rows"], full.json()["recordings"], full.json()["content"]) == (8, 1, 3)


@pytest.mark.usefixtures("kari")
def test_preview_stores_nothing(
    client: TestClient, officer: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    client.post(f"{URL}/preview", json={"phone": "91234567"}, headers=officer)

    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AnonymizationRequest)) == 0


@pytest.mark.usefixtures("kari")
def test_preview_predicts_exactly_what_a_run_at_the_same_moment_reports(
    client: TestClient,
    officer: dict[str, str],
    session_factory: sessionmaker[Session],
    blobs: MemoryBlobStore,
) -> None:
    body = {"phone": "+47 912 34 567", "email": "KARI@example.com", "raw_data": True, "delete_content": True}
    predicted = client.post(f"{URL}/preview", json=body, headers=officer).json()
    client.post(URL, json=body, headers=officer)

    summary = night(session_factory, blobs, NOW)

    assert (
        summary.interactions,
        summary.raw_data_rows,
        summary.recordings_deleted,
        summary.content_deleted,
        summary.variables_replaced,
        summary.mentions_replaced,
    ) == (
        predicted["interactions"],
        predicted["raw_data_rows"],
        predicted["recordings"],
        predicted["content"],
        predicted["variable_values"],
        predicted["mentions"],
    )


@pytest.mark.usefixtures("kari")
def test_a_request_matching_more_than_the_configured_share_gets_a_warning(
    client: TestClient, officer: dict[str, str], session_factory: sessionmaker[Session], solution: Solution
) -> None:
    # Kari's 6 of 17 interactions is 35%: above 30%, below 40%.
    for share, warned in ((0.30, True), (0.40, False)):
        with session_factory() as session, session.begin():
            session.execute(update(Solution).where(Solution.id == solution.id).values(preview_warn_share=share))
        body = client.post(
            f"{URL}/preview", json={"phone": "91234567", "email": "kari@example.com"}, headers=officer
        ).json()
        assert body["share"] == pytest.approx(6 / 17)
        assert (body["warning"] is not None) is warned
    assert "6 of the 17 interactions" in body_with_warning(client, officer, session_factory, solution)


def body_with_warning(
    client: TestClient, officer: dict[str, str], factory: sessionmaker[Session], solution: Solution
) -> str:
    with factory() as session, session.begin():
        session.execute(update(Solution).where(Solution.id == solution.id).values(preview_warn_share=0.01))
    response = client.post(f"{URL}/preview", json={"phone": "91234567", "email": "kari@example.com"}, headers=officer)
    return str(response.json()["warning"])


def test_preview_of_an_empty_archive_matches_nothing_without_dividing_by_zero(
    client: TestClient, officer: dict[str, str]
) -> None:
    body = client.post(f"{URL}/preview", json={"email": "nobody@example.com"}, headers=officer).json()

    assert (body["interactions"], body["archive_size"], body["share"], body["warning"]) == (0, 0, 0.0, None)


def test_preview_refuses_what_the_request_would_refuse(client: TestClient, officer: dict[str, str]) -> None:
    response = client.post(f"{URL}/preview", json={"phone": "12ab"}, headers=officer)

    assert response.status_code == 422
    assert "national number without country code" in response.json()["detail"]
