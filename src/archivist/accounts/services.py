"""Solutions, users and tokens: their rules, look-ups and changes, and the accounts' refusals.

Helpers here take a session and never commit: the caller owns the transaction. They write no
audit entry (the audit trail stands above accounts): the audited actions that the CLI and the
pages call are in ``solutions/services.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from archivist.accounts.models import ApiToken, Role, Solution, User
from archivist.accounts.passwords import hash_password
from archivist.accounts.tokens import generate_token, hash_token, last_use
from archivist.accounts.usernames import UsernameError, confusable_skeleton, fold_username, validate_username
from archivist.db import table_of
from archivist.errors import ConflictError, InvalidError, NotFoundError

MIN_PASSWORD_LENGTH = 8
MAX_TOKEN_LABEL = 100
# The audit trail must outlive the shortest review cycle (a month) and no data-protection
# rule asks for more than ten years.
MIN_AUDIT_RETENTION_DAYS = 30
MAX_AUDIT_RETENTION_DAYS = 3650


class AccountError(InvalidError):
    """Input that cannot make an account or a solution (422); the message is safe to show."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(field, message)


class UserNotFoundError(NotFoundError):
    """No such user in the caller's solution (another solution's is just as absent)."""

    def __init__(self) -> None:
        super().__init__("no such user")


class TokenNotFoundError(NotFoundError):
    """No such API token of that user in the caller's solution."""

    def __init__(self) -> None:
        super().__init__("no such token")


class OwnAccountError(AccountError):
    """An admin may not demote or disable themselves: they could lock a solution out of its *Users* page."""

    def __init__(self) -> None:
        super().__init__("you cannot change your own role or disable yourself; ask another admin")


class UserDisabledError(ConflictError):
    """A disabled user gets no new token: it would be refused at once, which looks like a bug."""

    def __init__(self) -> None:
        super().__init__("enable the user before giving them a token")


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


def checked_username(username: str) -> str:
    """``validate_username`` with the error every caller here shows (AccountError)."""
    try:
        return validate_username(username)
    except UsernameError as exc:
        raise AccountError(str(exc)) from None


def find_user(session: Session, username: str) -> User | None:
    """The user a typed username names, case-insensitively (``ADMIN`` is ``admin``)."""
    return session.scalars(select(User).where(User.username_key == fold_username(username))).first()


def named_user(session: Session, username: str) -> User:
    """``find_user``, or UserNotFoundError: the command line names users, in any solution."""
    user = find_user(session, username)
    if user is None:
        raise UserNotFoundError
    return user


# Says nothing about which name it resembles, nor in which solution.
LOOKS_LIKE_ANOTHER = (
    "that username looks like an existing one (letters of other scripts that look alike): choose another"
)


def _looks_like_another(names: Iterable[tuple[str, str]], username: str, *, except_id: str | None = None) -> bool:
    """Whether ``username`` has the TS 39 skeleton of one of ``names`` ((id, username) pairs) but another user's."""
    wanted = confusable_skeleton(username)
    return any(uid != except_id and confusable_skeleton(name) == wanted for uid, name in names)


def create_user(session: Session, *, solution_id: str, username: str, role: Role, password: str) -> User:
    username = checked_username(username)
    if find_user(session, username) is not None:
        # Says nothing about which spelling exists, nor in which solution.
        raise AccountError("a user with that username exists already (usernames ignore case)")
    # An audit entry by a look-alike of an admin must not pass for the admin's (CONTRACT §18).
    # Users are few: every name's skeleton is compared, so no stored column can go stale.
    if _looks_like_another(session.execute(select(User.id, User.username)).all(), username):
        raise AccountError(LOOKS_LIKE_ANOTHER)
    user = User(
        solution_id=solution_id,
        username=username,
        username_key=fold_username(username),
        role=role,
        password_hash=hash_password(validate_password(password)),
    )
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class Renamed:
    user_id: str
    solution_id: str
    old: str
    new: str


def rename_user(session: Session, old: str, new: str, *, solution_id: str | None = None) -> Renamed:
    """Rename the user called exactly ``old`` (or, failing that, the one it names ignoring case).

    Only a user of ``solution_id`` is renamed, where it is given; a new name must still differ
    from every solution's names.

    Written against the ``users`` table's columns of every schema version, because this is
    how an archive whose upgrade refused to fold usernames together (two users differing only
    in case, migration 0009) is repaired before the upgrade is run again: there is no
    ``username_key`` yet, and a clash is then looked for among all names in Python.
    """
    users = table_of(User)
    has_key = "username_key" in {c["name"] for c in inspect(session.connection()).get_columns("users")}
    rows = session.execute(select(users.c.id, users.c.solution_id, users.c.username)).all()
    candidates = [r for r in rows if solution_id is None or r.solution_id == solution_id]
    target = next((r for r in candidates if r.username == old.strip()), None)
    if target is None:
        folded = [r for r in candidates if fold_username(r.username) == fold_username(old)]
        if len(folded) > 1:
            raise AccountError("more than one user has that name in another case: give the exact spelling")
        target = folded[0] if folded else None
    if target is None:
        raise UserNotFoundError
    new = checked_username(new)
    if any(r.id != target.id and fold_username(r.username) == fold_username(new) for r in rows):
        raise AccountError("a user with that username exists already (usernames ignore case)")
    if _looks_like_another(((r.id, r.username) for r in rows), new, except_id=target.id):
        raise AccountError(LOOKS_LIKE_ANOTHER)
    values = {"username": new} | ({"username_key": fold_username(new)} if has_key else {})
    session.execute(update(users).where(users.c.id == target.id).values(**values))
    return Renamed(target.id, target.solution_id, target.username, new)


def validate_token_label(label: str) -> str:
    label = label.strip()
    if len(label) > MAX_TOKEN_LABEL:
        raise AccountError(f"a token label is at most {MAX_TOKEN_LABEL} characters", field="label")
    return label


def create_token(session: Session, user: User, label: str = "") -> str:
    """Make a token for ``user`` and return it; only its hash is stored."""
    token = generate_token()
    session.add(
        ApiToken(
            solution_id=user.solution_id,
            user_id=user.id,
            label=validate_token_label(label),
            token_hash=hash_token(token),
        )
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
    last_use.note(session, api_token.id, api_token.last_used_at, now)
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


def get_user(session: Session, solution_id: str | None, user_id: str) -> User:
    """The user, only if it belongs to ``solution_id``: another solution's user is 'not found'.

    ``solution_id`` None reaches every solution: the command line's, whose caller has the database.
    """
    query = select(User).where(User.id == user_id)
    if solution_id is not None:
        query = query.where(User.solution_id == solution_id)
    user = session.scalars(query).first()
    if user is None:
        raise UserNotFoundError
    return user


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def get_token(session: Session, solution_id: str | None, token_id: str, *, user_id: str | None = None) -> ApiToken:
    """The token, only if it belongs to ``solution_id`` (None: any) and to ``user_id`` where given."""
    query = select(ApiToken).where(ApiToken.id == token_id)
    if solution_id is not None:
        query = query.where(ApiToken.solution_id == solution_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    token = session.scalars(query).first()
    if token is None:
        raise TokenNotFoundError
    return token


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
