"""The reading view of a text: what a person reading it sees, with a map back to the original characters.

Pure functions (no I/O). The scanner in ``identifiers_text`` looks for phone numbers and email
addresses in the view, never in the raw text, so one scanner sees every written form, and a
span found in the view is replaced on the original characters that make it up. The view:

- decodes HTML entities (``&nbsp;``, ``&#64;``, ``&#x40;``) and hides tags (inline ones take no
  room, block ones such as ``<td>``, ``<br>`` read as a space), keeping attribute values
  readable (``href="mailto:…"``);
- decodes percent-encoding (``%2B47``, ``%40``, UTF-8 sequences) as a browser shows a link;
- reads Unicode digits (fullwidth, Arabic-Indic, …) as ASCII digits, Unicode dashes as ``-``,
  every Unicode space as a space, and drops zero-width characters and soft hyphens;
- joins a line break, with the quote markers (``> >``) of a quoted reply after it, into one
  space, so a number wrapped across lines reads as one;
- reads ``(at)``, ``[at]``, ``{at}`` and ``(dot)``-style obfuscation as ``@`` and ``.``;
- reads the ``@`` of a ``sip:`` URI whose user part is a number as a space (the number is the
  identifier there, not an address);
- decodes what integrations store still encoded (CONTRACT §9): links rewritten by Proofpoint
  URL Defense v2 (``u=mailto-3Akari-40x.no``), quoted-printable (``=`` soft line
  breaks take no room, ``=3D``, ``=C3=B8``), RFC 2047 encoded words (``=?UTF-8?Q?…?=`` per
  character, ``=?UTF-8?B?…?=`` as a whole), JSON string escapes (``\\u00a0``, ``\\u002B``, ``\\/``)
  and HTML escaped more than once (``&amp;nbsp;``); every line and paragraph separator (CR,
  VT, FF, NEL, U+2028, U+2029) is a line break.

A replacement lands on the original characters; ``encoding_at`` says how the text around a span
is encoded, so that the replacement is written in that encoding and the text still decodes.

Building the view is linear in the length of the text; a text with none of these (most chat
lines) is its own view and costs one regex search.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import codecs
import enum
import functools
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Encoding", "ReadingView", "read"]


class Encoding(enum.Enum):
    """How the original characters of a span are encoded, so a replacement is written alike."""

    PLAIN = "plain"
    QUOTED_PRINTABLE = "quoted-printable"
    # An RFC 2047 "Q" word: its charset is in EncodedSpan.charset.
    ENCODED_WORD_Q = "encoded-word-q"
    # An RFC 2047 "B" word: read as a whole, replaced by re-encoding the word.
    ENCODED_WORD_B = "encoded-word-b"
    JSON_STRING = "json-string"


@dataclass(frozen=True)
class EncodedSpan:
    """Original characters ``[start, end)`` written in ``encoding`` (``charset`` for encoded words)."""

    start: int
    end: int
    encoding: Encoding
    charset: str = "utf-8"


# Words written in brackets for "@" and "." ("(at)", Swedish "(snabel-a)", "(punkt)"); which
# stand for a dot is _DOT_WORDS.
_OBFUSCATION_WORDS = r"at|a|@|krøllalfa|alfakrøll|snabel-?a|klammeraffe|arroba|dot|punktum|prikk|punkt"
# The characters a Markdown backslash escapes in stored chat text ("kari\_nordmann@…").
_MARKDOWN_ESCAPED = r"_*\-.#!`~|"

# Anything that makes the view differ from the text. A text without a match is its own view.
_SPECIAL = re.compile(
    r"[^\x00-\x7f]|&[#A-Za-z]|<[/!A-Za-z@]|%[0-9A-Fa-f]{2}|\n"
    rf"|[(\[{{]\s*(?:{_OBFUSCATION_WORDS})\s*[)\]}}]"
    r"|\s@\s|sips?:|[0-9]\+[0-9]|[^\W\d_]\+[0-9]|\+[ \t]|<!|-->|\]\]>|[\r\x0b\x0c]|=\r?\n"
    r"|=(?:[2-5][0-9A-F]|[C-F][0-9A-F])|=\?"
    rf"|\\[u/\"\\nrt{_MARKDOWN_ESCAPED}]|\\x[0-9A-F]{{2}}|\\'[0-9A-F]{{2}}|urldefense",
    re.IGNORECASE,
)

# An entity, also escaped again ("&amp;nbsp;", "&amp;#43;": HTML escaped twice by a pipeline).
_ENTITY = r"&(?:amp;){0,3}(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
# A start/end tag or a comment; "<kari@x.no>" is no tag (a tag name is followed by space, '/' or '>').
_TAG = r"</?[A-Za-z][A-Za-z0-9]{0,20}(?:\s[^<>]{0,2000})?/?>"
# Comment markers and declarations take no room; what a comment holds is read like any text
# (Outlook's "<!--[if mso]>…<![endif]-->" blocks carry whole paragraphs).
# A CDATA section's brackets are markup, what it holds is text ("<![CDATA[Ring meg på 912…]]>").
_MARKUP = r"<!\[CDATA\[|\]\]>|<!--|-->|<!\[?(?!CDATA\[)[A-Za-z][^<>]{0,200}>"
_PERCENT = r"(?:%(?!25[0-9A-Fa-f]{2})[0-9A-Fa-f]{2})+"
# A percent escape escaped again ("%2540" for "%40", a link inside a link's query): read twice.
_PERCENT_TWICE = r"(?:%25[0-9A-Fa-f]{2})+"
# Bytes written as escapes by a serialiser: Python's repr of bytes in a log ("bj\xc3\xb8rn", UTF-8)
# and RTF's hex escapes ("bj\'f8rn", the document's Windows code page).
_PY_BYTES = r"(?:\\x[0-9A-Fa-f]{2})+"
_RTF_HEX = r"(?:\\'[0-9A-Fa-f]{2})+"
# A Markdown backslash escape, as chat exports and ticket systems store text.
_MARKDOWN_ESCAPE = rf"\\[{_MARKDOWN_ESCAPED}]"
# A line break with the spaces and quote markers around it.
# Every line and paragraph separator counts: CR LF, a lone CR, VT, FF, NEL, U+2028, U+2029.
_BREAK = r"[ \t]*(?:\r\n?|[\n\x0b\x0c\x85\u2028\u2029])(?:[ \t]*>)*[ \t]*"
# Between a word and a letter only: what stands for "@" or "." joins two parts of an address, and
# "(a) 912 34 567" opening a list, or "X(a)91234567", is a number.
_OBFUSCATED = (
    rf"(?<=\w)[ \t]*[(\[{{<][ \t]*(?P<word>{_OBFUSCATION_WORDS})"
    r"[ \t]*[)\]}>][ \t]*(?=[^\W\d_])"
    r"|(?<=\w)[ \t]+(?P<spaced>@)[ \t]+(?=\w)"
)
# The bracketed words that stand for a dot; the others stand for "@" ("(a)", Swedish "(snabel-a)",
# German "(Klammeraffe)", Spanish "(arroba)").
_DOT_WORDS = frozenset(("dot", "punktum", "prikk", "punkt"))
# "+ 47 912 34 567": the space after the plus is no gap.
_PLUS_SPACE = r"\+[ \t]+(?=[0-9])"
# '+' between digits is a space in a link's query ("?phone=%2B47+912+34+567").
# Not in an address's local part: "linn7+2024@x.no" is one address, its '+' a subaddress.
# The digit before it must be one a reader sees: "\u0020+47…" is a JSON escape's last hex digit.
_QUERY_PLUS = r"(?<=[0-9])(?<!\\u[0-9A-Fa-f]{4})\+(?=[0-9])(?![\w.+\-]{0,64}@)"
# '+' after a word and before a digit: a space where the text is form-encoded for sure
# (_FORM_EVIDENCE: "Body=Ring+meg+912+34+567", an SMS gateway's callback), else a leading plus.
_WORD_PLUS = r"(?<=[^\W\d_])\+(?=[0-9])(?![\w.+\-]{0,64}@)"
_FORM_EVIDENCE = re.compile(r"[\w\-]=[^\s=&]*[^\W\d_]\+[^\W\d_]")
# Quoted-printable left in a stored body: a soft line break takes no room; "=3D"
# and escaped UTF-8 sequences ("=C3=B8") are decoded. Other "=XX" stay as written unless the text
# is quoted-printable for sure (_QP_EVIDENCE): "?phone=4791234567" in a link is no escape.
_QP_SOFT = r"=\r?\n"
_QP_HEX = r"(?-i:(?:=3D|=[C-F][0-9A-F](?:=[89AB][0-9A-F]){1,3})+)"
# An RFC 2047 encoded word, and the white space between it and the next one (which takes no room).
# A word cut short by a column's length ("=?utf-8?Q?Ring=20meg=20p=C3=A5=20912" at the end of a
# stored subject, as help desks show them) is read as far as it goes.
_ENCODED_WORD = (
    r"=\?(?P<ewcharset>[A-Za-z0-9_\-:.]{1,40})(?:\*[A-Za-z\-]{1,20})?\?(?P<ewkind>[QqBb])\?(?P<ewtext>[^?\s]{0,1000})"
    r"(?P<ewend>\?=|\Z)"
    r"(?P<ewgap>[ \t]*\r?\n?[ \t]+(?==\?[A-Za-z0-9_\-:.]{1,40}\?[QqBb]\?))?"
)
# A JSON string escape left in stored text ("912\u00a034\u00a0567", "\u002B47", "bj\u00f8rn@").
_JSON_ESCAPE = r"\\u[0-9A-Fa-f]{4}(?:\\u[dD][c-fC-F][0-9A-Fa-f]{2})?|\\[/\"\\nrt]"
# A letter written with combining marks ("a" + U+030A): read as the composed letter.
_COMBINING = r"[^\W\d_][\u0300-\u036f]+"
_SIP = r"(?<![A-Za-z])sips?:\+?[0-9][0-9\-.]{4,30}(?P<sipat>@)"
_NON_ASCII = r"[^\x00-\x7f]+"
# A link rewritten by Proofpoint URL Defense v2: in its "u=" parameter "-XX" is "%XX" and "_" is
# "/" ("u=mailto-3Akari-40example.no", "u=tel-3A-2B4791234567"), as its decoders read it.
_PROOFPOINT = r"urldefense(?:\.proofpoint)?\.com/v2/url\?u=(?P<ppu>[A-Za-z0-9\-_.~]{1,2000})"
_TOKENS = (
    f"|(?P<json>{_JSON_ESCAPE})|(?P<proofpoint>{_PROOFPOINT})"
    f"|(?P<obf>{_OBFUSCATED})|(?P<entity>{_ENTITY})|(?P<markup>{_MARKUP})|(?P<tag>{_TAG})"
    f"|(?P<percent2>{_PERCENT_TWICE})|(?P<percent>{_PERCENT})|(?P<pybytes>{_PY_BYTES})|(?P<rtf>{_RTF_HEX})"
    f"|(?P<md>{_MARKDOWN_ESCAPE})|(?P<brk>{_BREAK})"
    f"|(?P<sip>{_SIP})|(?P<pspace>{_PLUS_SPACE})|(?P<qplus>{_QUERY_PLUS})|(?P<wplus>{_WORD_PLUS})|(?P<comb>{_COMBINING})|(?P<uni>{_NON_ASCII})"
)
_TOKEN = re.compile(
    f"(?P<ew>{_ENCODED_WORD})|(?P<qpsoft>{_QP_SOFT})|(?P<qp>{_QP_HEX}){_TOKENS}", re.IGNORECASE | re.DOTALL
)
# A text that is quoted-printable for sure (a soft break, "=3D", an escaped UTF-8 sequence): every
# "=XX" in it is an escape.
# Some encoders also escape ASCII punctuation ("images=2Ehideaways=2Ecom", "kari=40x=2Eno"): two
# such escapes within one word are evidence too.
_QP_EVIDENCE = re.compile(
    r"=\r?\n|=3D|=[C-F][0-9A-F]=[89AB][0-9A-F]|=(?:2[0-9A-F]|3[A-F]|40|5[B-F])[^=\s]{0,40}=(?:2[0-9A-F]|3[A-F]|40|5[B-F])"
)
_TOKEN_QP = re.compile(
    f"(?P<ew>{_ENCODED_WORD})|(?P<qpsoft>{_QP_SOFT})|(?P<qp>(?-i:(?:=[0-9A-F]{{2}})+)){_TOKENS}",
    re.IGNORECASE | re.DOTALL,
)
# The characters a token can turn on: every token starts with one of them, or with spaces before
# one ("kari (at) x.no", a line break), with "sip"/"sips" before the ':', or with the letter before a
# combining mark. One plain class, so the search runs in C from one to the next; the tokens are
# then matched only there (_tokens). "urldefense" starts with a common letter: a text that
# holds it is read with the one big search, as before.
_ANCHOR = re.compile(r"[=\\&<\]%+@(\[{\r\n\x0b\x0c:\-\x80-\U0010ffff]")
_COMBINING_MARKS = range(0x300, 0x370)


def _tokens(token: re.Pattern[str], text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """What ``token.finditer(text, start, end)`` finds, trying ``token`` only at and just before
    anchors — but for runs of non-ASCII characters that are all ``_PLAIN_LETTERS``, which read as
    themselves.

    A big alternation of named groups is tried whole at every position by Python's ``re`` (no
    alternative can be skipped by its first character); most positions of a text start no token.
    """
    if "urldefense" in text.lower():
        yield from token.finditer(text, start, end)
        return
    position = matched_to = start
    while True:
        anchor = _ANCHOR.search(text, position, end)
        if anchor is None:
            return
        at = anchor.start()
        char = text[at]
        if char in _PLAIN_LETTERS:
            run_end = at + 1
            while run_end < end and text[run_end] in _PLAIN_LETTERS:
                run_end += 1
            if run_end == end or text[run_end] < "\x80":
                position = run_end  # its token would read it as itself (see _PLAIN_LETTERS)
                continue
        first = at
        if char == ":":
            # "sips:" / "sip:", also when a character of it was an anchor that started nothing
            # ("sıp:", read as "sip:" by the case-insensitive token).
            first = max(matched_to, at - 4)
        else:
            while first > position and text[first - 1] in " \t":
                first -= 1
            if ord(char) in _COMBINING_MARKS and at > position:
                first = min(first, at - 1)
        for candidate in range(first, at + 1):
            match = token.match(text, candidate, end)
            if match is not None:
                yield match
                position = matched_to = match.end()
                break
        else:
            position = at + 1


# Attribute values inside a tag stay readable: a link's href holds addresses and numbers.
_ATTRIBUTE_VALUE = re.compile(r"=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'<>=`]+))")
# Tags that separate what stands on each side of them (a table cell, a line, a paragraph).
_BLOCK_TAGS = frozenset(
    (
        "br",
        "p",
        "div",
        "td",
        "th",
        "tr",
        "li",
        "ul",
        "ol",
        "table",
        "tbody",
        "thead",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "blockquote",
        "pre",
        "section",
        "article",
    )
)
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
# Dashes that join digit groups as a hyphen does ("912‐34‐567", "+47–912–34–567").
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2212\u2043\ufe63\uff0d\u02d7")
# Long dashes separate words ("kari@x.no—takk"); between digit groups they read as a gap.
# Full stops that separate the labels of a domain as '.' does (IDNA, RFC 3490 3.1): "example。no".
_FULL_STOPS = frozenset("\u3002\uff0e\uff61")
_LONG_DASHES = frozenset("\u2014\u2015\ufe58")
# What NFKC may turn a character into that the scanner cares about: digits, '+', '@', '.',
# brackets, '-', '/', ':' and letters (fullwidth Latin in an address).
_ASCII_KEPT = re.compile(r"[0-9A-Za-z+@.()\-/:_]")


@functools.lru_cache(maxsize=4096)
def _read_char(ch: str) -> str:
    """How one non-ASCII character reads: an ASCII stand-in, nothing, or itself."""
    if ch in _ZERO_WIDTH:
        return ""
    if ch in _FULL_STOPS:
        return "."
    if ch in _DASHES:
        return "-"
    if ch in _LONG_DASHES:
        return " "
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return str(digit)
    if unicodedata.category(ch) == "Zs":
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) == 1 and _ASCII_KEPT.fullmatch(folded):
        return folded
    return ch


def _read_chars(chars: str) -> str:
    return "".join(_read_char(ch) for ch in chars)


# Latin letters beyond ASCII that read as themselves ("æ", "ø", "å", "é"), no combining mark. A run
# of non-ASCII characters made only of them is a token (``uni``) that reads as itself: ``_tokens``
# steps over it without trying the big search at each of them (a Norwegian text holds one every 40
# characters or so: 60 % of the reading view's time on an email body). The one token that can
# begin with such a letter, a case-insensitive "sip:" written "ſip:", is found from its ':'.
_PLAIN_LETTERS = frozenset(
    ch for ch in map(chr, range(0x80, 0x250)) if ch.isalpha() and not unicodedata.combining(ch) and _read_char(ch) == ch
)


@dataclass(frozen=True)
class ReadingView:
    """``text`` as read, and where each of its characters came from in ``original``.

    The map is a list of segments: ``(view_start, original_start, original_end, same)``; a
    segment marked ``same`` is copied character for character, any other maps its whole view
    text onto its whole original range.
    """

    original: str
    text: str
    _view_starts: tuple[int, ...] = ()
    _segments: tuple[tuple[int, int, int, bool], ...] = ()
    # Original ranges of tags and comment markers, in order: a replacement that spans one keeps it.
    markup: tuple[tuple[int, int], ...] = ()
    # Original ranges written in a transfer encoding or escapes, in order (see ``encoding_at``).
    encoded: tuple[EncodedSpan, ...] = ()
    # Whether the text as a whole is quoted-printable / holds JSON escapes: a replacement between
    # two escapes must be valid there too.
    quoted_printable: bool = False
    json_escaped: bool = False
    # Where, in the view, a line break was read as a space: an address may have been wrapped there.
    breaks: tuple[int, ...] = ()

    @functools.cached_property
    def _encoded_starts(self) -> list[int]:
        return [e.start for e in self.encoded]

    def words_within(self, start: int, end: int) -> list[EncodedSpan]:
        """The encoded words that lie in ``original[start:end]`` or that it touches, in order."""
        i = max(0, bisect.bisect_right(self._encoded_starts, start) - 1)
        found = []
        while i < len(self.encoded) and self.encoded[i].start < end:
            if self.encoded[i].end > start:
                found.append(self.encoded[i])
            i += 1
        return found

    def encoding_at(self, start: int, end: int) -> EncodedSpan | None:
        """The encoded word that ``original[start:end]`` touches, else the text's own encoding (or None)."""
        if self.encoded:
            i = bisect.bisect_right(self._encoded_starts, end) - 1
            while i >= 0 and self.encoded[i].end >= start:
                found = self.encoded[i]
                if found.encoding in (Encoding.ENCODED_WORD_B, Encoding.ENCODED_WORD_Q) and found.start <= start:
                    return found
                i -= 1
        if self.quoted_printable:
            return EncodedSpan(start, end, Encoding.QUOTED_PRINTABLE)
        if self.json_escaped:
            return EncodedSpan(start, end, Encoding.JSON_STRING)
        return None

    def markup_within(self, start: int, end: int) -> str:
        """The tags and comment markers wholly inside ``original[start:end]``, as written."""
        if not self.markup:
            return ""
        i = bisect.bisect_left(self.markup, (start, -1))
        kept = []
        while i < len(self.markup) and self.markup[i][0] < end:
            tag_start, tag_end = self.markup[i]
            if tag_end <= end:
                kept.append(self.original[tag_start:tag_end])
            i += 1
        return "".join(kept)

    @property
    def is_identity(self) -> bool:
        return not self._segments

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters that the view's ``text[start:end]`` was read from (``end > start``)."""
        if not self._segments:
            return start, end
        first = self._segments[bisect.bisect_right(self._view_starts, start) - 1]
        last = self._segments[bisect.bisect_right(self._view_starts, end - 1) - 1]
        original_start = first[1] + (start - first[0]) if first[3] else first[1]
        original_end = last[1] + (end - last[0]) if last[3] else last[2]
        return original_start, original_end


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.segments: list[tuple[int, int, int, bool]] = []
        self.markup: list[tuple[int, int]] = []
        self.encoded: list[EncodedSpan] = []
        self.quoted_printable = False
        self.json_escaped = False
        self.form_encoded = False
        self.token = _TOKEN
        self.breaks: list[int] = []

    def same(self, original: str, start: int, end: int) -> None:
        if end > start:
            self.segments.append((self.length, start, end, True))
            self.parts.append(original[start:end])
            self.length += end - start

    def read_as(self, shown: str, start: int, end: int) -> None:
        # Zero-width segments are kept out of the map: no view character maps into them, and a
        # span across them reaches over their original characters anyway.
        if shown:
            self.segments.append((self.length, start, end, False))
            self.parts.append(shown)
            self.length += len(shown)


