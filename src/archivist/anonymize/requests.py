"""Anonymization requests (the rows of *Archive - Anonymize*): enter, find, list and cancel.

A request is a small state machine: *waiting* from entry until the coming night, then
*done* with its counts and only masked identifiers (the nightly run in ``nightly.py`` makes
that transition). Helpers take a session and never commit; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from archivist import pagination
from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, LedgerKey, RequestStatus
from archivist.audit.events import AuditAction, record
from archivist.db import chunks, new_id, rowcount, serialize
from archivist.errors import ConflictError, InvalidError, NotFoundError
from archivist.identifiers import InvalidField, Typed, parse_typed, render_phone
from archivist.times import local_day_start, months_after

if TYPE_CHECKING:
    from archivist.archive.mentions import MentionKeyring

# GDPR Art. 12(3): a request must be answered "without undue delay and in any event within one
# month". A request still waiting after that is flagged on the page.
GDPR_RESPONSE_MONTHS = 1
# The seed: "Each night we delete records older than 12 months from this page."
RETENTION_MONTHS = 12

MAX_PAGE = 500
DEFAULT_PAGE = 50


class RequestError(InvalidError):
    """Input that cannot make a request. ``field`` names the form field; the message is safe to show."""

    field: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)


class RequestNotFoundError(NotFoundError):
    """No such request in this solution (another solution's request is just as absent)."""

    def __init__(self) -> None:
        super().__init__("Anonymization request not found")


class RequestDoneError(ConflictError):
    """A done request cannot be cancelled: its effects cannot be undone."""

    def __init__(self) -> None:
        super().__init__("The request has been processed (done, or held by a legal hold): it cannot be cancelled")


@dataclass(frozen=True)
class Identifiers:
    """A request's identifiers, parsed and normalised (E.164, lower-case email), and masked as the
    row keeps them once the night has forgotten the full ones."""

    phone_e164: str | None
    email_norm: str | None
    phone_masked: str | None = None
    email_masked: str | None = None


# At most this many further identifiers in ``also`` of each kind.
MAX_ALSO = 20


class NameValue(NamedTuple):
    """A variable that identifies the person (a customer number): its name and value."""

    name: str
    value: str


class Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str: ...


class AlsoTyped(Protocol):
    """``also`` as a door hands it over, read or not: the API's body, the page's ticks."""

    @property
    def phones(self) -> Sequence[str]: ...
    @property
    def emails(self) -> Sequence[str]: ...
    @property
    def variables(self) -> Sequence[Named]: ...


@dataclass(frozen=True)
class Also:
    """Further identifiers of the same person (``also``), parsed and normalised."""

    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    variables: tuple[NameValue, ...] = ()

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
            tuple(NameValue(v["name"], v["value"]) for v in data.get("variables", ())),
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


def end_of_local_day(moment: datetime, timezone: str) -> datetime:
    """The first instant of the next local calendar day, in UTC: a request's cutoff."""
    return local_day_start(moment, timezone, days=1)


def parse_identifiers(phone: str | None, email: str | None, country: str) -> Identifiers:
    """Validate what the user typed; blank fields count as absent. Raises RequestError."""
    return read_request(phone, email, None, country)[0]


def read_request(
    phone: str | None, email: str | None, also: AlsoTyped | Also | None, country: str
) -> tuple[Identifiers, Also]:
    """A request's identifiers and its ``also`` as typed, read in one pass (blank fields and entries
    count as absent; an ``Also`` is read already). Raises RequestError naming the field, never its value."""
    phone = (phone or "").strip() or None
    email = (email or "").strip() or None
    if phone is None and email is None:
        raise RequestError("phone", "Enter a phone number or an email address (or both)")
    own = [Typed("phone", "phone", phone)] if phone is not None else []
    own += [Typed("email", "email", email)] if email is not None else []
    further: list[Typed] = []
    variables: tuple[NameValue, ...] = ()
    if also is not None and not isinstance(also, Also):
        further = [Typed(f"also.phones[{i}]", "phone", p) for i, p in enumerate(also.phones) if p.strip()]
        further += [Typed(f"also.emails[{i}]", "email", e) for i, e in enumerate(also.emails) if e.strip()]
        variables = _also_variables(also.variables)
        for kind, count in (
            ("phones", sum(t.kind == "phone" for t in further)),
            ("emails", sum(t.kind == "email" for t in further)),
            ("variables", len(variables)),
        ):
            if count > MAX_ALSO:
                raise RequestError(f"also.{kind}", f"At most {MAX_ALSO} further entries of each kind")
    try:
        parsed = parse_typed(own + further, country)
    except InvalidField as exc:
        raise RequestError(exc.field, str(exc)) from None
    read = {item.field: value for item, value in zip(own, parsed, strict=False)}
    ids = Identifiers(
        read["phone"].value if "phone" in read else None,
        read["email"].value if "email" in read else None,
        read["phone"].masked if "phone" in read else None,
        read["email"].masked if "email" in read else None,
    )
    if also is None or isinstance(also, Also):
        return ids, also or Also()
    rest = list(zip(further, parsed[len(own) :], strict=True))
    return ids, Also(
        tuple(dict.fromkeys(value.value for item, value in rest if item.kind == "phone")),
        tuple(dict.fromkeys(value.value for item, value in rest if item.kind == "email")),
        tuple(dict.fromkeys(variables)),
    )


def _also_variables(entries: Sequence[Named]) -> tuple[NameValue, ...]:
    """``also.variables`` with blank ones dropped; a name that a JSON path would read differently is refused."""
    variables = tuple(NameValue(v.name.strip(), v.value.strip()) for v in entries if v.name.strip() and v.value.strip())
    for i, (name, _) in enumerate(variables):
        # A JSON path is built from the name; quotes and backslashes would read differently on
        # SQLite and PostgreSQL.
        if '"' in name or "\\" in name:
            raise RequestError(f"also.variables[{i}]", "A variable name cannot contain quotes or backslashes")
    return variables


def audit_details(request: AnonymizationRequest, country: str) -> dict[str, object]:
    """What the audit trail keeps of a request: masked identifiers and its options."""
    return {
        # Masked when the request was entered (read_request), from the full identifiers.
        "phone": request.phone_masked,
        "email": request.email_masked,
        "raw_data": request.raw_data,
        "delete_content": request.delete_content,
        # How many further identifiers, never which.
        "also": Also.from_json(request.also).counts(),
    }


def _covers(request: AnonymizationRequest, ids: Identifiers) -> bool:
    """True if ``request`` already names every identifier in ``ids`` (as its own or in ``also``)."""
    also = Also.from_json(request.also)
    phone_ok = ids.phone_e164 is None or ids.phone_e164 in (request.phone_e164, *also.phones)
    email_ok = ids.email_norm is None or ids.email_norm in (request.email_norm, *also.emails)
    return phone_ok and email_ok


def covering_request(session: Session, solution_id: str, ids: Identifiers) -> AnonymizationRequest | None:
    """The waiting request that already names every identifier in ``ids``, if there is one.

    The same identifiers are the plain case; a phone-only entry for a person whose waiting
    request has the phone and the email is covered too, and a second row for it would end
    *Done* with nothing left to anonymize. A request with exactly these identifiers comes
    first, then the oldest.
    """
    matches = or_(
        *([AnonymizationRequest.phone_e164 == ids.phone_e164] if ids.phone_e164 else []),
        *([AnonymizationRequest.email_norm == ids.email_norm] if ids.email_norm else []),
    )
    candidates = session.scalars(
        select(AnonymizationRequest)
        .where(
            AnonymizationRequest.solution_id == solution_id,
            AnonymizationRequest.status == RequestStatus.WAITING,
            matches,
        )
        .order_by(AnonymizationRequest.created_at, AnonymizationRequest.id)
    ).all()
    return _pick_covering(candidates, ids)


def _pick_covering(candidates: Sequence[AnonymizationRequest], ids: Identifiers) -> AnonymizationRequest | None:
    """Of the waiting requests sharing a phone or address with ``ids`` (oldest first), the one that covers it."""
    # Identifiers that only sit in another request's ``also`` are not looked for: ``also`` is
    # JSON, and a person is entered by their own identifiers first.
    exact = [r for r in candidates if (r.phone_e164, r.email_norm) == (ids.phone_e164, ids.email_norm)]
    covering = exact or [r for r in candidates if _covers(r, ids)]
    return covering[0] if covering else None


class _WaitingIndex:
    """The waiting requests that share a phone or address with any of many people, read set-wise
    (a bulk upload), answering ``covering_request``'s question for each without a query each."""

    def __init__(self, session: Session, solution_id: str, people: Sequence[Identifiers]) -> None:
        self.by_phone: dict[str, list[AnonymizationRequest]] = {}
        self.by_email: dict[str, list[AnonymizationRequest]] = {}
        waiting = (
            AnonymizationRequest.solution_id == solution_id,
            AnonymizationRequest.status == RequestStatus.WAITING,
        )
        phones = sorted({p.phone_e164 for p in people if p.phone_e164})
        emails = sorted({p.email_norm for p in people if p.email_norm})
        found: dict[str, AnonymizationRequest] = {}
        for column, values in ((AnonymizationRequest.phone_e164, phones), (AnonymizationRequest.email_norm, emails)):
            for chunk in chunks(values):
                found.update(
                    (r.id, r) for r in session.scalars(select(AnonymizationRequest).where(*waiting, column.in_(chunk)))
                )
        for request in sorted(found.values(), key=lambda r: (r.created_at, r.id)):
            self.add(request)

    def add(self, request: AnonymizationRequest) -> None:
        if request.phone_e164:
            self.by_phone.setdefault(request.phone_e164, []).append(request)
        if request.email_norm:
            self.by_email.setdefault(request.email_norm, []).append(request)

    def covering(self, ids: Identifiers) -> AnonymizationRequest | None:
        shared = {
            r.id: r
            for r in (*self.by_phone.get(ids.phone_e164 or "", ()), *self.by_email.get(ids.email_norm or "", ()))
        }
        return _pick_covering(sorted(shared.values(), key=lambda r: (r.created_at, r.id)), ids)


def covering_requests(
    session: Session, solution_id: str, people: Sequence[Identifiers]
) -> list[AnonymizationRequest | None]:
    """``covering_request`` for each of many people, in a few queries (a bulk upload's preview)."""
    index = _WaitingIndex(session, solution_id, people)
    return [index.covering(ids) for ids in people]


def _widen(
    session: Session,
    request: AnonymizationRequest,
    *,
    raw_data: bool,
    delete_content: bool,
    also: Also,
    actor: str,
    country: str,
    now: datetime,
) -> None:
    """Give a waiting request what a new entry for the same person asks for beyond it, audited.

    Both entries are the privacy officer's instruction, so the wider one must not be lost; and
    the audit trail must say the row changed, or it would still read ``raw_data: false``.
    """
    before_also = Also.from_json(request.also)
    merged = before_also.merged(also)
    widened = [
        name
        for name, grew in (
            ("raw_data", raw_data and not request.raw_data),
            ("delete_content", delete_content and not request.delete_content),
            ("also", merged != before_also),
        )
        if grew
    ]
    if not widened:
        return
    request.raw_data = request.raw_data or raw_data
    request.delete_content = request.delete_content or delete_content
    request.also = merged.as_json()
    session.flush()
    details = {**audit_details(request, country), "widened": widened}
    record(session, request.solution_id, actor, AuditAction.REQUEST_WIDENED, request.id, details, at=now)


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
    also: AlsoTyped | Also | None = None,
) -> tuple[AnonymizationRequest, bool]:
    """Enter a request, or return the waiting one for the same identifiers.

    Returns ``(request, created)``. Entering the same person again while waiting (the same
    identifiers, or fewer of the ones a waiting request names: see ``covering_request``) does
    not add a second row; if the new entry asks for more (raw data, deleting recordings and
    content, further identifiers in ``also``) the waiting request is widened to include it and
    the widening is audited (``REQUEST_WIDENED``, as ``created_by``). Adding a new row is
    audited by the caller, which knows how it was entered.
    """
    ids, read_also = read_request(phone, email, also, solution.country)
    # Two officers entering the same person at once must not both find nothing and both add.
    serialize(session, f"requests:{solution.id}")
    existing = covering_request(session, solution.id, ids)
    if existing is not None:
        _widen(
            session,
            existing,
            raw_data=raw_data,
            delete_content=delete_content,
            also=read_also,
            actor=created_by,
            country=solution.country,
            now=now,
        )
        return existing, False
    request = _new_request(solution, ids, raw_data, delete_content, read_also, created_by, now)
    session.add(request)
    session.flush()
    return request, True


