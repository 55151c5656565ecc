"""Subject access exports (CONTRACT §12): the ZIP against the archive, nobody else's data, expiry, roles, audit."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.access.criteria import Criteria, CriteriaBox
from archivist.access.export import EXPORT_LIFETIME, create_export, stream_export
from archivist.accounts.models import Role, Solution
from archivist.archive.models import Interaction
from archivist.archive.recordings import attach_recording, new_blob_key
from archivist.audit.models import AuditEvent
from archivist.blobs.fsspec_store import FsspecBlobStore
from archivist.blobs.memory import MemoryBlobStore
from archivist.exports.models import SubjectExport
from tests.conftest import KEYRING, TEST_SECRET_KEY, Clock, TokenMaker, auth
from tests.functional.anonymization_support import WAV, archive, call, chat, email, night, oslo, record

URL = "/api/v1/subject-exports"
# The person: typed in other forms than stored.
PHONE, PHONE_E164, ADDRESS = "+47 912 34 567", "+4791234567", "kari.nordmann@example.com"
# Canaries: another customer of the same solution, and a customer of another solution who
# has the person's very number. None of it may reach the person's ZIP.
OTHER_PHONE, OTHER_ADDRESS, OTHER_TEXT = "98765432", "ola.canary@example.com", "CANARY-OTHER-CUSTOMER-TEXT"
FOREIGN_TEXT = "CANARY-OTHER-SOLUTION-TEXT"


@pytest.fixture
def officer(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.PRIVACY_OFFICER, solution))


@pytest.fixture(autouse=True)
def _now(clock: Clock) -> None:
    clock.now = oslo(2026, 3, 10, 12, 0)


def _zip(response: Any) -> zipfile.ZipFile:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def _verified_manifest(archive_: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, after checking each file it lists against the ZIP byte for byte."""
    manifest: dict[str, Any] = json.loads(archive_.read("manifest.json"))
    listed = {f["name"] for f in manifest["files"]}
    assert listed == set(archive_.namelist()) - {"manifest.json"}
    for entry in manifest["files"]:
        data = archive_.read(entry["name"])
        assert len(data) == entry["size"], entry["name"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["name"]
    return manifest


@pytest.fixture
def world(
    session_factory: sessionmaker[Session], solution: Solution, other_solution: Solution, blobs: MemoryBlobStore
) -> dict[str, Any]:
    mine = archive(
        session_factory,
        solution,
        {**call("91234567", oslo(2026, 3, 1, 9), events=2), "variables": {"order": "A-17"}},
        call("0047 91234567", oslo(2026, 3, 2, 9)),
        {
            **chat(ADDRESS.upper(), oslo(2026, 3, 3, 9), events=1),
            "messages": [{"at": oslo(2026, 3, 3, 9).isoformat(), "from": "customer", "text": "Hei, det er Kari"}],
        },
        email(ADDRESS, oslo(2026, 3, 4, 9)),
    )
    for iid in mine[:2]:
        record(session_factory, blobs, iid, oslo(2026, 3, 5))
    other = archive(
        session_factory,
        solution,
        {
            **chat(OTHER_ADDRESS, oslo(2026, 3, 6, 9), events=1),
            # The other customer writes the person's number: a reference in the export, not content.
            "messages": [
                {"at": oslo(2026, 3, 6, 9).isoformat(), "from": "customer", "text": f"{OTHER_TEXT} 912 34 567"}
            ],
        },
        {**call(OTHER_PHONE, oslo(2026, 3, 6, 10), events=1), "variables": {"note": OTHER_TEXT}},
    )
    record(session_factory, blobs, other[1], oslo(2026, 3, 6))
    foreign = archive(
        session_factory,
        other_solution,
        {
            **chat("kari.nordmann@example.com", oslo(2026, 3, 6, 11)),
            "customer": {"phone": "004791234567", "email": ADDRESS, "name": FOREIGN_TEXT},
            "messages": [{"at": oslo(2026, 3, 6, 11).isoformat(), "from": "customer", "text": FOREIGN_TEXT}],
        },
    )
    return {"mine": mine, "other": other, "foreign": foreign}


def test_export_holds_the_persons_interactions_raw_data_and_recordings_and_nobody_elses(
    client: TestClient, officer: dict[str, str], world: dict[str, Any]
) -> None:
    created = client.post(URL, json={"phone": PHONE, "email": ADDRESS.title()}, headers=officer)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "ready"
    assert body["counts"] == {"calls": 2, "chats": 1, "emails": 1, "recordings": 2, "raw_data_rows": 3}
    assert body["mentioned_in"] == 1
    assert (body["phone"], body["email"]) == ("91****67", "k***@***.com")

    archive_ = _zip(client.get(f"{URL}/{body['id']}/download", headers=officer))
    manifest = _verified_manifest(archive_)
    assert manifest["recordings_missing"] == []
    document = json.loads(archive_.read("interactions.json"))
    assert [i["id"] for i in document["interactions"]] == world["mine"]  # oldest first
    by_id = {i["id"]: i for i in document["interactions"]}
    assert by_id[world["mine"][0]]["variables"] == {"order": "A-17"}
    assert by_id[world["mine"][0]]["recording"] == f"recordings/{world['mine'][0]}.wav"
    assert by_id[world["mine"][2]]["content"] == {
        "messages": [{"at": "2026-03-03T08:00:00+00:00", "from": "customer", "text": "Hei, det er Kari"}]
    }
    # An email as GET …/content shows it (CONTRACT §15); posted as JSON, it has no HTML, headers or attachments.
    assert by_id[world["mine"][3]]["content"] == {
        "subject": "Faktura",
        "body": "Hei, se vedlegg.",
        "html": None,
        "headers": {"from": None, "to": None, "cc": None, "reply_to": None},
        "attachments": [],
    }
    # Another customer's chat that names the person: its id, time and channel, nothing more.
    assert document["mentioned_in"] == [
        {"interaction_id": world["other"][0], "started_at": "2026-03-06T08:00:00+00:00", "channel": "chat"}
    ]
    for iid in world["mine"][:2]:
        assert archive_.read(f"recordings/{iid}.wav") == WAV
    rows = list(csv.DictReader(io.StringIO(archive_.read("raw_data.csv").decode())))
    assert sorted(r["interaction_id"] for r in rows) == sorted([world["mine"][0]] * 2 + [world["mine"][2]])
    everything = b"".join(archive_.read(name) for name in archive_.namelist())
    for canary in (OTHER_PHONE, OTHER_ADDRESS, OTHER_TEXT, FOREIGN_TEXT, *world["foreign"], world["other"][1]):
        assert canary.encode() not in everything, canary


def test_export_needs_a_phone_or_an_address_and_refuses_what_cannot_be_one_without_echoing_it(
    client: TestClient, officer: dict[str, str]
) -> None:
    nothing = client.post(URL, json={}, headers=officer)
    assert nothing.status_code == 422
    assert "phone number or an email address" in nothing.json()["detail"]
    bad = client.post(URL, json={"phone": "91x234567canary"}, headers=officer)
    assert bad.status_code == 422
    assert "canary" not in bad.text
    assert client.post(URL, json={"email": "not-an-address"}, headers=officer).status_code == 422
    assert client.post(URL, json={"phone": "91234567", "name": "x"}, headers=officer).status_code == 422


def test_export_expires_after_seven_days_and_then_forgets_whose_it_was(
    client: TestClient,
    officer: dict[str, str],
    world: dict[str, Any],
    clock: Clock,
    session_factory: sessionmaker[Session],
    blobs: MemoryBlobStore,
    solution: Solution,
) -> None:
    export_id = client.post(URL, json={"phone": PHONE}, headers=officer).json()["id"]
    clock.now += EXPORT_LIFETIME - EXPORT_LIFETIME / (7 * 24 * 60)  # a minute before
    assert client.get(f"{URL}/{export_id}/download", headers=officer).status_code == 200
    clock.now += EXPORT_LIFETIME / (7 * 24 * 60)
    gone = client.get(f"{URL}/{export_id}/download", headers=officer)
    assert gone.status_code == 410
    assert client.get(f"{URL}/{export_id}", headers=officer).json()["status"] == "expired"
    night(session_factory, blobs, clock.now, solution)
    with session_factory() as session:
        row = session.get(SubjectExport, export_id)
        assert row is not None
        assert (row.criteria, row.phone_masked, row.email_masked) == (None, None, None)
        assert row.counts["calls"] == 2  # what it held stays, whose it was does not
    shown = client.get(f"{URL}/{export_id}", headers=officer).json()
    assert (shown["status"], shown["phone"], shown["email"]) == ("expired", None, None)


def test_export_that_is_not_expired_survives_the_night(
    client: TestClient,
    officer: dict[str, str],
    world: dict[str, Any],
    clock: Clock,
    session_factory: sessionmaker[Session],
    blobs: MemoryBlobStore,
    solution: Solution,
) -> None:
    export_id = client.post(URL, json={"phone": PHONE}, headers=officer).json()["id"]
    clock.advance(days=6, hours=23)
    night(session_factory, blobs, clock.now, solution)
    assert client.get(f"{URL}/{export_id}/download", headers=officer).status_code == 200


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.PRIVACY_OFFICER, True),  # the officer answers access requests
        (Role.ADMIN, True),  # admins may do what officers may
        (Role.SUPERVISOR, False),  # searches the archive, but hands nobody a copy of a person
        (Role.INGEST, False),  # a machine account
    ],
)
def test_only_privacy_officers_and_admins_export(
    client: TestClient, make_token: TokenMaker, solution: Solution, role: Role, allowed: bool, officer: dict[str, str]
) -> None:
    headers = auth(make_token(role, solution))
    made = client.post(URL, json={"phone": PHONE}, headers=officer).json()["id"]
    expected = 201 if allowed else 403
    assert client.post(URL, json={"phone": PHONE}, headers=headers).status_code == expected
    assert client.get(URL, headers=headers).status_code == (200 if allowed else 403)
    assert client.get(f"{URL}/{made}/download", headers=headers).status_code == (200 if allowed else 403)


