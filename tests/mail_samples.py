"""Email messages for the tests, written byte by byte in the encodings mail systems use (CONTRACT §15).

Each sample writes the customer's number (912 34 567) or address (kari.nordmann@example.no)
in a different encoding habit, so a test can check that decoding, indexing and erasure all
see the same text a person reading the mail sees.
"""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.policy import SMTP

from archivist.demo.mail import pdf_with_text

PHONE = "91234567"
PHONE_WRITTEN = "912 34 567"
ADDRESS = "kari.nordmann@example.no"
OTHER_PHONE = "98765432"


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("latin-1")


def quoted_printable_soft_breaks(message_id: str = "qp-1@example.no") -> bytes:
    """QP with soft line breaks inside the number and inside the address, and a Q-encoded subject."""
    return _crlf(
        f"""From: =?iso-8859-1?Q?Kari_Nordmann?= <{ADDRESS}>
To: Kundeservice <post@centre.example>
Subject: =?iso-8859-1?Q?Sp=F8rsm=E5l_om_faktura?=
Date: Tue, 03 Mar 2026 10:15:00 +0100
Message-ID: <{message_id}>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Hei, ring meg p=E5 912 3=
4 567 eller skriv til kari.nord=
mann@example.no. Hilsen Kari
"""
    )


def base64_windows_1252(message_id: str = "b64-1@example.no") -> bytes:
    """A base64 body in windows-1252 (curly quotes, ø) and a B-encoded UTF-8 subject."""
    body = f"\u201cHei\u201d \u2013 nummeret mitt er {PHONE_WRITTEN}. Bl\u00e5b\u00e6r og r\u00f8d ost.\n"
    encoded = base64.encodebytes(body.encode("cp1252")).decode()
    subject = base64.b64encode("Bestilling – blåbær".encode()).decode()
    return _crlf(
        f"""From: Kari Nordmann <{ADDRESS}>
To: post@centre.example
Subject: =?utf-8?B?{subject}?=
Date: Wed, 04 Mar 2026 08:00:00 +0100
Message-ID: <{message_id}>
MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: base64

{encoded}"""
    )


def wrong_charset(message_id: str = "wrong-1@example.no") -> bytes:
    """Declared ISO-8859-1, written in UTF-8 (a common client bug); and one with an unknown charset."""
    head = f"""From: {ADDRESS}
To: post@centre.example
Subject: Feil tegnsett
Date: Thu, 05 Mar 2026 09:00:00 +0100
Message-ID: <{message_id}>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

"""
    return head.replace("\n", "\r\n").encode() + f"Blåbær – ring {PHONE_WRITTEN}\r\n".encode()


def unknown_charset(message_id: str = "unknown-1@example.no") -> bytes:
    head = f"""From: {ADDRESS}
Subject: =?x-no-such-charset?Q?Hei?=
Date: Thu, 05 Mar 2026 09:30:00 +0100
Message-ID: <{message_id}>
Content-Type: text/plain; charset=x-no-such-charset
Content-Transfer-Encoding: 8bit

"""
    return head.replace("\n", "\r\n").encode() + "Rød bil, ring 912 34 567\r\n".encode("latin-1")


def broken_boundary(message_id: str = "broken-1@example.no") -> bytes:
    """A multipart whose declared boundary never appears: its text must still be read."""
    return _crlf(
        f"""From: {ADDRESS}
Subject: Broken
Date: Fri, 06 Mar 2026 09:00:00 +0100
Message-ID: <{message_id}>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-used"

--another-boundary
Content-Type: text/plain

Ring meg på {PHONE_WRITTEN}.
--another-boundary--
"""
    )


def missing_date(message_id: str = "nodate-1@example.no") -> bytes:
    return _crlf(
        f"""From: {ADDRESS}
Subject: No date
Message-ID: <{message_id}>

Ring {PHONE_WRITTEN}.
"""
    )


