"""Proof of erasure (CONTRACT §11): nothing left in the database files, signed receipts, the ledger.

A canary person — a phone number and an email address no other test uses, written in several
forms in customer fields, chat messages, an email body, a subject, variables and a call's
transcript, and mentioned in someone else's interactions — is erased, and then looked for where
a reader of the files, an auditor or a restored backup would find it.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize.ledger import Ledger
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.anonymize.receipts import Signer, verify
from archivist.anonymize.replay import ReplaySummary, replay_solution
from archivist.blobs.memory import MemoryBlobStore
from archivist.nightly import steps
from archivist.nightly.run import run_nightly
from archivist.nightly.summary import ErasureProof, RunSummary, RunTrigger
from archivist.retention.holds import HoldCriteria, place_hold
from tests.conftest import KEYRING, Clock, TokenMaker, auth, backup_database
from tests.functional.anonymization_support import archive, archive_state, call, enter, oslo, record
from tests.functional.test_mentions import chat_with, messages

PHONE = "93456781"
EMAIL = "canary.person@example.org"
# Every form the canary is written in; the E.164 form (+4793456781) contains PHONE.
NEEDLES = ("93456781", "934 56 781", "93 45 67 81", "canary.person@example.org", "canary.person")

ARCHIVED = oslo(2026, 3, 9, 9)
ENTERED = oslo(2026, 3, 10, 12)
NIGHT = oslo(2026, 3, 11, 2)
# The tables an erasure rewrites, where the canary lives before the night.
CANARY_TABLES = (
    "interactions",
    "chat_messages",
    "email_bodies",
    "transcript_segments",
    "raw_events",
    "anonymization_requests",
)


def leaks(haystack: str | bytes) -> list[str]:
    lowered = haystack.lower() if isinstance(haystack, str) else haystack.lower().decode("latin-1")
    return [n for n in NEEDLES if n in lowered]


def archive_canary(factory: sessionmaker[Session], solution: Solution) -> list[str]:
    """The canary's interactions (and two of other people that mention it); their ids."""
    bodies = [
        call("+47 934 56 781", ARCHIVED, events=2, variables={"callback": PHONE, "note": "ring 93 45 67 81"}),
        {
            "channel": "chat",
            "direction": "inbound",
            "started_at": ARCHIVED.isoformat(),
            "customer": {"email": "Canary.Person@Example.org", "name": "Kari"},
            "messages": [
                {"at": ARCHIVED.isoformat(), "from": "customer", "text": "Mitt nummer er 934 56 781"},
                {"at": ARCHIVED.isoformat(), "from": "customer", "text": "eller skriv til canary.person@example.org"},
            ],
            "events": [{"at": ARCHIVED.isoformat(), "type": "chat-0"}],
        },
        {
            "channel": "email",
            "direction": "inbound",
            "started_at": ARCHIVED.isoformat(),
            "customer": {"email": EMAIL},
            "subject": "Faktura for 93456781",
            "body": "Hei, ring meg på 934 56 781 eller skriv til Canary.Person@Example.org.\nMvh",
            "variables": {"contact": EMAIL},
        },
        chat_with(PHONE, "Kari Nordmann", ARCHIVED, "Hei, det er 93456781 igjen", variables={"ref": "934 56 781"}),
        # Other people's interactions that name the canary.
        chat_with("41234567", "Ola", ARCHIVED, "Min kollega har 934 56 781 og canary.person@example.org"),
        call("41234568", ARCHIVED, name="Per", variables={"alt": PHONE}),
        # Said in another caller's call: the transcript is content like a chat (CONTRACT §17).
        {
            **call("41234569", ARCHIVED, name="Liv"),
            "transcript": [
                {"begin_ms": 0, "end_ms": 2_000, "speaker": "agent", "text": "Hva gjelder det?"},
                {"begin_ms": 2_000, "end_ms": 6_000, "speaker": "customer", "text": "Naboen min har 93 45 67 81"},
            ],
        },
    ]
    # Platforms and CSV exports key records by what they know, the caller's number among it: the
    # canary's own call, and Per's (a callback to the canary), are archived under ids that write it.
    external_ids = {0: "+4793456781_20260309T0800", 5: "tel:+4793456781;2026-03-09T0815"}
    return archive(
        factory,
        solution,
        *({**b, "external_id": external_ids.get(n, f"canary-{n}")} for n, b in enumerate(bodies)),
    )


def proof_for(tmp_path: Path) -> ErasureProof:
    return ErasureProof(Signer(Ed25519PrivateKey.generate()), Ledger(f"file://{tmp_path / 'ledger'}"))


def night_with(
    factory: sessionmaker[Session],
    blobs: MemoryBlobStore,
    solution: Solution,
    proof: ErasureProof,
    now: datetime = NIGHT,
) -> RunSummary:
    (summary,) = run_nightly(
        factory, blobs, now, keyring=KEYRING, solution_id=solution.id, trigger=RunTrigger.CLI, proof=proof
    )
    return summary


