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
MIN_PASSWORD_LENGTH = 8
# The audit trail must outlive the shortest review cycle (a month) and no data-protection
# rule asks for more than ten years.
MIN_AUDIT_RETENTION_DAYS = 30
MAX_AUDIT_RETENTION_DAYS = 3650


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
    user = User(
        solution_id=solution_id, username=username, role=role, password_hash=hash_password(validate_password(password))
    )
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


# ---------------------------------------------------------------------------------------------
# Administration (the Users and Settings pages, the CLI)
# ---------------------------------------------------------------------------------------------


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


def list_users(session: Session, solution_id: str) -> list[User]:
    return list(session.scalars(select(User).where(User.solution_id == solution_id).order_by(User.username)))


def get_user(session: Session, solution_id: str, user_id: str) -> User | None:
    """The user, only if it belongs to ``solution_id``: another solution's user is 'not found'."""
    return session.scalars(select(User).where(User.id == user_id, User.solution_id == solution_id)).first()


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def get_token(session: Session, solution_id: str, token_id: str) -> ApiToken | None:
    return session.scalars(select(ApiToken).where(ApiToken.id == token_id, ApiToken.solution_id == solution_id)).first()


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(validate_password(password))
    session.flush()


def revoke_token(session: Session, token: ApiToken, now: datetime) -> bool:
    """Revoke at once (the next request with it is refused); False if it was revoked already."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    session.flush()
    return True


def validate_replacement(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 100:
        raise AccountError("replacement text must be 1 to 100 characters")
    return value


def validate_warn_share(value: float) -> float:
    if not 0 < value <= 1:
        raise AccountError("preview warning share must be more than 0 and at most 1 (100 %)")
    return value


def validate_retention_days(value: int) -> int:
    if not MIN_AUDIT_RETENTION_DAYS <= value <= MAX_AUDIT_RETENTION_DAYS:
        raise AccountError(
            f"audit retention must be between {MIN_AUDIT_RETENTION_DAYS} and {MAX_AUDIT_RETENTION_DAYS} days"
        )
    return value
