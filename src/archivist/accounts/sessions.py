"""Page logins: password checks with throttling, and server-side sessions with timeouts.

The browser holds only a random session token; the database keeps its SHA-256 as the
session id, so a leaked database row cannot be replayed as a cookie. Helpers take a session
and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from archivist.accounts.models import ApiToken, LoginFailure, User, WebSession
from archivist.accounts.passwords import hash_password, verify_password
from archivist.accounts.services import Principal, find_user
from archivist.accounts.usernames import fold_username
from archivist.db import rowcount

# A session left alone this long ends: an unlocked, walked-away-from screen stays open for
# a coffee break, not an afternoon.
IDLE_TIMEOUT = timedelta(minutes=30)
# However busy, a session ends after a working day; the next day starts with a password.
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# last_seen_at is written at most this often, so that a page with many requests (a player
# seeking, htmx fragments) does not turn every read into a write.
TOUCH_RESOLUTION = timedelta(seconds=60)

# What the nightly purge leaves of ended sessions and old failures, beyond their expiry.
PURGE_GRACE = timedelta(days=1)

# Failed logins counted over this window...
FAILURE_WINDOW = timedelta(minutes=15)
# ...refuse further attempts for one username once it has this many (slows guessing one
# account to a handful of tries per quarter hour)...
MAX_FAILURES_PER_ACCOUNT = 5
# ...and for one client address (slows trying one password across many accounts). Higher,
# because an office behind one NAT address shares it.
MAX_FAILURES_PER_ADDRESS = 30


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this when the username is unknown makes a miss cost as much as a
    wrong password, so response times do not tell which usernames exist. Made lazily:
    hashing at import would slow every start."""
    return hash_password(secrets.token_urlsafe(16))


def session_id_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def username_key(secret: str, username: str) -> str:
    """What a failed login stores for its username: keyed, because people type passwords there.

    Of the folded name, so that failures for ``ADMIN`` and ``admin`` count against the one
    account they both name, and no other.
    """
    return hmac.new(secret.encode(), fold_username(username).encode(), hashlib.sha256).hexdigest()


class LoginOutcome(enum.Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    # The user the username named (even when the password was wrong), for the audit trail.
    user: User | None = None


def authenticate(
    session: Session, username: str, password: str, address: str, now: datetime, secret: str
) -> LoginResult:
    """Check a username and password, refusing while the account or address is throttled.

    A failure is recorded (hashed username, address, solution if the user exists); a
    success clears the account's failures. A throttled attempt checks nothing and records
    nothing, so it neither reveals the password nor extends the lock forever.
    """
    key = username_key(secret, username)
    since = now - FAILURE_WINDOW
    address = address[:64]
    user = find_user(session, username)
    by_account = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username_hash == key, LoginFailure.at >= since)
    )
    by_address = session.scalar(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.address == address, LoginFailure.at >= since)
    )
    if (by_account or 0) >= MAX_FAILURES_PER_ACCOUNT or (by_address or 0) >= MAX_FAILURES_PER_ADDRESS:
        return LoginResult(LoginOutcome.THROTTLED, user)
    if user is None:
        verify_password(_dummy_hash(), password)
        valid = False
    else:
        valid = verify_password(user.password_hash, password) and not user.disabled
    if not valid:
        session.add(
            LoginFailure(solution_id=user.solution_id if user else None, username_hash=key, address=address, at=now)
        )
        session.flush()
        return LoginResult(LoginOutcome.BAD_CREDENTIALS, user)
    session.execute(delete(LoginFailure).where(LoginFailure.username_hash == key))
    return LoginResult(LoginOutcome.OK, user)


@dataclass(frozen=True)
class SessionLogin:
    """A live page session and who it belongs to."""

    principal: Principal
    session_id: str
    csrf_secret: str


def start_session(session: Session, user: User, now: datetime) -> str:
    """Open a new session for ``user`` and return the cookie token (shown to nobody else).

    Always a new id, never one the browser brought: that is what defeats session fixation.
    """
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=session_id_of(token),
            solution_id=user.solution_id,
            user_id=user.id,
            csrf_secret=secrets.token_hex(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE_TIMEOUT,
        )
    )
    session.flush()
    return token


def resume_session(session: Session, token: str, now: datetime) -> SessionLogin | None:
    """The live session behind a cookie token, or None if unknown, ended, timed out or disabled.

    A session found timed out is ended on the spot, so it stays ended whatever the clock does.
    """
    row = session.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.id == session_id_of(token))
    ).first()
    if row is None:
        return None
    web_session, user = row
    if web_session.ended_at is not None or user.disabled:
        return None
    if now >= web_session.expires_at or now - web_session.last_seen_at >= IDLE_TIMEOUT:
        session.execute(update(WebSession).where(WebSession.id == web_session.id).values(ended_at=now))
        return None
    if now - web_session.last_seen_at >= TOUCH_RESOLUTION:
        session.execute(update(WebSession).where(WebSession.id == web_session.id).values(last_seen_at=now))
    principal = Principal(user_id=user.id, username=user.username, role=user.role, solution_id=user.solution_id)
    return SessionLogin(principal, web_session.id, web_session.csrf_secret)


def end_session(session: Session, session_id: str, now: datetime) -> None:
    session.execute(
        update(WebSession).where(WebSession.id == session_id, WebSession.ended_at.is_(None)).values(ended_at=now)
    )


def clear_login_failures(session: Session, secret: str, username: str) -> int:
    """Lift the per-account throttle of ``username`` (an administrator set a new password)."""
    key = username_key(secret, username)
    return rowcount(session.execute(delete(LoginFailure).where(LoginFailure.username_hash == key)))


def end_all_sessions(session: Session, user_id: str, now: datetime) -> int:
    """End every live session of a user (disabled, password reset); returns how many."""
    return rowcount(
        session.execute(
            update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None)).values(ended_at=now)
        )
    )


def revoke_all_tokens(session: Session, user_id: str, now: datetime) -> int:
    return rowcount(
        session.execute(
            update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
        )
    )


def purge_stale(session: Session, solution_id: str, now: datetime) -> int:
    """Remove sessions over their absolute timeout and failures outside the window.

    Run nightly: neither is needed any more, and both say when someone used the system.
    Only rows stale for ``PURGE_GRACE`` go: the nightly run may be run *as of* a later time
    (``archivist nightly --as-of``), and that must not log out anyone working now.
    """
    now = now - PURGE_GRACE
    sessions = rowcount(
        session.execute(delete(WebSession).where(WebSession.solution_id == solution_id, WebSession.expires_at < now))
    )
    failures = rowcount(
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.at < now - FAILURE_WINDOW,
                (LoginFailure.solution_id == solution_id) | LoginFailure.solution_id.is_(None),
            )
        )
    )
    return sessions + failures