def tables_text(factory: sessionmaker[Session], tables: tuple[str, ...] = CANARY_TABLES) -> str:
    """The tables' rows as text: what SQL shows, not what the API shows."""
    with factory() as session:
        return repr(
            {
                t: [dict(r) for r in session.execute(text(f"SELECT * FROM {t}")).mappings()]  # noqa: S608 - fixed names
                for t in tables
            }
        )


def sqlite_files(engine: Engine) -> list[Path]:
    assert engine.url.database
    main = Path(engine.url.database)
    return [p for p in (main, main.with_name(main.name + "-wal")) if p.exists()]


def file_bytes(engine: Engine) -> bytes:
    return b"".join(p.read_bytes() for p in sqlite_files(engine))


def require_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("reads the SQLite database file; PostgreSQL has its own heap test")


# 1. SQLite: the raw bytes of the files.


@pytest.mark.parametrize("delete_content", [False, True], ids=["texts-rewritten", "content-deleted"])
def test_sqlite_files_hold_no_byte_of_the_erased_canary(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
    delete_content: bool,
) -> None:
    require_sqlite(engine)
    archive_canary(session_factory, solution)
    enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL, raw_data=True, delete_content=delete_content)
    # Control: the files do hold the canary, so the search below can fail.
    assert set(leaks(file_bytes(engine))) == set(NEEDLES)

    summary = night_with(session_factory, blobs, solution, proof_for(tmp_path))

    assert summary.requests_processed == 1
    assert summary.storage["database"] == "sqlite"
    assert summary.storage["wal_checkpoint"] == "truncated"
    assert leaks(tables_text(session_factory)) == []
    # While the server would still have the database open (connections pooled)...
    assert leaks(file_bytes(engine)) == []
    # ...and once every connection is closed.
    engine.dispose()
    assert leaks(file_bytes(engine)) == []


# 2. PostgreSQL: every tuple on every heap page, dead ones included.


def heap_tuples(engine: Engine, table: str) -> bytes:
    """The data of every line pointer on every page of ``table`` (pageinspect)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.t_data FROM generate_series(0, "
                "(pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::int) - 1) AS n, "
                "LATERAL heap_page_items(get_raw_page(CAST(:t AS text), n::int)) AS t WHERE t.t_data IS NOT NULL"
            ),
            {"t": table},
        ).scalars()
        return b"".join(bytes(r) for r in rows)


@pytest.fixture
def pageinspect(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("reads PostgreSQL heap pages; SQLite has its own file test")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    except Exception as exc:  # noqa: BLE001 - any refusal means the check cannot run here
        pytest.skip(f"pageinspect unavailable: {type(exc).__name__}")
    # VACUUM keeps every row version a transaction still open in this database can see. The
    # tests of a worker share one database, and a connection an earlier test left idle in a
    # transaction would keep the canary's old rows (the receipt names that limit too).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        )


@pytest.mark.usefixtures("pageinspect")
@pytest.mark.parametrize("delete_content", [False, True], ids=["texts-rewritten", "content-deleted"])
def test_postgresql_heap_holds_no_tuple_with_the_erased_canary(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
    delete_content: bool,
) -> None:
    archive_canary(session_factory, solution)
    enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL, raw_data=True, delete_content=delete_content)
    before = {t: leaks(heap_tuples(engine, t)) for t in CANARY_TABLES}
    # Control: the canary is in the heap of every table it was written to.
    written = ("interactions", "chat_messages", "email_bodies", "transcript_segments", "raw_events")
    assert all(before[t] for t in written), before

    summary = night_with(session_factory, blobs, solution, proof_for(tmp_path))

    assert summary.requests_processed == 1
    assert summary.storage["database"] == "postgresql"
    assert leaks(tables_text(session_factory)) == []
    assert {t: leaks(heap_tuples(engine, t)) for t in CANARY_TABLES} == {t: [] for t in CANARY_TABLES}


@pytest.mark.usefixtures("pageinspect")
def test_postgresql_heap_keeps_no_identifier_of_a_hold_released_for_the_night(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
) -> None:
    # A hold on the canary kept its request waiting; it ends by its date at the start of the night
    # (its identifiers cleared, the masked forms kept) and the request goes ahead: the hold's old
    # row version, which still names the canary, must not outlive the storage step either.
    archive_canary(session_factory, solution)
    with session_factory() as session, session.begin():
        place_hold(
            session,
            solution,
            HoldCriteria(phone_e164="+4793456781", email_norm=EMAIL),
            reason="Case 2026-9",
            until=ENTERED.date(),
            created_by="officer",
            now=ENTERED,
        )
    enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL)
    assert leaks(heap_tuples(engine, "legal_holds"))  # control

    summary = night_with(session_factory, blobs, solution, proof_for(tmp_path))

    assert (summary.holds_released, summary.requests_processed) == (1, 1)
    assert leaks(heap_tuples(engine, "legal_holds")) == []


def raw_pages(engine: Engine, table: str) -> bytes:
    """Every byte of every page of ``table`` as the data file holds it, free space included."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT get_raw_page(CAST(:t AS text), n::int) FROM generate_series(0, "
                "(pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::int) - 1) AS n"
            ),
            {"t": table},
        ).scalars()
        return b"".join(bytes(r) for r in rows)