def with_attachments(message_id: str = "att-1@example.no", *, pdf_lines: tuple[str, ...] | None = None) -> bytes:
    """multipart/mixed: text + HTML alternative, a PDF that writes the number, a harmless PNG and a CSV."""
    message = EmailMessage()
    message["From"] = f"Kari Nordmann <{ADDRESS}>"
    message["To"] = "Kundeservice <post@centre.example>"
    message["Cc"] = '"Berg, Ola" <ola.berg@example.com>'
    message["Subject"] = "Faktura og kvittering"
    message["Date"] = "Mon, 02 Mar 2026 13:00:00 +0100"
    message["Message-ID"] = f"<{message_id}>"
    message.set_content("Hei,\nse vedlagt faktura.\nKari\n")
    message.add_alternative(
        "<html><body><p>Hei,</p><p>se vedlagt <b>faktura</b>."
        '<img src="https://tracker.example/pixel.gif"></p><script>alert(1)</script></body></html>',
        subtype="html",
    )
    lines = pdf_lines if pdf_lines is not None else ("Faktura 2026-117", f"Kunde: Kari, tlf {PHONE_WRITTEN}")
    message.add_attachment(pdf_with_text(*lines), maintype="application", subtype="pdf", filename="faktura.pdf")
    message.add_attachment(
        b"\x89PNG\r\n\x1a\n" + bytes(40), maintype="image", subtype="png", filename="../../etc/logo.png"
    )
    message.add_attachment("ordre;belop\n117;450\n", subtype="csv", filename="ordre.csv")
    return message.as_bytes(policy=SMTP)


def forwarded(message_id: str = "fwd-1@example.no") -> bytes:
    """An agent forwards the customer's mail (message/rfc822) with its own attachment inside."""
    inner = EmailMessage()
    inner["From"] = f"Kari Nordmann <{ADDRESS}>"
    inner["To"] = "post@centre.example"
    inner["Subject"] = "Klage"
    inner["Date"] = "Sun, 01 Mar 2026 20:00:00 +0100"
    inner.set_content(f"Jeg vil klage. Ring {PHONE_WRITTEN}.\n", charset="utf-8", cte="quoted-printable")
    inner.add_attachment(f"Notat: tlf {PHONE}\n".encode(), maintype="text", subtype="plain", filename="notat.txt")
    outer = EmailMessage()
    outer["From"] = "Agent Ola <ola@centre.example>"
    outer["To"] = "Backoffice <backoffice@partner.example>"
    outer["Subject"] = "Fwd: Klage"
    outer["Date"] = "Mon, 02 Mar 2026 09:00:00 +0100"
    outer["Message-ID"] = f"<{message_id}>"
    outer.set_content("Se videresendt melding.\n")
    outer.add_attachment(inner)
    return outer.as_bytes(policy=SMTP)


def other_persons_mail(message_id: str = "other-1@example.no") -> bytes:
    """Somebody else's mail, with an attachment that writes another number (must survive erasure)."""
    message = EmailMessage()
    message["From"] = "Per Hansen <per.hansen@example.com>"
    message["To"] = "post@centre.example"
    message["Subject"] = "Spørsmål"
    message["Date"] = "Mon, 02 Mar 2026 11:00:00 +0100"
    message["Message-ID"] = f"<{message_id}>"
    message.set_content(f"Hei, min kollega Kari har nummer {PHONE_WRITTEN}. Mitt er {OTHER_PHONE}.\n")
    message.add_alternative(
        f'<p>Kari: <a href="tel:+47{PHONE}">{PHONE_WRITTEN}</a>, meg: {OTHER_PHONE}</p>', subtype="html"
    )
    message.add_attachment(f"Kontakt: {OTHER_PHONE}\n".encode(), maintype="text", subtype="plain", filename="mine.txt")
    message.add_attachment(f"Kari: {PHONE_WRITTEN}\n".encode(), maintype="text", subtype="plain", filename="kari.txt")
    message.add_attachment(
        pdf_with_text(f"Kari {PHONE_WRITTEN}"), maintype="application", subtype="pdf", filename="kari.pdf"
    )
    return message.as_bytes(policy=SMTP)


ALL_ENCODINGS = {
    "quoted_printable_soft_breaks": quoted_printable_soft_breaks,
    "base64_windows_1252": base64_windows_1252,
    "wrong_charset": wrong_charset,
    "unknown_charset": unknown_charset,
    "broken_boundary": broken_boundary,
    "missing_date": missing_date,
    "with_attachments": with_attachments,
    "forwarded": forwarded,
}
