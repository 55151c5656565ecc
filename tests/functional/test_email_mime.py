"""Email as it arrives (CONTRACT §15): MIME in through the API, decoded, sanitised, with attachments."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.archive.mentions import MentionKeyring
from archivist.archive.mime import MAX_MESSAGE_BYTES
from archivist.archive.models import EmailAttachment, Interaction, PendingBlobDeletion
from archivist.blobs.memory import MemoryBlobStore
from archivist.demo.mail import pdf_with_text
from tests import mail_samples as samples
from tests.conftest import Clock, TokenMaker, auth

CORPUS = sorted((Path(__file__).parent.parent / "data" / "mail").glob("msg_*.txt"))
RFC822 = {"Content-Type": "message/rfc822"}


@pytest.fixture
def ingest_token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.INGEST, solution)


@pytest.fixture
def reader_token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.SUPERVISOR, solution)


def post(client: TestClient, token: str, data: bytes, **params: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/interactions/email", content=data, params=params, headers={**auth(token), **RFC822})


def test_a_message_in_quoted_printable_is_archived_decoded(
    client: TestClient, ingest_token: str, reader_token: str
) -> None:
    response = post(client, ingest_token, samples.quoted_printable_soft_breaks())
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["channel"] == "email"
    assert item["direction"] == "inbound"
    assert item["external_id"] == "qp-1@example.no"
    assert item["started_at"] == "2026-03-03T09:15:00Z"
    assert item["subject"] == "Spørsmål om faktura"
    assert item["customer"] == {"phone": None, "email": samples.ADDRESS, "name": "Kari Nordmann"}
    content = client.get(f"/api/v1/interactions/{item['id']}/content", headers=auth(reader_token)).json()
    # The soft breaks inside the number and the address are gone: the text a person reads.
    assert content["body"] == ("Hei, ring meg på 912 34 567 eller skriv til kari.nordmann@example.no. Hilsen Kari\n")
    assert content["headers"] == {
        "from": "Kari Nordmann <kari.nordmann@example.no>",
        "to": "Kundeservice <post@centre.example>",
        "cc": None,
        "reply_to": None,
    }
    assert content["html"] is None
    assert content["attachments"] == []


@pytest.mark.parametrize(
    ("sample", "subject", "body_has"),
    [
        # base64 in windows-1252, curly quotes and a B-encoded UTF-8 subject
        (samples.base64_windows_1252, "Bestilling – blåbær", "“Hei” – nummeret mitt er 912 34 567. Blåbær"),
        # declared ISO-8859-1, written in UTF-8: read as UTF-8, not as "BlÃ¥bÃ¦r"
        (samples.wrong_charset, "Feil tegnsett", "Blåbær – ring 912 34 567"),
        # a charset nobody knows, in the body and in an encoded word: Latin text still reads
        (samples.unknown_charset, "Hei", "R\u00f8d bil, ring 912 34 567"),
        # a boundary that never comes: the parts are read as text rather than lost
        (samples.broken_boundary, "Broken", "Ring meg på 912 34 567."),
        # no Date: archived at the time received
        (samples.missing_date, "No date", "Ring 912 34 567."),
    ],
)
def test_every_encoding_habit_reads_as_the_text_a_person_sees(
    client: TestClient,
    ingest_token: str,
    reader_token: str,
    sample: Callable[[], bytes],
    subject: str,
    body_has: str,
) -> None:
    response = post(client, ingest_token, sample())
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["subject"] == subject
    content = client.get(f"/api/v1/interactions/{item['id']}/content", headers=auth(reader_token)).json()
    assert body_has in content["body"]


def test_a_message_without_a_date_starts_when_it_was_received(
    client: TestClient,
    ingest_token: str,
    clock: Clock,
) -> None:
    item = post(client, ingest_token, samples.missing_date()).json()
    assert item["started_at"] == clock().isoformat().replace("+00:00", "Z")


def test_the_same_message_id_again_answers_200_with_the_first_and_writes_no_blob(
    client: TestClient, ingest_token: str, blobs: MemoryBlobStore
) -> None:
    first = post(client, ingest_token, samples.with_attachments())
    keys = blobs.list_keys()
    again = post(client, ingest_token, samples.with_attachments())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert blobs.list_keys() == keys
    assert len(keys) == 3


def test_a_message_without_message_id_is_identified_by_the_hash_of_its_bytes(
    client: TestClient, ingest_token: str
) -> None:
    data = samples.missing_date().replace(b"Message-ID: <nodate-1@example.no>\r\n", b"")
    item = post(client, ingest_token, data).json()
    assert item["external_id"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert post(client, ingest_token, data).status_code == 200


def test_attachments_are_listed_stored_and_downloaded_as_attachments(
    client: TestClient, ingest_token: str, reader_token: str, blobs: MemoryBlobStore
) -> None:
    item = post(client, ingest_token, samples.with_attachments()).json()
    content = client.get(f"/api/v1/interactions/{item['id']}/content", headers=auth(reader_token)).json()
    pdf = pdf_with_text("Faktura 2026-117", f"Kunde: Kari, tlf {samples.PHONE_WRITTEN}")
    assert [a["filename"] for a in content["attachments"]] == ["faktura.pdf", "logo.png", "ordre.csv"]
    assert content["attachments"][0] == {
        "index": 0,
        "filename": "faktura.pdf",
        "content_type": "application/pdf",
        "size": len(pdf),
        "sha256": hashlib.sha256(pdf).hexdigest(),
    }
    assert content["headers"]["cc"] == '"Berg, Ola" <ola.berg@example.com>'
    download = client.get(f"/api/v1/interactions/{item['id']}/attachments/0", headers=auth(reader_token))
    assert download.status_code == 200
    assert download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert (
        download.headers["content-disposition"] == "attachment; filename=\"faktura.pdf\"; filename*=UTF-8''faktura.pdf"
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    # A CSV (like HTML or SVG) is served as opaque bytes: no attachment renders on our origin.
    csv = client.get(f"/api/v1/interactions/{item['id']}/attachments/2", headers=auth(reader_token))
    assert csv.headers["content-type"] == "application/octet-stream"
    assert client.get(f"/api/v1/interactions/{item['id']}/attachments/3", headers=auth(reader_token)).status_code == 404


def test_the_html_part_is_sanitised_no_script_no_remote_image(
    client: TestClient, ingest_token: str, reader_token: str
) -> None:
    item = post(client, ingest_token, samples.with_attachments()).json()
    html = client.get(f"/api/v1/interactions/{item['id']}/content", headers=auth(reader_token)).json()["html"]
    assert "<b>faktura</b>" in html
    assert "script" not in html
    assert "alert" not in html
    assert "tracker.example" not in html


def test_a_forwarded_message_is_read_into_the_text_and_its_attachment_listed(
    client: TestClient, ingest_token: str, reader_token: str, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        session.execute(update(Solution).where(Solution.id == solution.id).values(own_email_domains=["centre.example"]))
    item = post(client, ingest_token, samples.forwarded()).json()
    # From the centre's own domain: outbound, and the customer is the first recipient outside it.
    assert item["direction"] == "outbound"
    assert item["customer"]["email"] == "backoffice@partner.example"
    content = client.get(f"/api/v1/interactions/{item['id']}/content", headers=auth(reader_token)).json()
    assert "Forwarded message" in content["body"]
    assert "Jeg vil klage. Ring 912 34 567." in content["body"]
    assert [a["filename"] for a in content["attachments"]] == ["notat.txt"]


def test_query_sets_queue_and_direction(client: TestClient, ingest_token: str) -> None:
    item = post(client, ingest_token, samples.missing_date(), queue="Faktura", direction="outbound").json()
    assert (item["queue"], item["direction"]) == ("Faktura", "outbound")


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", 422),  # an empty body
        (b"\x89PNG\r\n\x1a\n" + bytes(200), 422),  # binary data
        (b"\x00\x01\x02 no header here", 422),  # control bytes, no header block
        (b"just a line of text without any header\r\n", 422),  # text, but no header block
    ],
)
def test_a_body_that_is_no_message_is_refused_with_422(
    client: TestClient, ingest_token: str, data: bytes, status: int
) -> None:
    response = post(client, ingest_token, data)
    assert response.status_code == status
    assert "no header block" in response.json()["detail"]


def test_a_message_over_25_mib_is_refused_with_413(client: TestClient, ingest_token: str) -> None:
    data = samples.missing_date() + b"x" * (MAX_MESSAGE_BYTES + 1)
    assert post(client, ingest_token, data).status_code == 413


def test_another_content_type_is_refused_with_415(client: TestClient, ingest_token: str) -> None:
    response = client.post(
        "/api/v1/interactions/email",
        content=samples.missing_date(),
        headers={**auth(ingest_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 415


def test_only_ingest_and_admin_may_post_email(client: TestClient, reader_token: str) -> None:
    assert post(client, reader_token, samples.missing_date()).status_code == 403


def test_another_solutions_attachment_answers_404(
    client: TestClient, ingest_token: str, make_token: TokenMaker, other_solution: Solution
) -> None:
    item = post(client, ingest_token, samples.with_attachments()).json()
    stranger = make_token(Role.ADMIN, other_solution)
    assert client.get(f"/api/v1/interactions/{item['id']}/attachments/0", headers=auth(stranger)).status_code == 404


def test_deleting_the_content_deletes_the_attachments_and_their_blobs(
    client: TestClient,
    ingest_token: str,
    make_token: TokenMaker,
    solution: Solution,
    blobs: MemoryBlobStore,
    session_factory: sessionmaker[Session],
) -> None:
    item = post(client, ingest_token, samples.with_attachments()).json()
    officer = make_token(Role.PRIVACY_OFFICER, solution)
    assert len(blobs.list_keys()) == 3
    assert client.delete(f"/api/v1/interactions/{item['id']}/content", headers=auth(officer)).status_code == 204
    assert blobs.list_keys() == []
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(EmailAttachment)) == 0
        assert session.scalar(select(func.count()).select_from(PendingBlobDeletion)) == 0
    assert client.get(f"/api/v1/interactions/{item['id']}/attachments/0", headers=auth(officer)).status_code == 404


class FailingStore(MemoryBlobStore):
    """A real in-memory store whose second write fails, as a full disk or a lost bucket would."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def put(self, key: str, data, content_type: str) -> int:  # type: ignore[no-untyped-def]
        self.writes += 1
        if self.writes == 2:
            raise OSError("disk full")
        return super().put(key, data, content_type)


