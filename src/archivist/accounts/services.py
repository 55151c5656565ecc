"""Creating solutions, users and tokens; shared by the CLI, the API and the pages.

Helpers here take a session and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archivist.accounts.models import ApiToken, Role, Solution, User
from archivist.accounts.passwords import hash_password
from archivist.accounts.tokens import generate_token, hash_token

# Writing last_used_at on every request would turn each read into a write; once a minute
# is precise enough for "last used".
LAST_USED_RESOLUTION = timedelta(minutes=1)


class AccountError(ValueError):
    """Input that cannot make an account or a solution; the message is safe to show."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from a token or a session, never from a request parameter."""

    user_id: str
    username: str
    role: Role
    solution_id: str


def validate_country(country: str) -> str:
    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise AccountError("country must be an ISO 3166 alpha-2 code such as NO or SE")
    return code


def validate_timezone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise AccountError("timezone must be an IANA time zone such as Europe/Oslo") from None
    return tz


def validate_nightly_at(value: str) -> str:
    try:
        parsed = datetime.strptime(value.strip(), "%H:%M")
    except ValueError:
        raise AccountError("nightly time must be HH:MM, e.g. 02:00") from None
    return parsed.strftime("%H:%M")


def create_solution(session: Session, *, name: str, country: str, timezone: str, is_default: bool = False) -> Solution:
    solution = Solution(
        name=name.strip() or "Solution",
        country=validate_country(country),
        timezone=validate_timezone(timezone),
        is_default=is_default,
    )
    session.add(solution)
    session.flush()
    return solution


def default_solution(session: Session) -> Solution | None:
    return session.scalars(select(Solution).where(Solution.is_default.is_(True))).first()


def get_solution(session: Session, solution_id: str) -> Solution | None:
    return session.get(Solution, solution_id)


def create_user(session: Session, *, solution_id: str, username: str, role: Role, password: str) -> User:
    username = username.strip()
    if not username or len(username) > 100:
        raise AccountError("username must be 1 to 100 characters")
    if session.scalars(select(User).where(User.username == username)).first():
        raise AccountError("a user with that username exists already")
    if len(password) < 8:
        raise AccountError("password must be at least 8 characters")
    user = User(solution_id=solution_id, username=username, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def create_token(session: Session, user: User, label: str = "") -> str:
    """Make a token for ``user`` and return it; only its hash is stored."""
    token = generate_token()
    session.add(
        ApiToken(solution_id=user.solution_id, user_id=user.id, label=label[:100], token_hash=hash_token(token))
    )
    session.flush()
    return token


def principal_for_token(session: Session, token: str, now: datetime) -> Principal | None:
    """The principal a bearer token stands for, or None if it is unknown, revoked or disabled."""
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    api_token, user = row
    if api_token.revoked_at is not None or user.disabled:
        return None
    if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
        session.execute(update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now))
    return Principal(user_id=user.id, username=user.username, role=user.role, solution_id=user.solution_id)
