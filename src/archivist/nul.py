"""NUL characters in input: PostgreSQL cannot store them in text, so they are refused where input enters."""

from __future__ import annotations

NUL_MESSAGE = "must not contain NUL characters"


def has_nul(value: object) -> bool:
    """Whether ``value`` (a string, or JSON-like lists and dicts of them, keys included) holds a NUL."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False