def read(text: str) -> ReadingView:
    """The reading view of ``text`` (see the module docstring)."""
    if _SPECIAL.search(text) is None:
        return ReadingView(text, text)
    builder = _Builder()
    builder.token = _TOKEN_QP if _QP_EVIDENCE.search(text) else _TOKEN
    builder.form_encoded = "=" in text and _FORM_EVIDENCE.search(text) is not None
    _read_into(builder, text, 0, len(text), tags=True)
    segments = builder.segments
    return ReadingView(
        text,
        "".join(builder.parts),
        tuple(s[0] for s in segments),
        tuple(segments),
        tuple(sorted(builder.markup)),
        tuple(sorted(builder.encoded, key=lambda e: e.start)),
        builder.quoted_printable,
        builder.json_escaped,
        tuple(builder.breaks),
    )


def _read_into(builder: _Builder, text: str, start: int, end: int, *, tags: bool) -> None:
    cursor = start
    for match in _tokens(builder.token, text, start, end):
        kind = match.lastgroup
        if kind == "tag" and not tags:
            continue
        builder.same(text, cursor, match.start())
        cursor = match.end()
        if kind == "markup":
            builder.markup.append((match.start(), cursor))
        elif kind == "ew":
            _read_encoded_word(builder, match)
        elif kind == "qpsoft":
            builder.quoted_printable = True
        elif kind == "qp":
            builder.quoted_printable = True
            _read_escaped_bytes(builder, match.string, match.start(), match.end(), 3)
        elif kind == "proofpoint":
            _read_proofpoint(builder, match)
        elif kind == "json":
            builder.json_escaped = True
            _read_json_escape(builder, match)
        elif kind == "entity":
            decoded = _unescape_html(match.group())
            builder.read_as(_read_chars(decoded) if decoded != match.group() else decoded, match.start(), cursor)
        elif kind == "tag":
            builder.markup.append((match.start(), cursor))
            _read_tag(builder, text, match)
        elif kind == "percent":
            _read_percent(builder, match)
        elif kind == "percent2":
            _read_escaped_bytes(builder, match.string, match.start(), match.end(), 5, hex_at=3)
        elif kind == "pybytes":
            _read_escaped_bytes(builder, match.string, match.start(), match.end(), 4, hex_at=2)
        elif kind == "rtf":
            _read_escaped_bytes(builder, match.string, match.start(), match.end(), 4, "cp1252", hex_at=2)
        elif kind == "md":
            builder.read_as(match.group()[1], match.start(), cursor)
        elif kind == "brk":
            builder.breaks.append(builder.length)
            builder.read_as(" ", match.start(), cursor)
        elif kind == "obf":
            word = (match.group("word") or match.group("spaced")).lower()
            builder.read_as("." if word in _DOT_WORDS else "@", match.start(), cursor)
        elif kind == "pspace":
            builder.read_as("+", match.start(), cursor)
        elif kind == "wplus":
            builder.read_as(" " if builder.form_encoded else "+", match.start(), cursor)
        elif kind == "qplus":
            builder.read_as(" ", match.start(), cursor)
        elif kind == "comb":
            builder.read_as(unicodedata.normalize("NFC", match.group()), match.start(), cursor)
        elif kind == "sip":
            at = match.start("sipat")
            builder.same(text, match.start(), at)
            builder.read_as(" ", at, cursor)
        else:
            _read_non_ascii(builder, text, match.start(), cursor)
    builder.same(text, cursor, end)


