"""The search for numbers that are no phone number finds exactly what it found before it was made fast.

``identifiers_text._NOT_A_NUMBER`` was rewritten so that every branch starts with one plain
character class (issue 27: branches opening with a word boundary were entered in full at every
position). ``_BEFORE`` below is the pattern as it stood before, verbatim; both must find the same
spans on every string literal of the corpora and scanner tests and on random text built of the
words and digits the branches look for.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from archivist import identifiers_text
from tests.unit.test_reading_tokens import literals

_BEFORE = re.compile(  # verbatim, as it stood
    r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"
    r"|(?i:\b(?:org|organisasjons|foretaks)\.? ?(?:nr|nummer|no)?\.?:? ?(?:NO ?)?[0-9]{3}[ .]?[0-9]{3}[ .]?[0-9]{3}\b)"
    r"|(?i:\b(?:NO ?)?[0-9]{3}[ .]?[0-9]{3}[ .]?[0-9]{3} ?MVA\b)"
    r"|(?i:\bKID(?:[- ]?(?:nr|nummer))?\.?:? ?[0-9](?:[0-9]| (?=[0-9])){1,30})"
    r"|\b[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,4}\b"
    r"|\b[0-9]{1,2}/[0-9]{1,2}/(?:[0-9]{4}|[0-9]{2})\b"
    # A Norwegian bank account (4.2.5), an amount, a time range, a post box.
    r"|\b[0-9]{4}[ .][0-9]{2}[ .][0-9]{5}\b"
    # Amounts group thousands by three. The groups are taken possessively and an amount never
    # starts inside a grouped number, so a long list of numbers is read in one pass.
    r"|(?i:\b(?:kr|nok|sek|dkk|eur|usd|kroner|euro)\.? ?[0-9]{1,3}(?:[ .][0-9]{3})*+(?:,[0-9]{1,2}|,-)?)"
    r"|(?<![0-9][ .])\b[0-9]{1,3}(?:[ .][0-9]{3})*+(?:,[0-9]{2}\b|,-|(?i: ?(?:kr|nok|sek|dkk|eur|usd)\b))"
    r"|\b[0-9]++(?:,[0-9]{2}\b|,-)"
    r"|\b(?:[01][0-9]|2[0-3])[.:]?[0-5][0-9] ?- ?(?:[01][0-9]|2[0-3])[.:]?[0-5][0-9]\b"
    r"|(?i:\b(?:postboks|pb\.|boks|p\.?o\.? box) ?[0-9]+)"
    # A meeting's id, PIN or passcode ("Meeting ID: 834 5678 9012", a Teams "Phone Conference ID",
    # "Passcode: 123456"), and the digits a dial string sends after its pauses (",,123456789#").
    r"|(?i:\b(?:(?:phone )?conference|meeting|webinar|møte|konferanse)[ -]?(?:id|number|nummer|nr)\b"
    r"(?: ?\([a-z ]{0,20}\))?\.?:?[ \t]*[0-9](?:[0-9]| (?=[0-9])){3,20}#?)"
    r"|(?i:\b(?:passcode|password|passord|pin|tilgangskode|access code)\b:?[ \t]*[0-9]{3,12}#?)"
    r"|,{2,}[0-9]{3,20}#?"
)


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(text)]


def test_every_literal_of_the_corpora_and_tests_gives_the_same_spans() -> None:
    for text in literals():
        assert _spans(identifiers_text._NOT_A_NUMBER, text) == _spans(_BEFORE, text), text


_PIECES = st.sampled_from(
    [
        *"0123456789 .,:-/#()\t\nxXaæ",
        *("org", "Org.nr. ", "organisasjonsnummer", "Foretaks", "NO ", "MVA", "mva", "KID", "kid-nr", "KID:"),
        *("kr", "kr.", "KRONER", "nok", "SEK", "dkk", "eur", "EURO", "usd", ",-", ",50", "postboks", "PB.", "boks"),
        *("P.O. Box", "po box", "phone conference", "Conference", "meeting", "Webinar", "møte", "konferanse"),
        *(" ID", "-id", " number", " nummer", "nr", " (toll free)", "passcode", "Password", "passord", "PIN"),
        *("tilgangskode", "access code", ",,", "NO93", "DE89 3704", "GB29", "\u212aID", "\u017fek", "\u0130", "_"),
        *("912", "34", "567", "1234", "12", "2024", "23:59", "08.00", "0000"),
    ]
)


@settings(max_examples=4000, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=30))
def test_random_text_of_the_branches_words_gives_the_same_spans(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert _spans(identifiers_text._NOT_A_NUMBER, text) == _spans(_BEFORE, text), text


def searched_everywhere(text: str, windows: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """``identifiers_text._excluded`` as it read before it searched only where a match can begin:
    both searches at every position of ``windows`` (by default one window, the whole text)."""
    return identifiers_text._excluded_in(text, [(0, len(text))] if windows is None else windows, None)


def test_reading_only_where_a_match_can_begin_excludes_what_the_whole_text_did() -> None:
    for text in literals():
        assert identifiers_text._excluded(text) == searched_everywhere(text), text


# Long stretches without digits, of the characters a match may run through before its digits
# (spaces, tabs, commas after "Meeting ID:" or a dial string's pauses) or after them (an IBAN's
# letters), and of plain prose: where the windows begin and end.
_STRETCHES = st.sampled_from(
    [" " * 70, "\t" * 90, "," * 80, " \t" * 40, "x" * 70, "ABCD " * 14, "Hei Kari, takk for praten. " * 3]
)
# What the second search's branches begin with, and letters a case-insensitive search folds
# otherwise than str.lower ("ı", "ſ", "İ", the Kelvin sign): where a match can begin.
_AT_DIGIT = st.sampled_from(
    [
        *("v", "V", "ver", "Versjon ", "version", "IP ", "ip", "IPv4 address: ", "build ", "Release", "FIRMWARE "),
        *("€", "$ ", "£", "1.2.3.4", "10.0.0.1", "9.12.34.567", ".5.6.7", "14:05:33.912", "23:59:59,1"),
        *("\u0131p ", "\u017fek", "\u0130P ", "\u212aR ", "pb.", "p.o. box ", "PO Box ", "po. box", "p.o box"),
        *("prvs=", "btv1=", "=", "@", "a", "Z", "GB", "NO93 ", "kr.", "nok", ",,", ",,,"),
    ]
)


@settings(max_examples=6000, deadline=None)
@given(pieces=st.lists(st.one_of(_PIECES, _STRETCHES, _AT_DIGIT, _PIECES), max_size=40))
def test_reading_only_where_a_match_can_begin_excludes_the_same_in_random_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert identifiers_text._excluded(text) == searched_everywhere(text), text
