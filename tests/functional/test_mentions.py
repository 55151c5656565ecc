"""The mention index end to end: indexed at ingestion, swept by the nightly run, previewed, never in clear."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import ChatMessage, EmailBody, Interaction, Mention
from archivist.blobs.memory import MemoryBlobStore
from archivist.identifiers_text import find_emails, find_phones
from tests.conftest import KEYRING, Clock, TokenMaker, auth
from tests.corpus.corpus import Corpus, generate_corpus
from tests.functional.anonymization_support import archive, enter, night, oslo

KARI = "+4791234567"
OLA = "+4798765432"
ENTERED = oslo(2026, 3, 10, 12)
NIGHT = oslo(2026, 3, 11, 2)


def chat_with(
    phone: str, name: str, started: Any, *texts: str, variables: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "channel": "chat",
        "direction": "inbound",
        "started_at": started.isoformat(),
        "customer": {"phone": phone, "name": name},
        "messages": [{"at": started.isoformat(), "from": "customer", "text": t} for t in texts],
        "variables": variables or {},
    }


def messages(factory: sessionmaker[Session], interaction_id: str) -> list[str]:
    with factory() as session:
        return list(
            session.scalars(
                select(ChatMessage.text).where(ChatMessage.interaction_id == interaction_id).order_by(ChatMessage.seq)
            )
        )


def mention_keys(factory: sessionmaker[Session], interaction_id: str) -> set[str]:
    with factory() as session:
        return set(session.scalars(select(Mention.key).where(Mention.interaction_id == interaction_id)))


def test_ingestion_indexes_mentions_under_keyed_hashes_only(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    (iid,) = archive(
        session_factory,
        solution,
        chat_with(OLA, "Ola", oslo(2026, 3, 1, 9), "Ring kona mi på 912 34 567", "eller kari@example.com"),
    )

    assert mention_keys(session_factory, iid) == {
        KEYRING.key(solution.id, OLA),  # the interaction's own customer
        KEYRING.key(solution.id, KARI),
        KEYRING.key(solution.id, "kari@example.com"),
    }
    with session_factory() as session:
        rows = [(m.key, m.kind.value) for m in session.scalars(select(Mention))]
    assert all("91234567" not in key and "kari" not in key and "98765432" not in key for key, _ in rows)
    assert sorted(kind for _, kind in rows) == ["email", "phone", "phone"]


def test_night_replaces_a_mention_in_another_persons_chat_and_keeps_that_customer(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    own, other = archive(
        session_factory,
        solution,
        chat_with(
            KARI, "Kari Nordmann", oslo(2026, 3, 1, 9), "Hei, dette er Kari Nordmann", "Ring meg på +47 912 34 567"
        ),
        chat_with(OLA, "Ola Hansen", oslo(2026, 3, 2, 9), "Kona mi (912-34-567) henter", "Mitt nummer er 98765432"),
    )
    enter(session_factory, solution, ENTERED, phone="91234567")

    summary = night(session_factory, blobs, NIGHT)

    # Her own chat: the number in every form and her name; someone else's: the number only.
    assert messages(session_factory, own) == ["Hei, dette er Anonymized", "Ring meg på Anonymized"]
    assert messages(session_factory, other) == ["Kona mi (Anonymized) henter", "Mitt nummer er 98765432"]
    assert summary.mentions_replaced == 3
    with session_factory() as session:
        ola = session.get(Interaction, other)
        assert ola is not None
        assert (ola.customer_phone_e164, ola.customer_name, ola.anonymized_at) == (OLA, "Ola Hansen", None)
    # The index forgets her; Ola's own number stays findable.
    assert KEYRING.key(solution.id, KARI) not in mention_keys(session_factory, other)
    assert mention_keys(session_factory, other) == {KEYRING.key(solution.id, OLA)}


def test_mentions_in_emails_subjects_and_variables_are_replaced(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    (iid,) = archive(
        session_factory,
        solution,
        {
            "channel": "email",
            "direction": "inbound",
            "started_at": oslo(2026, 3, 3, 9).isoformat(),
            "customer": {"email": "ola@example.com", "name": "Ola"},
            "subject": "Ring Kari på 0047 91234567",
            "body": "Kari sin adresse er KARI@Example.com, ordre 9123456712.",
            "variables": {"note": "kontakt 91 23 45 67 i morgen", "order": "9123456712"},
        },
    )
    enter(session_factory, solution, ENTERED, phone="91234567", email="kari@example.com")

    summary = night(session_factory, blobs, NIGHT)

    with session_factory() as session:
        interaction = session.get(Interaction, iid)
        body = session.get(EmailBody, iid)
        assert interaction is not None
        assert body is not None
        assert interaction.subject == "Ring Kari på Anonymized"
        assert body.body == "Kari sin adresse er Anonymized, ordre 9123456712."
        # Another person's interaction: the value keeps its words (only the person's own are replaced whole).
        assert interaction.variables == {"note": "kontakt Anonymized i morgen", "order": "9123456712"}
        assert interaction.customer_email == "ola@example.com"
    assert summary.mentions_replaced == 3


def test_a_call_recorders_file_name_loses_the_persons_number_and_keeps_its_other_fields(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    # A transferred call's recording, named by an Asterisk-based PBX after both parties
    # ({type}-{to}-{from}-{date}-{time}-{uniqueid}), kept in a variable of Ola's call.
    name = "in-4791234567-3201-20260303-090000-1772524800.17.wav"
    (iid,) = archive(
        session_factory,
        solution,
        {**chat_with("41234567", "Ola", oslo(2026, 3, 3, 9), "Hei"), "variables": {"recording": name}},
    )
    enter(session_factory, solution, ENTERED, phone="91234567")

    summary = night(session_factory, blobs, NIGHT)

    with session_factory() as session:
        interaction = session.get(Interaction, iid)
        assert interaction is not None
        assert interaction.variables == {"recording": "in-Anonymized-3201-20260303-090000-1772524800.17.wav"}
        assert interaction.customer_phone == "41234567"
    assert summary.mentions_replaced == 1


def test_a_mention_after_the_cutoff_is_left_and_stays_indexed(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    before, after = archive(
        session_factory,
        solution,
        chat_with(OLA, "Ola", oslo(2026, 3, 10, 23, 59), "Kari: 91234567"),
        chat_with(OLA, "Ola", oslo(2026, 3, 11, 0, 1), "Kari: 91234567"),
    )
    enter(session_factory, solution, ENTERED, phone="91234567")

    night(session_factory, blobs, NIGHT)

    assert messages(session_factory, before) == ["Kari: Anonymized"]
    assert messages(session_factory, after) == ["Kari: 91234567"]
    assert KEYRING.key(solution.id, KARI) in mention_keys(session_factory, after)


def test_preview_counts_the_mentions_the_night_replaces(
    client: TestClient, make_token: TokenMaker, session_factory: sessionmaker[Session], solution: Solution, clock: Clock
) -> None:
    clock.now = ENTERED
    archive(
        session_factory,
        solution,
        chat_with(KARI, "Kari Nordmann", oslo(2026, 3, 1, 9), "Kari her, 912 34 567", variables={"cb": "91234567"}),
        chat_with(OLA, "Ola", oslo(2026, 3, 2, 9), "Kona: 912 34 567 / kari@example.com"),
    )
    officer = auth(make_token(Role.PRIVACY_OFFICER, solution))
    body = {"phone": "91234567", "email": "kari@example.com"}

    predicted = client.post("/api/v1/anonymization-requests/preview", json=body, headers=officer).json()
    client.post("/api/v1/anonymization-requests", json=body, headers=officer)
    clock.now = NIGHT
    admin = auth(make_token(Role.ADMIN, solution))
    summary = client.post("/api/v1/nightly-runs", headers=admin).json()

    # Her chat: name and number; the callback value is replaced whole (a variable value, not a mention).
    assert (predicted["mentions"], predicted["variable_values"]) == (4, 1)
    assert (summary["mentions_replaced"], summary["variables_replaced"]) == (4, 1)


# ---------------------------------------------------------------------------------------------
# The corpus: every written form, distractors, ground truth
# ---------------------------------------------------------------------------------------------


def _load(factory: sessionmaker[Session], solution: Solution, corpus: Corpus) -> dict[str, str]:
    ids = archive(factory, solution, *(d.body for d in corpus.documents))
    return {d.body["external_id"]: iid for d, iid in zip(corpus.documents, ids, strict=True)}


def _expected(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + "Anonymized" + text[end:]
    return text


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return generate_corpus(60, 240, seed=7)


def test_after_the_night_every_requested_mention_is_gone_and_nothing_else_changed(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, corpus: Corpus
) -> None:
    ids = _load(session_factory, solution, corpus)
    requested = corpus.people[::3]
    for person in requested:
        enter(session_factory, solution, ENTERED, phone=person.phone, email=person.email)
    gone = {p.phone for p in requested} | {p.email for p in requested}

    summary = night(session_factory, blobs, NIGHT)

    assert summary.requests_processed == len(requested)
    with session_factory() as session:
        for document in corpus.documents:
            iid = ids[document.body["external_id"]]
            own = document.customer.phone in gone
            interaction = session.get(Interaction, iid)
            assert interaction is not None
            texts: dict[str, str | None] = {"subject": interaction.subject}
            texts |= {f"variable:{k}": v for k, v in (interaction.variables or {}).items()}
            for message in session.scalars(select(ChatMessage).where(ChatMessage.interaction_id == iid)):
                texts[f"message:{message.seq}"] = message.text
            email = session.get(EmailBody, iid)
            texts["body"] = email.body if email is not None else None
            for name, field in document.fields.items():
                spans = [(s, e) for s, e, ident in field.mentions if ident in gone]
                expected = _expected(field.text, spans)
                if own and name.startswith("variable:") and spans:
                    expected = "Anonymized"  # the person's own variable value is replaced whole (§7)
                assert texts[name] == expected, (document.body["external_id"], name)
        # Scan every table: no text still holds a requested identifier in any form, no index row its key.
        keys = {KEYRING.key(solution.id, i) for i in gone}
        assert not set(session.scalars(select(Mention.key))) & keys
        everything = list(session.scalars(select(ChatMessage.text))) + list(session.scalars(select(EmailBody.body)))
        for subject, variables in session.execute(select(Interaction.subject, Interaction.variables)):
            everything += [subject or "", *(variables or {}).values()]
        for text in everything:
            found = {e for _, _, e in find_phones(text, "NO")} | {a for _, _, a in find_emails(text)}
            assert not found & gone


def test_a_second_night_changes_nothing(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, corpus: Corpus
) -> None:
    _load(session_factory, solution, corpus)
    person = corpus.people[0]
    enter(session_factory, solution, ENTERED, phone=person.phone, email=person.email)
    first = night(session_factory, blobs, NIGHT)
    enter(session_factory, solution, NIGHT, phone=person.phone, email=person.email)

    second = night(session_factory, blobs, oslo(2026, 3, 12, 2))

    assert first.mentions_replaced > 0
    assert (second.interactions, second.mentions_replaced) == (0, 0)


def test_keyring_from_settings_uses_the_server_secret(settings: Any) -> None:
    assert MentionKeyring.from_settings(settings).key("s", KARI) == KEYRING.key("s", KARI)


def test_anonymize_and_delete_clears_the_customer_from_the_subject_and_reindexes(
    client: TestClient, make_token: TokenMaker, session_factory: sessionmaker[Session], solution: Solution
) -> None:
    (iid,) = archive(
        session_factory,
        solution,
        {
            "channel": "email",
            "direction": "inbound",
            "started_at": oslo(2026, 3, 3, 9).isoformat(),
            "customer": {"email": "kari@example.com", "phone": "91234567", "name": "Kari Nordmann"},
            "subject": "Kari Nordmann (912 34 567) ber Ola ringe 98765432",
            "body": "Hilsen kari@example.com",
            "variables": {"cb": "91234567"},
        },
    )
    officer = auth(make_token(Role.PRIVACY_OFFICER, solution))

    response = client.post("/api/v1/interactions/anonymize-and-delete", json={"ids": [iid]}, headers=officer)

    assert response.status_code == 200, response.text
    with session_factory() as session:
        interaction = session.get(Interaction, iid)
        assert interaction is not None
        # Her name and number go; Ola's number is not this action's to erase, and stays findable.
        assert interaction.subject == "Anonymized (Anonymized) ber Ola ringe 98765432"
    assert mention_keys(session_factory, iid) == {KEYRING.key(solution.id, OLA)}
