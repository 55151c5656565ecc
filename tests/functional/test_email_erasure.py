"""Erasure of emails that arrived as MIME (CONTRACT §15, §9): subject, body, HTML, headers and attachments.

End to end on the real database: messages archived through the intake task, a request entered,
the nightly run, then every stored form of the email read back.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest
from archivist.anonymize.preview import Preview, preview_with_linked
from archivist.anonymize.replay import replay_solution
from archivist.archive.mime import parse_message
from archivist.archive.models import EmailAttachment, EmailBody, Interaction
from archivist.blobs.memory import MemoryBlobStore
from archivist.demo.mail import pdf_with_text
from archivist.importers.mail import archive_emails
from archivist.nightly.summary import ErasureProof, RunSummary
from tests import mail_samples as samples
from tests.conftest import KEYRING
from tests.functional.anonymization_support import enter, night, oslo
from tests.functional.test_proof_of_erasure import back_up, night_with, proof_for, restore

ENTERED = oslo(2026, 3, 10, 12, 0)
NIGHT = oslo(2026, 3, 11, 2, 0)
WRITTEN_FORMS = ("912 34 567", "91234567", "912 3", "kari.nordmann@example.no", "kari.nord")


def unrelated() -> bytes:
    message = EmailMessage()
    message["From"] = "Ole Olsen <ole@example.com>"
    message["To"] = "post@centre.example"
    message["Subject"] = f"Ring meg på {samples.OTHER_PHONE}"
    message["Date"] = "Mon, 02 Mar 2026 10:00:00 +0100"
    message["Message-ID"] = "<unrelated-1@example.com>"
    message.set_content(f"Nummeret mitt er {samples.OTHER_PHONE}.\n")
    message.add_alternative(f"<p>Nummeret mitt er <b>{samples.OTHER_PHONE}</b>.</p>", subtype="html")
    message.add_attachment(pdf_with_text(f"Ole {samples.OTHER_PHONE}"), "application", "pdf", filename="o.pdf")
    return message.as_bytes(policy=SMTP)


@pytest.fixture
def archived(session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore) -> dict[str, str]:
    """Kari's own mails, Per's mail about her, an agent's forward of her complaint, and Ole's mail."""
    with session_factory() as session, session.begin():
        stored = session.get(Solution, solution.id)
        assert stored is not None
        stored.own_email_domains = ["centre.example"]
    messages = {
        "own": samples.with_attachments(),
        "own_qp": samples.quoted_printable_soft_breaks(),
        "per": samples.other_persons_mail(),
        "forward": samples.forwarded(),
        "ole": unrelated(),
    }
    parsed = [
        parse_message(data, received_at=datetime(2026, 3, 9, tzinfo=ENTERED.tzinfo), own_domains=["centre.example"])
        for data in messages.values()
    ]
    results = archive_emails(session_factory, blobs, solution.id, parsed, keyring=KEYRING, now=ENTERED)
    return {name: result.id for name, result in zip(messages, results, strict=True)}


def email_state(factory: sessionmaker[Session], interaction_id: str) -> dict[str, Any]:
    with factory() as session:
        interaction = session.get(Interaction, interaction_id)
        body = session.get(EmailBody, interaction_id)
        assert interaction is not None
        attachments = session.scalars(
            select(EmailAttachment)
            .where(EmailAttachment.interaction_id == interaction_id)
            .order_by(EmailAttachment.seq)
        ).all()
        return {
            "subject": interaction.subject,
            "customer": (interaction.customer_email, interaction.customer_name),
            "body": body.body if body else None,
            "html": body.html if body else None,
            "headers": body.headers if body else None,
            "attachments": [(a.filename, a.blob_key, a.sha256) for a in attachments],
        }


def karis_preview(factory: sessionmaker[Session], solution: Solution, *, delete_content: bool = False) -> Preview:
    """What the preview says a request for Kari's number and address would do, before Add."""
    with factory() as session:
        preview, _ = preview_with_linked(
            session,
            solution,
            phone=samples.PHONE,
            email=samples.ADDRESS,
            raw_data=False,
            delete_content=delete_content,
            now=ENTERED,
            keyring=KEYRING,
        )
    return preview


def texts(state: dict[str, Any]) -> list[str]:
    return [t for t in (state["subject"], state["body"], state["html"], *(state["headers"] or {}).values()) if t]


