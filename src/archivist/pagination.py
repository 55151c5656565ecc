"""The one cursor codec of every keyset-paged list: the last row's (time, id), opaque to clients.

A cursor comes back from the client, so decoding it is input validation like any other: it
must be what ``encode_cursor`` made — base64url of ``[ISO time, id]`` — with a time in the
accepted range and an id of the list's own kind, or it is refused with ``CursorError`` (422)
before any query or streamed response starts.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import overload

from archivist.times import MAX_TIME_TEXT, in_range

# Longer than any cursor we make: a time, a 64-character id and the JSON around them, base64.
MAX_CURSOR_LENGTH = 200
MAX_ID_LENGTH = 64
# Integer ids are 64-bit keys in PostgreSQL; larger ones cannot be ours (and overflow a bind).
MAX_INT_ID = 2**63 - 1

CURSOR_MESSAGE = "Not a cursor from a previous page; start again without it"

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_STRING_ID = re.compile(r"^[A-Za-z0-9_-]+$")


class CursorError(ValueError):
    """A cursor this API did not make. ``field`` and ``message`` never repeat the input."""

    field = "cursor"

    def __init__(self) -> None:
        super().__init__(CURSOR_MESSAGE)
        self.message = CURSOR_MESSAGE


def encode_cursor(at: datetime, key: str | int) -> str:
    """The cursor that points just past the row keyed (``at``, ``key``)."""
    raw = json.dumps([at.astimezone(UTC).isoformat(), key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@overload
def decode_cursor(text: str, key_type: type[str]) -> tuple[datetime, str]: ...
@overload
def decode_cursor(text: str, key_type: type[int]) -> tuple[datetime, int]: ...
def decode_cursor(text: str, key_type: type[str] | type[int]) -> tuple[datetime, str] | tuple[datetime, int]:
    """The (time, id) a cursor of a list keyed by ``key_type`` ids points past; CursorError otherwise."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_CURSOR_LENGTH or not _BASE64URL.match(text):
        raise CursorError
    try:
        decoded = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CursorError from None
    if not isinstance(decoded, list) or len(decoded) != 2:
        raise CursorError
    at_text, key = decoded
    if not isinstance(at_text, str) or len(at_text) > MAX_TIME_TEXT:
        raise CursorError
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError:
        raise CursorError from None
    if at.tzinfo is None or not in_range(at):
        raise CursorError
    if key_type is int:
        # bool is an int to Python (``true`` would be id 1); only a real integer is an id.
        if type(key) is not int or not 0 < key <= MAX_INT_ID:
            raise CursorError
        return at.astimezone(UTC), key
    if type(key) is not str or not 0 < len(key) <= MAX_ID_LENGTH or not _STRING_ID.match(key):
        raise CursorError
    return at.astimezone(UTC), key
