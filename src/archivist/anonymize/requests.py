"""Anonymization requests (the rows of *Archive - Anonymize*): enter, find, list and cancel.

A request is a small state machine: *waiting* from entry until the coming night, then
*done* with its counts and only masked identifiers (the nightly run in ``nightly.py`` makes
that transition). Helpers take a session and never commit; the caller owns the transaction.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.anonymize.operators import rowcount
from archivist.db import serialize
from archivist.identifiers import InvalidIdentifier, mask_email, mask_phone_e164, parse_email, parse_phone, render_phone

# GDPR Art. 12(3): a request must be answered "without undue delay and in any event within one
# month". A request still waiting after that is flagged on the page.
GDPR_RESPONSE_MONTHS = 1
# The seed: "Each night we delete records older than 12 months from this page."
RETENTION_MONTHS = 12

MAX_PAGE = 500
DEFAULT_PAGE = 50


class RequestError(ValueError):
    """Input that cannot make a request. ``field`` names the form field; the message is safe to show."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RequestNotFoundError(LookupError):
    """No such request in this solution (another solution's request is just as absent)."""


class RequestDoneError(Exception):
    """A done request cannot be cancelled: its effects cannot be undone."""


@dataclass(frozen=True)
class Identifiers:
    """A request's identifiers, parsed and normalised (E.164, lower-case email)."""

    phone_e164: str | None
    email_norm: str | None


# At most this many further identifiers in ``also`` of each kind.
MAX_ALSO = 20


@dataclass(frozen=True)
class Also:
    """Further identifiers of the same person (``also``), parsed and normalised."""

    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any] | None:
        if not (self.phones or self.emails or self.variables):
            return None
        return {
            "phones": list(self.phones),
            "emails": list(self.emails),
            "variables": [{"name": n, "value": v} for n, v in self.variables],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Also:
        if not data:
            return cls()
        return cls(
            tuple(data.get("phones", ())),
            tuple(data.get("emails", ())),
            tuple((v["name"], v["value"]) for v in data.get("variables", ())),
        )

    def merged(self, other: Also) -> Also:
        return Also(
            tuple(dict.fromkeys(self.phones + other.phones)),
            tuple(dict.fromkeys(self.emails + other.emails)),
            tuple(dict.fromkeys(self.variables + other.variables)),
        )

    def counts(self) -> dict[str, int]:
        """What the audit trail keeps of them: how many, never which."""
        return {"phones": len(self.phones), "emails": len(self.emails), "variables": len(self.variables)}


def parse_also(
    phones: Sequence[str] = (), emails: Sequence[str] = (), variables: Sequence[tuple[str, str]] = (), *, country: str
) -> Also:
    """Validate ``also``; blank entries are dropped. Raises RequestError naming the entry (never its value)."""
    parsed_phones: list[str] = []
    for i, phone in enumerate(phones):
        if phone.strip():
            try:
                parsed_phones.append(parse_phone(phone, country))
            except InvalidIdentifier as exc:
                raise RequestError(f"also.phones[{i}]", str(exc)) from None
    parsed_emails: list[str] = []
    for i, email in enumerate(emails):
        if email.strip():
            try:
                parsed_emails.append(parse_email(email))
            except InvalidIdentifier as exc:
                raise RequestError(f"also.emails[{i}]", str(exc)) from None
    parsed_variables = [(name.strip(), value.strip()) for name, value in variables if name.strip() and value.strip()]
    for i, (name, _) in enumerate(parsed_variables):
        # A JSON path is built from the name; quotes and backslashes would read differently on
        # SQLite and PostgreSQL.
        if '"' in name or "\\" in name:
            raise RequestError(f"also.variables[{i}]", "A variable name cannot contain quotes or backslashes")
    for kind, items in (("phones", parsed_phones), ("emails", parsed_emails), ("variables", parsed_variables)):
        if len(items) > MAX_ALSO:
            raise RequestError(f"also.{kind}", f"At most {MAX_ALSO} further entries of each kind")
    return Also(
        tuple(dict.fromkeys(parsed_phones)), tuple(dict.fromkeys(parsed_emails)), tuple(dict.fromkeys(parsed_variables))
    )


def months_before(moment: datetime, months: int) -> datetime:
    """The same UTC wall-clock time ``months`` calendar months earlier (day clamped to the month).

    Counted in UTC so that the answer does not depend on which zone ``moment`` happens to carry.
    """
    moment = moment.astimezone(UTC)
    month_index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, _days_in_month(year, month + 1))
    return moment.replace(year=year, month=month + 1, day=day)


