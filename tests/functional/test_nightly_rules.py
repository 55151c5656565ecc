"""The nightly run's rules (CONTRACT §7, the seed), by time travel on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.anonymize.requests import RETENTION_MONTHS
from archivist.archive.models import RawEvent
from archivist.blobs.memory import MemoryBlobStore
from archivist.nightly.models import NightlyRun
from archivist.times import months_before
from tests.functional.anonymization_support import (
    archive,
    archive_state,
    call,
    chat,
    customer,
    email,
    enter,
    night,
    oslo,
    record,
)

pytestmark = pytest.mark.usefixtures("solution")

# A Tuesday in March; Oslo is at UTC+1. The run is the coming night at 02:00.
ENTERED = oslo(2026, 3, 10, 12, 0)
NIGHT = oslo(2026, 3, 11, 2, 0)
CUTOFF = oslo(2026, 3, 11, 0, 0)


@pytest.fixture
def factory(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    return session_factory


def test_call_one_minute_before_cutoff_is_anonymized_one_minute_after_is_not(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    before, after = archive(
        factory,
        solution,
        call("91234567", CUTOFF - timedelta(minutes=1)),
        call("91234567", CUTOFF + timedelta(minutes=1)),
    )
    request_id = enter(factory, solution, ENTERED, phone="91234567")

    summary = night(factory, blobs, NIGHT)

    assert customer(factory, before) | {"variables": None} == {
        "phone": "Anonymized",
        "phone_e164": None,
        "email": "Anonymized",
        "email_norm": None,
        "name": "Anonymized",
        "variables": None,
        "anonymized": True,
    }
    assert customer(factory, after)["phone"] == "91234567"
    assert customer(factory, after)["phone_e164"] == "+4791234567"
    assert customer(factory, after)["name"] == "Kari Nordmann"
    assert summary.requests_processed == 1
    assert summary.interactions == 1
    with factory() as session:
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        assert request.status is RequestStatus.DONE
        assert request.processed_at == NIGHT
        assert request.result == {
            "interactions": 1,
            "recordings_deleted": 0,
            "content_deleted": 0,
            "raw_data_rows": 0,
            "variables_replaced": 0,
            "mentions_replaced": 0,
            "held": 0,
            "attachments_deleted": 0,
            "audio_segments_silenced": 0,
            "also": {"phones": 0, "emails": 0, "variables": 0},
        }


def test_request_entered_at_2359_covers_only_the_last_minute_of_that_day(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    same_minute, next_day = archive(
        factory,
        solution,
        call("91234567", oslo(2026, 3, 10, 23, 59, 30)),
        call("91234567", oslo(2026, 3, 11, 0, 0, 30)),
    )
    enter(factory, solution, oslo(2026, 3, 10, 23, 59), phone="91234567")

    night(factory, blobs, NIGHT)

    assert customer(factory, same_minute)["anonymized"] is True
    assert customer(factory, next_day)["anonymized"] is False


@pytest.mark.parametrize(
    ("entered", "last_covered", "first_left"),
    [
        # The day before spring forward: an ordinary 24-hour day ends at 00:00 CET.
        (oslo(2026, 3, 28, 9, 0), oslo(2026, 3, 28, 23, 59), oslo(2026, 3, 29, 0, 1)),
        # Spring-forward day (23 hours, 02:00 never happens): it still ends at local midnight, 22:00 UTC.
        (oslo(2026, 3, 29, 10, 0), oslo(2026, 3, 29, 23, 59), oslo(2026, 3, 30, 0, 1)),
        # Fall-back day (25 hours, 02:00-03:00 twice): it ends at local midnight, 23:00 UTC.
        (oslo(2026, 10, 25, 10, 0), oslo(2026, 10, 25, 23, 59), oslo(2026, 10, 26, 0, 1)),
        # Entered in the repeated hour itself (the second 02:30, already CET).
        (oslo(2026, 10, 25, 2, 30, fold=1), oslo(2026, 10, 25, 23, 59), oslo(2026, 10, 26, 0, 1)),
    ],
)
def test_cutoff_is_local_midnight_across_daylight_saving_changes(
    factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    entered: object,
    last_covered: object,
    first_left: object,
) -> None:
    from datetime import datetime

    assert isinstance(entered, datetime)
    assert isinstance(last_covered, datetime)
    assert isinstance(first_left, datetime)
    # Calls early on the entry day (including the hour that repeats or is skipped) are covered.
    early, covered, left = archive(
        factory,
        solution,
        call("91234567", entered - timedelta(hours=3)),
        call("91234567", last_covered),
        call("91234567", first_left),
    )
    enter(factory, solution, entered, phone="91234567")

    night(factory, blobs, first_left.replace(hour=2, minute=0) + timedelta(days=1))

    assert customer(factory, early)["anonymized"] is True
    assert customer(factory, covered)["anonymized"] is True
    assert customer(factory, left)["anonymized"] is False


def test_run_on_the_spring_forward_night_processes_the_previous_day(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    # 02:00 does not exist on 2026-03-29 in Oslo; the scheduler fires at 03:00 CEST (01:00 UTC).
    (covered,) = archive(factory, solution, call("91234567", oslo(2026, 3, 28, 23, 30)))
    enter(factory, solution, oslo(2026, 3, 28, 15, 0), phone="91234567")

    summary = night(factory, blobs, oslo(2026, 3, 29, 3, 0))

    assert summary.requests_processed == 1
    assert customer(factory, covered)["anonymized"] is True


def test_request_entered_after_the_run_time_waits_for_the_next_night(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    (early_call,) = archive(factory, solution, call("91234567", oslo(2026, 3, 10, 1, 0)))
    request_id = enter(factory, solution, oslo(2026, 3, 10, 3, 0), phone="91234567")

    summary = night(factory, blobs, oslo(2026, 3, 10, 2, 0))

    assert summary.requests_processed == 0
    assert customer(factory, early_call)["anonymized"] is False
    with factory() as session:
        assert session.get(AnonymizationRequest, request_id).status is RequestStatus.WAITING  # type: ignore[union-attr]


def test_run_earlier_than_the_cutoff_stops_at_the_run_time(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    # `archivist nightly` by hand at 15:00 on the entry day: later calls that day are not touched.
    before, after = archive(
        factory, solution, call("91234567", oslo(2026, 3, 10, 14, 0)), call("91234567", oslo(2026, 3, 10, 16, 0))
    )
    enter(factory, solution, ENTERED, phone="91234567")

    night(factory, blobs, oslo(2026, 3, 10, 15, 0))

    assert customer(factory, before)["anonymized"] is True
    assert customer(factory, after)["anonymized"] is False


@pytest.mark.parametrize(
    "typed",
    [
        "91234567",  # national, as the seed asks
        "912 34 567",  # national, spaced
        "0047 91234567",  # 00 and the country code
        "004791234567",
        "+47 912 34 567",  # + and spaces
        "(+47) 91234567",
        "+47-912-34-567",
    ],
)
def test_every_accepted_form_of_a_number_anonymizes_the_same_calls(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, typed: str
) -> None:
    # However the telephony platform delivered the caller id, it is the same person.
    same = archive(
        factory,
        solution,
        call("+4791234567", oslo(2026, 3, 1, 9)),
        call("4791234567", oslo(2026, 3, 2, 9)),
        call("91234567", oslo(2026, 3, 3, 9)),
        call("0047 912 34 567", oslo(2026, 3, 4, 9)),
    )
    others = archive(
        factory,
        solution,
        call("91234568", oslo(2026, 3, 1, 10)),  # one digit off
        call("+4591234567", oslo(2026, 3, 1, 11)),  # the same digits in Denmark
        call("anonymous", oslo(2026, 3, 1, 12)),  # kept as it came, matches nothing
        call(None, oslo(2026, 3, 1, 13)),
    )
    enter(factory, solution, ENTERED, phone=typed)

    summary = night(factory, blobs, NIGHT)

    assert [customer(factory, i)["anonymized"] for i in same] == [True] * 4
    assert [customer(factory, i)["anonymized"] for i in others] == [False] * 4
    assert customer(factory, others[2])["phone"] == "anonymous"
    assert summary.interactions == 4


def test_foreign_number_entered_with_00_anonymizes_its_calls_only(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    swedish, norwegian = archive(
        factory,
        solution,
        call("+46 70 123 45 67", oslo(2026, 3, 1, 9)),
        call("70123456", oslo(2026, 3, 1, 10)),  # a national number that shares digits
    )
    enter(factory, solution, ENTERED, phone="0046701234567")

    night(factory, blobs, NIGHT)

    assert customer(factory, swedish)["anonymized"] is True
    assert customer(factory, norwegian)["anonymized"] is False


def test_email_matches_case_insensitively_in_chats_and_emails(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    ids = archive(
        factory,
        solution,
        chat("kari.nordmann@example.com", oslo(2026, 3, 1, 9)),
        chat("KARI.NORDMANN@EXAMPLE.COM", oslo(2026, 3, 2, 9)),
        email(" Kari.Nordmann@Example.com ", oslo(2026, 3, 3, 9)),
    )
    (other,) = archive(factory, solution, email("ola@example.com", oslo(2026, 3, 3, 10)))
    request_id = enter(factory, solution, ENTERED, email="Kari.Nordmann@EXAMPLE.com")

    summary = night(factory, blobs, NIGHT)

    assert all(customer(factory, i)["email"] == "Anonymized" for i in ids)
    assert customer(factory, other)["email"] == "ola@example.com"
    assert summary.interactions == 3
    with factory() as session:
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        assert (request.email_norm, request.email_masked) == (None, "k***@***.com")


def test_phone_and_email_in_one_request_count_each_interaction_once(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    both = {**call("91234567", oslo(2026, 3, 1, 9)), "customer": {"phone": "91234567", "email": "kari@example.com"}}
    archive(factory, solution, both, chat("kari@example.com", oslo(2026, 3, 2, 9)), call("91234567", oslo(2026, 3, 3)))
    enter(factory, solution, ENTERED, phone="91234567", email="kari@example.com")

    summary = night(factory, blobs, NIGHT)

    assert summary.interactions == 3


def test_variable_values_containing_the_identifier_are_replaced_others_kept(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    variables = {
        "callback": "+47 912 34 567",  # the number, written differently
        "note": "ring tilbake på 91234567 etter kl 15",  # the number inside text
        "order": "1912345678",  # digits that merely contain it: not the number
        "ivr_choice": "2",
    }
    (iid,) = archive(factory, solution, call("91234567", oslo(2026, 3, 1, 9), variables=variables))
    request_id = enter(factory, solution, ENTERED, phone="91234567")

    summary = night(factory, blobs, NIGHT)

    assert customer(factory, iid)["variables"] == {
        "callback": "Anonymized",
        "note": "Anonymized",
        "order": "1912345678",
        "ivr_choice": "2",
    }
    assert summary.variables_replaced == 2
    with factory() as session:
        assert session.get(AnonymizationRequest, request_id).result["variables_replaced"] == 2  # type: ignore[union-attr,index]


def test_raw_data_rows_are_replaced_only_when_chosen(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    (with_raw,) = archive(factory, solution, call("91234567", oslo(2026, 3, 1, 9), events=3))
    (without_raw,) = archive(factory, solution, call("98765432", oslo(2026, 3, 1, 9), events=2))
    # A raw data row with no interaction, naming the customer, before and after the cutoff.
    with factory() as session, session.begin():
        for at in (oslo(2026, 3, 5, 9), CUTOFF + timedelta(minutes=1)):
            session.add(
                RawEvent(
                    solution_id=solution.id, at=at, type="callback", customer="91234567", customer_norm="+4791234567"
                )
            )
    enter(factory, solution, ENTERED, phone="91234567", raw_data=True)
    enter(factory, solution, ENTERED, phone="98765432", raw_data=False)

    summary = night(factory, blobs, NIGHT)

    with factory() as session:
        rows = session.execute(select(RawEvent.interaction_id, RawEvent.at, RawEvent.customer)).all()
    by_interaction = {(r.interaction_id, r.customer) for r in rows if r.interaction_id}
    assert by_interaction == {(with_raw, "Anonymized"), (without_raw, "98765432")}
    orphans = sorted((r.at, r.customer) for r in rows if r.interaction_id is None)
    assert [c for _, c in orphans] == ["Anonymized", "91234567"]  # the later one is after the cutoff
    assert summary.raw_data_rows == 4


def test_delete_content_removes_recordings_and_chat_logs_then_their_blobs(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    the_call, the_chat = archive(
        factory, solution, call("91234567", oslo(2026, 3, 1, 9)), chat("kari@example.com", oslo(2026, 3, 1, 10))
    )
    (kept,) = archive(factory, solution, call("98765432", oslo(2026, 3, 1, 9)))
    record(factory, blobs, the_call, ENTERED)
    kept_key = record(factory, blobs, kept, ENTERED)
    request_id = enter(factory, solution, ENTERED, phone="91234567", email="kari@example.com", delete_content=True)

    summary = night(factory, blobs, NIGHT)

    state = archive_state(factory, blobs)
    assert state["recordings"] == [customer_external(factory, kept)]
    assert state["messages"] == []
    assert blobs.list_keys("recordings/") == [kept_key]
    assert state["pending_blob_deletions"] == 0
    assert (summary.recordings_deleted, summary.content_deleted, summary.blobs_deleted) == (1, 1, 1)
    with factory() as session:
        result = session.get(AnonymizationRequest, request_id).result  # type: ignore[union-attr]
    assert result == {
        "interactions": 2,
        "recordings_deleted": 1,
        "content_deleted": 1,
        "raw_data_rows": 0,
        "variables_replaced": 0,
        "mentions_replaced": 0,
        "held": 0,
        "attachments_deleted": 0,
        "audio_segments_silenced": 0,
        "also": {"phones": 0, "emails": 0, "variables": 0},
    }
    assert the_chat


def customer_external(factory: sessionmaker[Session], interaction_id: str) -> str:
    from archivist.archive.models import Interaction

    with factory() as session:
        return session.get(Interaction, interaction_id).external_id  # type: ignore[union-attr,return-value]


def test_other_solutions_are_never_touched(
    factory: sessionmaker[Session], solution: Solution, other_solution: Solution, blobs: MemoryBlobStore
) -> None:
    (ours,) = archive(factory, solution, call("+4791234567", oslo(2026, 3, 1, 9)))
    (theirs,) = archive(factory, other_solution, call("+4791234567", oslo(2026, 3, 1, 9)))
    enter(factory, solution, ENTERED, phone="91234567")

    night(factory, blobs, NIGHT, solution)
    other_summary = night(factory, blobs, NIGHT, other_solution)

    assert customer(factory, ours)["anonymized"] is True
    assert customer(factory, theirs)["anonymized"] is False
    assert other_summary.requests_processed == 0


def test_counts_equal_what_changed_and_a_second_run_changes_nothing(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    archive(
        factory,
        solution,
        *[call("91234567", oslo(2026, 3, day, 9), events=2, variables={"cb": "91234567"}) for day in range(1, 8)],
        *[chat("kari@example.com", oslo(2026, 3, day, 9), events=1) for day in range(1, 4)],
        *[call("98765432", oslo(2026, 3, day, 9), events=2) for day in range(1, 4)],
        call("91234567", CUTOFF + timedelta(hours=1), events=2),
    )
    before = archive_state(factory, blobs)
    enter(factory, solution, ENTERED, phone="91234567", email="kari@example.com", raw_data=True, delete_content=True)

    first = night(factory, blobs, NIGHT)
    after_first = archive_state(factory, blobs)
    second = night(factory, blobs, NIGHT + timedelta(days=1))

    changed = [k for k, v in after_first["interactions"].items() if v != before["interactions"][k]]
    changed_raw = len(set(before["raw"]) - set(after_first["raw"]))
    assert first.interactions == len(changed) == 10
    assert first.raw_data_rows == changed_raw == 17
    assert first.content_deleted == 3
    assert first.variables_replaced == 7
    assert archive_state(factory, blobs) == after_first
    assert (second.requests_processed, second.interactions, second.raw_data_rows) == (0, 0, 0)


def test_done_request_keeps_no_full_identifier_anywhere_in_its_row(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    archive(factory, solution, call("91234567", oslo(2026, 3, 1, 9)))
    enter(factory, solution, ENTERED, phone="+47 912 34 567", email="kari.nordmann@example.com")

    night(factory, blobs, NIGHT)

    with factory() as session:
        rows = session.execute(text("SELECT * FROM anonymization_requests")).mappings().all()
        runs = session.execute(text("SELECT * FROM nightly_runs")).mappings().all()
    dump = repr([dict(r) for r in rows]) + repr([dict(r) for r in runs])
    for needle in ("91234567", "4791234567", "kari.nordmann", "nordmann@", "example.com"):
        assert needle not in dump
    assert rows[0]["phone_masked"] == "91****67"
    assert rows[0]["email_masked"] == "k***@***.com"


@pytest.mark.parametrize(
    ("age", "kept"),
    [
        # 11 months: still on the page.
        (lambda now: months_before(now, 11), True),
        # One minute inside the retention period.
        (lambda now: months_before(now, RETENTION_MONTHS) + timedelta(minutes=1), True),
        # One minute past it: deleted.
        (lambda now: months_before(now, RETENTION_MONTHS) - timedelta(minutes=1), False),
        # 13 months: deleted.
        (lambda now: months_before(now, 13), False),
    ],
)
def test_request_rows_older_than_twelve_months_are_deleted(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, age: object, kept: bool
) -> None:
    assert callable(age)
    request_id = enter(factory, solution, age(NIGHT), phone="91234567")
    night(factory, blobs, age(NIGHT) + timedelta(days=1))  # done the night after it was entered

    summary = night(factory, blobs, NIGHT)

    with factory() as session:
        assert (session.get(AnonymizationRequest, request_id) is not None) is kept
    assert summary.requests_purged == (0 if kept else 1)


def test_a_thirteen_month_old_waiting_request_is_carried_out_before_its_row_goes(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    entered = months_before(NIGHT, 13)
    (old_call,) = archive(factory, solution, call("91234567", entered - timedelta(hours=1)))
    request_id = enter(factory, solution, entered, phone="91234567")

    summary = night(factory, blobs, NIGHT)

    assert customer(factory, old_call)["anonymized"] is True
    assert (summary.requests_processed, summary.requests_purged) == (1, 1)
    with factory() as session:
        assert session.get(AnonymizationRequest, request_id) is None


def test_each_run_is_recorded_with_counts_only(
    factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    archive(factory, solution, call("91234567", oslo(2026, 3, 1, 9)))
    enter(factory, solution, ENTERED, phone="91234567")

    summary = night(factory, blobs, NIGHT)

    with factory() as session:
        run = session.scalars(select(NightlyRun)).one()
    assert run.id == summary.run_id
    assert run.as_of == NIGHT
    assert run.finished_at is not None
    assert run.trigger == "cli"
    assert run.summary is not None
    assert run.summary["requests_processed"] == 1
    assert run.summary["interactions"] == 1