def test_a_failed_attachment_write_leaves_nothing_that_the_drain_does_not_delete(
    session_factory: sessionmaker[Session],
    solution: Solution,
    keyring: MentionKeyring,
    clock: Clock,
) -> None:
    from archivist.archive.mime import parse_message
    from archivist.archive.recordings import UPLOAD_GRACE, drain_pending_blobs
    from archivist.importers.mail import archive_emails

    store = FailingStore()
    parsed = parse_message(samples.with_attachments(), received_at=clock())
    with pytest.raises(OSError, match="disk full"):
        archive_emails(session_factory, store, solution.id, [parsed], keyring=keyring, now=clock())
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0
        assert session.scalar(select(func.count()).select_from(PendingBlobDeletion)) == 3
    assert len(store.list_keys()) == 1
    assert drain_pending_blobs(session_factory, store, clock() + UPLOAD_GRACE) == 3
    assert store.list_keys() == []


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_every_message_of_the_standard_library_corpus_is_archived_or_refused_with_a_reason(
    client: TestClient, ingest_token: str, reader_token: str, path: Path
) -> None:
    response = post(client, ingest_token, path.read_bytes())
    if response.status_code == 422:
        assert response.json()["detail"] == ("The body is not an email message: it has no header block (RFC 5322)")
        return
    assert response.status_code in (200, 201), response.text
    iid = response.json()["id"]
    content = client.get(f"/api/v1/interactions/{iid}/content", headers=auth(reader_token))
    assert content.status_code == 200
    for attachment in content.json()["attachments"]:
        download = client.get(
            f"/api/v1/interactions/{iid}/attachments/{attachment['index']}", headers=auth(reader_token)
        )
        assert hashlib.sha256(download.content).hexdigest() == attachment["sha256"]