def _new_request(
    solution: Solution,
    ids: Identifiers,
    raw_data: bool,
    delete_content: bool,
    also: Also,
    created_by: str,
    now: datetime,
) -> AnonymizationRequest:
    return AnonymizationRequest(
        id=new_id(),
        solution_id=solution.id,
        status=RequestStatus.WAITING,
        phone_e164=ids.phone_e164,
        email_norm=ids.email_norm,
        # Masked forms are made now, while the full identifier is known; the night only has
        # to forget the full one.
        phone_masked=ids.phone_masked,
        email_masked=ids.email_masked,
        raw_data=raw_data,
        delete_content=delete_content,
        also=also.as_json(),
        created_at=now,
        created_by=created_by,
        cutoff=end_of_local_day(now, solution.timezone),
    )


@dataclass(frozen=True)
class Entry:
    """One person of a bulk upload, parsed: ``create_request``'s arguments."""

    ids: Identifiers
    raw_data: bool = False
    delete_content: bool = False


def create_requests(
    session: Session, solution: Solution, entries: Sequence[Entry], *, created_by: str, now: datetime
) -> list[tuple[AnonymizationRequest, bool]]:
    """``create_request`` for each entry, in order, as if entered one after another, in a few queries.

    The waiting requests are read set-wise and the new ones kept beside them, so an entry that a
    row added earlier in the same batch covers is *existing* too, exactly as entered by hand.
    """
    serialize(session, f"requests:{solution.id}")
    index = _WaitingIndex(session, solution.id, [entry.ids for entry in entries])
    results: list[tuple[AnonymizationRequest, bool]] = []
    for entry in entries:
        existing = index.covering(entry.ids)
        if existing is not None:
            _widen(
                session,
                existing,
                raw_data=entry.raw_data,
                delete_content=entry.delete_content,
                also=Also(),
                actor=created_by,
                country=solution.country,
                now=now,
            )
            results.append((existing, False))
            continue
        request = _new_request(solution, entry.ids, entry.raw_data, entry.delete_content, Also(), created_by, now)
        session.add(request)
        index.add(request)
        results.append((request, True))
    session.flush()
    return results


