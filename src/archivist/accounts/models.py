"""Tenants (solutions), the people who use Archivist, and their API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from archivist.accounts.usernames import fold_username
from archivist.db import Base, BigIntId, UTCDateTime, new_id, utcnow
from archivist.enums import enum_column
from archivist.identifiers_text import SCANNER_VERSION

DEFAULT_REPLACEMENT = "Anonymized"
DEFAULT_NIGHTLY_AT = "02:00"
# A request that would touch more than this share of the archive gets a warning in the
# preview (a switchboard number, a typo of a common number).
DEFAULT_PREVIEW_WARN_SHARE = 0.01
DEFAULT_AUDIT_RETENTION_DAYS = 365


class Role(enum.StrEnum):
    SUPERVISOR = "supervisor"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"
    INGEST = "ingest"


class Solution(Base):
    """One contact centre: a tenant whose data no other solution ever sees."""

    __tablename__ = "solutions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    nightly_at: Mapped[str] = mapped_column(String(5), default=DEFAULT_NIGHTLY_AT)
    replacement: Mapped[str] = mapped_column(String(100), default=DEFAULT_REPLACEMENT)
    preview_warn_share: Mapped[float] = mapped_column(Float, default=DEFAULT_PREVIEW_WARN_SHARE)
    audit_retention_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_AUDIT_RETENTION_DAYS)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # The scanner version that built this solution's mention index; a new solution has an empty
    # index, so the current one. Archives indexed by an older one must be re-indexed.
    mention_scanner_version: Mapped[int] = mapped_column(Integer, default=SCANNER_VERSION, server_default="1")
    # Domains whose mail is the centre's own (CONTRACT §15): a message from one of them is outbound,
    # and its customer is the first recipient outside them. Lower-case, without "@".
    own_email_domains: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # GDPR Art. 15 items a subject export's letter quotes (CONTRACT §19): why the data is
    # processed, who receives it, where it comes from. Plain text, typed by an admin.
    access_purposes: Mapped[str] = mapped_column(Text, default="", server_default="")
    access_recipients: Mapped[str] = mapped_column(Text, default="", server_default="")
    access_source: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _folded_username(context: DefaultExecutionContext) -> str:
    parameters = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return fold_username(parameters["username"])


class User(Base):
    __tablename__ = "users"
    # An index, not a constraint: SQLite adds one without rebuilding the table (migration 0009).
    __table_args__ = (Index("uq_users_username_key", "username_key", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"), index=True)
    # Usernames are global so that the login page needs no solution picker.
    username: Mapped[str] = mapped_column(String(100), unique=True)
    # fold_username(username): what makes ``ADMIN`` and ``admin`` one name (CONTRACT §14); login,
    # throttling and uniqueness all go by it. Casefolding can lengthen a name (ß → ss).
    username_key: Mapped[str] = mapped_column(String(300), default=_folded_username, server_default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is kept, the token itself is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is the key here."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    solution_id: Mapped[str] = mapped_column(ForeignKey("solutions.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginFailure(Base):
    """A failed login, kept briefly to throttle guessing per account and per address.

    The attempted username is stored hashed: people type passwords into the username field.
    ``solution_id`` is empty when the username matched no user.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username", "username_hash", "at"),
        Index("ix_login_failures_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    solution_id: Mapped[str | None] = mapped_column(ForeignKey("solutions.id"))
    username_hash: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