class _WellFormed(HTMLParser):
    """Counts open and closed elements; a sanitised fragment closes everything it opens."""

    VOID = frozenset({"br", "img", "hr", "col"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack.pop() == tag


def assert_well_formed(html: str) -> None:
    parser = _WellFormed()
    parser.feed(html)
    parser.close()
    assert parser.stack == []


def test_the_night_erases_the_person_from_every_part_of_every_email_and_deletes_attachments_that_write_them(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, archived: dict[str, str]
) -> None:
    before = {name: email_state(session_factory, iid) for name, iid in archived.items()}
    assert any("912 34 567" in t for t in texts(before["per"]))
    preview = karis_preview(session_factory, solution)
    request_id = enter(session_factory, solution, ENTERED, phone=samples.PHONE, email=samples.ADDRESS)

    night(session_factory, blobs, NIGHT)

    after = {name: email_state(session_factory, iid) for name, iid in archived.items()}
    for name in ("own", "own_qp", "per", "forward"):
        for text in texts(after[name]):
            for form in WRITTEN_FORMS:
                assert form not in text, (name, form)
        if after[name]["html"]:
            assert_well_formed(after[name]["html"])
    assert "Anonymized" in after["per"]["body"]
    assert "Anonymized" in after["per"]["html"]
    # Her own mail: the header names her no more, by address or by name.
    assert after["own"]["headers"]["from"] == "Anonymized <Anonymized>"
    assert after["own"]["customer"] == ("Anonymized", "Anonymized")
    # Attachments that write her number went; those that do not stayed, bytes and all.
    assert [a[0] for a in after["own"]["attachments"]] == ["logo.png", "ordre.csv"]
    assert [a[0] for a in after["per"]["attachments"]] == ["mine.txt"]
    assert after["forward"]["attachments"] == []
    # Somebody else's number in Per's mail, and Ole's mail, are exactly as they were.
    assert samples.OTHER_PHONE in after["per"]["body"]
    assert samples.OTHER_PHONE in after["per"]["html"]
    assert after["ole"] == before["ole"]
    kept = {key for state in after.values() for _, key, _ in state["attachments"]}
    gone = {key for state in before.values() for _, key, _ in state["attachments"]} - kept
    assert len(gone) == 4
    assert set(blobs.list_keys()) == kept
    with session_factory() as session:
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        assert request.result is not None
        assert request.result["attachments_deleted"] == 4
    # The preview said so before Add.
    assert preview.attachments == 4


def test_delete_content_takes_every_attachment_of_her_own_emails_and_the_writing_ones_elsewhere(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, archived: dict[str, str]
) -> None:
    preview = karis_preview(session_factory, solution, delete_content=True)
    request_id = enter(
        session_factory, solution, ENTERED, phone=samples.PHONE, email=samples.ADDRESS, delete_content=True
    )

    night(session_factory, blobs, NIGHT)

    after = {name: email_state(session_factory, iid) for name, iid in archived.items()}
    assert after["own"]["body"] is None
    assert after["own"]["attachments"] == []
    assert after["own_qp"]["body"] is None
    assert [a[0] for a in after["per"]["attachments"]] == ["mine.txt"]
    with session_factory() as session:
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        assert request.result is not None
        # own: 3 with the content; Per's kari.txt and kari.pdf; the forward's notat.txt.
        assert request.result["attachments_deleted"] == 6
    assert preview.attachments == 6
    assert len(blobs.list_keys()) == 2  # Per's mine.txt and Ole's o.pdf


def test_a_second_night_changes_nothing_more(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, archived: dict[str, str]
) -> None:
    enter(session_factory, solution, ENTERED, phone=samples.PHONE, email=samples.ADDRESS)
    night(session_factory, blobs, NIGHT)
    once = {name: email_state(session_factory, iid) for name, iid in archived.items()}
    request_id = enter(session_factory, solution, oslo(2026, 3, 11, 12, 0), phone=samples.PHONE)
    night(session_factory, blobs, oslo(2026, 3, 12, 2, 0))
    assert {name: email_state(session_factory, iid) for name, iid in archived.items()} == once
    with session_factory() as session:
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        assert request.result is not None
        assert request.result["attachments_deleted"] == 0


def _attachment_count(factory: sessionmaker[Session]) -> int:
    from sqlalchemy import func

    with factory() as session:
        return session.scalar(select(func.count()).select_from(EmailAttachment)) or 0


@pytest.mark.parametrize("what", ["content", "interaction"])
def test_retention_of_email_content_takes_the_attachments_and_their_blobs(
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    archived: dict[str, str],
    what: str,
) -> None:
    from archivist.archive.models import Channel
    from archivist.retention.models import RetentionWhat
    from archivist.retention.rules import DraftRule, add_rule

    assert _attachment_count(session_factory) == 8
    with session_factory() as session, session.begin():
        add_rule(
            session,
            solution.id,
            DraftRule(Channel.EMAIL, None, RetentionWhat(what), 1, id="email-rule"),
            created_by="admin",
            now=NIGHT,
        )
    night(session_factory, blobs, NIGHT)
    assert _attachment_count(session_factory) == 0
    assert blobs.list_keys() == []


def test_anonymize_and_delete_takes_the_attachments(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, archived: dict[str, str]
) -> None:
    from archivist.anonymize.erasure import anonymize_and_delete
    from archivist.archive.recordings import drain_pending_blobs

    with session_factory() as session, session.begin():
        result = anonymize_and_delete(session, solution, [archived["own"]], raw_data=False, now=NIGHT, keyring=KEYRING)
    drain_pending_blobs(session_factory, blobs, NIGHT)
    assert result.content_deleted == 1
    assert email_state(session_factory, archived["own"])["attachments"] == []
    assert _attachment_count(session_factory) == 5  # everybody else's stay
    assert len(blobs.list_keys()) == 5


def test_mail_of_a_person_erased_before_is_stored_already_erased_without_the_attachments_that_write_them(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    from tests.functional.anonymization_support import archive, call

    archive(session_factory, solution, call(samples.PHONE, oslo(2026, 3, 1, 9, 0)))
    enter(session_factory, solution, ENTERED, phone=samples.PHONE, email=samples.ADDRESS)
    night(session_factory, blobs, NIGHT)

    # Her mail from before the erasure arrives late (a re-import, a restored mailbox).
    parsed = parse_message(samples.with_attachments("late-1@example.no"), received_at=NIGHT)
    (late,) = archive_emails(session_factory, blobs, solution.id, [parsed], keyring=KEYRING, now=NIGHT)

    assert late.erased
    state = email_state(session_factory, late.id)
    assert state["customer"] == ("Anonymized", "Anonymized")
    for text in texts(state):
        for form in WRITTEN_FORMS:
            assert form not in text
    assert [a[0] for a in state["attachments"]] == ["logo.png", "ordre.csv"]
    assert {key for _, key, _ in state["attachments"]} == set(blobs.list_keys())


def test_a_rebuilt_mention_index_still_finds_the_attachments_that_write_the_person(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, archived: dict[str, str]
) -> None:
    from archivist.archive.mentions import reindex_solution

    # Rebuilt from what the rows hold: the attachments' own keys (their files are not read again).
    reindex_solution(session_factory, KEYRING, solution.id, solution.country)
    request_id = enter(session_factory, solution, ENTERED, phone=samples.PHONE)
    night(session_factory, blobs, NIGHT)
    with session_factory() as session:
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        assert request.result is not None
        # Found by the index alone (a phone request: her mails by address are not "her own" to it):
        # her faktura.pdf, Per's kari.txt and kari.pdf, the forward's notat.txt.
        assert request.result["attachments_deleted"] == 4
    assert [a[0] for a in email_state(session_factory, archived["per"])["attachments"]] == ["mine.txt"]


# ---------------------------------------------------------------------------------------------
# An email's own keys (issue 27): the erasure reads only the emails whose texts write the person
# ---------------------------------------------------------------------------------------------


def _email_keys(factory: sessionmaker[Session]) -> dict[str, list[str] | None]:
    with factory() as session:
        return {row.interaction_id: row.mention_keys for row in session.scalars(select(EmailBody))}


def _named_only_by_attachment() -> bytes:
    """Somebody else's mail whose only trace of Kari is the invoice attached to it."""
    message = EmailMessage()
    message["From"] = "Lise Berg <lise@example.com>"
    message["To"] = "post@centre.example"
    message["Subject"] = "Faktura"
    message["Date"] = "Mon, 02 Mar 2026 11:00:00 +0100"
    message["Message-ID"] = "<attachment-only-1@example.com>"
    message.set_content(f"Vedlagt. Mitt nummer er {samples.OTHER_PHONE}.\n")
    message.add_alternative(f"<p>Vedlagt. Mitt nummer er {samples.OTHER_PHONE}.</p>", subtype="html")
    message.add_attachment(pdf_with_text(f"Kunde tlf {samples.PHONE}"), "application", "pdf", filename="f.pdf")
    return message.as_bytes(policy=SMTP)


def test_each_email_keeps_the_keys_of_what_its_own_texts_write_and_loses_the_erased_ones(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, archived: dict[str, str]
) -> None:
    kari = KEYRING.key(solution.id, "+4791234567")
    assert samples.PHONE == "91234567"
    # Ole's mail writes his number (body, HTML), his address and the centre's (headers): nothing else.
    ole = sorted(KEYRING.key(solution.id, i) for i in ("+4798765432", "ole@example.com", "post@centre.example"))
    before = _email_keys(session_factory)
    assert kari in (before[archived["per"]] or [])  # Per's mail writes her number in its body
    assert before[archived["ole"]] == ole
    enter(session_factory, solution, ENTERED, phone=samples.PHONE)
    night(session_factory, blobs, NIGHT)
    after = _email_keys(session_factory)
    # Her key leaves every email row with her number (a keyed hash of an erased identifier is kept
    # only by the erasure ledger, CONTRACT §18); the rest stay as they were.
    assert all(kari not in (keys or []) for keys in after.values())
    assert after[archived["ole"]] == ole


def test_an_email_named_only_by_its_attachment_is_not_read_and_loses_the_attachment(
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    archived: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from archivist.archive import mentions

    parsed = parse_message(_named_only_by_attachment(), received_at=ENTERED, own_domains=["centre.example"])
    (result,) = archive_emails(session_factory, blobs, solution.id, [parsed], keyring=KEYRING, now=ENTERED)
    read: list[str] = []
    original = mentions.Sweep.replace

    def counting(self: mentions.Sweep, interaction_id: str, text: str) -> tuple[str, int]:
        read.append(interaction_id)
        return original(self, interaction_id, text)

    monkeypatch.setattr(mentions.Sweep, "replace", counting)
    enter(session_factory, solution, ENTERED, phone=samples.PHONE)
    night(session_factory, blobs, NIGHT)
    state = email_state(session_factory, result.id)
    assert state["attachments"] == []  # the invoice writes her number: deleted
    assert samples.OTHER_PHONE in (state["body"] or "")  # Lise's own number stays
    # Its subject and Message-ID are fields of the interaction (read); its body, HTML and headers were not read.
    assert read.count(result.id) == 2
    # Per's mail writes her in its body: read, and erased there.
    assert read.count(archived["per"]) > 1
    assert all("912 34 567" not in t for t in texts(email_state(session_factory, archived["per"])))


def test_emails_archived_before_their_keys_were_kept_are_read_as_before_and_reindexing_fills_them(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, archived: dict[str, str]
) -> None:
    from sqlalchemy import update

    from archivist.archive.mentions import reindex_solution

    kept = _email_keys(session_factory)
    with session_factory() as session, session.begin():
        session.execute(update(EmailBody).values(mention_keys=None))  # as migration 0017 leaves old rows
    reindex_solution(session_factory, KEYRING, solution.id, solution.country)
    assert _email_keys(session_factory) == kept
    with session_factory() as session, session.begin():
        session.execute(update(EmailBody).values(mention_keys=None))
    enter(session_factory, solution, ENTERED, phone=samples.PHONE)
    night(session_factory, blobs, NIGHT)
    assert all("912 34 567" not in t for t in texts(email_state(session_factory, archived["per"])))
    assert all("912 34 567" not in t for t in texts(email_state(session_factory, archived["forward"])))


def oles_mail(subject: str, text: str, *, cc: str | None = None, html: str | None = None) -> EmailMessage:
    """A mail from Ole, no person of the tests: each test adds what it writes about someone."""
    message = EmailMessage()
    message["From"] = "Ole Olsen <ole@example.com>"
    message["To"] = "post@centre.example"
    if cc is not None:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = "Mon, 02 Mar 2026 12:00:00 +0100"
    message["Message-ID"] = f"<{subject.lower()}-1@example.com>"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def archive_one(
    factory: sessionmaker[Session], blobs: MemoryBlobStore, solution: Solution, message: EmailMessage
) -> str:
    parsed = parse_message(message.as_bytes(policy=SMTP), received_at=ENTERED, own_domains=["centre.example"])
    (result,) = archive_emails(factory, blobs, solution.id, [parsed], keyring=KEYRING, now=ENTERED)
    return result.id


def erased_then_restored(
    engine: Engine,
    factory: sessionmaker[Session],
    blobs: MemoryBlobStore,
    solution: Solution,
    tmp_path: Path,
    address: str,
) -> tuple[ErasureProof, RunSummary]:
    """A backup, the night that erases ``address``, then the backup restored: the restore drill's start."""
    backup = back_up(engine, tmp_path / "backup")
    proof = proof_for(tmp_path)
    enter(factory, solution, ENTERED, email=address)
    summary = night_with(factory, blobs, solution, proof, NIGHT)
    assert summary.requests_processed == 1
    restore(engine, backup)
    return proof, summary


LIV = "liv.berg@example.net"


def test_a_restore_drill_forgets_an_address_the_archive_holds_only_in_headers_and_html(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
) -> None:
    # The replay of a restored backup learns each erased identifier back from the archive, by its
    # key; an address someone was only copied on, in a header and the HTML part, is learnt there too.
    html = f'<p>Kopi til <a href="mailto:{LIV}">Liv</a>.</p>'
    iid = archive_one(
        session_factory, blobs, solution, oles_mail("Avtalen", "Se avtalen.\n", cc=f"Liv <{LIV}>", html=html)
    )
    proof, _ = erased_then_restored(engine, session_factory, blobs, solution, tmp_path, LIV)
    assert any(LIV in t for t in texts(email_state(session_factory, iid)))  # control: back with the restore

    summary = replay_solution(session_factory, blobs, proof.ledger, solution.id, NIGHT, keyring=KEYRING)

    assert summary.entries_applied == 1
    state = email_state(session_factory, iid)
    assert not any(LIV in t for t in texts(state)), state


def test_a_restore_drill_deletes_again_an_attachment_that_alone_wrote_the_address(
    engine: Engine,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    tmp_path: Path,
) -> None:
    # Attachments are not read again: their rows keep the keys of what they write, and the drill
    # finds them by the ledger's keys even where the archive holds the address nowhere else.
    message = oles_mail("Liste", "Se vedlagt liste.\n")
    message.add_attachment(f"Liv: {LIV}\n".encode(), maintype="text", subtype="plain", filename="liste.txt")
    iid = archive_one(session_factory, blobs, solution, message)
    proof, night_summary = erased_then_restored(engine, session_factory, blobs, solution, tmp_path, LIV)
    assert night_summary.attachments_deleted == 1
    assert len(email_state(session_factory, iid)["attachments"]) == 1  # control: back with the restore

    summary = replay_solution(session_factory, blobs, proof.ledger, solution.id, NIGHT, keyring=KEYRING)

    assert summary.counts.attachments_deleted == 1
    assert email_state(session_factory, iid)["attachments"] == []
    again = replay_solution(session_factory, blobs, proof.ledger, solution.id, NIGHT, keyring=KEYRING)
    assert again.entries_applied == 0


PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)  # a scan: no text to read, only its name


def named_scans() -> EmailMessage:
    """Ole's mail with two scans whose files write nothing readable: one named by Kari's number,
    one by her address; and one named by neither."""
    message = oles_mail("Skannet", "Se vedlagt.\n")
    for name in (f"pass {samples.PHONE_WRITTEN}.png", f"{samples.ADDRESS}.png", "kvittering.png"):
        message.add_attachment(PNG, maintype="image", subtype="png", filename=name)
    return message


def test_an_attachment_whose_name_writes_the_person_goes_with_them(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    iid = archive_one(session_factory, blobs, solution, named_scans())
    preview = karis_preview(session_factory, solution)
    enter(session_factory, solution, ENTERED, phone=samples.PHONE, email=samples.ADDRESS)

    night(session_factory, blobs, NIGHT)

    assert [a[0] for a in email_state(session_factory, iid)["attachments"]] == ["kvittering.png"]
    assert preview.attachments == 2


def test_reindexing_reads_the_names_of_attachments_archived_before_names_were_read(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore
) -> None:
    from sqlalchemy import delete, update

    from archivist.archive.mentions import index_is_current, reindex_solution
    from archivist.archive.models import Mention

    iid = archive_one(session_factory, blobs, solution, named_scans())
    # As an archive indexed by scanner 5 has them: no keys on the scans, nothing in the index.
    with session_factory() as session, session.begin():
        session.execute(update(EmailAttachment).values(mention_keys=None))
        session.execute(delete(Mention))
        session.execute(update(Solution).values(mention_scanner_version=5))
    with session_factory() as session:
        assert not index_is_current(session, solution.id)

    reindex_solution(session_factory, KEYRING, solution.id, solution.country)

    with session_factory() as session:
        assert index_is_current(session, solution.id)
        named = session.scalars(select(EmailAttachment.filename).where(EmailAttachment.mention_keys.is_not(None))).all()
    assert sorted(named) == sorted([f"pass {samples.PHONE_WRITTEN}.png", f"{samples.ADDRESS}.png"])
    enter(session_factory, solution, ENTERED, phone=samples.PHONE, email=samples.ADDRESS)
    night(session_factory, blobs, NIGHT)
    assert [a[0] for a in email_state(session_factory, iid)["attachments"]] == ["kvittering.png"]
