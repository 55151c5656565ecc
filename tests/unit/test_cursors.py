"""The one cursor codec: what it makes round-trips, anything else is a CursorError (a 422)."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archivist.pagination import MAX_CURSOR_LENGTH, CursorError, decode_cursor, encode_cursor
from archivist.times import EARLIEST, LATEST


def forged(payload: object) -> str:
    """A cursor as an attacker would make one: our encoding around any JSON."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


AT = "2026-03-01T09:00:00+00:00"


def test_round_trip_of_string_and_integer_keys() -> None:
    at = datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert decode_cursor(encode_cursor(at, "0193a1b2c3d4e5f6a7b8c9d0e1f2a3b4"), str) == (
        at.astimezone(UTC),
        "0193a1b2c3d4e5f6a7b8c9d0e1f2a3b4",
    )
    assert decode_cursor(encode_cursor(at, 42), int) == (at.astimezone(UTC), 42)


@pytest.mark.parametrize(
    ("text", "key_type"),
    [
        ("", str),  # empty
        ("!!!", str),  # not base64url
        ("a" * (MAX_CURSOR_LENGTH + 1), str),  # longer than any cursor we make
        ("YWJj", str),  # base64 of "abc": not JSON
        (base64.urlsafe_b64encode(b"\xff\xfe").decode(), str),  # not UTF-8
        (forged({"at": AT, "id": "x"}), str),  # an object, not the pair
        (forged([AT]), str),  # one element
        (forged([AT, "a", "b"]), str),  # three elements
        (forged([12, "a"]), str),  # time not a string
        (forged(["yesterday", "a"]), str),  # time not ISO 8601
        (forged(["2026-03-01T09:00:00", "a"]), str),  # time without an offset
        (forged(["9999-12-31T23:59:59-05:00", "a"]), str),  # year 10000 in UTC: overflows on the way out
        (forged(["0001-01-01T00:00:00+05:00", "a"]), str),  # before year 1 in UTC
        (forged(["1969-12-31T23:59:59+00:00", "a"]), str),  # just before the accepted range
        (forged(["2100-01-01T00:00:00+00:00", "a"]), str),  # the range's (exclusive) end
        (forged([AT, True]), int),  # bool is an int to Python, never an id
        (forged([AT, 10**30]), int),  # beyond a 64-bit key: overflows the bind on PostgreSQL
        (forged([AT, 0]), int),  # ids start at 1
        (forged([AT, -5]), int),  # negative
        (forged([AT, 1.5]), int),  # not an integer
        (forged([AT, "7"]), int),  # a string where the list is keyed by integers
        (forged([AT, 7]), str),  # an integer where the list is keyed by strings
        (forged([AT, True]), str),  # bool for a string key
        (forged([AT, ""]), str),  # empty id
        (forged([AT, "a" * 65]), str),  # longer than any id
        (forged([AT, "a\x00b"]), str),  # NUL: PostgreSQL refuses it in text
        (forged([AT, "a'; --"]), str),  # characters no id of ours has
        (forged([AT, None]), str),  # null id
    ],
)
def test_anything_we_did_not_make_is_refused(text: str, key_type: type[str] | type[int]) -> None:
    with pytest.raises(CursorError) as caught:
        decode_cursor(text, key_type)
    assert caught.value.field == "cursor"
    assert "start again without it" in caught.value.message


def test_the_message_never_repeats_the_cursor() -> None:
    canary = forged(["2026-03-01T09:00:00+00:00", "41987654@canary.example"])
    with pytest.raises(CursorError) as caught:
        decode_cursor(canary, str)
    assert "41987654" not in str(caught.value)
    assert canary not in str(caught.value)


def test_range_edges_are_accepted() -> None:
    assert decode_cursor(encode_cursor(EARLIEST, 1), int)[0] == EARLIEST
    last = LATEST - timedelta(microseconds=1)
    assert decode_cursor(encode_cursor(last, 2**63 - 1), int) == (last, 2**63 - 1)


@given(st.text(max_size=300))
def test_arbitrary_text_decodes_or_is_refused_never_crashes(text: str) -> None:
    for key_type in (str, int):
        try:
            at, key = decode_cursor(text, key_type)
        except CursorError:
            continue
        assert EARLIEST <= at < LATEST
        assert type(key) is key_type


@given(st.lists(st.one_of(st.text(max_size=40), st.integers(), st.booleans(), st.none(), st.floats()), max_size=3))
def test_arbitrary_json_behind_the_base64_decodes_or_is_refused(payload: list[object]) -> None:
    text = forged(payload)
    for key_type in (str, int):
        with contextlib.suppress(CursorError):
            decode_cursor(text, key_type)
