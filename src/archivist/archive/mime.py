"""Reading an email as it arrives (RFC 5322 / MIME, CONTRACT §15): decoded once, at the door.

Pure (no I/O, no database): ``parse_message`` feeds the bytes to the standard library's parser
(``policy.default``) once and returns what the archive keeps — the decoded subject, text, HTML
and address headers, the customer and direction, and the attachments as references into the
parsed message. An attachment's bytes are decoded only when ``Attachment.payload`` is asked,
one at a time, so the caller can write each to the blob store and let it go: a 25 MiB message
is held as its parsed tree plus one decoded attachment, never many copies of itself.

Mail is messy: wrong and unknown charsets, broken boundaries, headers a strict parser refuses.
Every decoding step falls back rather than fails; only a body that is not a message at all
(no header block) is refused, with ``NotAMessageError``.
"""

from __future__ import annotations

import binascii
import codecs
import functools
import hashlib
import html
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import Address, HeaderRegistry
from email.message import Message
from email.parser import BytesFeedParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

import nh3

from archivist.archive.models import Direction
from archivist.times import in_range

# The largest message the archive takes (CONTRACT §15): larger is a 413, or a skipped record.
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
# Lengths of the archive's columns (the interaction's subject, customer name, external id).
MAX_SUBJECT = 998
MAX_NAME = 200
MAX_EXTERNAL_ID = 200
MAX_FILENAME = 200
MAX_CONTENT_TYPE = 100
# Text read out of one attachment for the mention index: enough for any invoice or letter,
# bounded so a huge text file cannot make the scanner the bottleneck.
MAX_ATTACHMENT_TEXT = 1_000_000
# PDF pages read for text; past this an attachment is indexed by its first pages only.
MAX_PDF_PAGES = 200
# How deep parts inside parts (multiparts, forwarded messages) are read: real mail nests a
# handful of levels, a forward of a forward a few more each; what lies deeper is left unread.
MAX_DEPTH = 50
MAX_NESTING = 100

ADDRESS_HEADERS = ("from", "to", "cc", "reply_to")

NOT_A_MESSAGE = "The body is not an email message: it has no header block (RFC 5322)"
TOO_DEEP = "The message cannot be read: its parts are nested too deeply"


class UnreadableMessageError(ValueError):
    """The bytes cannot be archived as a message; the text says why and names no data (API: 422)."""


class NotAMessageError(UnreadableMessageError):
    """The bytes are not an email message (binary data, an empty body)."""

    def __init__(self) -> None:
        super().__init__(NOT_A_MESSAGE)


@dataclass(frozen=True)
class Party:
    """One address of a header, decoded."""

    address: str  # the addr-spec as written ("kari@example.no"); may be empty for a group
    name: str | None

    def shown(self) -> str:
        if not self.name:
            return self.address
        if not self.address:
            return self.name
        try:
            return str(Address(display_name=self.name, addr_spec=self.address))
        except Exception:  # noqa: BLE001 - an address the strict formatter refuses is shown as written
            return f"{self.name} <{self.address}>"


@dataclass
class Attachment:
    """An attachment found in the message; its bytes are decoded on demand (``payload``)."""

    index: int
    filename: str
    content_type: str
    _part: Message = field(repr=False)

    def payload(self) -> bytes:
        """The decoded bytes (base64, quoted-printable, uuencode…); the part's copy is then released."""
        data = _payload_bytes(self._part)
        # The parsed tree would otherwise keep the encoded text until the message is dropped.
        self._part.set_payload("")
        return data


@dataclass
class ParsedEmail:
    """What the archive keeps of one message, every text decoded."""

    external_id: str
    started_at: datetime
    direction: Direction
    subject: str | None
    body: str
    html: str | None  # sanitised (``sanitize_html``)
    headers: dict[str, str | None]
    customer_email: str | None
    customer_name: str | None
    attachments: list[Attachment]


_STRUCTURE_HEADERS = frozenset({"content-type", "content-transfer-encoding", "content-disposition", "mime-version"})


