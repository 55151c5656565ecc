"""The MIME reader and the HTML sanitiser (CONTRACT §15), pure: no database, no web."""

from __future__ import annotations

from datetime import UTC, datetime

import hypothesis
import pytest
from hypothesis import strategies as st

from archivist.archive.mime import (
    NotAMessageError,
    decode_text,
    html_to_text,
    parse_message,
    pdf_text,
    readable_text,
    safe_filename,
    sanitize_html,
)
from archivist.archive.models import Direction
from archivist.demo.mail import pdf_with_text
from tests import mail_samples as samples

RECEIVED = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)

# What must never survive sanitising, whatever the payload.
FORBIDDEN = (
    "<script",
    "onerror",
    "onload",
    "onclick",
    "onmouseover",
    "javascript:",
    "vbscript:",
    "evil.example",
    "url(",
    "expression(",
    "<svg",
    "<iframe",
    "<object",
    "<embed",
    "<form",
    "<meta",
    "<base",
    "<link",
    "<style",
    "data:text",
)

XSS = [
    "<script>alert(1)</script>",  # a plain script element
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",  # a remote script, upper case
    "<img src=x onerror=alert(1)>",  # an event handler on an image
    '<a href="javascript:alert(1)">click</a>',  # a javascript: link
    '<a href="JaVaScRiPt:alert(1)">click</a>',  # the scheme in mixed case
    '<a href="java&#x09;script:alert(1)">click</a>',  # a tab entity inside the scheme
    '<a href="vbscript:msgbox(1)">click</a>',  # another script scheme
    "<svg onload=alert(1)><circle r=5></svg>",  # SVG with onload
    '<img src="https://evil.example/pixel.gif">',  # a remote image (a read receipt)
    '<img srcset="https://evil.example/a.png 1x">',  # a remote image through srcset
    '<table background="https://evil.example/bg.png"><tr><td>x</td></tr></table>',  # a legacy background
    '<div style="background:url(https://evil.example/x.png)">x</div>',  # CSS url() in a style attribute
    '<div style="width: expression(alert(1))">x</div>',  # old IE CSS expressions
    "<style>@import url(https://evil.example/x.css); body{background:red}</style>",  # a style element
    '<link rel="stylesheet" href="https://evil.example/x.css">',  # a remote stylesheet
    '<iframe src="https://evil.example/"></iframe>',  # a frame
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x">',  # plugins
    '<form action="https://evil.example/"><input name="pw"></form>',  # a phishing form
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',  # a redirect
    '<base href="https://evil.example/">',  # rebasing relative links
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',  # a data: document
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',  # an SVG data image
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",  # mutation XSS
    '<p onmouseover="alert(1)" title="x">hover</p>',  # an event handler on text
    "<!--<img src=x onerror=alert(1)>-->",  # inside a comment
]


@pytest.mark.parametrize("payload", XSS)
def test_the_sanitiser_leaves_nothing_that_runs_or_loads(payload: str) -> None:
    cleaned = sanitize_html(payload).lower()
    for forbidden in FORBIDDEN:
        assert forbidden not in cleaned, (payload, cleaned)


def test_the_sanitiser_keeps_presentation_inline_images_and_web_links() -> None:
    png = "data:image/png;base64,iVBORw0KGgo="
    html = (
        '<p style="color: red; font-weight: bold">Hei <b>Kari</b></p>'
        f'<a href="https://example.no/faktura">faktura</a><img src="{png}" alt="logo">'
        "<table><tr><td>1</td></tr></table>"
    )
    cleaned = sanitize_html(html)
    assert "<b>Kari</b>" in cleaned
    assert "color:red" in cleaned.replace(" ", "")
    assert 'href="https://example.no/faktura"' in cleaned
    assert f'src="{png}"' in cleaned
    assert "<td>1</td>" in cleaned


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        ("Blåbær".encode(), "iso-8859-1", "Blåbær"),  # declared Latin-1, written in UTF-8
        ("Blåbær".encode("latin-1"), "iso-8859-1", "Blåbær"),  # Latin-1 as declared
        ("“Hei”".encode("cp1252"), "windows-1252", "“Hei”"),  # curly quotes of Windows-1252
        ("Blåbær".encode("latin-1"), "utf-8", "Blåbær"),  # declared UTF-8, written in Latin-1
        ("Blåbær".encode(), "x-no-such-charset", "Blåbær"),  # an unknown charset
        (b"plain", "base64", "plain"),  # a codec that is no charset
        (b"a\x00b", None, "a\ufffdb"),  # NUL, which no database stores
        ("Ærlig".encode("iso-8859-15"), '"ISO-8859-15"', "Ærlig"),  # a quoted charset name
    ],
)
def test_text_is_decoded_whatever_charset_it_claims(data: bytes, charset: str | None, text: str) -> None:
    assert decode_text(data, charset) == text


