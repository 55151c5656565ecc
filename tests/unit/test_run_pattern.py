"""The phone scanner's digit runs (``identifiers_text._RUN``) are found as they were before the
pattern was made fast.

``_RUN`` was rewritten so that each branch starts with a plain character class (issue 27: a
pattern that starts with a lookbehind is tried at every position of a text). ``_BEFORE`` is the
pattern as it stood before, verbatim; both must find the same runs on every string literal of
the corpora and scanner tests and on random text of digits, '+', the separators and what may
stand around them.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from archivist import identifiers_text
from tests.unit.test_reading_tokens import literals

_BEFORE = re.compile(r"(?<![0-9])\+?[0-9]+(?:[.\-][0-9]+)*(?![0-9])(?!_)|(?<![0-9])\+[0-9]{6,15}(?=_)")


def _runs(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(text)]


def test_every_literal_of_the_corpora_and_tests_gives_the_same_runs() -> None:
    for text in literals():
        assert _runs(identifiers_text._RUN, text) == _runs(_BEFORE, text), text


_PIECES = st.sampled_from(
    [*"0123456789+.-_ a@(/", "++", "+47", "912", "34", "567", "1234567", "_+4791234567_", "٣", "x", "..", "--"]
)


@settings(max_examples=6000, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=30))
def test_random_text_gives_the_same_runs(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert _runs(identifiers_text._RUN, text) == _runs(_BEFORE, text), text