def _read_tag(builder: _Builder, text: str, match: re.Match[str]) -> None:
    name = _TAG_NAME.match(match.group())
    block = name is not None and name.group(1).lower() in _BLOCK_TAGS
    builder.read_as(" " if block else "", match.start(), match.start() + 1)
    for value in _ATTRIBUTE_VALUE.finditer(text, match.start(), match.end()):
        group = next(g for g in (1, 2, 3) if value.group(g) is not None)
        builder.read_as(" ", value.start(), value.start(group))
        _read_into(builder, text, value.start(group), value.end(group), tags=False)
        builder.read_as(" ", value.end(group), value.end())


def _unescape_html(raw: str) -> str:
    """An entity, unescaped as often as it was escaped ("&amp;amp;nbsp;" -> NBSP)."""
    decoded = html.unescape(raw)
    while decoded != raw and decoded.startswith("&") and decoded.endswith(";"):
        raw, decoded = decoded, html.unescape(decoded)
    return decoded


_PROOFPOINT_PART = re.compile(r"(?:-[0-9A-F]{2})+|_")


def _read_proofpoint(builder: _Builder, match: re.Match[str]) -> None:
    builder.same(match.string, match.start(), match.start("ppu"))
    position = match.start("ppu")
    for part in _PROOFPOINT_PART.finditer(match.string, position, match.end()):
        builder.same(match.string, position, part.start())
        if part.group() == "_":
            builder.read_as("/", part.start(), part.end())
        else:
            _read_escaped_bytes(builder, match.string, part.start(), part.end(), 3)
        position = part.end()
    builder.same(match.string, position, match.end())