def months_after(moment: datetime, months: int) -> datetime:
    return months_before(moment, -months)


def _days_in_month(year: int, month: int) -> int:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - timedelta(days=1)).day


def end_of_local_day(moment: datetime, timezone: str) -> datetime:
    """The first instant of the next local calendar day, in UTC.

    Built from the local date rather than by adding 24 hours, so that days of 23 and 25
    hours (daylight-saving changes) end at local midnight. A midnight that does not exist
    (a zone that springs forward at 00:00) resolves, with ``fold=0``, to the transition
    instant, which is still the first instant of the next day.
    """
    tz = ZoneInfo(timezone)
    local_date = moment.astimezone(tz).date()
    next_midnight = datetime.combine(local_date + timedelta(days=1), time(0), tzinfo=tz)
    return next_midnight.astimezone(UTC)


def parse_identifiers(phone: str | None, email: str | None, country: str) -> Identifiers:
    """Validate what the user typed; blank fields count as absent. Raises RequestError."""
    phone = (phone or "").strip() or None
    email = (email or "").strip() or None
    if phone is None and email is None:
        raise RequestError("phone", "Enter a phone number or an email address (or both)")
    try:
        phone_e164 = parse_phone(phone, country) if phone is not None else None
    except InvalidIdentifier as exc:
        raise RequestError("phone", str(exc)) from None
    try:
        email_norm = parse_email(email) if email is not None else None
    except InvalidIdentifier as exc:
        raise RequestError("email", str(exc)) from None
    return Identifiers(phone_e164, email_norm)


def _same_identifiers(ids: Identifiers) -> ColumnElement[bool]:
    def equal(column: InstrumentedAttribute[str | None], value: str | None) -> ColumnElement[bool]:
        return column.is_(None) if value is None else column == value

    return and_(
        equal(AnonymizationRequest.phone_e164, ids.phone_e164),
        equal(AnonymizationRequest.email_norm, ids.email_norm),
    )


def _waiting_request(session: Session, solution_id: str, ids: Identifiers) -> AnonymizationRequest | None:
    return session.scalars(
        select(AnonymizationRequest)
        .where(
            AnonymizationRequest.solution_id == solution_id,
            AnonymizationRequest.status == RequestStatus.WAITING,
            _same_identifiers(ids),
        )
        .order_by(AnonymizationRequest.created_at, AnonymizationRequest.id)
        .limit(1)
    ).first()


def create_request(
    session: Session,
    solution: Solution,
    *,
    phone: str | None,
    email: str | None,
    raw_data: bool,
    delete_content: bool,
    created_by: str,
    now: datetime,
    also: Also | None = None,
) -> tuple[AnonymizationRequest, bool]:
    """Enter a request, or return the waiting one for the same identifiers.

    Returns ``(request, created)``. Entering the same person again while waiting does not
    add a second row; if the new entry asks for more (raw data, deleting recordings and
    content, further identifiers in ``also``) the waiting request is widened to include it,
    because both entries are the privacy officer's instruction and the wider one must not be lost.
    """
    ids = parse_identifiers(phone, email, solution.country)
    also = also or Also()
    # Two officers entering the same person at once must not both find nothing and both add.
    serialize(session, f"requests:{solution.id}")
    existing = _waiting_request(session, solution.id, ids)
    if existing is not None:
        existing.raw_data = existing.raw_data or raw_data
        existing.delete_content = existing.delete_content or delete_content
        existing.also = Also.from_json(existing.also).merged(also).as_json()
        session.flush()
        return existing, False
    request = AnonymizationRequest(
        solution_id=solution.id,
        status=RequestStatus.WAITING,
        phone_e164=ids.phone_e164,
        email_norm=ids.email_norm,
        # Masked forms are made now, while the full identifier is known; the night only has
        # to forget the full one.
        phone_masked=mask_phone_e164(ids.phone_e164, solution.country) if ids.phone_e164 else None,
        email_masked=mask_email(ids.email_norm) if ids.email_norm else None,
        raw_data=raw_data,
        delete_content=delete_content,
        also=also.as_json(),
        created_at=now,
        created_by=created_by,
        cutoff=end_of_local_day(now, solution.timezone),
    )
    session.add(request)
    session.flush()
    return request, True