class _RememberedHeaders(HeaderRegistry):
    """``policy.default``'s header parsing, remembering what it parsed.

    The parser and the reader ask a part for its Content-Type many times, and ``policy.default``
    parses the header again each time: two thirds of the time spent on a typical message. A
    parsed header is an immutable string, and most values repeat from part to part and message
    to message (``text/plain; charset="utf-8"``), so a bounded cache returns the same object.
    """

    def __call__(self, name: str, value: str) -> Any:
        # Only the structure of a message is remembered, never who wrote to whom about what.
        if name.lower() in _STRUCTURE_HEADERS:
            return self._remembered(name, value)
        return super().__call__(name, value)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one instance for the process (POLICY)
    def _remembered(self, name: str, value: str) -> Any:
        return super().__call__(name, value)


# The standard library's modern policy (RFC 2047 words decoded, addresses parsed), with the cache.
POLICY = policy.default.clone(header_factory=_RememberedHeaders())


def parse_message(
    data: bytes,
    *,
    received_at: datetime,
    own_domains: Sequence[str] = (),
    direction: Direction | None = None,
) -> ParsedEmail:
    """Read one complete message (``read_message`` for bytes already in memory)."""
    return read_message([data], received_at=received_at, own_domains=own_domains, direction=direction)


def read_message(
    chunks: Iterable[bytes],
    *,
    received_at: datetime,
    own_domains: Sequence[str] = (),
    direction: Direction | None = None,
) -> ParsedEmail:
    """Read one message from its bytes in pieces (a spooled upload, a file), parsing them once.

    ``received_at`` stands in for a missing or unreadable Date. Raises UnreadableMessageError
    (NotAMessageError when there is no header block).
    """
    parser = BytesFeedParser(policy=POLICY)
    digest = hashlib.sha256()  # the identity of a message without a Message-ID
    try:
        for chunk in chunks:
            digest.update(chunk)
            parser.feed(chunk)
        return _read(parser.close(), digest.hexdigest(), received_at, own_domains, direction)
    except RecursionError:
        # Thousands of nested parts: the standard library's parser (or this reader) runs out of stack.
        raise UnreadableMessageError(TOO_DEEP) from None


def _read(
    message: Message,
    digest: str,
    received_at: datetime,
    own_domains: Sequence[str],
    direction: Direction | None,
) -> ParsedEmail:
    if not _has_header_block(message):
        raise NotAMessageError
    # Each address header parsed once (the standard library parses it again on every get).
    parties = {name: _parties(message, name.replace("_", "-")) for name in ADDRESS_HEADERS}
    headers = {name: _address_header(message, name.replace("_", "-"), parties[name]) for name in ADDRESS_HEADERS}
    senders = parties["from"]
    own = frozenset(filter(None, map(domain_key, own_domains)))
    if direction is None:
        direction = Direction.OUTBOUND if senders and _domain(senders[0].address) in own and own else Direction.INBOUND
    if direction is Direction.INBOUND:
        customer = next((p for p in senders if p.address), None)
    else:
        recipients = [*parties["to"], *parties["cc"]]
        customer = next((p for p in recipients if p.address and _domain(p.address) not in own), None)
    reader = _BodyReader()
    reader.read(message, depth=0)
    html_text = "\n".join(reader.html) if reader.html else None
    body = "\n\n".join(t for t in reader.text if t.strip())
    if not body and html_text:
        body = html_to_text(html_text)
    return ParsedEmail(
        external_id=_external_id(message, digest),
        started_at=_date(message, received_at),
        direction=direction,
        subject=_clip(_header_text(message, "subject"), MAX_SUBJECT),
        body=clean_text(body),
        html=sanitize_html(html_text) if html_text else None,
        headers=headers,
        customer_email=customer.address if customer else None,
        customer_name=_clip(customer.name, MAX_NAME) if customer else None,
        attachments=reader.attachments,
    )


# ---------------------------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------------------------


def _has_header_block(message: Message) -> bool:
    # The parser reads anything; binary data or an empty body leaves no header at all (its first
    # line does not look like one, so everything became the body).
    return len(message.keys()) > 0


