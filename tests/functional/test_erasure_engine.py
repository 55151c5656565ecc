"""The erasure engine end to end: requests entered, a night run, the archive read back against exact ground truth."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest
from archivist.anonymize.preview import Preview, preview_with_linked
from archivist.archive.mentions import reindex_solution
from archivist.archive.models import ChatMessage, EmailBody, ErasedIdentifier, Interaction, Mention
from archivist.blobs.memory import MemoryBlobStore
from archivist.identifiers_text import find_phones
from tests.conftest import KEYRING
from tests.corpus.hard_forms import FORM_CLASSES, Case, hard_cases
from tests.functional.anonymization_support import anonymized, archive, call, customer, enter, night, oslo
from tests.functional.test_mentions import chat_with, messages

KARI = "+4791234567"
ENTERED = oslo(2026, 3, 10, 12)
NIGHT = oslo(2026, 3, 11, 2)
NEXT_DAY = oslo(2026, 3, 11, 12)
NEXT_NIGHT = oslo(2026, 3, 12, 2)
REPLACEMENT = "Anonymized"


def preview(
    factory: sessionmaker[Session],
    solution: Solution,
    now: datetime,
    *,
    phone: str | None = None,
    email: str | None = None,
    delete_content: bool = False,
) -> Preview:
    with factory() as session:
        preview, _ = preview_with_linked(
            session,
            solution,
            phone=phone,
            email=email,
            raw_data=False,
            delete_content=delete_content,
            now=now,
            keyring=KEYRING,
        )
        return preview


def replaced(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span replaced by the solution's replacement; tags inside a span stay after it."""
    pieces, last = [], 0
    for start, end in sorted(spans):
        pieces += [
            text[last:start],
            REPLACEMENT,
            "".join(re.findall(r"</?(?!at>|dot>)[A-Za-z][^<>]*>", text[start:end])),
        ]
        last = end
    return "".join([*pieces, text[last:]])


def enter_for(factory: sessionmaker[Session], solution: Solution, now: datetime, identifier: str) -> None:
    """Enter a request as the officer types it: a Norwegian number nationally, others in E.164, an address as is."""
    if identifier.startswith("+47"):
        enter(factory, solution, now, phone=identifier.removeprefix("+47"))
    elif identifier.startswith("+"):
        enter(factory, solution, now, phone=identifier)
    else:
        enter(factory, solution, now, email=identifier)


# ---------------------------------------------------------------------------------------------
# 1. Every hard form class: recall 1.0 and precision 1.0 through the request service and a night
# ---------------------------------------------------------------------------------------------

CASES = hard_cases(seed=5, per_class=8)