def test_another_solutions_export_is_as_absent_as_one_that_does_not_exist(
    client: TestClient, make_token: TokenMaker, other_solution: Solution, officer: dict[str, str]
) -> None:
    made = client.post(URL, json={"phone": PHONE}, headers=officer).json()["id"]
    foreign = auth(make_token(Role.PRIVACY_OFFICER, other_solution))
    for path in (f"{URL}/{made}", f"{URL}/{made}/download"):
        theirs = client.get(path, headers=foreign)
        missing = client.get(path.replace(made, "0" * 32), headers=foreign)
        assert theirs.status_code == 404
        assert theirs.content == missing.content
    assert client.get(URL, headers=foreign).json() == {"items": []}


def test_every_export_and_download_is_audited_with_masked_identifiers_only(
    client: TestClient, officer: dict[str, str], world: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    export_id = client.post(URL, json={"phone": PHONE, "email": ADDRESS}, headers=officer).json()["id"]
    client.get(f"{URL}/{export_id}/download", headers=officer)
    client.get(f"{URL}/{export_id}/download", headers=officer)
    with session_factory() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.target == export_id)).all()
        dumped = json.dumps([(e.action, e.details) for e in session.scalars(select(AuditEvent))])
    assert [e.action for e in events] == [
        "subject_export.created",
        "subject_export.downloaded",
        "subject_export.downloaded",
    ]
    assert events[1].details is not None
    assert events[1].details["phone"] == "91****67"
    assert events[2].details is not None
    assert events[2].details["download"] == 2
    for identifier in ("91234567", PHONE_E164, ADDRESS, "nordmann"):
        assert identifier not in dumped


