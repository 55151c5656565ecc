"""Retention rules (CONTRACT §10): precedence, day boundaries, what each ``what`` deletes, crashes, holds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.archive.models import (
    Channel,
    ChatMessage,
    EmailBody,
    Interaction,
    Mention,
    PendingBlobDeletion,
    RawEvent,
    Recording,
)
from archivist.audit.models import AuditEvent
from archivist.blobs.memory import MemoryBlobStore
from archivist.retention import rules as retention
from archivist.retention.holds import HoldCriteria, place_hold
from archivist.retention.models import RetentionWhat
from archivist.retention.rules import DraftRule, add_rule, apply_retention, cutoff_for, governing, preview_rule
from tests.conftest import KEYRING, auth
from tests.functional.anonymization_support import archive, call, chat, email, night, oslo, record

pytestmark = pytest.mark.usefixtures("solution")

NIGHT = oslo(2026, 3, 11, 2, 0)
START_OF_DAY = oslo(2026, 3, 11, 0, 0)

CALL, CHAT, EMAIL = Channel.CALL, Channel.CHAT, Channel.EMAIL
REC, CONTENT, WHOLE, RAW = (
    RetentionWhat.RECORDING,
    RetentionWhat.CONTENT,
    RetentionWhat.INTERACTION,
    RetentionWhat.RAW_DATA,
)


def rule(channel: Channel | None, queue: str | None, keep_days: int, what: RetentionWhat = REC) -> DraftRule:
    return DraftRule(channel, queue, what, keep_days, id=f"{channel}-{queue}-{what}")


# One rule set, every kind of rule for recordings; each rule's keep_days names it.
RULES = [
    rule(None, None, 100),  # solution-wide
    rule(CALL, None, 200),  # every call
    rule(None, "Sales", 300),  # the Sales queue, any channel
    rule(CALL, "Sales", 400),  # calls in Sales
    rule(CHAT, None, 500, CONTENT),  # a content rule: never decides recordings
]


@pytest.mark.parametrize(
    ("channel", "queue", "what", "keep_days"),
    [
        (CALL, "Sales", REC, 400),  # channel and queue beat everything
        (CHAT, "Sales", REC, 300),  # queue beats channel (no chat+Sales rule)
        (CALL, "Support", REC, 200),  # channel beats solution-wide
        (CALL, None, REC, 200),  # no queue: the channel rule
        (EMAIL, "Support", REC, 100),  # nothing specific: solution-wide
        (CHAT, "Support", CONTENT, 500),  # content has its own rules
        (EMAIL, "Support", CONTENT, None),  # no content rule for email: kept
        (CALL, "Sales", WHOLE, None),  # no interaction rule at all: kept
    ],
)
def test_most_specific_rule_wins(
    channel: Channel, queue: str | None, what: RetentionWhat, keep_days: int | None
) -> None:
    found = governing(RULES, channel, queue, what)
    assert (found.keep_days if found else None) == keep_days


def _day(n: int) -> Any:
    return START_OF_DAY - timedelta(days=n)


def _ids(factory: sessionmaker[Session], model: Any, column: Any) -> set[str]:
    with factory() as session:
        return set(session.scalars(select(column)))


def test_sql_precedence_agrees_with_the_table(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    # Every (channel, queue) combination, started 150, 250, 350 and 450 days ago: each rule
    # deletes what is older than its keep_days, so which recordings go shows which rule decided.
    combos = [(ch, q) for ch in ("call", "chat", "email") for q in ("Sales", "Support", None)]
    bodies = []
    for ch, q in combos:
        for age in (150, 250, 350, 450):
            at = _day(age)
            body = call("91234567", at) if ch == "call" else (chat if ch == "chat" else email)("kari@example.no", at)
            body["queue"] = q
            body["external_id"] = f"{ch}-{q}-{age}"
            bodies.append(body)
    ids = archive(session_factory, solution, *bodies)
    for iid in ids:
        record(session_factory, blobs, iid, NIGHT)
    with session_factory() as session, session.begin():
        for r in RULES:
            add_rule(session, solution.id, r, created_by="admin", now=NIGHT)

    apply_retention(session_factory, solution.id, NIGHT, keyring=KEYRING)

    with session_factory() as session:
        kept = set(
            session.scalars(select(Interaction.external_id).join(Recording, Recording.interaction_id == Interaction.id))
        )
    for ch, q in combos:
        decider = governing(RULES, Channel(ch), q, REC)
        assert decider is not None
        for age in (150, 250, 350, 450):
            assert (f"{ch}-{q}-{age}" in kept) == (age <= decider.keep_days), (ch, q, age, decider.keep_days)


@pytest.mark.parametrize(
    ("run", "keep_days"),
    [
        (NIGHT, 30),  # an ordinary night in winter time
        (oslo(2026, 3, 29, 3, 0), 1),  # the night Oslo springs forward (02:00 -> 03:00)
        (oslo(2026, 10, 25, 2, 30, fold=1), 1),  # the night Oslo falls back (the second 02:30)
        (oslo(2026, 4, 28, 2, 0), 30),  # the boundary is in winter time, the run in summer time
    ],
)
def test_one_minute_older_than_keep_days_goes_one_minute_younger_stays(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, run: Any, keep_days: int
) -> None:
    boundary = cutoff_for(run, solution.timezone, keep_days)
    local = boundary.astimezone(run.tzinfo)
    # The boundary is local midnight, keep_days calendar days before the run's local day.
    assert (local.hour, local.minute) == (0, 0)
    assert local.date() == run.date() - timedelta(days=keep_days)
    older, younger = archive(
        session_factory,
        solution,
        call("91234567", boundary - timedelta(minutes=1)),
        call("91234567", boundary + timedelta(minutes=1)),
    )
    for iid in (older, younger):
        record(session_factory, blobs, iid, run)
    with session_factory() as session, session.begin():
        add_rule(session, solution.id, rule(None, None, keep_days), created_by="admin", now=run)

    summary = night(session_factory, blobs, run)

    assert _ids(session_factory, Recording, Recording.interaction_id) == {younger}
    assert summary.retention[0]["deleted"] == 1
    assert len(blobs.list_keys("recordings/")) == 1


def test_interaction_rule_deletes_everything_but_the_statistics(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    old_call, _old_chat, _old_email, young = archive(
        session_factory,
        solution,
        call("91234567", _day(40), events=2),
        chat("kari@example.no", _day(40), events=1),
        email("kari@example.no", _day(40)),
        call("91234567", _day(10), events=1),
    )
    record(session_factory, blobs, old_call, NIGHT)
    with session_factory() as session, session.begin():
        add_rule(session, solution.id, rule(None, None, 30, WHOLE), created_by="admin", now=NIGHT)
        preview = preview_rule(session, solution, rule(None, None, 30, WHOLE), NIGHT)

    summary = night(session_factory, blobs, NIGHT)

    assert preview == {"interaction": 3, "recording": 1, "content": 2, "raw_data": 0}
    assert summary.retention == [
        {"rule_id": summary.retention[0]["rule_id"], "what": "interaction", "deleted": 3, "failed": False}
    ]
    with session_factory() as session:
        assert set(session.scalars(select(Interaction.id))) == {young}
        for model in (ChatMessage, EmailBody, Recording, PendingBlobDeletion):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
        assert session.scalar(select(func.count()).select_from(Mention).where(Mention.interaction_id != young)) == 0
        raw = session.execute(select(RawEvent.interaction_id, RawEvent.customer, RawEvent.customer_norm)).all()
    # Every raw row survives: the old ones without their interaction and with the customer replaced.
    assert len(raw) == 4
    assert (
        sorted((r.interaction_id is None, r.customer, r.customer_norm) for r in raw if r.interaction_id != young)
        == [(True, solution.replacement, None)] * 3
    )
    assert blobs.list_keys("recordings/") == []


def test_content_and_raw_data_rules(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    old_chat, old_email, young_chat = archive(
        session_factory,
        solution,
        chat("kari@example.no", _day(8), events=2),
        email("kari@example.no", _day(8)),
        chat("kari@example.no", _day(2), events=1),
    )
    with session_factory() as session, session.begin():
        add_rule(session, solution.id, rule(CHAT, None, 7, CONTENT), created_by="admin", now=NIGHT)
        add_rule(session, solution.id, rule(None, None, 5, RAW), created_by="admin", now=NIGHT)

    summary = night(session_factory, blobs, NIGHT)

    assert sorted((r["what"], r["deleted"]) for r in summary.retention) == [("content", 1), ("raw_data", 2)]
    with session_factory() as session:
        assert set(session.scalars(select(ChatMessage.interaction_id))) == {young_chat}
        # An email is not a chat: its body stays.
        assert set(session.scalars(select(EmailBody.interaction_id))) == {old_email}
        assert set(session.scalars(select(RawEvent.interaction_id))) == {young_chat}
        # The chat itself stays, without content.
        chat_row = session.get(Interaction, old_chat)
        assert chat_row is not None
        assert chat_row.has_content is False
        actions = list(session.scalars(select(AuditEvent.details).where(AuditEvent.action == "retention.applied")))
    assert sorted((d["what"], d["deleted"]) for d in actions) == [("content", 1), ("raw_data", 2)]


def test_held_interactions_are_untouched_by_retention(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    held, free = archive(session_factory, solution, call("91234567", _day(40)), call("92345678", _day(40)))
    for iid in (held, free):
        record(session_factory, blobs, iid, NIGHT)
    with session_factory() as session, session.begin():
        place_hold(
            session,
            solution,
            HoldCriteria(phone_e164="+4791234567"),
            reason="Case 2026-17",
            until=None,
            created_by="officer",
            now=NIGHT,
        )
        add_rule(session, solution.id, rule(None, None, 30, WHOLE), created_by="admin", now=NIGHT)
        assert preview_rule(session, solution, rule(None, None, 30, WHOLE), NIGHT)["interaction"] == 1

    night(session_factory, blobs, NIGHT)

    assert _ids(session_factory, Interaction, Interaction.id) == {held}
    assert _ids(session_factory, Recording, Recording.interaction_id) == {held}


def test_a_failing_chunk_is_rolled_back_and_the_next_run_resumes(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = archive(session_factory, solution, *(call("91234567", _day(40) + timedelta(minutes=i)) for i in range(7)))
    for iid in ids:
        record(session_factory, blobs, iid, NIGHT)
    with session_factory() as session, session.begin():
        add_rule(session, solution.id, rule(None, None, 30, WHOLE), created_by="admin", now=NIGHT)
    monkeypatch.setattr(retention, "CHUNK", 3)
    real = retention.anonymize_raw_data_of_interactions  # type: ignore[attr-defined]  # the name the rule calls, replaced below
    calls = {"n": 0}

    def crash_in_second_chunk(session: Session, chunk: list[str], *, replacement: str) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk went away")  # after the chunk's recordings and content went
        return real(session, chunk, replacement=replacement)

    monkeypatch.setattr(retention, "anonymize_raw_data_of_interactions", crash_in_second_chunk)

    first = night(session_factory, blobs, NIGHT)

    assert (first.retention[0]["deleted"], first.retention[0]["failed"]) == (3, True)
    with session_factory() as session:
        left = list(session.scalars(select(Interaction.id).order_by(Interaction.started_at)))
        # The failed chunk is whole: each of its interactions still has its recording.
        assert left == ids[3:]
        assert set(session.scalars(select(Recording.interaction_id))) == set(ids[3:])

    monkeypatch.setattr(retention, "anonymize_raw_data_of_interactions", real)
    second = night(session_factory, blobs, NIGHT + timedelta(days=1))

    assert (second.retention[0]["deleted"], second.retention[0]["failed"]) == (4, False)
    assert _ids(session_factory, Interaction, Interaction.id) == set()
    assert blobs.list_keys("recordings/") == []


def test_preview_counts_what_the_run_deletes_among_more_specific_rules(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    sales = call("91234567", _day(40))
    sales["queue"] = "Sales"
    support = call("91234567", _day(40))
    support["queue"] = "Support"
    ids = archive(session_factory, solution, sales, support)
    for iid in ids:
        record(session_factory, blobs, iid, NIGHT)
    with session_factory() as session, session.begin():
        # Sales keeps its recordings a year: a solution-wide 30 days must not reach them.
        add_rule(session, solution.id, rule(None, "Sales", 365), created_by="admin", now=NIGHT)
        counts = preview_rule(session, solution, rule(None, None, 30), NIGHT)
        add_rule(session, solution.id, rule(None, None, 30), created_by="admin", now=NIGHT)
    assert counts == {"recording": 1, "content": 0, "interaction": 0, "raw_data": 0}

    summary = night(session_factory, blobs, NIGHT)

    assert sum(r["deleted"] for r in summary.retention) == 1
    assert _ids(session_factory, Recording, Recording.interaction_id) == {ids[0]}


def test_rules_api_roles_validation_and_duplicates(
    client: Any, make_token: Any, solution: Solution, other_solution: Solution
) -> None:
    admin = auth(make_token(Role.ADMIN, solution))
    officer = auth(make_token(Role.PRIVACY_OFFICER, solution))
    supervisor = auth(make_token(Role.SUPERVISOR, solution))
    body = {"channel": "call", "queue": "Sales", "what": "recording", "keep_days": 90}

    created = client.post("/api/v1/retention-rules", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in body} == body
    assert client.post("/api/v1/retention-rules", json=body, headers=admin).status_code == 409
    assert client.post("/api/v1/retention-rules", json=body, headers=officer).status_code == 403
    assert client.get("/api/v1/retention-rules", headers=officer).json()[0]["id"] == created.json()["id"]
    assert client.get("/api/v1/retention-rules", headers=supervisor).status_code == 403
    for bad in (
        {**body, "keep_days": 0},
        {**body, "what": "everything"},
        {**body, "channel": "fax"},
        {"what": "recording"},
    ):
        assert client.post("/api/v1/retention-rules", json=bad, headers=admin).status_code == 422, bad
    preview = client.post("/api/v1/retention-rules/preview", json=body, headers=admin)
    assert preview.status_code == 200
    assert set(preview.json()) == {"recording", "content", "interaction", "raw_data"}

    other_admin = auth(make_token(Role.ADMIN, other_solution))
    assert client.delete(f"/api/v1/retention-rules/{created.json()['id']}", headers=other_admin).status_code == 404
    assert client.delete(f"/api/v1/retention-rules/{created.json()['id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/retention-rules", headers=admin).json() == []


def test_a_rule_matches_its_queue_whatever_the_case_as_search_does(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, client: Any, make_token: Any
) -> None:
    # The probe: a rule for "sales" previewed 0 of the "Sales" queue that *Queue* search finds.
    sales = call("91234567", _day(40))
    sales["queue"] = "Sales"
    sales["events"] = [{"at": _day(40).isoformat(), "type": "queued", "queue": "SALES"}]
    other = call("91234567", _day(40))
    other["queue"] = "Support"
    ids = archive(session_factory, solution, sales, other)
    for iid in ids:
        record(session_factory, blobs, iid, NIGHT)
    with session_factory() as session:
        assert preview_rule(session, solution, rule(None, "sales", 30), NIGHT)["recording"] == 1
        assert preview_rule(session, solution, rule(None, " sales ", 30, RAW), NIGHT)["raw_data"] == 1
    assert governing([rule(None, "sales", 30)], CALL, "Sales", REC) is not None
    admin = auth(make_token(Role.ADMIN, solution))
    body = {"channel": None, "queue": "sales", "what": "recording", "keep_days": 30}
    assert client.post("/api/v1/retention-rules", json=body, headers=admin).status_code == 201
    # "SALES" is the same target as "sales": a second rule would leave which one wins unclear.
    assert client.post("/api/v1/retention-rules", json={**body, "queue": "SALES"}, headers=admin).status_code == 409

    night(session_factory, blobs, NIGHT)
    assert _ids(session_factory, Recording, Recording.interaction_id) == {ids[1]}


@pytest.mark.parametrize(
    ("channel", "queue", "index"),
    [
        (None, None, "kept"),
        (CALL, None, "kept_by_channel"),
        (None, "Sales", "kept_by_queue"),
    ],
)
def test_a_pass_reads_only_interactions_that_still_have_what_it_deletes(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    channel: Channel | None,
    queue: str | None,
    index: str,
) -> None:
    """Issue 26: a recording or content rule pages through an index of what is still there, of its
    own shape, so neither what it emptied on earlier nights nor what no rule deletes (another
    queue's recordings) is read again every night."""
    calls = archive(session_factory, solution, *({**call(f"9123456{n}", _day(40)), "queue": "Sales"} for n in range(3)))
    archive(session_factory, solution, {**chat("kari@example.no", _day(40), events=1), "queue": "Sales"})
    for iid in calls:
        record(session_factory, blobs, iid, NIGHT)
    with session_factory() as session, session.begin():
        add_rule(session, solution.id, rule(channel, queue, 30, REC), created_by="admin", now=NIGHT)
        content_channel = CHAT if channel else None  # the chat's content; the calls have none
        add_rule(session, solution.id, rule(content_channel, queue, 30, CONTENT), created_by="admin", now=NIGHT)
    pages: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().startswith("SELECT") and "ORDER BY interactions.started_at" in statement:
            pages.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        summary = night(session_factory, blobs, NIGHT)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert sorted((r["what"], r["deleted"]) for r in summary.retention) == [("content", 1), ("recording", 3)]
    flags = {"has_recording IS": "recording", "has_content IS": "content"}
    checked = set()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # a few rows: the planner would read the heap
        for statement, parameters in pages:
            (what,) = (what for flag, what in flags.items() if flag in statement)
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(prefix + statement, parameters))
            assert f"ix_interactions_{what}_{index} " in plan + " ", plan
            checked.add(what)
        conn.rollback()
    assert checked == set(flags.values())
