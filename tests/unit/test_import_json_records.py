"""The streaming JSON reader every platform importer uses: each file shape, read in pieces of any size."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archivist.importers.pipeline import json_records


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _read(data: bytes, size: int) -> list[tuple[str, object]]:
    return [(p, "BAD" if isinstance(v, ValueError) else v) for p, v in json_records("f.json", _pieces(data, size))]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1 << 20])  # pieces cut anywhere, UTF-8 sequences included
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # one record a line
        (b'{"a": 1}\n{"a": 2}\n', [("f.json:1", {"a": 1}), ("f.json:2", {"a": 2})]),
        # a JSON array, pretty-printed
        (b'[\n  {"a": 1},\n  {"a": 2}\n]\n', [("f.json:1", {"a": 1}), ("f.json:2", {"a": 2})]),
        # back to back, as Kinesis Data Firehose delivers contact records
        (b'{"a":1}{"a":2}{"a":"\xc3\xa5"}', [("f.json:1", {"a": 1}), ("f.json:2", {"a": 2}), ("f.json:3", {"a": "å"})]),
        # concatenated pretty-printed objects
        (b'{\n "a": 1\n}\n{\n "a": 2\n}\n', [("f.json:1", {"a": 1}), ("f.json:2", {"a": 2})]),
        # a byte order mark first
        (b'\xef\xbb\xbf{"a": 1}', [("f.json:1", {"a": 1})]),
        # a bad line in a file of lines: reported, the next line read on
        (b'{"a": 1}\n{bad\n{"a": 3}\n', [("f.json:1", {"a": 1}), ("f.json:2", "BAD"), ("f.json:3", {"a": 3})]),
        # a bad value in an array ends the file: nothing after it can be trusted
        (b'[{"a": 1}, {bad}, {"a": 3}]', [("f.json:1", {"a": 1}), ("f.json:2", "BAD")]),
        # a number at the very end is read whole
        (b"12345", [("f.json:1", 12345)]),
        # empty and blank files hold nothing
        (b"", []),
        (b"  \n\n", []),
        (b"[]", []),
    ],
)
def test_every_shape_in_pieces(data: bytes, expected: list[tuple[str, object]], size: int) -> None:
    assert _read(data, size) == expected
