"""The reading view's token search (``reading._tokens``) finds exactly what the one big search finds.

``_tokens`` tries the token pattern only at and just before the characters a token can start on
(issue 27: the big alternation tried at every position was half of the scanner's time), and steps
over runs of non-ASCII letters that read as themselves ("æøå": a token that changes nothing). It
must change nothing else: checked against ``finditer`` on every string literal of the identifier
corpora and the reading and scanner tests, and on random text made of the characters tokens are
built of.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archivist import reading

TESTS = Path(__file__).resolve().parents[1]
_SOURCES = [
    *sorted((TESTS / "corpus").glob("*.py")),
    *sorted((TESTS / "unit").glob("test_reading*.py")),
    *sorted((TESTS / "unit").glob("test_identifiers*.py")),
    *sorted((TESTS / "unit").glob("test_*forms.py")),
    *sorted((TESTS / "unit").glob("test_platform_identifiers.py")),
    *sorted((TESTS / "functional").glob("test_email*.py")),
    *sorted((TESTS / "functional").glob("test_transcripts*.py")),
]
PATTERNS = {"plain": reading._TOKEN, "quoted-printable": reading._TOKEN_QP}


@cache
def literals() -> list[str]:
    found: set[str] = set()
    for path in _SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
                found.add(node.value)
    return sorted(found)


def _found(matches: object) -> list[tuple[int, int, str | None]]:
    return [(m.start(), m.end(), m.lastgroup) for m in matches]  # type: ignore[attr-defined]


def _reads_as_itself(match: re.Match[str]) -> bool:
    """A run of non-ASCII letters that the view copies as they are: ``_tokens`` steps over it."""
    return match.lastgroup == "uni" and all(ch in reading._PLAIN_LETTERS for ch in match.group())


def _same(pattern: re.Pattern[str], text: str, start: int = 0, end: int | None = None) -> None:
    stop = len(text) if end is None else end
    # Such a run may be stepped over or read as a token: either way the view copies it.
    found = [m for m in reading._tokens(pattern, text, start, stop) if not _reads_as_itself(m)]
    expected = [m for m in pattern.finditer(text, start, stop) if not _reads_as_itself(m)]
    assert _found(found) == _found(expected), text


def test_the_corpora_are_read_in_full() -> None:
    assert len(literals()) > 2000


@pytest.mark.parametrize("kind", sorted(PATTERNS))
def test_every_literal_of_the_corpora_and_tests_gives_the_same_tokens(kind: str) -> None:
    pattern = PATTERNS[kind]
    for text in literals():
        _same(pattern, text)
        # Also from inside the text, as tags' attribute values are read.
        _same(pattern, text, len(text) // 3, len(text) - len(text) // 4)


# Every character a token begins with or is made of, the letters of "sip", "sips" and
# "urldefense", combining marks, line separators and a few plain letters and digits.
_ALPHABET = st.sampled_from(
    [
        *"=\\&<>]%+@([{}):-/ \t\r\n\x0b\x0c.?!#;'\"_*|~`sSiIpPuUrlLdDeEfnNx0123456789AFaft",
        *("\u0301", "\u030a", "\u2028", "\u2029", "\x85", "ø", "å", "\u00a0", "\uff10", "&amp;", "=?", "?="),
        *("Æ", "é", "ß", "µ", "ª", "\u017f", "\u0131", "\u0130", "\u212a", "\u2026", "\u00ad", "øå", "Ølé"),
        *("\u017fip:+4791234567@x.no", "\u017fIPS:+4791234567@", "s\u0131p:+4791234567@"),
        *("sip:", "sips:", "=C3=B8", "=\n", "%40", "%2540", "\\u00f8", "\\x", "&#43;", "<br>", "<!--", "-->"),
        *("(at)", " (dot) ", "urldefense.com/v2/url?u=mailto-3Akari-40x.no"),
    ]
)


@settings(max_examples=5000, deadline=None)
@given(pieces=st.lists(_ALPHABET, max_size=40), kind=st.sampled_from(sorted(PATTERNS)))
def test_random_text_of_token_characters_gives_the_same_tokens(pieces: list[str], kind: str) -> None:
    _same(PATTERNS[kind], "".join(pieces))