@pytest.mark.usefixtures("pageinspect")
def test_postgresql_vacuum_full_leaves_no_byte_of_the_erased_canary_in_the_data_pages(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
) -> None:
    # A plain VACUUM makes the old rows unreadable by any query (the test above) but leaves their
    # bytes in the pages' free space; ARCHIVIST_POSTGRES_VACUUM_FULL rewrites the tables.
    archive_canary(session_factory, solution)
    enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL, raw_data=True)
    assert leaks(raw_pages(engine, "interactions"))  # control
    assert leaks(raw_pages(engine, "transcript_segments"))  # control

    proof = proof_for(tmp_path)
    summary = night_with(session_factory, blobs, solution, replace(proof, vacuum_full=True))

    assert summary.storage["vacuum_full"] is True
    assert {t: leaks(raw_pages(engine, t)) for t in CANARY_TABLES} == {t: [] for t in CANARY_TABLES}


# 3. Receipts through the API.

URL = "/api/v1/anonymization-requests"
RECEIPT_FIELDS = {
    "request_id",
    "solution_id",
    "entered_at",
    "entered_by",
    "processed_at",
    "cutoff",
    "phone_masked",
    "email_masked",
    "phones_masked",
    "emails_masked",
    "raw_data",
    "delete_content",
    "result",
    "storage",
}


@pytest.fixture
def officer(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.PRIVACY_OFFICER, solution))


@pytest.fixture
def admin(make_token: TokenMaker, solution: Solution) -> dict[str, str]:
    return auth(make_token(Role.ADMIN, solution))


@pytest.fixture
def done_request(
    client: TestClient,
    officer: dict[str, str],
    admin: dict[str, str],
    session_factory: sessionmaker[Session],
    solution: Solution,
    clock: Clock,
) -> str:
    """The canary's request, entered through the API and done by a run through the API."""
    archive_canary(session_factory, solution)
    clock.now = ENTERED
    body = {"phone": "+47 934 56 781", "email": "Canary.Person@Example.org", "raw_data": True}
    response = client.post(URL, json=body, headers=officer)
    assert response.status_code == 201, response.text
    clock.now = NIGHT
    run = client.post("/api/v1/nightly-runs", headers=admin)
    assert run.status_code == 200, run.text
    assert run.json()["requests_processed"] == 1
    return str(response.json()["id"])