def _raw(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _decode_raw_header(raw: str) -> str:
    """A header's raw text with RFC 2047 words decoded, tolerating what ``policy.default`` refused."""
    try:
        return str(make_header(decode_header(raw)))
    except Exception:  # noqa: BLE001 - an unknown charset or a malformed word: keep it as written
        return raw


def _header_text(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - the header parser failed on it: decode the raw text instead
        raw = _raw(message, name)
        value = None if raw is None else _decode_raw_header(raw)
    if value is None:
        return None
    return clean_text(" ".join(str(value).split())) or None


def _parties(message: Message, name: str) -> list[Party]:
    """The addresses of an address header, each decoded; never raises."""
    try:
        header = message.get(name)
        if header is None:
            return []
        return [
            Party(
                address=clean_text(a.addr_spec) if a.username or a.domain else "",
                name=clean_text(a.display_name) or None,
            )
            for a in getattr(header, "addresses", ())
        ]
    except Exception:  # noqa: BLE001 - a header the strict parser refused: the lenient one reads it
        raw = _raw(message, name)
        if raw is None:
            return []
        return [
            Party(address=clean_text(addr), name=clean_text(_decode_raw_header(display)) or None)
            for display, addr in getaddresses([raw])
            if addr or display
        ]


def _address_header(message: Message, name: str, parties: list[Party]) -> str | None:
    """The header as shown: its ``parties`` (as ``_parties`` read them), or its text if it has none."""
    if not parties:
        return _header_text(message, name)
    return clean_text(", ".join(p.shown() for p in parties)) or None


def _domain(address: str) -> str:
    return domain_key(address.rpartition("@")[2]) or ""


def domain_key(domain: str) -> str | None:
    """How a domain is compared (one home for it): lower case, ASCII (IDNA), no "@" or trailing dot;
    None when it cannot be a domain name."""
    text = unicodedata.normalize("NFKC", domain).strip().lstrip("@").rstrip(".").lower()
    if not text or len(text) > 253:
        return None
    try:
        ascii_form = text.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_form.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return ascii_form


_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
MAX_OWN_DOMAINS = 100
OWN_DOMAINS_HINT = "Enter domain names such as kundeservice.example, one a line (at most 100)"


def read_own_domains(text: str) -> list[str]:
    """The ``own_email_domains`` setting as typed (one domain a line; commas and spaces also part
    them), each in its compared form, without repeats; ValueError (naming no value) if one is no domain."""
    domains: list[str] = []
    for word in re.split(r"[\s,;]+", text):
        if not word:
            continue
        key = domain_key(word)
        if key is None:
            raise ValueError(OWN_DOMAINS_HINT)
        if key not in domains:
            domains.append(key)
    if len(domains) > MAX_OWN_DOMAINS:
        raise ValueError(OWN_DOMAINS_HINT)
    return domains


def _external_id(message: Message, digest: str) -> str:
    text = _header_text(message, "message-id")
    if text:
        value = text.strip().strip("<>").strip()
        if value and len(value) <= MAX_EXTERNAL_ID and not any(c.isspace() for c in value):
            return value
    return f"sha256:{digest}"


def _date(message: Message, received_at: datetime) -> datetime:
    try:
        header = message.get("date")
        value = getattr(header, "datetime", None) if header is not None else None
        if value is None and header is not None:
            value = parsedate_to_datetime(str(header))
    except Exception:  # noqa: BLE001 - an unreadable Date: the time received stands in (CONTRACT §15)
        value = None
    if not isinstance(value, datetime):
        return received_at
    if value.tzinfo is None:  # "-0000": UTC with no claim about the local zone (RFC 5322 3.3)
        value = value.replace(tzinfo=UTC)
    if not in_range(value):  # a Date of year 2999 is as unreadable as none
        return received_at
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------------


class _BodyReader:
    """Walks the MIME tree once: body texts and HTML in order, attachments listed by reference."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []

    def read(self, part: Message, depth: int) -> None:
        maintype = part.get_content_maintype()
        subtype = part.get_content_subtype()
        if maintype == "message" and subtype in ("rfc822", "global") and part.is_multipart():
            self._forwarded(part, depth)
        elif part.is_multipart():
            if depth >= MAX_NESTING:
                return  # past any real mail's structure: what lies deeper is left unread
            children = [c for c in _children(part) if isinstance(c, Message)]
            if subtype == "alternative":
                self._alternative(children, depth + 1)
            else:
                for child in children:
                    self.read(child, depth + 1)
        elif maintype == "multipart":
            # A multipart whose boundary never appears (broken, missing): its parts are text to read.
            self.text.append(decode_text(_payload_bytes(part), part.get_content_charset()))
        elif self._is_body(part):
            text = decode_text(_payload_bytes(part), part.get_content_charset())
            if part.get_content_subtype() == "html":
                self.html.append(text)
                # A message with text and HTML beside each other (not alternatives) shows both.
                if self.text:
                    self.text.append(html_to_text(text))
            else:
                self.text.append(text)
        else:
            self._attachment(part)

    def _alternative(self, children: list[Message], depth: int) -> None:
        plain = [c for c in children if c.get_content_type() == "text/plain" and self._is_body(c)]
        rich = [c for c in children if c.get_content_type() == "text/html" and self._is_body(c)]
        other = [c for c in children if c not in plain and c not in rich]
        if plain:
            self.text.append(decode_text(_payload_bytes(plain[-1]), plain[-1].get_content_charset()))
        if rich:
            html_text = decode_text(_payload_bytes(rich[-1]), rich[-1].get_content_charset())
            self.html.append(html_text)
            if not plain:
                self.text.append(html_to_text(html_text))
        for child in other:
            # multipart/related inside an alternative (HTML with inline images), and the like.
            if child.is_multipart():
                nested = _BodyReader()
                nested.read(child, depth)
                if plain:
                    nested.text = []
                self.text += nested.text
                self.html += nested.html
                for attachment in nested.attachments:
                    self._add(attachment._part, attachment.filename, attachment.content_type)
            elif not (child.get_content_maintype() == "text" and _disposition(child) != "attachment"):
                # Another rendering of the text (text/enriched) adds nothing; anything else is kept.
                self._attachment(child)

    def _forwarded(self, part: Message, depth: int) -> None:
        inner = next((c for c in _children(part) if isinstance(c, Message)), None)
        if inner is None:
            return
        if depth >= MAX_DEPTH:
            return
        lines = ["---------- Forwarded message ----------"]
        for label, name in (("From", "from"), ("Date", "date"), ("Subject", "subject"), ("To", "to"), ("Cc", "cc")):
            if name in ("from", "to", "cc"):
                value = _address_header(inner, name, _parties(inner, name))
            else:
                value = _header_text(inner, name)
            if value:
                lines.append(f"{label}: {value}")
        nested = _BodyReader()
        nested.read(inner, depth + 1)
        text = "\n\n".join(t for t in nested.text if t.strip())
        if not text and nested.html:
            text = html_to_text("\n".join(nested.html))
        self.text.append("\n".join(lines) + "\n\n" + text)
        for attachment in nested.attachments:
            self._add(attachment._part, attachment.filename, attachment.content_type)

    @staticmethod
    def _is_body(part: Message) -> bool:
        if part.get_content_type() not in ("text/plain", "text/html"):
            return False
        if _disposition(part) == "attachment":
            return False
        return _filename(part) is None

    def _attachment(self, part: Message) -> None:
        content_type = _clip(part.get_content_type(), MAX_CONTENT_TYPE) or "application/octet-stream"
        self._add(part, _filename(part) or "", content_type)

    def _add(self, part: Message, filename: str, content_type: str) -> None:
        index = len(self.attachments)
        name = safe_filename(filename) or f"attachment-{index + 1}{_extension(content_type)}"
        self.attachments.append(Attachment(index=index, filename=name, content_type=content_type, _part=part))


def _children(part: Message) -> list[Any]:
    payload = part.get_payload()
    return payload if isinstance(payload, list) else []


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # noqa: BLE001 - a malformed Content-Disposition reads as none
        return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - a malformed parameter: the raw value, decoded leniently
        name = None
    return clean_text(str(name)) if name else None


def _extension(content_type: str) -> str:
    known = {
        "application/pdf": ".pdf",
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "text/plain": ".txt",
        "text/html": ".html",
        "text/calendar": ".ics",
        "text/csv": ".csv",
    }
    return known.get(content_type, ".bin")


_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=]+")
_BASE64_SLICE = 1 << 20


def _base64_bytes(text: str) -> bytes | None:
    """Base64 text decoded a slice at a time: the standard library's decoder holds several copies of
    the whole text (about 4.5 times an attachment's size); None when it is not plain base64."""
    out = bytearray()
    carry = ""
    for start in range(0, len(text), _BASE64_SLICE):
        piece = carry + _NOT_BASE64.sub("", text[start : start + _BASE64_SLICE])
        cut = len(piece) - len(piece) % 4
        if "=" in piece[: max(0, cut - 4)]:
            return None  # padding before the end: concatenated blocks, left to the lenient decoder
        try:
            out += binascii.a2b_base64(piece[:cut].encode("ascii"))
        except (binascii.Error, ValueError):
            return None
        carry = piece[cut:]
    if carry.strip("="):
        return None  # a dangling group: the lenient decoder knows what to make of it
    return bytes(out)


def _payload_bytes(part: Message) -> bytes:
    try:
        raw_text = part.get_payload()
    except Exception:  # noqa: BLE001 - 8-bit text under a charset name no codec takes (a NUL in it)
        raw_text = None
    try:
        encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    except Exception:  # noqa: BLE001 - a malformed header: the standard decoder below decides
        encoding = ""
    if isinstance(raw_text, str) and encoding == "base64":
        fast = _base64_bytes(raw_text)
        if fast is not None:
            return fast
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a transfer encoding the decoder chokes on: keep the text as it came
        data = None
    if isinstance(data, bytes):
        return data
    if isinstance(raw_text, str):
        return raw_text.encode("utf-8", "surrogateescape")
    if isinstance(raw_text, list):  # message/delivery-status and the like: blocks of headers
        return "\n".join(str(block) for block in raw_text).encode("utf-8", "replace")
    return b""


def _text_codec(name: str | None) -> str | None:
    """The codec's canonical name if ``name`` is a text encoding Python knows, else None.

    ``base64``, ``rot13`` and friends are codecs too, but not charsets: they are refused.
    """
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    aliases = {"unknown-8bit": None, "x-unknown": None, "x-user-defined": None, "utf8": "utf-8", "cp-850": "cp850"}
    if name in aliases:
        mapped = aliases[name]
        if mapped is None:
            return None
        name = mapped
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):  # unknown, or not even a name (a NUL in it)
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


_SINGLE_BYTE_WESTERN = frozenset({"ascii", "latin-1", "iso8859-1", "cp1252", "iso8859-15"})


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes of a text part as text: the declared charset when it reads them, else the likeliest.

    A part declared Latin-1 (or ASCII, or nothing) whose bytes are valid UTF-8 with non-ASCII
    characters was written in UTF-8 (mail clients get this wrong, the reverse almost never
    happens by chance); an unknown charset falls back to UTF-8, then Windows-1252 — never an error.
    """
    codec = _text_codec(charset)
    candidates: list[str] = []
    if codec is None or codec in _SINGLE_BYTE_WESTERN:
        candidates.append("utf-8")
    if codec is not None:
        candidates.append(codec)
    candidates += ["utf-8", "cp1252"]
    for candidate in candidates:
        try:
            return clean_text(data.decode(candidate))
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
    return clean_text(data.decode("cp1252", errors="replace"))


# Lone surrogates come from bytes read with surrogateescape: no database stores them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str | None) -> str:
    """Text the archive can store: NUL and other C0 controls (not tab/newline) read as U+FFFD, CRLF as LF."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("\ufffd", text)


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    return text[:limit]


def safe_filename(name: str) -> str:
    """An attachment's name without any path, control or reserved character, at most 200 characters.

    What a Content-Disposition header and a ZIP entry may carry: ``../../etc/passwd`` is
    ``passwd``, ``C:\\boot.ini`` is ``boot.ini``.
    """
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*')
    name = name.strip().strip(".").strip()
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:MAX_FILENAME]
    return name


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

# What an email's HTML may keep: presentation only. No script, form, frame, object or style
# element (a <style> block can load remote fonts and images); links open nothing by
# themselves (the page shows them in a sandboxed frame).
_TAGS = frozenset(
    {
        "a", "abbr", "address", "b", "bdi", "bdo", "blockquote", "br", "caption", "center", "cite", "code",
        "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span",
        "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u",
        "ul",
    }
)  # fmt: skip
_ATTRIBUTES = {
    "*": {"style", "title", "align", "valign", "dir", "lang", "width", "height", "bgcolor", "color"},
    "a": {"href"},
    "img": {"src", "alt", "border"},
    "font": {"face", "size"},
    "table": {"border", "cellpadding", "cellspacing"},
    "td": {"colspan", "rowspan", "nowrap"},
    "th": {"colspan", "rowspan", "nowrap"},
    "ol": {"start", "type"},
}
# CSS properties kept in a style attribute: none of them can load anything.
_STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight",
        "text-align", "text-decoration", "text-indent", "text-transform", "line-height", "letter-spacing",
        "white-space", "vertical-align", "width", "height", "max-width", "min-width", "margin", "margin-top",
        "margin-bottom", "margin-left", "margin-right", "padding", "padding-top", "padding-bottom",
        "padding-left", "padding-right", "border", "border-top", "border-bottom", "border-left",
        "border-right", "border-collapse", "border-color", "border-style", "border-width", "display",
    }
)  # fmt: skip
_LOADS = re.compile(r"url\s*\(|expression\s*\(|@import|image-set\s*\(|\\", re.IGNORECASE)
# Only an image carried in the message itself may be shown: anything else would load from afar
# (and tell the sender the mail was read).
_INLINE_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.IGNORECASE)


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if attribute == "src":
        return value if _INLINE_IMAGE.match(value.strip()) else None
    if attribute == "href" and value.strip().lower().startswith("data:"):
        return None  # a data: URL is for inline images, never a document to open
    if attribute == "style":
        return None if _LOADS.search(value) else value
    return value


