"""The administrator's actions on a solution: its settings, its users and their API tokens.

One function per action, for every door that offers it (the *Users* and *Settings* pages,
``PATCH /api/v1/settings``, the ``archivist user``/``token`` commands): each validates, changes
the data, writes its own audit entry (the door passes ``via``) and raises the accounts' typed
errors; none commits (CONTRACT §19). They live here, above accounts and audit, because an
action writes to the audit trail, which itself stands on accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from archivist.accounts import services as accounts
from archivist.accounts.models import Role, Solution, User
from archivist.accounts.services import AccountError, OwnAccountError, Principal, UserDisabledError
from archivist.accounts.sessions import clear_login_failures, end_all_sessions, revoke_all_tokens
from archivist.archive.mime import read_own_domains
from archivist.audit.events import AuditAction, record, record_for

# The longest Art. 15 text: a page of a letter, not a document.
MAX_ACCESS_TEXT = 4_000
ACCESS_TEXT_HINT = f"at most {MAX_ACCESS_TEXT:,} characters"
# Settings whose values the audit entry may hold (none is personal data, and all are short);
# of the free texts it names only that they changed.
_SHORT = frozenset(
    {
        "country",
        "timezone",
        "nightly_at",
        "replacement",
        "preview_warn_share",
        "audit_retention_days",
        "own_email_domains",
    }
)


class SettingsInvalidError(AccountError):
    """Some values cannot be used; ``errors`` maps each field to a message that repeats no value."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class SettingsChange:
    """What a door read; None leaves a setting as it is."""

    country: str | None = None
    timezone: str | None = None
    nightly_at: str | None = None
    replacement: str | None = None
    preview_warn_share: float | None = None
    audit_retention_days: int | None = None
    # As typed: one domain a line (commas and spaces also part them), or a list.
    own_email_domains: str | list[str] | None = None
    access_purposes: str | None = None
    access_recipients: str | None = None
    access_source: str | None = None


def _access_text(value: str) -> str:
    text = value.strip()
    if len(text) > MAX_ACCESS_TEXT:
        raise AccountError(ACCESS_TEXT_HINT)
    return text


def _domains(value: str | list[str]) -> list[str]:
    try:
        return read_own_domains(value if isinstance(value, str) else "\n".join(value))
    except ValueError as exc:
        raise AccountError(str(exc)) from None


_CHECKS: dict[str, Any] = {
    "country": accounts.validate_country,
    "timezone": accounts.validate_timezone,
    "nightly_at": accounts.validate_nightly_at,
    "replacement": accounts.validate_replacement,
    "preview_warn_share": accounts.validate_warn_share,
    "audit_retention_days": accounts.validate_retention_days,
    "own_email_domains": _domains,
    "access_purposes": _access_text,
    "access_recipients": _access_text,
    "access_source": _access_text,
}


def change_settings(
    session: Session, solution: Solution, change: SettingsChange, *, actor: Principal, via: str, now: datetime
) -> dict[str, Any]:
    """Validate all of ``change``, then apply what differs and audit it; what changed (name -> value).

    Raises SettingsInvalidError naming every bad field before anything is changed.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item in fields(change):
        given = getattr(change, item.name)
        if given is None:
            continue
        try:
            values[item.name] = _CHECKS[item.name](given)
        except AccountError as exc:
            errors[item.name] = str(exc)
    if errors:
        raise SettingsInvalidError(errors)
    changed = {name: value for name, value in values.items() if getattr(solution, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(solution, name, value)
        session.flush()
        details = {
            "changed": {name: value for name, value in changed.items() if name in _SHORT},
            "texts_changed": sorted(name for name in changed if name not in _SHORT),
            "via": via,
        }
        record_for(session, actor, AuditAction.SETTINGS_CHANGED, solution.id, details, at=now)
    return changed


# ---------------------------------------------------------------------------------------------
# Users and API tokens
# ---------------------------------------------------------------------------------------------

# Who acts: a logged-in user or token, who reaches their own solution only; or the name the
# command line writes in the audit trail ("cli"): whoever runs it has the database, and it
# reaches every solution.
Actor = Principal | str


def _scope(actor: Actor) -> str | None:
    """The solution ``actor`` may reach; None for the command line, which reaches every one."""
    return actor.solution_id if isinstance(actor, Principal) else None


def _audit(
    session: Session,
    actor: Actor,
    user: User,
    action: AuditAction,
    target: str,
    details: dict[str, Any],
    *,
    via: str,
    now: datetime,
) -> None:
    """The entry of an action on ``user``, in the user's solution (for a Principal, their own)."""
    name = actor.username if isinstance(actor, Principal) else actor
    entry = {"username": user.username, **details, "via": via}
    record(session, user.solution_id, name, action, target, entry, at=now)