def published(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    response = client.get("/api/v1/signing-keys", headers=headers)
    assert response.status_code == 200, response.text
    keys = response.json()
    for key in keys:
        assert set(key) == {"key_id", "public_key"}
        assert len(base64.b64decode(key["public_key"], validate=True)) == 32
    return {k["key_id"]: k["public_key"] for k in keys}


def altered(value: Any) -> Any:
    """``value`` with one small change."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str) and value:
        return value[:-1] + ("0" if value[-1] != "0" else "1")
    if isinstance(value, dict) and value:
        first = sorted(value)[0]
        return {**value, first: altered(value[first])}
    if isinstance(value, list) and value:
        return [altered(value[0]), *value[1:]]
    return "x" if value is None else None


def test_receipt_of_a_done_request_is_signed_complete_and_free_of_personal_data(
    engine: Engine,
    client: TestClient,
    officer: dict[str, str],
    admin: dict[str, str],
    done_request: str,
    solution: Solution,
) -> None:
    response = client.get(f"{URL}/{done_request}/receipt", headers=officer)

    assert response.status_code == 200, response.text
    document = response.json()
    assert set(document) == {"receipt", "key_id", "signature"}
    receipt = document["receipt"]
    assert set(receipt) == RECEIPT_FIELDS
    assert (receipt["request_id"], receipt["solution_id"]) == (done_request, solution.id)
    assert receipt["entered_at"] == "2026-03-10T11:00:00Z"
    assert receipt["processed_at"] == "2026-03-11T01:00:00Z"
    assert receipt["entered_by"].startswith("privacy_officer-")
    assert (receipt["raw_data"], receipt["delete_content"]) == (True, False)
    assert receipt["result"]["interactions"] == 4
    assert receipt["storage"]["database"] == engine.dialect.name
    assert receipt["storage"]["out_of_reach"]  # what no storage step reaches is said, not hidden
    assert receipt["phone_masked"]
    assert receipt["email_masked"]
    assert receipt["phones_masked"] == [receipt["phone_masked"]]
    assert receipt["emails_masked"] == [receipt["email_masked"]]
    assert leaks(response.text) == []
    assert len(base64.b64decode(document["signature"], validate=True)) == 64
    # An admin may read it too.
    assert client.get(f"{URL}/{done_request}/receipt", headers=admin).json() == document

    keys = published(client, officer)
    assert document["key_id"] in keys
    assert verify(document, keys)


def test_a_receipt_with_any_field_changed_does_not_verify(
    client: TestClient, officer: dict[str, str], done_request: str
) -> None:
    document = client.get(f"{URL}/{done_request}/receipt", headers=officer).json()
    keys = published(client, officer)
    assert verify(document, keys)

    for field in sorted(RECEIPT_FIELDS):
        changed = copy.deepcopy(document)
        changed["receipt"][field] = altered(changed["receipt"][field])
        assert not verify(changed, keys), field
    counted = copy.deepcopy(document)
    counted["receipt"]["result"]["interactions"] += 1
    assert not verify(counted, keys)
    added = copy.deepcopy(document)
    added["receipt"]["note"] = "added"
    assert not verify(added, keys)
    signature = copy.deepcopy(document)
    signature["signature"] = ("B" if document["signature"][0] != "B" else "C") + document["signature"][1:]
    assert not verify(signature, keys)
    other_key = Signer(Ed25519PrivateKey.generate())
    assert not verify(document, {document["key_id"]: other_key.public_key})
    assert not verify(other_key.sign(document["receipt"]), keys)


def test_no_receipt_for_a_waiting_request_nor_for_another_solutions(
    client: TestClient,
    officer: dict[str, str],
    done_request: str,
    make_token: TokenMaker,
    other_solution: Solution,
) -> None:
    waiting = client.post(URL, json={"phone": "41234569"}, headers=officer).json()["id"]
    theirs = auth(make_token(Role.PRIVACY_OFFICER, other_solution))
    their_admin = auth(make_token(Role.ADMIN, other_solution))
    their_request = client.post(URL, json={"phone": "0701234567"}, headers=theirs).json()["id"]
    assert client.post("/api/v1/nightly-runs", headers=their_admin).status_code == 200
    assert client.get(f"{URL}/{their_request}/receipt", headers=theirs).status_code == 200

    assert client.get(f"{URL}/{waiting}/receipt", headers=officer).status_code == 409
    assert client.get(f"{URL}/{their_request}/receipt", headers=officer).status_code == 404
    assert client.get(f"{URL}/{done_request}/receipt", headers=theirs).status_code == 404
    assert client.get(f"{URL}/{'0' * 32}/receipt", headers=officer).status_code == 404
    ours = client.get("/api/v1/receipts", headers=officer).json()
    assert [d["receipt"]["request_id"] for d in ours] == [done_request]


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.INGEST])
def test_receipts_are_for_privacy_officers_and_admins_only(
    client: TestClient, done_request: str, make_token: TokenMaker, solution: Solution, role: Role
) -> None:
    headers = auth(make_token(role, solution))

    assert client.get(f"{URL}/{done_request}/receipt", headers=headers).status_code == 403
    assert client.get("/api/v1/receipts", headers=headers).status_code == 403


def test_receipts_are_listed_by_time_and_outlive_the_request_rows_purge(
    client: TestClient, officer: dict[str, str], admin: dict[str, str], done_request: str, clock: Clock
) -> None:
    document = client.get(f"{URL}/{done_request}/receipt", headers=officer).json()

    def listed(**params: str) -> list[dict[str, Any]]:
        response = client.get("/api/v1/receipts", params=params, headers=officer)
        assert response.status_code == 200, response.text
        return list(response.json())

    assert listed(**{"from": "2026-03-11T00:00:00Z", "to": "2026-03-12T00:00:00Z"}) == [document]
    assert listed(**{"from": "2026-03-11T01:00:00+00:00"}) == [document]  # from is inclusive
    assert listed(to="2026-03-11T01:00:00Z") == []  # to is exclusive
    assert listed(**{"from": "2026-03-12T00:00:00Z"}) == []
    for bad in ("yesterday", "2026-13-01T00:00:00Z"):
        response = client.get("/api/v1/receipts", params={"from": bad}, headers=officer)
        assert response.status_code == 422, (bad, response.text)
    assert client.get("/api/v1/receipts", params={"to": "soon"}, headers=officer).status_code == 422

    clock.now = oslo(2027, 4, 11, 2)
    run = client.post("/api/v1/nightly-runs", headers=admin)
    assert run.status_code == 200, run.text
    assert run.json()["requests_purged"] == 1
    assert client.get(f"{URL}/{done_request}", headers=officer).status_code == 404

    assert client.get(f"{URL}/{done_request}/receipt", headers=officer).json() == document
    assert listed(**{"from": "2026-03-11T00:00:00Z", "to": "2026-03-12T00:00:00Z"}) == [document]
    assert verify(document, published(client, officer))


# 4. The CLI.


@pytest.mark.slow  # starts processes or runs long: `make test-fast` leaves it out
def test_cli_verifies_a_saved_receipt_and_refuses_one_changed_byte(
    client: TestClient,
    officer: dict[str, str],
    done_request: str,
    run: Any,
    tmp_path: Path,
) -> None:
    response = client.get(f"{URL}/{done_request}/receipt", headers=officer)
    saved = tmp_path / "receipt.json"
    saved.write_bytes(response.content)
    (public_key,) = published(client, officer).values()

    ok = run("receipt", "verify", str(saved))
    assert ok.returncode == 0, ok.stderr
    assert done_request in ok.stdout
    assert run("receipt", "verify", str(saved), "--public-key", public_key).returncode == 0

    raw = bytearray(response.content)
    at = raw.index(done_request.encode())  # the first hex digit of the request id
    raw[at] = ord("a") if raw[at] != ord("a") else ord("b")
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(bytes(raw))
    json.loads(tampered.read_bytes())  # still a well-formed receipt
    bad = run("receipt", "verify", str(tampered))
    assert bad.returncode == 1, (bad.stdout, bad.stderr)
    assert "NOT valid" in bad.stderr
    assert run("receipt", "verify", str(tampered), "--public-key", public_key).returncode == 1
    stranger = Signer(Ed25519PrivateKey.generate()).public_key
    assert run("receipt", "verify", str(saved), "--public-key", stranger).returncode == 1


# 5. Restoring a backup, then replaying the ledger.


def canary_rows(factory: sessionmaker[Session]) -> list[str]:
    return leaks(
        tables_text(factory, ("interactions", "chat_messages", "email_bodies", "transcript_segments", "raw_events"))
    )


def back_up(engine: Engine, folder: Path) -> Path:
    """A whole copy of the database, as a restore drill starts from (the engine disposed first).

    SQLite: its files, copied into ``folder``. PostgreSQL: a database made from this one as its
    template, a file-level copy as the server holds it; ``folder`` then holds only its name.
    """
    engine.dispose()
    folder.mkdir()
    if engine.dialect.name == "postgresql":
        name = str(engine.url.database)
        with _server(engine) as server:
            _disconnect_others(server, name)
            server.execute(text(f'CREATE DATABASE "{backup_database(name)}" TEMPLATE "{name}"'))
        (folder / "database").write_text(backup_database(name))
        return folder
    for path in sqlite_files(engine):
        shutil.copyfile(path, folder / path.name)
    return folder


def restore(engine: Engine, backup: Path) -> None:
    """Put a copy made by ``back_up`` back in place of the database (PostgreSQL: then drop the copy)."""
    engine.dispose()
    if engine.dialect.name == "postgresql":
        name, copy_name = str(engine.url.database), (backup / "database").read_text()
        with _server(engine) as server:
            server.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            server.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{copy_name}"'))
            server.execute(text(f'DROP DATABASE "{copy_name}"'))
        return
    db = Path(str(engine.url.database))
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    for path in backup.iterdir():
        shutil.copyfile(path, db.with_name(path.name))


@contextlib.contextmanager
def _server(engine: Engine) -> Iterator[Connection]:
    """A connection to the server's maintenance database, outside any transaction."""
    admin = create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            yield conn
    finally:
        admin.dispose()


def _disconnect_others(server: Connection, name: str) -> None:
    # A database is copied only while nobody is connected to it (a session an earlier test left).
    server.execute(
        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
        {"db": name},
    )


def on_disk_leaks(engine: Engine) -> list[str]:
    """The canary's needles the database's files still hold where an erasure must leave none.

    SQLite: anywhere in its files (freed pages are zeroed, the WAL emptied). PostgreSQL: in the
    indexes, which the storage step rewrites; a plain VACUUM leaves the bytes in the tables' free
    space, and the receipt says so (test_postgresql_relation_files_hold_no_erased_canary).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CHECKPOINT")  # what the server holds in memory, on disk as it will be
        try:
            files = relation_files(engine)
        except PermissionError:
            pytest.skip("the PostgreSQL data directory is not readable here (the test runs as root in CI)")
        return sorted({needle for found in file_leaks(files, kinds="i").values() for needle in found})
    return leaks(file_bytes(engine))


def replay(factory: sessionmaker[Session], blobs: MemoryBlobStore, ledger: Ledger, solution: Solution) -> ReplaySummary:
    return replay_solution(factory, blobs, ledger, solution.id, oslo(2026, 3, 12, 9), keyring=KEYRING)


@pytest.mark.parametrize("delete_content", [False, True], ids=["texts-rewritten", "content-deleted"])
def test_restore_drill_replay_forgets_the_canary_again_and_a_second_replay_changes_nothing(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
    delete_content: bool,
) -> None:
    ids = archive_canary(session_factory, solution)
    record(session_factory, blobs, ids[0], ARCHIVED)
    backup = back_up(engine, tmp_path / "backup")
    proof = proof_for(tmp_path)
    enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL, raw_data=True, delete_content=delete_content)
    assert night_with(session_factory, blobs, solution, proof).requests_processed == 1
    assert canary_rows(session_factory) == []
    # The blob store is not restored with the database: the recording's audio stays gone.
    assert len(blobs.list_keys("recordings/")) == (0 if delete_content else 1)

    restore(engine, backup)
    # Control: the restore brought the canary back, into the rows and the files.
    assert set(canary_rows(session_factory)) == set(NEEDLES)
    assert on_disk_leaks(engine) != []

    first = replay(session_factory, blobs, proof.ledger, solution)

    assert (first.entries, first.entries_applied) == (1, 1)
    assert first.counts.interactions == 4
    assert first.counts.recordings_deleted == (1 if delete_content else 0)
    assert canary_rows(session_factory) == []
    assert on_disk_leaks(engine) == []
    state = archive_state(session_factory, blobs)

    second = replay(session_factory, blobs, proof.ledger, solution)

    assert (second.entries, second.entries_applied, second.blobs_deleted) == (1, 0, 0)
    assert set(second.counts.as_dict().values()) == {0}
    assert archive_state(session_factory, blobs) == state


def test_replay_on_an_archive_where_nothing_came_back_changes_nothing(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, tmp_path: Path
) -> None:
    archive_canary(session_factory, solution)
    proof = proof_for(tmp_path)
    enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL, raw_data=True)
    night_with(session_factory, blobs, solution, proof)
    state = archive_state(session_factory, blobs)

    summary = replay(session_factory, blobs, proof.ledger, solution)

    assert (summary.entries, summary.entries_applied, summary.blobs_deleted) == (1, 0, 0)
    assert set(summary.counts.as_dict().values()) == {0}
    assert archive_state(session_factory, blobs) == state


# 6. The ledger across a crash.


class Died(BaseException):
    """The process ending where it stands (not an error the run could catch)."""


def status_of(factory: sessionmaker[Session], request_id: str) -> RequestStatus:
    with factory() as session:
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        return request.status


def test_a_done_request_whose_marker_a_crash_kept_from_being_written_is_reconciled_by_the_next_run(
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive_canary(session_factory, solution)
    request_id = enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL)
    proof = proof_for(tmp_path)

    def die(_self: Ledger, _solution_id: str, _request_id: str) -> None:
        raise Died

    with monkeypatch.context() as patch:
        patch.setattr(Ledger, "commit", die)
        with pytest.raises(Died):
            night_with(session_factory, blobs, solution, proof)
    # Committed in the database, prepared in the ledger, not marked.
    assert status_of(session_factory, request_id) is RequestStatus.DONE
    assert proof.ledger.uncommitted(solution.id) == [request_id]
    assert list(proof.ledger.entries(solution.id)) == []

    later = night_with(session_factory, blobs, solution, proof, oslo(2026, 3, 12, 2))

    assert later.requests_processed == 0
    assert proof.ledger.uncommitted(solution.id) == []
    assert [e.request_id for e in proof.ledger.entries(solution.id)] == [request_id]
    # The crashed run signed nothing; the next one signs it.
    assert later.receipts_issued == 1


def test_an_entry_prepared_for_a_rolled_back_request_is_never_replayed(
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive_canary(session_factory, solution)
    request_id = enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL)
    proof = proof_for(tmp_path)

    def fail(*_args: Any, **_kwargs: Any) -> None:  # after the ledger entry, before the commit
        raise RuntimeError("simulated failure")

    with monkeypatch.context() as patch:
        patch.setattr(steps, "record_processed", fail)
        for night_at in (NIGHT, oslo(2026, 3, 12, 2)):  # the second run's reconcile must not mark it either
            summary = night_with(session_factory, blobs, solution, proof, night_at)
            assert summary.requests_failed == 1
            assert status_of(session_factory, request_id) is RequestStatus.WAITING
            assert proof.ledger.uncommitted(solution.id) == [request_id]
            assert list(proof.ledger.entries(solution.id)) == []
    assert set(canary_rows(session_factory)) == set(NEEDLES)  # rolled back: nothing was erased

    done = night_with(session_factory, blobs, solution, proof, oslo(2026, 3, 13, 2))

    assert done.requests_processed == 1
    assert [e.request_id for e in proof.ledger.entries(solution.id)] == [request_id]


# 7. What the ledger holds.


def ledger_files(root: Path) -> Iterator[Path]:
    return (p for p in sorted(root.rglob("*")) if p.is_file())


def test_ledger_files_hold_no_personal_data(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, tmp_path: Path
) -> None:
    archive_canary(session_factory, solution)
    proof = proof_for(tmp_path)
    enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL, raw_data=True, delete_content=True)
    night_with(session_factory, blobs, solution, proof)

    files = list(ledger_files(tmp_path / "ledger"))
    (entry,) = proof.ledger.entries(solution.id)
    assert len(files) == 2  # the entry and its marker
    # Not even an unkeyed hash of an identifier, which anyone could test numbers against.
    plain = [hashlib.sha256(i.encode()).hexdigest() for i in ("+4793456781", PHONE, EMAIL)]
    for path in files:
        content = path.read_bytes()
        assert leaks(content) == [], path
        assert leaks(path.name) == [], path
        assert not [h for h in plain if h.encode() in content], path
    assert sorted(entry.keys) == sorted(KEYRING.key(solution.id, i) for i in ("+4793456781", EMAIL))


def test_replay_redoes_a_later_request_that_found_its_interactions_by_erased_identifiers(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
) -> None:
    # Request 1 (phone) runs before the backup and clears the customer's address too; request 2
    # (address, delete content) runs after it and finds the chat only by its erased identifier.
    # After the restore no clear form of the address is left to find it by: replay must use the key.
    chat = chat_with("+47" + PHONE, "Canary Person", oslo(2026, 3, 1, 9), "Hei, det gjelder fakturaen")
    chat["customer"]["email"] = EMAIL
    (iid,) = archive(session_factory, solution, chat)
    proof = proof_for(tmp_path)
    enter(session_factory, solution, ENTERED, phone=PHONE)
    night_with(session_factory, blobs, solution, proof)
    backup = back_up(engine, tmp_path / "backup")
    enter(session_factory, solution, oslo(2026, 3, 11, 12), email=EMAIL, delete_content=True)
    assert night_with(session_factory, blobs, solution, proof, oslo(2026, 3, 12, 2)).content_deleted == 1

    restore(engine, backup)
    assert messages(session_factory, iid) == ["Hei, det gjelder fakturaen"]  # control: the chat is back

    summary = replay(session_factory, blobs, proof.ledger, solution)

    assert summary.counts.content_deleted == 1
    assert messages(session_factory, iid) == []


# 2b. PostgreSQL: every relation file of the database, read from disk (CONTRACT §18).


def relation_files(engine: Engine) -> dict[tuple[str, str], bytes]:
    """(relation, relkind) -> the bytes of its main fork on disk, every segment."""
    with engine.connect() as conn:
        data_dir = Path(str(conn.execute(text("SHOW data_directory")).scalar()))
        rows = conn.execute(
            text(
                "SELECT c.oid::regclass::text, c.relkind, pg_relation_filepath(c.oid) FROM pg_class c "
                "WHERE pg_relation_filepath(c.oid) IS NOT NULL"
            )
        ).all()
    files: dict[tuple[str, str], bytes] = {}
    for name, kind, path in rows:
        main = data_dir / path
        segments = [main, *sorted(main.parent.glob(main.name + ".[0-9]*"))]
        files[(name, kind)] = b"".join(p.read_bytes() for p in segments if p.exists())
    return files


def file_leaks(files: dict[tuple[str, str], bytes], kinds: str = "rtim") -> dict[str, list[str]]:
    return {name: found for (name, kind), data in files.items() if kind in kinds and (found := leaks(data))}


@pytest.fixture
def data_files(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("reads PostgreSQL's relation files; SQLite has its own file test")
    with engine.connect() as conn:
        data_dir = Path(str(conn.execute(text("SHOW data_directory")).scalar()))
    try:
        next(data_dir.joinpath("base").iterdir())
    except (PermissionError, FileNotFoundError, StopIteration):
        pytest.skip("the PostgreSQL data directory is not readable here (the test runs as root in CI)")


@pytest.fixture
def quiet_database(engine: Engine) -> None:
    """No transaction that an earlier test left open (they would hold the canary's old rows)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's storage step; SQLite has its own file test")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        )


@pytest.mark.usefixtures("data_files", "quiet_database")
@pytest.mark.parametrize("vacuum_full", [False, True], ids=["vacuum", "vacuum-full"])
@pytest.mark.parametrize("idle_connection", [False, True], ids=["alone", "idle-connection-open"])
def test_postgresql_relation_files_hold_no_erased_canary(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
    vacuum_full: bool,
    idle_connection: bool,
) -> None:
    archive_canary(session_factory, solution)
    enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL, raw_data=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("CHECKPOINT")
    before = file_leaks(relation_files(engine))
    # Control: the canary is on disk in the tables and in their indexes before the night.
    assert any(name == "interactions" for name in before), before
    assert any(name.startswith("ix_") for name in before), before

    # An idle connection (a pooled one, a psql left open) holds no snapshot: it must not matter.
    idle = engine.connect() if idle_connection else None
    try:
        if idle is not None:
            idle.execute(text("SELECT 1")).scalar()
            idle.commit()
        summary = night_with(session_factory, blobs, solution, replace(proof_for(tmp_path), vacuum_full=vacuum_full))
    finally:
        if idle is not None:
            idle.close()

    storage = summary.storage
    assert storage["gave_up"] is False
    assert storage["not_rewritten"] == []
    assert storage["checkpoint"] is True
    after = relation_files(engine)
    # Indexes (and TOAST indexes) are rewritten in both modes: no erased key survives in them.
    assert file_leaks(after, kinds="i") == {}
    assert any(name.startswith("ix_interactions") for name in storage["rewritten"])
    if vacuum_full:
        # Tables, TOAST and indexes rewritten after no older transaction was left: nothing anywhere.
        assert file_leaks(after) == {}
        assert storage["free_space_overwritten"] is True
        assert "interactions" in storage["rewritten"]
    else:
        # Plain VACUUM leaves the bytes in the tables' free space, and the receipt says so.
        assert storage["free_space_overwritten"] is False
        # Only the indexes over identifier columns are rebuilt: the cost follows what can hold one.
        assert {"ix_interactions_phone", "ix_interactions_email", "ix_raw_events_customer"} <= set(storage["rewritten"])
        assert "ix_interactions_time" not in storage["rewritten"]
        assert "interactions" not in storage["rewritten"]


@pytest.mark.usefixtures("data_files", "quiet_database")
def test_postgresql_storage_step_waits_for_an_older_transaction_and_says_when_it_gave_up(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
) -> None:
    # A reader that took its snapshot before the erasure can still see the canary's old rows:
    # VACUUM FULL would copy them into the new files. The step waits, then names what it could not do.
    archive_canary(session_factory, solution)
    enter(session_factory, solution, ENTERED, phone=PHONE, email=EMAIL, raw_data=True)
    reader = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        reader.execute(text("SELECT count(*) FROM interactions")).scalar()  # the snapshot is taken
        proof = replace(proof_for(tmp_path), vacuum_full=True, storage_wait_s=0.5)
        summary = night_with(session_factory, blobs, solution, proof)
    finally:
        reader.close()
    storage = summary.storage
    assert storage["gave_up"] is True
    assert storage["older_transactions"] >= 1
    # The step's lock timeout went back to the pool with its connection: nobody else gets it.
    pooled = [engine.connect() for _ in range(5)]
    try:
        assert {str(c.execute(text("SHOW lock_timeout")).scalar()) for c in pooled} == {"0"}
    finally:
        for c in pooled:
            c.close()
    assert storage["free_space_overwritten"] is False
    assert "row versions an older open transaction could still see" in storage["out_of_reach"]

    # Once the reader is gone, the next storage step finishes the job.
    from archivist.db import forget_freed_space

    again = forget_freed_space(engine, vacuum_full=True, wait_s=5)
    assert again["gave_up"] is False
    assert file_leaks(relation_files(engine)) == {}


@pytest.mark.usefixtures("quiet_database")
def test_postgresql_storage_steps_of_two_nights_run_one_after_the_other(engine: Engine) -> None:
    # Two workers' nights each end with the storage step over the same tables; run together, their
    # VACUUMs and REINDEXes deadlocked (a night failed in CI). A step waits for the one running.
    import threading

    from archivist.db import forget_freed_space
    from archivist.freed_space import STEP_LOCK

    other = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STEP_LOCK})  # another night's step
    done: list[dict[str, Any]] = []
    step = threading.Thread(target=lambda: done.append(forget_freed_space(engine, wait_s=5)))
    step.start()
    try:
        step.join(1.5)
        assert step.is_alive()
        assert done == []
    finally:
        other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STEP_LOCK})
        other.close()
    step.join(60)
    assert not step.is_alive()
    # Waiting for the lock held no snapshot: the step found no older transaction to wait out.
    assert done[0]["gave_up"] is False
    # It let the lock go with its connection back in the pool: the next step takes it at once.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": STEP_LOCK}).scalar() is True
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STEP_LOCK})


