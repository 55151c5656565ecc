"""API bearer tokens: random, shown once, stored as SHA-256; their last use, written at most once a minute.

A fast hash is enough here (unlike passwords) because a token has 256 bits of entropy:
nobody can guess one by trying, and a fast hash keeps the per-request check cheap.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from archivist.accounts.models import ApiToken
from archivist.db import rowcount

TOKEN_PREFIX = "arch_"  # noqa: S105 - a public prefix that makes leaked tokens greppable

# Writing last_used_at on every request would turn each read into a write (and on SQLite into
# a wait for the database's one write lock); once a minute is precise enough for "last used".
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Tokens this process remembers having noted; beyond this it forgets them all (they are noted again).
_NOTED_MAX = 10_000


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LastUse:
    """When each token was last noted as used, by this process and in the database.

    ``note`` writes ``last_used_at`` only when it is more than ``LAST_USED_RESOLUTION`` old:
    in this process (so that 64 requests with one token in the same second send no UPDATE
    but the first) and in the database (a conditional UPDATE, so that the workers and servers
    that all saw an old value write it once between them).
    """

    def __init__(self) -> None:
        self._noted: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def due(self, token_id: str, stored: datetime | None, now: datetime) -> bool:
        threshold = now - LAST_USED_RESOLUTION
        with self._lock:
            seen = self._noted.get(token_id)
        return (stored is None or stored < threshold) and (seen is None or seen < threshold)

    def note(self, session: Session, token_id: str, stored: datetime | None, now: datetime) -> bool:
        """Record a use of the token at ``now`` in the caller's transaction if it is due; True if written."""
        if not self.due(token_id, stored, now):
            return False
        with self._lock:
            if len(self._noted) >= _NOTED_MAX:
                self._noted.clear()
            self._noted[token_id] = now
        threshold = now - LAST_USED_RESOLUTION
        result = session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < threshold))
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1


# One per process: what it remembers is only ever an optimisation of the database's own condition.
last_use = LastUse()