def test_a_body_without_a_header_block_is_not_a_message() -> None:
    for data in (b"", b"\x89PNG\r\n\x1a\n\x00\x00", b"no header here\r\n\r\nbody"):
        with pytest.raises(NotAMessageError):
            parse_message(data, received_at=RECEIVED)


def test_direction_and_customer_follow_the_own_domains() -> None:
    inbound = parse_message(samples.with_attachments(), received_at=RECEIVED, own_domains=["centre.example"])
    assert (inbound.direction, inbound.customer_email, inbound.customer_name) == (
        Direction.INBOUND,
        samples.ADDRESS,
        "Kari Nordmann",
    )
    # The forward comes from the centre's domain: outbound, to the first address outside it.
    outbound = parse_message(samples.forwarded(), received_at=RECEIVED, own_domains=["Centre.Example"])
    assert (outbound.direction, outbound.customer_email) == (Direction.OUTBOUND, "backoffice@partner.example")
    # Without own domains every message is inbound.
    assert parse_message(samples.forwarded(), received_at=RECEIVED).direction is Direction.INBOUND


def test_a_forwarded_message_is_text_and_its_attachment_is_listed() -> None:
    parsed = parse_message(samples.forwarded(), received_at=RECEIVED)
    assert "From: Kari Nordmann <kari.nordmann@example.no>" in parsed.body
    assert "Jeg vil klage. Ring 912 34 567." in parsed.body
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [("notat.txt", "text/plain")]
    assert parsed.attachments[0].payload() == f"Notat: tlf {samples.PHONE}\n".encode()