def test_criteria_are_sealed_in_the_row_and_open_only_with_the_server_secret(
    client: TestClient, officer: dict[str, str], session_factory: sessionmaker[Session], solution: Solution
) -> None:
    export_id = client.post(URL, json={"phone": PHONE, "email": ADDRESS}, headers=officer).json()["id"]
    with session_factory() as session:
        row = session.get(SubjectExport, export_id)
        assert row is not None
        assert row.criteria is not None
        assert b"91234567" not in row.criteria
        assert b"kari" not in row.criteria
        assert CriteriaBox(TEST_SECRET_KEY).open(solution.id, export_id, row.criteria) == Criteria(PHONE_E164, ADDRESS)
        with pytest.raises(ValueError, match=export_id):
            CriteriaBox("another secret").open(solution.id, export_id, row.criteria)
        with pytest.raises(ValueError, match="0" * 32):
            CriteriaBox(TEST_SECRET_KEY).open(solution.id, "0" * 32, row.criteria)


def test_anonymize_and_delete_of_the_persons_interaction_purges_their_export(
    client: TestClient,
    officer: dict[str, str],
    world: dict[str, Any],
    clock: Clock,
    session_factory: sessionmaker[Session],
    blobs: MemoryBlobStore,
) -> None:
    # The export names +4791234567; erasing that customer's call makes it stale (CONTRACT §18).
    export_id = client.post(URL, json={"phone": PHONE}, headers=officer).json()["id"]
    other_export = client.post(URL, json={"phone": OTHER_PHONE}, headers=officer).json()["id"]
    client.post(
        "/api/v1/interactions/anonymize-and-delete", json={"ids": [world["mine"][0]]}, headers=officer
    ).raise_for_status()
    gone = client.get(f"{URL}/{export_id}/download", headers=officer)
    assert gone.status_code == 410
    assert "erasure" in gone.json()["detail"]
    assert client.get(f"{URL}/{export_id}", headers=officer).json()["status"] == "erased"
    # Somebody else's export is not touched.
    assert client.get(f"{URL}/{other_export}/download", headers=officer).status_code == 200


