"""NUL characters in input: PostgreSQL cannot store them in text, so they are refused where input enters."""

from __future__ import annotations

import json

NUL_MESSAGE = "must not contain NUL characters"


def has_nul(value: object) -> bool:
    """Whether ``value`` (a string, or JSON-like lists and dicts of them, keys included) holds a NUL."""
    # Every record of an import passes here. ``json.dumps`` (C) writes each NUL, key or value, as
    # ``\u0000``: without that text there is none, and the walk below (a tenth of an import's CPU
    # when it ran for every record) is left for the rare value holding it, or one json cannot write.
    try:
        if "\\u0000" not in json.dumps(value, check_circular=False):
            return False
    except (TypeError, ValueError):
        pass
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
