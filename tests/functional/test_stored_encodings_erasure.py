"""Issue 21 end to end (ingest through the API shapes -> request -> night -> read back): text that an
integration stored still encoded is erased in its encoding and still decodes; context keeps the
person's digits where they are no number; a foreign number is found in its own national form."""

from __future__ import annotations

import email.header
import json
import quopri

from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.models import EmailBody, Interaction
from archivist.blobs.memory import MemoryBlobStore
from tests.functional.anonymization_support import archive, enter, night, oslo
from tests.functional.test_mentions import chat_with, messages

ENTERED = oslo(2026, 3, 10, 12)
NIGHT = oslo(2026, 3, 11, 2)
X = "Anonymized"


def _header(value: str) -> str:
    return str(email.header.make_header(email.header.decode_header(value)))


def test_an_email_stored_encoded_is_erased_in_its_encodings_and_still_decodes(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    subject = "=?UTF-8?Q?Ring_Kari_p=C3=A5_912_34_567?= =?UTF-8?Q?_eller_IP_91=2E23=2E45=2E67?="
    body = (
        "Hei,\nKari sin adresse er kari.nord=\nmann=40example.no og mobil 912 34=\n567.\n"
        "Du skylder 91234567 kroner, app v9.12.34.567. Hilsen Ola =C3=98deg=C3=A5rd\n"
    )
    note = "Ring \\u002B47\\u00a0912\\u00a034\\u00a0567, ikke ordre 912345670"
    (iid,) = archive(
        session_factory,
        solution,
        {
            "channel": "email",
            "direction": "inbound",
            "started_at": oslo(2026, 3, 3, 9).isoformat(),
            "customer": {"email": "ola@example.com", "name": "Ola"},
            "subject": subject,
            "body": body,
            "variables": {"note": note},
        },
    )
    enter(session_factory, solution, ENTERED, phone="91234567", email="kari.nordmann@example.no")

    summary = night(session_factory, blobs, NIGHT)

    with session_factory() as session:
        interaction = session.get(Interaction, iid)
        stored = session.get(EmailBody, iid)
        assert interaction is not None
        assert stored is not None
        assert interaction.subject is not None
        assert interaction.variables is not None
        assert _header(interaction.subject) == "Ring Kari på Anonymized eller IP 91.23.45.67"
        assert quopri.decodestring(stored.body.encode("ascii")).decode() == (
            "Hei,\nKari sin adresse er Anonymized og mobil Anonymized.\n"
            "Du skylder 91234567 kroner, app v9.12.34.567. Hilsen Ola Ødegård\n"
        )
        assert json.loads(f'"{interaction.variables["note"]}"') == "Ring Anonymized, ikke ordre 912345670"
        assert interaction.customer_email == "ola@example.com"
    assert summary.mentions_replaced == 4


def test_a_foreign_number_in_its_own_national_form_is_found_by_a_lookup_and_erased(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    dane = "+4520123456"
    own, other, untouched = archive(
        session_factory,
        solution,
        # The person's own chat: they write their number as Danes do.
        chat_with(dane, "Mette", oslo(2026, 3, 1, 9), "Ring mig på 20 12 34 56, tak"),
        # Somebody else's chat: found through the index, by the number's own key.
        chat_with("+4791111111", "Ola", oslo(2026, 3, 1, 10), "Mette har 20-12-34-56, og IP 201.234.56.78"),
        # Digits that are no number here stay: a longer grouping, an amount.
        chat_with("+4792222222", "Per", oslo(2026, 3, 1, 11), "Kode 20 12 34 56 78, beløp 20123456 kroner"),
    )
    enter(session_factory, solution, ENTERED, phone="+4520123456")

    summary = night(session_factory, blobs, NIGHT)

    assert messages(session_factory, own) == [f"Ring mig på {X}, tak"]
    assert messages(session_factory, other) == [f"Mette har {X}, og IP 201.234.56.78"]
    assert messages(session_factory, untouched) == ["Kode 20 12 34 56 78, beløp 20123456 kroner"]
    assert summary.mentions_replaced == 2


def test_glued_split_and_separated_forms_are_erased_end_to_end(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    texts = [
        "Talemelding voicemail_from_+4791234567_20240312.mp3 lagret",
        "Videresendt til 4791234567@sms.example.no",
        "Ring +47(0)91234567 eller tlf.nr:912\u202834 567",
        "Skriv til kari.nord\nmann@example.no eller kari at example.no",
        "Adressen er linn.andreassen7+2024@example.no, hilsen Linn",
    ]
    (iid,) = archive(session_factory, solution, chat_with("+4793333333", "Linn", oslo(2026, 3, 1, 9), *texts))
    enter(session_factory, solution, ENTERED, phone="91234567", email="kari.nordmann@example.no")
    enter(session_factory, solution, ENTERED, email="kari@example.no")

    summary = night(session_factory, blobs, NIGHT)

    assert messages(session_factory, iid) == [
        f"Talemelding voicemail_from_{X}_20240312.mp3 lagret",
        f"Videresendt til {X}@sms.example.no",
        f"Ring {X} eller tlf.nr:{X}",
        f"Skriv til {X} eller {X}",
        # Another person's address with a '+' stays whole, and so does her name in it.
        "Adressen er linn.andreassen7+2024@example.no, hilsen Linn",
    ]
    assert summary.mentions_replaced == 6


def test_a_danish_number_that_is_also_a_norwegian_one_goes_only_from_the_persons_own_chat(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    dane = "+4591234567"  # its digits are a valid Norwegian mobile too
    own, other = archive(
        session_factory,
        solution,
        chat_with(dane, "Mette", oslo(2026, 3, 1, 9), "Ring mig på 91 23 45 67, tak", "Mette"),
        # Elsewhere "91 23 45 67" is read as the Norwegian subscriber: never replaced for the Dane.
        chat_with("+4791111111", "Ola", oslo(2026, 3, 1, 10), "Naboen har 91 23 45 67, og Mette har +45 91 23 45 67"),
    )
    enter(session_factory, solution, ENTERED, phone=dane)

    summary = night(session_factory, blobs, NIGHT)

    assert messages(session_factory, own) == [f"Ring mig på {X}, tak", X]
    assert messages(session_factory, other) == [f"Naboen har 91 23 45 67, og Mette har {X}"]
    assert summary.mentions_replaced == 3
