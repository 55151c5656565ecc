"""API bearer tokens: random, shown once, stored as SHA-256.

A fast hash is enough here (unlike passwords) because a token has 256 bits of entropy:
nobody can guess one by trying, and a fast hash keeps the per-request check cheap.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "arch_"  # noqa: S105 - a public prefix that makes leaked tokens greppable


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
