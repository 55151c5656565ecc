"""External ids that write a person (CONTRACT §16): erased with them, and still recognised on re-delivery.

A platform's contact id is a UUID, but a CSV export, a home-grown integration or an SMS gateway
keys records by what it knows — the caller's number, an address, a time. Such an id is the
person's data like any text, and it is also the key a re-delivery is recognised by.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.replay import ingest_checked
from archivist.archive.mentions import ERASED_EXTERNAL_ID
from archivist.archive.mime import parse_message
from archivist.archive.models import Interaction
from archivist.archive.schemas import InteractionIn
from archivist.blobs.memory import MemoryBlobStore
from archivist.importers.mail import archive_emails
from tests.conftest import KEYRING
from tests.functional.anonymization_support import call, enter, night, oslo

ARCHIVED = oslo(2026, 3, 9, 8)
ENTERED = oslo(2026, 3, 10, 12)
NIGHT = oslo(2026, 3, 11, 2)
KARI = "+4791234567"
# A CSV export's key: the caller's number and the time, as recording file names are written.
KARIS_CALL = "+4791234567_20260309T0800"
# An SMS-to-mail gateway's Message-ID: the sender's number before its own domain.
KARIS_SMS = "+4791234567_1741507200@sms-gateway.example"
# Someone else's call under an id of the same shape: nothing of it is Kari's.
OLAS_CALL = "+4741234567_20260309T0810"


def sms_mail() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "SMS <sms@sms-gateway.example>"
    message["To"] = "post@centre.example"
    message["Subject"] = "SMS"
    message["Date"] = "Mon, 09 Mar 2026 08:05:00 +0100"
    message["Message-ID"] = f"<{KARIS_SMS}>"
    message.set_content("Ring meg tilbake, takk.\n")
    return message


def write(factory: sessionmaker[Session], solution: Solution, *bodies: dict[str, Any]) -> list[tuple[str, bool]]:
    """Post ``bodies`` as the API and the importers write them; (id, created) each."""
    with factory() as session, session.begin():
        results = ingest_checked(
            session, solution, [InteractionIn.model_validate(b) for b in bodies], ENTERED, keyring=KEYRING
        )
    return [(r.id, r.created) for r in results]


def mail(factory: sessionmaker[Session], blobs: MemoryBlobStore, solution: Solution) -> tuple[str, bool]:
    parsed = parse_message(sms_mail().as_bytes(policy=SMTP), received_at=ENTERED, own_domains=["centre.example"])
    (result,) = archive_emails(factory, blobs, solution.id, [parsed], keyring=KEYRING, now=ENTERED)
    return result.id, result.created


def external_ids(factory: sessionmaker[Session]) -> dict[str, str | None]:
    with factory() as session:
        return {row.id: row.external_id for row in session.execute(select(Interaction.id, Interaction.external_id))}


def interactions(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Interaction)) or 0)


def test_an_id_that_writes_the_person_is_erased_with_them_and_a_redelivery_is_still_recognised(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    bodies = [
        call(KARI, ARCHIVED, external_id=KARIS_CALL),
        call("+4741234567", ARCHIVED, external_id=OLAS_CALL, name="Ola"),
    ]
    [(karis, _), (olas, _)] = write(session_factory, solution, *bodies)
    sms, _ = mail(session_factory, blobs, solution)
    # Control: the ids are stored as they came, and a second delivery is recognised by them.
    assert external_ids(session_factory) == {karis: KARIS_CALL, olas: OLAS_CALL, sms: KARIS_SMS}
    assert write(session_factory, solution, *bodies) == [(karis, False), (olas, False)]

    enter(session_factory, solution, ENTERED, phone=KARI)
    summary = night(session_factory, blobs, NIGHT, solution)

    stored = external_ids(session_factory)
    assert stored[olas] == OLAS_CALL
    for iid in (karis, sms):
        assert (stored[iid] or "").startswith(ERASED_EXTERNAL_ID)
        assert "1234567" not in (stored[iid] or "")
    assert stored[karis] != stored[sms]
    assert summary.mentions_replaced >= 2
    # Delivered again (the platform's at-least-once, a re-run import): the same interactions,
    # recognised by the ids' pseudonyms; nothing new is written, and no id comes back in clear.
    assert write(session_factory, solution, *bodies) == [(karis, False), (olas, False)]
    assert mail(session_factory, blobs, solution) == (sms, False)
    assert interactions(session_factory) == 3
    assert external_ids(session_factory) == stored


def test_a_request_that_names_someone_else_leaves_the_id_as_it_is(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    [(karis, _)] = write(session_factory, solution, call(KARI, ARCHIVED, external_id=KARIS_CALL))

    enter(session_factory, solution, ENTERED, phone="+4741234567")
    night(session_factory, blobs, NIGHT, solution)

    assert external_ids(session_factory) == {karis: KARIS_CALL}