def test_an_export_made_before_the_night_is_gone_after_it_and_a_new_one_lists_nothing_anonymized(
    client: TestClient,
    officer: dict[str, str],
    world: dict[str, Any],
    clock: Clock,
    session_factory: sessionmaker[Session],
    blobs: MemoryBlobStore,
    solution: Solution,
) -> None:
    before = client.post(URL, json={"phone": PHONE, "email": ADDRESS}, headers=officer).json()["id"]
    # With raw data: without it the raw rows keep the number, and they are still the person's.
    request = {"phone": PHONE, "email": ADDRESS, "raw_data": True}
    assert client.post("/api/v1/anonymization-requests", json=request, headers=officer).status_code == 201
    clock.advance(days=1)
    night(session_factory, blobs, clock.now, solution)

    # The probe's finding: the old export still answered 200 and named the person.
    assert client.get(f"{URL}/{before}/download", headers=officer).status_code == 410
    with session_factory() as session:
        row = session.get(SubjectExport, before)
        assert row is not None
        assert (row.criteria, row.keys, row.phone_masked, row.email_masked) == (None, None, None, None)

    # A new export for the same person: the anonymized interactions hold none of their data.
    made = client.post(URL, json={"phone": PHONE, "email": ADDRESS}, headers=officer).json()
    assert made["counts"] == {"calls": 0, "chats": 0, "emails": 0, "recordings": 0, "raw_data_rows": 0}
    assert made["anonymized"]["interactions"] == len(world["mine"])
    assert made["anonymized"]["last_at"] is not None
    archive_ = _zip(client.get(f"{URL}/{made['id']}/download", headers=officer))
    document = json.loads(archive_.read("interactions.json"))
    assert document["interactions"] == []
    # (The ZIP names whose copy it is; it hands back nothing the erasure took.)
    for name in archive_.namelist():
        text = archive_.read(name)
        for iid in world["mine"]:
            assert iid.encode() not in text, (name, iid)


# 40 recordings of 5 MB through the real file store: 200 MB the export must never hold.
RECORDINGS, RECORDING_BYTES = 40, 5 * 1024 * 1024