def _read_json_escape(builder: _Builder, match: re.Match[str]) -> None:
    raw = match.group()
    if raw[1] == "u":
        units = [int(raw[i + 2 : i + 6], 16) for i in range(0, len(raw), 6)]
        if len(units) == 2 and 0xD800 <= units[0] < 0xDC00:
            shown = chr(0x10000 + ((units[0] - 0xD800) << 10) + (units[1] - 0xDC00))
        elif len(units) == 2:
            # Not a surrogate pair: two escapes, each read on its own.
            _read_json_escape(builder, _JSON_ONE.match(match.string, match.start()))  # type: ignore[arg-type]
            _read_json_escape(builder, _JSON_ONE.match(match.string, match.start() + 6))  # type: ignore[arg-type]
            return
        else:
            shown = chr(units[0])
        category = unicodedata.category(shown)
        builder.read_as(" " if category[0] == "C" else _read_char(shown), match.start(), match.end())
    else:
        builder.read_as(" " if raw[1] in "nrt" else raw[1], match.start(), match.end())


_JSON_ONE = re.compile(r"\\u[0-9A-Fa-f]{4}")


def _charset(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def _read_encoded_word(builder: _Builder, match: re.Match[str]) -> None:
    """An RFC 2047 word: "Q" per character (each maps onto its escapes), "B" as a whole."""
    charset = _charset(match.group("ewcharset"))
    text_start, text_end = match.start("ewtext"), match.end("ewtext")
    word_end = match.end("ewend")
    if match.group("ewkind") in "Bb":
        try:
            if not match.group("ewend"):
                raise ValueError("a B word cut short")
            decoded = base64.b64decode(match.group("ewtext"), validate=True).decode(charset, "replace")
        except (binascii.Error, ValueError):
            builder.same(match.string, match.start(), word_end)
        else:
            builder.encoded.append(EncodedSpan(match.start(), word_end, Encoding.ENCODED_WORD_B, charset))
            builder.read_as(_read_chars(decoded), match.start(), word_end)
    else:
        builder.encoded.append(EncodedSpan(match.start(), word_end, Encoding.ENCODED_WORD_Q, charset))
        position = text_start
        for part in _Q_PART.finditer(match.string, text_start, text_end):
            builder.same(match.string, position, part.start())
            if part.group() == "_":
                builder.read_as(" ", part.start(), part.end())
            else:
                _read_escaped_bytes(builder, match.string, part.start(), part.end(), 3, charset)
            position = part.end()
        builder.same(match.string, position, text_end)
    # The gap before the next encoded word takes no room (RFC 2047, 6.2).


_Q_PART = re.compile(r"_|(?:=[0-9A-Fa-f]{2})+")


def _read_percent(builder: _Builder, match: re.Match[str]) -> None:
    """Decode "%2B47%20912": each character maps onto its own escapes, so a span can start or
    end between them ("tel%3A%2B47…": the number starts at "%2B")."""
    _read_escaped_bytes(builder, match.string, match.start(), match.end(), 3)


def _read_escaped_bytes(
    builder: _Builder, text: str, start: int, end: int, width: int, charset: str = "utf-8", *, hex_at: int = 1
) -> None:
    """Decode a run of ``width``-character byte escapes ("%C3%B8", "=C3=B8", "%2540" with its hex
    digits at ``hex_at``): each character maps onto its own escapes. Bytes that are no UTF-8 read
    in ``charset`` if it is not UTF-8, else as Latin-1 (quoted-printable of an 8-bit body), one
    byte a character."""
    raw = text[start:end]
    data = bytes.fromhex("".join(raw[i + hex_at : i + hex_at + 2] for i in range(0, len(raw), width)))
    position = start
    if charset != "utf-8":
        for byte in data:
            ch = bytes([byte]).decode(charset, "replace")
            builder.read_as(
                " " if unicodedata.category(ch)[0] == "C" else _read_char(ch) or "", position, position + width
            )
            position += width
        return
    i = 0
    while i < len(data):
        lead = data[i]
        size = (
            1
            if lead < 0x80
            else 2
            if lead >> 5 == 0b110
            else 3
            if lead >> 4 == 0b1110
            else 4
            if lead >> 3 == 0b11110
            else 1
        )
        try:
            ch = data[i : i + size].decode("utf-8")
        except UnicodeDecodeError:
            ch, size = "", 1
            if data[i] >= 0x80 and text[start] == "=":
                ch = data[i : i + 1].decode("latin-1")
        end = position + width * size
        if not ch:
            builder.same(text, position, end)  # not UTF-8: left as written
        else:
            builder.read_as(" " if unicodedata.category(ch)[0] == "C" else _read_char(ch) or "", position, end)
        position, i = end, i + size


def _read_non_ascii(builder: _Builder, text: str, start: int, end: int) -> None:
    # Characters that read as themselves (æ, ø, å) are copied in runs, the others one by one.
    same_from = start
    for i in range(start, end):
        ch = text[i]
        shown = _read_char(ch)
        if shown == ch:
            continue
        builder.same(text, same_from, i)
        builder.read_as(shown, i, i + 1)
        same_from = i + 1
    builder.same(text, same_from, end)
