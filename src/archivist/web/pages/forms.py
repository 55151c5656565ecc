"""Checks every page form makes before its own: how long a field may be.

A limit declared on ``Form(max_length=…)`` is enforced by FastAPI before the handler runs and
answers bare JSON; a page must instead show its form again with the message next to the field
(CONTRACT §14). So page fields are declared without one and measured here, in the handler.
"""

from __future__ import annotations

from collections.abc import Mapping


def too_long(limits: Mapping[str, int], values: Mapping[str, str]) -> dict[str, str]:
    """A message per field of ``values`` longer than its limit in ``limits`` (never repeating the value)."""
    return {
        name: f"At most {limit:,} characters" for name, limit in limits.items() if len(values.get(name) or "") > limit
    }