def get_request(session: Session, solution_id: str, request_id: str) -> AnonymizationRequest:
    request = session.scalars(
        select(AnonymizationRequest).where(
            AnonymizationRequest.id == request_id, AnonymizationRequest.solution_id == solution_id
        )
    ).first()
    if request is None:
        raise RequestNotFoundError(request_id)
    return request


def cancel_request(session: Session, solution_id: str, request_id: str) -> None:
    """Delete a waiting request (and with it the identifiers it held).

    A conditional DELETE rather than read-then-delete: if the nightly run is processing
    the request right now, PostgreSQL makes this wait for the run's row lock and then sees
    it done; SQLite serialises the two writers. Either way a request is never both
    cancelled and anonymized.
    """
    result = session.execute(
        delete(AnonymizationRequest)
        .where(
            AnonymizationRequest.id == request_id,
            AnonymizationRequest.solution_id == solution_id,
            AnonymizationRequest.status == RequestStatus.WAITING,
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) == 0:
        get_request(session, solution_id, request_id)  # raises RequestNotFoundError if absent
        raise RequestDoneError(request_id)


def encode_cursor(request: AnonymizationRequest) -> str:
    raw = f"{request.created_at.astimezone(UTC).isoformat()}|{request.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor points after; ValueError if it was not made by us."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, request_id = raw.partition("|")
        created_at = datetime.fromisoformat(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("invalid cursor") from None
    if not request_id or created_at.tzinfo is None:
        raise ValueError("invalid cursor")
    return created_at, request_id


def list_requests(
    session: Session,
    solution_id: str,
    *,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    status: RequestStatus | None = None,
) -> tuple[list[AnonymizationRequest], str | None]:
    """One page of requests, newest first, and the cursor of the next page (None at the end).

    Keyset pagination on (created_at, id), which the index serves directly; an offset
    would get slower and skip rows as requests are added and purged.
    """
    query = select(AnonymizationRequest).where(AnonymizationRequest.solution_id == solution_id)
    if status is not None:
        query = query.where(AnonymizationRequest.status == status)
    if cursor:
        created_at, request_id = decode_cursor(cursor)
        query = query.where(
            or_(
                AnonymizationRequest.created_at < created_at,
                and_(AnonymizationRequest.created_at == created_at, AnonymizationRequest.id < request_id),
            )
        )
    rows = list(
        session.scalars(
            query.order_by(AnonymizationRequest.created_at.desc(), AnonymizationRequest.id.desc()).limit(limit + 1)
        )
    )
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def is_overdue(request: AnonymizationRequest, now: datetime) -> bool:
    """True for a request still waiting after the GDPR month."""
    return request.status is RequestStatus.WAITING and now > months_after(request.created_at, GDPR_RESPONSE_MONTHS)


def shown_phone(request: AnonymizationRequest, country: str) -> str | None:
    """The phone number as the page shows it: full while waiting, masked once done."""
    if request.phone_e164 is not None:
        return render_phone(request.phone_e164, country)
    return request.phone_masked


def shown_email(request: AnonymizationRequest) -> str | None:
    return request.email_norm if request.email_norm is not None else request.email_masked