def test_export_of_many_large_recordings_streams_in_bounded_memory(
    session_factory: sessionmaker[Session], solution: Solution, tmp_path: Path, clock: Clock
) -> None:
    store = FsspecBlobStore((tmp_path / "blobs").as_uri())
    ids = archive(
        session_factory, solution, *(call("91234567", oslo(2026, 3, 1, 8, minute)) for minute in range(RECORDINGS))
    )
    digests: dict[str, str] = {}
    with session_factory() as session, session.begin():
        for iid in ids:
            audio = b"RIFF" + os.urandom(RECORDING_BYTES - 4)
            key = new_blob_key(solution.id, iid, "audio/wav")
            store.put(key, audio, "audio/wav")
            interaction = session.get(Interaction, iid)
            assert interaction is not None
            attach_recording(session, interaction, key, "audio/wav", len(audio), clock.now)
            digests[f"recordings/{iid}.wav"] = hashlib.sha256(audio).hexdigest()
    box = CriteriaBox(TEST_SECRET_KEY)
    with session_factory() as session, session.begin():
        export = create_export(
            session,
            solution,
            Criteria(PHONE_E164, None),
            created_by="officer",
            now=clock.now,
            keyring=KEYRING,
            box=box,
        )
        session.expunge(export)
    target = tmp_path / "export.zip"
    largest = total = 0
    tracemalloc.start()
    try:
        with target.open("wb") as out:
            for chunk in stream_export(
                session_factory, store, solution, export, Criteria(PHONE_E164, None), keyring=KEYRING
            ):
                out.write(chunk)
                largest = max(largest, len(chunk))
                total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > RECORDINGS * RECORDING_BYTES
    # Peak traced memory stays under 2 recordings (4% of the export) however many there are.
    assert peak < 2 * RECORDING_BYTES, peak
    assert largest < RECORDING_BYTES
    with zipfile.ZipFile(target) as archive_:
        manifest = json.loads(archive_.read("manifest.json"))
        listed = {f["name"]: f["sha256"] for f in manifest["files"] if f["name"].startswith("recordings/")}
        assert listed == digests
        assert archive_.testzip() is None  # every CRC checks


def test_the_export_opens_with_a_letter_a_person_can_read_in_local_time_with_the_art_15_items(
    client: TestClient,
    officer: dict[str, str],
    make_token: TokenMaker,
    solution: Solution,
    world: dict[str, Any],
) -> None:
    admin = auth(make_token(Role.ADMIN, solution))
    settings = {
        "access_purposes": "Kundeservice <og> klager.",
        "access_recipients": "Plattformleverandøren som databehandler.",
        "access_source": "",
    }
    assert client.patch("/api/v1/settings", json=settings, headers=admin).status_code == 200
    rule = {"channel": "call", "queue": None, "what": "recording", "keep_days": 90}
    assert client.post("/api/v1/retention-rules", json=rule, headers=admin).status_code == 201
    export = client.post(URL, json={"phone": PHONE}, headers=officer).json()
    archive_ = _zip(client.get(f"{URL}/{export['id']}/download", headers=officer))

    assert archive_.namelist()[0] == "summary.html"
    letter = archive_.read("summary.html").decode()
    assert '<html lang="nb">' in letter  # a solution in Norway gets a Norwegian letter
    assert "telefonnummer 912 34 567" in letter or "telefonnummer 91234567" in letter
    # The person's calls in Oslo time (09:00 local), not UTC.
    assert "2026-03-01 09:00" in letter
    assert "2026-03-02 09:00" in letter
    assert "2 samtaler" in letter
    # The Art. 15 items: the settings' texts (escaped), retention in words, a missing one said so.
    assert "Kundeservice &lt;og&gt; klager." in letter
    assert "Plattformleverandøren som databehandler." in letter
    assert "Opptak fra kanalen samtale slettes 90 dager etter samtalen." in letter
    assert "Ikke oppgitt av kundesenteret" in letter
    assert "Datatilsynet" in letter
    # Nobody else's data, and nothing that runs or loads.
    assert OTHER_TEXT not in letter
    assert OTHER_PHONE not in letter
    assert "<script" not in letter
    assert "http://" not in letter
    assert "https://" not in letter
    assert "summary.html" in {f["name"] for f in _verified_manifest(archive_)["files"]}
