"""A page of interactions renders each distinct caller number once, and shows what one row shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archivist import identifiers
from archivist.archive import presenters
from archivist.archive.models import Channel, Direction, Interaction


def _call(n: int, e164: str | None, raw: str | None = None) -> Interaction:
    return Interaction(
        id=f"i{n}",
        channel=Channel.CALL,
        direction=Direction.INBOUND,
        started_at=datetime(2026, 3, 10, 12, n, tzinfo=UTC),
        customer_phone=raw or e164,
        customer_phone_e164=e164,
        has_recording=False,
        has_content=False,
    )


def test_a_page_renders_each_distinct_number_once_and_every_row_as_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        _call(1, "+4791234567"),
        _call(2, "+4791234567"),
        _call(3, "+46701234567"),
        _call(4, "+4791234567"),
        _call(5, None, raw="anonymous"),
    ]
    alone = [presenters.interaction_out(row, "NO") for row in rows]
    rendered: list[str] = []
    real = identifiers.render_phone

    def counted(e164: str, country: str) -> str:
        rendered.append(e164)
        return real(e164, country)

    monkeypatch.setattr(presenters, "render_phone", counted)
    page = presenters.interactions_out(rows, "NO")
    assert page == alone
    assert [item.customer.phone for item in page] == ["91234567", "91234567", "0046701234567", "91234567", "anonymous"]
    assert rendered == ["+4791234567", "+46701234567"]
    # The next page starts afresh: nothing is kept between calls.
    presenters.interactions_out(rows[:1], "NO")
    assert rendered == ["+4791234567", "+46701234567", "+4791234567"]