def test_a_subject_export_holds_the_persons_attachments_with_manifest_entries(
    client: TestClient, ingest_token: str, make_token: TokenMaker, solution: Solution
) -> None:
    import io
    import json
    import zipfile

    item = post(client, ingest_token, samples.with_attachments()).json()
    post(client, ingest_token, samples.other_persons_mail())  # Per's: his attachments are not hers
    officer = auth(make_token(Role.PRIVACY_OFFICER, solution))
    export = client.post("/api/v1/subject-exports", json={"email": samples.ADDRESS}, headers=officer).json()
    download = client.get(f"/api/v1/subject-exports/{export['id']}/download", headers=officer)
    archive_ = zipfile.ZipFile(io.BytesIO(download.content))
    iid = item["id"]
    # The attachment named "../../etc/logo.png" lies where its name says, inside its folder.
    names = [n for n in archive_.namelist() if n.startswith("attachments/")]
    assert names == [
        f"attachments/{iid}/0-faktura.pdf",
        f"attachments/{iid}/1-logo.png",
        f"attachments/{iid}/2-ordre.csv",
    ]
    pdf = pdf_with_text("Faktura 2026-117", f"Kunde: Kari, tlf {samples.PHONE_WRITTEN}")
    assert archive_.read(f"attachments/{iid}/0-faktura.pdf") == pdf
    manifest = json.loads(archive_.read("manifest.json"))
    entries = {f["name"]: f for f in manifest["files"]}
    assert entries[f"attachments/{iid}/0-faktura.pdf"]["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert manifest["attachments_missing"] == []
    (mine,) = json.loads(archive_.read("interactions.json"))["interactions"]
    assert mine["content"]["headers"]["from"] == "Kari Nordmann <kari.nordmann@example.no>"
    assert [a["file"] for a in mine["content"]["attachments"]] == names


def xss_mail() -> bytes:
    from email.message import EmailMessage
    from email.policy import SMTP

    from tests.unit.test_mime import XSS

    message = EmailMessage()
    message["From"] = "Mallory <mallory@evil.example>"
    message["To"] = "post@centre.example"
    message["Subject"] = '<script>alert("subject")</script>'
    message["Date"] = "Mon, 02 Mar 2026 13:00:00 +0100"
    message["Message-ID"] = "<xss-1@evil.example>"
    message.set_content("See the HTML part.\n")
    message.add_alternative("<p>Hello <b>there</b></p>" + "".join(XSS), subtype="html")
    message.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html", filename="x.html")
    return message.as_bytes(policy=SMTP)


def test_the_email_view_shows_sanitised_html_in_a_sandboxed_frame_with_headers_and_attachment_links(
    client: TestClient, ingest_token: str, make_token: TokenMaker, solution: Solution
) -> None:
    import html as html_module
    import re

    from tests.functional.test_search_page_auth import login

    item = post(client, ingest_token, xss_mail()).json()
    login(client, make_token(Role.SUPERVISOR, solution))
    page = client.get(f"/archive/interactions/{item['id']}", headers={"HX-Request": "true"}).text
    # The subject is text on the page, never markup.
    assert "&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt;" in page
    frames = re.findall(r"<iframe([^>]*)>", page)
    assert len(frames) == 1
    (frame,) = frames
    assert 'sandbox=""' in frame
    srcdoc = html_module.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))  # type: ignore[union-attr]
    assert "<b>there</b>" in srcdoc
    assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'" in srcdoc
    body = srcdoc.split("<body>", 1)[1].lower()
    for forbidden in ("<script", "onerror", "onload", "javascript:", "evil.example", "url(", "<iframe", "<form"):
        assert forbidden not in body, forbidden
    assert "Mallory &lt;mallory@evil.example&gt;" in page
    # A direct link (the whole search page with the details open) shows the same frame.
    whole = client.get(f"/archive/interactions/{item['id']}").text
    assert re.findall(r"<iframe([^>]*)>", whole) == frames
    link = f"/archive/interactions/{item['id']}/attachments/0"
    assert f'href="{link}"' in page
    download = client.get(link)
    assert download.status_code == 200
    # An HTML attachment is a download of opaque bytes, never a page on our origin.
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"