def test_the_text_of_a_pdf_and_of_text_attachments_is_read() -> None:
    pdf = pdf_with_text("Faktura", f"tlf {samples.PHONE_WRITTEN}")
    assert f"tlf {samples.PHONE_WRITTEN}" in (pdf_text(pdf) or "")
    assert readable_text("text/html", b"<p>Ring <b>912 34 567</b></p>") == "Ring 912 34 567"
    assert readable_text("image/png", b"\x89PNG") is None
    assert pdf_text(b"%PDF-1.4 broken") is None


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),  # a path climbing out
        ("C:\\Windows\\boot.ini", "boot.ini"),  # a Windows path
        ('fak"tura<1>.pdf', "faktura1.pdf"),  # characters no file system takes
        ("rapport\x00.pdf", "rapport.pdf"),  # a control character
        ("...", ""),  # nothing left: the caller names it
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),  # too long, the extension kept
    ],
)
def test_attachment_names_are_made_safe(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_html_reads_as_text_without_tags_scripts_or_styles() -> None:
    text = html_to_text("<style>p{}</style><p>Hei&nbsp;Kari</p><script>x()</script><div>Ring 912 34 567</div>")
    assert text == "Hei Kari\n\nRing 912 34 567"  # a no-break space reads as a space


def test_base64_is_decoded_exactly_as_the_standard_library_does_for_every_part_of_every_sample() -> None:
    import email
    from email import policy
    from pathlib import Path

    from archivist.archive.mime import _payload_bytes

    corpus = sorted((Path(__file__).parent.parent / "data" / "mail").glob("msg_*.txt"))
    messages = [p.read_bytes() for p in corpus] + [sample() for sample in samples.ALL_ENCODINGS.values()]
    # Lines of odd length, stray characters and missing padding, as broken mailers write them.
    messages.append(b"Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29y\r\nbGQ*h\r\nIQ\r\n")
    checked = 0
    for data in messages:
        for part in email.message_from_bytes(data, policy=policy.default).walk():
            if part.is_multipart():
                continue
            assert _payload_bytes(part) == part.get_payload(decode=True)
            checked += 1
    assert checked > 60


def test_a_large_attachment_is_decoded_without_holding_many_copies() -> None:
    import os
    import tracemalloc
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage()
    message["From"] = samples.ADDRESS
    message.set_content("see attachment\n")
    message.add_attachment(os.urandom(4 * 1024 * 1024), maintype="application", subtype="octet-stream")
    data = message.as_bytes(policy=SMTP)
    parsed = parse_message(data, received_at=RECEIVED)
    del data, message
    tracemalloc.start()
    try:
        payload = parsed.attachments[0].payload()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(payload) == 4 * 1024 * 1024
    # The decoded bytes and about a slice more, not the several copies of the whole the stdlib makes.
    assert peak < 2.5 * len(payload), peak


def test_the_demo_mail_reads_as_a_new_user_should_see_it() -> None:
    from archivist.demo.mail import OWN_DOMAIN, demo_messages

    parsed = [
        parse_message(data, received_at=RECEIVED, own_domains=[OWN_DOMAIN])
        for data in demo_messages(RECEIVED, "Europe/Oslo")
    ]
    assert [p.subject for p in parsed] == [
        "Feil på fakturaen",
        "Skadet pakke – bilde",
        "Sv: Skadet pakke – bilde",
        "Fwd: Klage",
        "Spørsmål om abonnement",
    ]
    inbound, outbound = Direction.INBOUND, Direction.OUTBOUND
    assert [p.direction for p in parsed] == [inbound, inbound, outbound, outbound, inbound]
    assert [a.filename for p in parsed for a in p.attachments] == ["faktura-2026-0317.pdf", "pakke.png", "notat.txt"]
    invoice = parsed[0].attachments[0]
    assert "Telefon: 912 34 567" in (readable_text(invoice.content_type, invoice.payload()) or "")
    assert parsed[4].customer_name == "Bjørn Ærlig"
    assert "tracking.example" not in (parsed[2].html or "")


def _nested(depth: int) -> bytes:
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return b"From: a@example.no\r\n" + opening + b"Content-Type: text/plain\r\n\r\nRing 912 34 567\r\n" + closing


def test_parts_nested_as_deep_as_real_mail_goes_are_read() -> None:
    assert "912 34 567" in parse_message(_nested(40), received_at=RECEIVED).body


def test_parts_nested_thousands_deep_are_refused_with_a_reason_never_a_crash() -> None:
    from archivist.archive.mime import UnreadableMessageError

    with pytest.raises(UnreadableMessageError, match="nested too deeply"):
        parse_message(_nested(3000), received_at=RECEIVED)


# Pieces of MIME syntax that broken mail gets wrong: encoded words cut off, boundaries, charsets
# with NUL in their name, impossible dates, soft breaks and escapes that lead nowhere.
_SYNTAX = [
    b"=?", b"?=", b"=?utf-8?B?", b"=?x?Q?=FF", b"\r\n", b"--", b"boundary=", b";", b'"', b"\x00", b"\xff",
    b"Content-Type: message/rfc822\r\n\r\n", b"charset=", b"filename*=", b"''", b"<", b">", b"@", b",",
    b"Mon, 99 Foo 99999 99:99:99 +9999", b"=\r\n", b"=ZZ", b"begin 644 x\r\n", b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Disposition: attachment; filename=", b"\t",
]  # fmt: skip


@hypothesis.settings(max_examples=300)
@hypothesis.given(
    seed=st.sampled_from(sorted(samples.ALL_ENCODINGS)),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.one_of(st.sampled_from(_SYNTAX), st.binary(max_size=6), st.integers(1, 30))),
        max_size=8,
    ),
)
def test_mangled_mail_is_read_or_refused_with_a_reason_and_holds_no_nul(
    seed: str, edits: list[tuple[float, bytes | int]]
) -> None:
    from archivist.archive.mime import UnreadableMessageError

    data = bytearray(samples.ALL_ENCODINGS[seed]())
    for where, edit in edits:
        at = int(where * len(data))
        if isinstance(edit, int):
            del data[at : at + edit]  # a piece lost in transit
        else:
            data[at:at] = edit
    try:
        parsed = parse_message(bytes(data), received_at=RECEIVED, own_domains=["centre.example"])
    except UnreadableMessageError:
        return
    texts = [parsed.subject or "", parsed.body, parsed.html or "", *(v or "" for v in parsed.headers.values())]
    texts += [a.filename for a in parsed.attachments]
    assert not any("\x00" in text for text in texts)
    for attachment in parsed.attachments:
        readable_text(attachment.content_type, attachment.payload())