@pytest.mark.parametrize("form_class", FORM_CLASSES)
def test_each_hard_form_class_is_erased_exactly_at_its_true_spans_end_to_end(
    form_class: str, session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    cases: list[Case] = [c for c in CASES if c.form_class == form_class]
    assert cases
    assert all(c.country == solution.country for c in cases)
    truths = sorted({identifier for c in cases for identifier, _ in c.truths})
    negatives = sorted({n for c in cases for n in c.negatives} - set(truths))
    # Each case is a message of a stranger's chat: a landline written in none of the texts.
    strangers = [f"+4722{n:06d}" for n in range(len(cases))]
    assert not any(s[3:] in c.text for s in strangers for c in cases)
    ids = archive(
        session_factory,
        solution,
        *(
            chat_with(phone, "Stranger", oslo(2026, 3, 1, 9) + timedelta(minutes=n), case.text)
            for n, (phone, case) in enumerate(zip(strangers, cases, strict=True))
        ),
    )

    # First the negatives (strangers, wrong readings of the hard forms): they must replace nothing.
    for identifier in negatives:
        enter_for(session_factory, solution, ENTERED, identifier)
    first = night(session_factory, blobs, NIGHT)
    assert first.requests_processed == len(negatives)
    for iid, case in zip(ids, cases, strict=True):
        assert messages(session_factory, iid) == [case.text], case.text
    assert first.mentions_replaced == 0

    # Then every true identifier, one request each: exactly the true spans go.
    for identifier in truths:
        enter_for(session_factory, solution, NEXT_DAY, identifier)
    second = night(session_factory, blobs, NEXT_NIGHT)

    assert second.requests_processed == len(truths)
    requested = set(truths)
    for iid, case in zip(ids, cases, strict=True):
        spans = [span for identifier, spans in case.truths if identifier in requested for span in spans]
        assert messages(session_factory, iid) == [replaced(case.text, spans)], case.text
    assert second.mentions_replaced == sum(len(spans) for c in cases for _, spans in c.truths)
    assert second.interactions == 0  # the strangers' chats are not theirs
    assert not any(anonymized(session_factory, iid) for iid in ids)


# ---------------------------------------------------------------------------------------------
# 2. A second request naming the person's other identifier finds what the first anonymized
# ---------------------------------------------------------------------------------------------


def test_a_later_request_by_email_deletes_the_content_of_a_chat_the_phone_request_anonymized(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    chat_id, call_id = archive(
        session_factory,
        solution,
        {
            "channel": "chat",
            "direction": "inbound",
            "started_at": oslo(2026, 3, 1, 9).isoformat(),
            "customer": {"phone": "91234567", "email": "kari@example.com", "name": "Kari Nordmann"},
            "messages": [{"at": oslo(2026, 3, 1, 9).isoformat(), "from": "customer", "text": "Hei, ring meg"}],
        },
        call("91234567", oslo(2026, 3, 2, 9)),
    )
    enter(session_factory, solution, ENTERED, phone="91234567")
    first = night(session_factory, blobs, NIGHT)
    assert first.interactions == 2
    assert messages(session_factory, chat_id) == ["Hei, ring meg"]

    enter(session_factory, solution, NEXT_DAY, email="kari@example.com", delete_content=True)
    predicted = preview(session_factory, solution, NEXT_DAY, email="kari@example.com", delete_content=True)
    second = night(session_factory, blobs, NEXT_NIGHT)

    assert (predicted.content, predicted.interactions) == (1, 0)
    assert (second.content_deleted, second.interactions) == (1, 0)
    assert messages(session_factory, chat_id) == []
    with session_factory() as session:
        chat = session.get(Interaction, chat_id)
        assert chat is not None
        assert chat.has_content is False
        (result,) = session.scalars(
            select(AnonymizationRequest.result).where(AnonymizationRequest.email_masked.is_not(None))
        )
    assert result is not None
    assert (result["content_deleted"], result["interactions"]) == (1, 0)
    assert anonymized(session_factory, call_id)


# ---------------------------------------------------------------------------------------------
# 3. An unidentified caller whose callback number is the person's
# ---------------------------------------------------------------------------------------------


def test_an_anonymous_call_whose_callback_number_is_the_persons_is_theirs(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    theirs, other = archive(
        session_factory,
        solution,
        call("anonymous", oslo(2026, 3, 1, 9), name="Kari Nordmann", variables={"callback_number": "912 34 567"}),
        call("anonymous", oslo(2026, 3, 1, 10), name="Kari Nordmann", variables={"callback_number": "987 65 432"}),
    )
    enter(session_factory, solution, ENTERED, phone="91234567")

    summary = night(session_factory, blobs, NIGHT)

    after = customer(session_factory, theirs)
    assert (after["name"], after["variables"], after["anonymized"]) == (
        REPLACEMENT,
        {"callback_number": REPLACEMENT},
        True,
    )
    untouched = customer(session_factory, other)
    assert (untouched["name"], untouched["variables"], untouched["anonymized"]) == (
        "Kari Nordmann",
        {"callback_number": "987 65 432"},
        False,
    )
    assert summary.interactions == 1


# ---------------------------------------------------------------------------------------------
# 4. Variables are read by the same recogniser as text
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # A Danish number with the same eight digits is somebody else's.
        ("+45 91234567", "+45 91234567"),
        # A label glued to the number: the number goes, the label stays.
        ("tlf.912 34 567", f"tlf.{REPLACEMENT}"),
    ],
)
def test_a_variable_of_another_customer_is_read_by_the_text_recogniser(
    value: str, expected: str, session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    (iid,) = archive(session_factory, solution, call("98765432", oslo(2026, 3, 1, 9), variables={"note": value}))
    enter(session_factory, solution, ENTERED, phone="91234567")

    night(session_factory, blobs, NIGHT)

    after = customer(session_factory, iid)
    assert after["variables"] == {"note": expected}
    assert after["anonymized"] is False


# ---------------------------------------------------------------------------------------------
# 5. A huge body
# ---------------------------------------------------------------------------------------------

HUGE_MENTIONS = 180_000


def huge_body() -> tuple[str, list[tuple[int, int]]]:
    """About 2 MB: the number 180,000 times in four forms, with other digits every thousand."""
    forms = ("91234567", "912 34 567", "+4791234567", "912-34-567")
    parts = ["Hei, her er numrene: "]
    spans: list[tuple[int, int]] = []
    length = len(parts[0])
    for i in range(HUGE_MENTIONS):
        if i % 1000 == 999:
            filler = "Ola: 98765432, ordre 9123456712; "
            parts.append(filler)
            length += len(filler)
        form = forms[i % len(forms)]
        spans.append((length, length + len(form)))
        parts += [form, ";"]
        length += len(form) + 1
    return "".join(parts), spans


@pytest.mark.slow  # starts processes or runs long: `make test-fast` leaves it out
def test_a_huge_body_is_previewed_and_erased_completely_and_nothing_else_changes(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    body, spans = huge_body()
    assert len(body) > 1_900_000
    (iid,) = archive(
        session_factory,
        solution,
        {
            "channel": "email",
            "direction": "inbound",
            "started_at": oslo(2026, 3, 1, 9).isoformat(),
            "customer": {"email": "ola@example.com", "name": "Ola"},
            "subject": "Numre",
            "body": body,
        },
    )
    enter(session_factory, solution, ENTERED, phone="91234567")

    predicted = preview(session_factory, solution, ENTERED, phone="91234567")
    summary = night(session_factory, blobs, NIGHT)

    assert predicted.mentions == HUGE_MENTIONS
    assert summary.mentions_replaced == HUGE_MENTIONS
    with session_factory() as session:
        stored = session.get(EmailBody, iid)
        assert stored is not None
        after = stored.body
    assert KARI not in {e164 for _, _, e164 in find_phones(after, "NO")}
    assert after == replaced(body, spans)


# ---------------------------------------------------------------------------------------------
# 6. An index built by an older scanner
# ---------------------------------------------------------------------------------------------


def test_the_preview_says_when_the_mention_index_is_outdated_until_it_is_rebuilt(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    archive(session_factory, solution, chat_with("+4798765432", "Ola", oslo(2026, 3, 1, 9), "Kona: 912 34 567"))
    with session_factory() as session, session.begin():
        session.execute(update(Solution).where(Solution.id == solution.id).values(mention_scanner_version=1))

    outdated = preview(session_factory, solution, ENTERED, phone="91234567")
    reindex_solution(session_factory, KEYRING, solution.id, solution.country)
    current = preview(session_factory, solution, ENTERED, phone="91234567")

    assert outdated.mention_index_current is False
    assert outdated.warning is not None
    assert "reindex-mentions" in outdated.warning
    assert current.mention_index_current is True
    assert current.warning is None
    assert current.mentions == 1


# ---------------------------------------------------------------------------------------------
# 7. What the night keeps holds no clear identifier
# ---------------------------------------------------------------------------------------------

CANARY_PHONE = "+4793456781"
CANARY_EMAIL = "canary.person@example.org"


def every_value(factory: sessionmaker[Session], model: Any) -> list[str]:
    table = model.__table__
    with factory() as session:
        return [str(value) for row in session.execute(select(table)) for value in row]


def test_the_night_leaves_no_clear_identifier_in_the_index_the_erasure_record_or_the_request(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    archive(
        session_factory,
        solution,
        {
            "channel": "chat",
            "direction": "inbound",
            "started_at": oslo(2026, 3, 1, 9).isoformat(),
            "customer": {"phone": "934 56 781", "email": CANARY_EMAIL, "name": "Canary Person"},
            "messages": [
                {"at": oslo(2026, 3, 1, 9).isoformat(), "from": "customer", "text": f"Skriv til {CANARY_EMAIL}"}
            ],
            "variables": {"callback": "93456781"},
        },
        chat_with(
            "+4798765432", "Ola", oslo(2026, 3, 2, 9), "Naboen: 934 56 781, Canary.Person@Example.org; meg: 98765432"
        ),
        call("anonymous", oslo(2026, 3, 3, 9), variables={"callback_number": "+47 934 56 781"}),
    )
    enter(session_factory, solution, ENTERED, phone="93456781", email=CANARY_EMAIL)

    summary = night(session_factory, blobs, NIGHT)

    assert summary.interactions == 2
    clear = ("93456781", CANARY_EMAIL, "canary.person", "canary")
    erased = every_value(session_factory, ErasedIdentifier)
    index = every_value(session_factory, Mention)
    assert erased  # the record exists, and holds keyed hashes only
    assert index  # Ola's own number, written in his chat, stays indexed
    for value in erased + index:
        assert not any(c in value.lower() for c in clear), value
    with session_factory() as session:
        (request,) = session.scalars(select(AnonymizationRequest))
        assert (request.phone_e164, request.email_norm) == (None, None)
        assert (request.phone_masked, request.email_masked) == ("93****81", "c***@***.org")
        assert all(not isinstance(v, str) for v in (request.result or {}).values())  # counts only, never an identifier
        assert set(session.scalars(select(ChatMessage.text))) == {
            f"Skriv til {REPLACEMENT}",
            f"Naboen: {REPLACEMENT}, {REPLACEMENT}; meg: 98765432",
        }
    for value in every_value(session_factory, AnonymizationRequest):
        assert not any(c in value.lower() for c in clear), value
