"""Changing a solution's settings: one action for the *Settings* page and ``PATCH /api/v1/settings``.

It validates every value given (the messages say what form each must have), changes what
differs, and writes one audit entry naming what changed; it never commits (CONTRACT §19).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from archivist.accounts import services as accounts
from archivist.accounts.models import Solution
from archivist.accounts.services import AccountError, Principal
from archivist.archive.mime import read_own_domains
from archivist.audit.events import AuditAction, record_for

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
