"""``has_nul``: every NUL found wherever it sits, and no NUL seen where there is none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archivist.nul import has_nul


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("a\x00b", True, id="in-a-string"),
        pytest.param({"customer": {"name": "Kari\x00"}}, True, id="nested-value"),
        pytest.param({"variables": {"k\x00": "v"}}, True, id="in-a-key"),
        pytest.param({"messages": [{"text": "ok"}, {"text": "\x00"}]}, True, id="in-a-list"),
        pytest.param(("a", ("b", "\x00")), True, id="in-a-tuple"),
        # json.dumps cannot write a datetime: the exact walk still finds the NUL beside it.
        pytest.param({"at": datetime(2026, 1, 1, tzinfo=UTC), "text": "\x00"}, True, id="beside-a-datetime"),
        pytest.param({"at": datetime(2026, 1, 1, tzinfo=UTC), "text": "ok"}, False, id="datetime-no-nul"),
        # The six characters \u0000 typed as text are not a NUL (the fast path only rules NUL out).
        pytest.param({"text": "\\u0000 typed"}, False, id="escaped-text-is-not-nul"),
        pytest.param({"text": "Ringte 912 34 567 i går", "n": 3, "ok": True, "x": None}, False, id="plain-record"),
        pytest.param({1: "int key"}, False, id="int-key"),
        pytest.param(float("nan"), False, id="nan"),
    ],
)
def test_has_nul(value: object, expected: bool) -> None:
    assert has_nul(value) is expected