def sanitize_html(text: str) -> str:
    """The HTML of an email made safe to show: no script, event handler, form, frame or remote load.

    ``nh3`` (ammonia) parses it as a browser would, keeps the tags and attributes above, links
    only to http(s), mailto and tel, and images only as inline ``data:`` URLs.
    """
    return nh3.clean(
        text,
        tags=set(_TAGS),
        clean_content_tags={"script", "style", "title", "head", "noscript", "template", "iframe", "object"},
        attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto", "tel", "data"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        filter_style_properties=set(_STYLE_PROPERTIES),
    )


_BLOCK = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"})


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = io.StringIO()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in _BLOCK:
            self.out.write("\n")
        elif tag == "td":
            self.out.write(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self.out.write("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.write(data)


def html_to_text(text: str) -> str:
    """What a person reads in an HTML body, as plain text (for a message without a text part)."""
    parser = _TextOfHtml()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # noqa: BLE001 - HTMLParser is lenient; anything left is read without tags
        return html.unescape(re.sub(r"<[^>]*>", " ", text))
    lines = (" ".join(line.split()) for line in parser.out.getvalue().splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# ---------------------------------------------------------------------------------------------
# Attachments' text, for the mention index
# ---------------------------------------------------------------------------------------------


def readable_text(content_type: str, data: bytes) -> str | None:
    """The text an attachment writes, when it can be read: text parts and PDF text; else None."""
    if content_type.startswith("text/"):
        text = decode_text(data[: MAX_ATTACHMENT_TEXT * 4], None)
        if content_type == "text/html":
            text = html_to_text(text)
        return text[:MAX_ATTACHMENT_TEXT]
    # A PDF says so in its first kilobyte; anything else labelled PDF is not handed to the reader.
    if content_type in ("application/pdf", "application/octet-stream") and b"%PDF-" in data[:1024]:
        return pdf_text(data)
    if content_type in ("message/rfc822", "message/global"):
        return decode_text(data[: MAX_ATTACHMENT_TEXT * 4], None)[:MAX_ATTACHMENT_TEXT]
    return None


def pdf_text(data: bytes) -> str | None:
    """The text of a PDF's first pages (``pypdf``); None when it cannot be read (encrypted, broken)."""
    import logging

    from pypdf import PdfReader

    # pypdf reports a broken file through logging warnings as well as exceptions; they are ours to handle.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return None
        parts: list[str] = []
        size = 0
        for page in reader.pages[:MAX_PDF_PAGES]:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size >= MAX_ATTACHMENT_TEXT:
                break
    except Exception:  # noqa: BLE001 - any malformed PDF: its text cannot be read
        return None
    return clean_text("\n".join(parts))[:MAX_ATTACHMENT_TEXT] or None


__all__ = [
    "ADDRESS_HEADERS",
    "MAX_MESSAGE_BYTES",
    "NOT_A_MESSAGE",
    "Attachment",
    "NotAMessageError",
    "ParsedEmail",
    "UnreadableMessageError",
    "decode_text",
    "html_to_text",
    "parse_message",
    "pdf_text",
    "read_message",
    "readable_text",
    "safe_filename",
    "sanitize_html",
]