def test_the_anonymize_page_preview_says_how_many_attachments_would_go(
    client: TestClient, ingest_token: str, make_token: TokenMaker, solution: Solution
) -> None:
    from tests.functional.test_search_page import as_role

    post(client, ingest_token, samples.with_attachments())
    csrf = as_role(client, make_token, solution, Role.PRIVACY_OFFICER)
    page = client.post(
        "/archive/anonymize/preview",
        data={"phone": samples.PHONE, "csrf_token": csrf},
        headers={"HX-Request": "true"},
    ).text
    assert "1 email attachment deleted" in page


def test_own_email_domains_are_set_on_the_settings_page_and_decide_direction_and_customer(
    client: TestClient, ingest_token: str, make_token: TokenMaker, solution: Solution
) -> None:
    from tests.functional.test_search_page_auth import csrf_from, login

    login(client, make_token(Role.ADMIN, solution))
    page = client.get("/settings").text
    assert ">Own email domains</label>" in page
    form = {
        "csrf_token": csrf_from(page),
        "country": "NO",
        "timezone": "Europe/Oslo",
        "nightly_at": "02:00",
        "replacement": "Anonymized",
        "preview_warn_percent": "1",
        "audit_retention_days": "365",
    }
    bad = client.post("/settings", data={**form, "own_email_domains": "centre.example\nnot a domain"})
    assert bad.status_code == 422
    assert "one a line" in bad.text
    saved = client.post(
        "/settings", data={**form, "own_email_domains": "Centre.Example\n@centre.example\n"}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert ">centre.example</textarea>" in client.get("/settings").text
    item = post(client, ingest_token, samples.forwarded()).json()
    assert (item["direction"], item["customer"]["email"]) == ("outbound", "backoffice@partner.example")


def test_a_message_nested_thousands_deep_is_refused_with_422_not_a_500(client: TestClient, ingest_token: str) -> None:
    from tests.unit.test_mime import _nested

    response = post(client, ingest_token, _nested(3000))
    assert response.status_code == 422
    assert response.json()["detail"] == "The message cannot be read: its parts are nested too deeply"