def _not_self(actor: Actor, user: User) -> None:
    if isinstance(actor, Principal) and user.id == actor.user_id:
        raise OwnAccountError


def create_user(
    session: Session,
    solution: Solution,
    *,
    username: str,
    role: Role,
    password: str,
    actor: Actor,
    via: str,
    now: datetime,
) -> User:
    """Add a user to ``solution``; AccountError if the name is taken or looks like one, or the password is short."""
    user = accounts.create_user(session, solution_id=solution.id, username=username, role=role, password=password)
    _audit(session, actor, user, AuditAction.USER_CREATED, user.id, {"role": role.value}, via=via, now=now)
    return user


def change_role(session: Session, user_id: str, role: Role, *, actor: Actor, via: str, now: datetime) -> bool:
    """Give the user ``role``; False (and no entry) if they have it already. OwnAccountError for oneself."""
    user = accounts.get_user(session, _scope(actor), user_id)
    _not_self(actor, user)
    if role is user.role:
        return False
    before = user.role
    user.role = role
    session.flush()
    details = {"from": before.value, "to": role.value}
    _audit(session, actor, user, AuditAction.USER_ROLE_CHANGED, user.id, details, via=via, now=now)
    return True


def disable_user(session: Session, user_id: str, *, actor: Actor, via: str, now: datetime) -> None:
    """Disable the user at once: every session and every API token of theirs ends now."""
    user = accounts.get_user(session, _scope(actor), user_id)
    _not_self(actor, user)
    user.disabled = True
    session.flush()
    details = {
        "sessions_ended": end_all_sessions(session, user.id, now),
        "tokens_revoked": revoke_all_tokens(session, user.id, now),
    }
    _audit(session, actor, user, AuditAction.USER_DISABLED, user.id, details, via=via, now=now)


def enable_user(session: Session, user_id: str, *, actor: Actor, via: str, now: datetime) -> bool:
    """Let a disabled user log in again (their revoked tokens stay revoked); False if they were not disabled."""
    user = accounts.get_user(session, _scope(actor), user_id)
    if not user.disabled:
        return False
    user.disabled = False
    session.flush()
    _audit(session, actor, user, AuditAction.USER_ENABLED, user.id, {}, via=via, now=now)
    return True


def rename_user(session: Session, old: str, new: str, *, actor: Actor, via: str, now: datetime) -> accounts.Renamed:
    """Rename the user ``old`` names; ``accounts.rename_user`` says how (it also repairs a refused upgrade)."""
    renamed = accounts.rename_user(session, old, new, solution_id=_scope(actor))
    name = actor.username if isinstance(actor, Principal) else actor
    details = {"from": renamed.old, "to": renamed.new, "via": via}
    record(session, renamed.solution_id, name, AuditAction.USER_RENAMED, renamed.user_id, details, at=now)
    return renamed


def set_password(
    session: Session, user_id: str, password: str, *, secret: str, actor: Actor, via: str, now: datetime
) -> None:
    """Give the user ``password``: their sessions end and their login throttle lifts (``secret`` keys it).

    AccountError if the password is too short; the entry holds counts, never the password.
    """
    user = accounts.get_user(session, _scope(actor), user_id)
    accounts.set_password(session, user, password)
    details = {
        "sessions_ended": end_all_sessions(session, user.id, now),
        "failures_cleared": clear_login_failures(session, secret, user.username),
    }
    _audit(session, actor, user, AuditAction.USER_PASSWORD_RESET, user.id, details, via=via, now=now)


def create_token(session: Session, user_id: str, label: str, *, actor: Actor, via: str, now: datetime) -> str:
    """A new API token for the user, returned once (only its hash is kept).

    UserDisabledError for a disabled user; AccountError for an over-long label.
    """
    user = accounts.get_user(session, _scope(actor), user_id)
    if user.disabled:
        raise UserDisabledError
    label = accounts.validate_token_label(label)
    token = accounts.create_token(session, user, label)
    _audit(session, actor, user, AuditAction.TOKEN_CREATED, user.id, {"label": label}, via=via, now=now)
    return token


def revoke_token(
    session: Session, token_id: str, *, user_id: str | None = None, actor: Actor, via: str, now: datetime
) -> bool:
    """Revoke the token at once (of ``user_id``, where the door names a user); False if it was revoked already."""
    token = accounts.get_token(session, _scope(actor), token_id, user_id=user_id)
    if not accounts.revoke_token(session, token, now):
        return False
    user = accounts.get_user(session, None, token.user_id)
    _audit(session, actor, user, AuditAction.TOKEN_REVOKED, token.id, {"label": token.label}, via=via, now=now)
    return True