def get_request(session: Session, solution_id: str, request_id: str) -> AnonymizationRequest:
    request = session.scalars(
        select(AnonymizationRequest).where(
            AnonymizationRequest.id == request_id, AnonymizationRequest.solution_id == solution_id
        )
    ).first()
    if request is None:
        raise RequestNotFoundError
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
        raise RequestDoneError


def encode_cursor(request: AnonymizationRequest) -> str:
    return pagination.encode_cursor(request.created_at, request.id)


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor points after; ``CursorError`` (a ValueError) if we did not make it."""
    return pagination.decode_cursor(cursor, str)


def requests_of(session: Session, solution_id: str, ids: Identifiers, keys: Sequence[str]) -> set[str]:
    """The ids of the requests that name the person (CONTRACT §19): "did you forget me?".

    Waiting and held requests still hold their identifiers (their own and ``also``'s); a done
    one only the keyed hashes of what it erased (``LedgerKey``, the ledger's copy), ``keys`` being the person's.
    """
    wanted = {value for value in (ids.phone_e164, ids.email_norm) if value}
    found = set(
        session.scalars(
            select(LedgerKey.request_id).where(LedgerKey.solution_id == solution_id, LedgerKey.key.in_(keys))
        )
    )
    pending = session.execute(
        select(
            AnonymizationRequest.id,
            AnonymizationRequest.phone_e164,
            AnonymizationRequest.email_norm,
            AnonymizationRequest.also,
        ).where(AnonymizationRequest.solution_id == solution_id, AnonymizationRequest.status.in_(_PENDING))
    )
    for request_id, phone, email, also in pending:
        named = {phone, email, *Also.from_json(also).phones, *Also.from_json(also).emails}
        if wanted & named:
            found.add(request_id)
    return found


def person_keys(keyring: MentionKeyring, solution_id: str, ids: Identifiers) -> list[str]:
    """The keyed hashes ``requests_of`` finds a person's done requests by (the API and the page share them)."""
    return [keyring.key(solution_id, value) for value in (ids.phone_e164, ids.email_norm) if value]


# A request that still holds its identifiers (a done one keeps masked forms only).
_PENDING = (RequestStatus.WAITING, RequestStatus.HELD)


def list_requests(
    session: Session,
    solution_id: str,
    *,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    status: RequestStatus | None = None,
    among: Collection[str] | None = None,
) -> tuple[list[AnonymizationRequest], str | None]:
    """One page of requests, newest first, and the cursor of the next page (None at the end).

    Keyset pagination on (created_at, id), which the index serves directly; an offset
    would get slower and skip rows as requests are added and purged. ``among``: only these
    requests (a person's, ``requests_of``).
    """
    query = select(AnonymizationRequest).where(AnonymizationRequest.solution_id == solution_id)
    if status is not None:
        query = query.where(AnonymizationRequest.status == status)
    if among is not None:
        query = query.where(AnonymizationRequest.id.in_(sorted(among)))
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
    """True for a request still waiting after the GDPR month (a held one waits lawfully: Art. 17(3))."""
    return request.status is RequestStatus.WAITING and now > months_after(request.created_at, GDPR_RESPONSE_MONTHS)


def shown_phone(request: AnonymizationRequest, country: str) -> str | None:
    """The phone number as the page shows it: full while waiting, masked once done."""
    if request.phone_e164 is not None:
        return render_phone(request.phone_e164, country)
    return request.phone_masked


def shown_email(request: AnonymizationRequest) -> str | None:
    return request.email_norm if request.email_norm is not None else request.email_masked


@dataclass(frozen=True)
class Anonymized:
    """How many of a person's interactions their processed requests anonymized, and when last."""

    interactions: int
    last_at: datetime | None


def anonymized_for(session: Session, solution_id: str, keys: Sequence[str]) -> Anonymized:
    """What the requests that erased any of ``keys`` anonymized (CONTRACT §18), from their results.

    Read from the requests (by their keys), never from the interactions' erased identifiers:
    those serve erasure alone. Requests are kept 12 months, so this covers that long.
    """
    if not keys:
        return Anonymized(0, None)
    requests = session.execute(
        select(AnonymizationRequest.result, AnonymizationRequest.processed_at)
        .where(
            AnonymizationRequest.id.in_(
                select(LedgerKey.request_id).where(LedgerKey.solution_id == solution_id, LedgerKey.key.in_(keys))
            ),
            AnonymizationRequest.processed_at.is_not(None),
        )
        .order_by(AnonymizationRequest.processed_at)
    ).all()
    total = sum(int((result or {}).get("interactions", 0)) for result, _ in requests)
    return Anonymized(total, requests[-1].processed_at if requests else None)