@pytest.mark.usefixtures("quiet_database")
def test_postgresql_nights_that_reach_their_step_while_one_runs_share_the_next_step(engine: Engine) -> None:
    # Issue 26: N nights of N tenants, ending while a step runs, ran N more steps over the same
    # shared tables. Those waiting for the lock all share the one step that starts after them.
    import threading

    from archivist.db import forget_freed_space
    from archivist.freed_space import STEP_LOCK

    def steps() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM storage_steps")).scalar_one())

    alone = forget_freed_space(engine, wait_s=5)  # an earlier night's, finished before the others came
    assert alone["shared"] is False
    before = steps()
    other = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STEP_LOCK})  # a step running now
    done: list[dict[str, Any]] = []
    nights = [threading.Thread(target=lambda: done.append(forget_freed_space(engine, wait_s=5))) for _ in range(3)]
    for night in nights:
        night.start()
    try:
        time.sleep(1.5)
        assert all(night.is_alive() for night in nights)  # all three have reached their step
    finally:
        other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STEP_LOCK})
        other.close()
    for night in nights:
        night.join(120)
    assert sorted(result["shared"] for result in done) == [False, True, True]
    assert steps() == before + 1
    # The shared result is the step's own: what it vacuumed and rewrote, for each night's receipts.
    ran = next(result for result in done if not result["shared"])
    assert all({**result, "shared": False} == ran for result in done)
    assert ran["gave_up"] is False
    # A night that reaches its step after that one finished runs its own again.
    assert forget_freed_space(engine, wait_s=5)["shared"] is False


def test_a_maintenance_command_postgresql_cancelled_to_break_a_deadlock_is_run_again() -> None:
    from psycopg.errors import DeadlockDetected
    from sqlalchemy.exc import OperationalError

    from archivist import freed_space

    class Conn:
        """Answers its first statement as PostgreSQL does the loser of a deadlock."""

        def __init__(self, failures: int) -> None:
            self.failures, self.sent = failures, 0

        def exec_driver_sql(self, command: str) -> None:
            self.sent += 1
            if self.sent <= self.failures:
                raise OperationalError(command, {}, DeadlockDetected("deadlock detected"))

    once = Conn(failures=1)
    freed_space._run(once, "VACUUM (ANALYZE) interactions")  # type: ignore[arg-type]
    assert once.sent == 2
    always = Conn(failures=10)
    with pytest.raises(OperationalError):
        freed_space._run(always, "VACUUM (ANALYZE) interactions")  # type: ignore[arg-type]
    assert always.sent == freed_space._DEADLOCK_TRIES
