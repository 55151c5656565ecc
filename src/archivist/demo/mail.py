"""Demo email as it arrives (CONTRACT §15): a few realistic MIME messages with attachments.

So a new user sees at once what a message from a mail system looks like in the archive: an
HTML newsletter-style reply with its text, a PDF invoice that writes the customer's number,
a photo of a damaged parcel, a forwarded complaint, Norwegian text in quoted-printable and in
Windows-1252. Deterministic: the Message-IDs repeat, so loading them twice adds nothing.
"""

from __future__ import annotations

import zlib
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from archivist.archive.mentions import MentionKeyring
from archivist.archive.mime import parse_message
from archivist.blobs import BlobStore

OWN_DOMAIN = "kundeservice.example"


def pdf_with_text(*lines: str) -> bytes:
    """A minimal, valid one-page PDF (Helvetica) whose content stream writes ``lines`` as text."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    stream = zlib.compress("\n".join(ops).encode("latin-1"))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# A 1×1 PNG: stands in for the customer's photo.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cf"
    "c0f01f0005000201a5d3b5a00000000049454e44ae426082"
)


def _message(n: int, at: datetime, sender: str, to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = f"<demo-mime-{n}@demo.archivist>"
    return message


def demo_messages(now: datetime, timezone: str) -> list[bytes]:
    """The demo messages, dated on the working days before ``now`` in the solution's time zone."""
    tz = ZoneInfo(timezone)
    day = now.astimezone(tz).date()

    def at(days_back: int, hour: int, minute: int) -> datetime:
        return datetime.combine(day - timedelta(days=days_back), time(hour, minute), tzinfo=tz)

    centre = f"Kundeservice <post@{OWN_DOMAIN}>"
    messages: list[EmailMessage] = []

    invoice = _message(1, at(3, 9, 12), "Kari Nordmann <kari.nordmann@example.no>", centre, "Feil på fakturaen")
    invoice.set_content(
        "Hei,\n\nFakturaen for mars er feil – jeg er trukket to ganger.\n"
        "Ring meg gjerne på 912 34 567.\n\nHilsen Kari Nordmann\n"
    )
    invoice.add_alternative(
        "<p>Hei,</p><p>Fakturaen for mars er <b>feil</b> – jeg er trukket to ganger.<br>"
        'Ring meg gjerne på <a href="tel:+4791234567">912 34 567</a>.</p><p>Hilsen Kari Nordmann</p>',
        subtype="html",
    )
    invoice.add_attachment(
        pdf_with_text("Faktura 2026-0317", "Kunde: Kari Nordmann", "Telefon: 912 34 567", "Beløp: 1 249,00 kr"),
        maintype="application",
        subtype="pdf",
        filename="faktura-2026-0317.pdf",
    )
    messages.append(invoice)

    parcel = _message(2, at(2, 14, 40), '"Hansen, Per" <per.hansen@example.com>', centre, "Skadet pakke – bilde")
    parcel.set_content(
        "Pakken kom i dag, men esken var knust. Se bilde.\nOrdrenummer 88-1203.\n", cte="quoted-printable"
    )
    parcel.add_attachment(_PNG, maintype="image", subtype="png", filename="pakke.png")
    messages.append(parcel)

    reply = _message(3, at(2, 15, 5), centre, "Per Hansen <per.hansen@example.com>", "Sv: Skadet pakke – bilde")
    reply.set_content("Hei Per,\n\nVi sender en ny pakke i morgen. Beklager!\n\nVennlig hilsen\nKundeservice\n")
    reply.add_alternative(
        '<div style="font-family: Arial; color: #333"><p>Hei Per,</p><p>Vi sender en ny pakke i morgen. '
        "Beklager!</p><p>Vennlig hilsen<br><b>Kundeservice</b></p>"
        '<img src="https://tracking.example/open.gif" width="1" height="1"></div>',
        subtype="html",
    )
    messages.append(reply)

    forwarded_inner = EmailMessage()
    forwarded_inner["From"] = "Ola Berg <ola.berg@example.org>"
    forwarded_inner["To"] = f"post@{OWN_DOMAIN}"
    forwarded_inner["Subject"] = "Klage på behandling"
    forwarded_inner["Date"] = format_datetime(at(1, 8, 30))
    forwarded_inner.set_content("Jeg er ikke fornøyd med svaret. Nå nås jeg på 0046 70 123 45 67.\n")
    forwarded_inner.add_attachment(
        "Notat fra telefonsamtale 12.03: kunden ønsker tilbakeringing.\n".encode(),
        maintype="text",
        subtype="plain",
        filename="notat.txt",
    )
    forward = _message(
        4, at(1, 9, 2), f"Agent Lise <lise@{OWN_DOMAIN}>", "Klagenemnda <klage@partner.example>", "Fwd: Klage"
    )
    forward.set_content("Videresender klagen under, se vedlagt notat.\n")
    forward.add_attachment(forwarded_inner)
    messages.append(forward)

    latin = EmailMessage()
    latin["From"] = "=?iso-8859-1?q?Bj=F8rn_=C6rlig?= <bjorn@example.no>"
    latin["To"] = centre
    latin["Subject"] = "=?windows-1252?q?Sp=F8rsm=E5l_om_abonnement?="
    latin["Date"] = format_datetime(at(1, 11, 20))
    latin["Message-ID"] = "<demo-mime-5@demo.archivist>"
    latin.set_content("Kan jeg bytte til årsabonnement? Mvh Bjørn Ærlig, tlf 22 33 44 55\n", charset="windows-1252")
    messages.append(latin)
    return [m.as_bytes(policy=SMTP) for m in messages]


def load_demo_mail(
    factory: sessionmaker[Session],
    blobs: BlobStore,
    solution_id: str,
    timezone: str,
    now: datetime,
    *,
    keyring: MentionKeyring,
) -> int:
    """Archive the demo messages; returns how many were new. Read as mail of the demo centre's own
    domain (outbound from it), without changing the solution's ``own_email_domains``."""
    from archivist.importers.mail import archive_emails

    parsed = [parse_message(data, received_at=now, own_domains=[OWN_DOMAIN]) for data in demo_messages(now, timezone)]
    return sum(a.created for a in archive_emails(factory, blobs, solution_id, parsed, keyring=keyring, now=now))
