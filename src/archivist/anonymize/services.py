"""The officer's actions on *Archive - Anonymize*: one function each, for the API and the page.

Each validates, changes, writes its own audit entry (the door says ``via``) and raises the
domain's typed errors; none commits (CONTRACT §19). The rules they apply live in
``requests.py`` (what a request is) and ``preview.py`` (what it would change).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.services import Principal
from archivist.anonymize import requests
from archivist.anonymize.erasure import Linked
from archivist.anonymize.models import AnonymizationRequest
from archivist.anonymize.preview import Preview, preview_with_linked
from archivist.anonymize.requests import Also, Identifiers
from archivist.archive.mentions import MentionKeyring
from archivist.audit.events import AuditAction, record_for
from archivist.blobs import BlobStore


def add_request(
    session: Session,
    solution: Solution,
    *,
    phone: str | None,
    email: str | None,
    raw_data: bool,
    delete_content: bool,
    also: Also | None,
    actor: Principal,
    via: str,
    now: datetime,
) -> tuple[AnonymizationRequest, bool]:
    """*Add*: the request and whether it is new (False: a waiting one names these identifiers already).

    Audited only when something was added or widened: the entry names masked identifiers only.
    """
    request, created = requests.create_request(
        session,
        solution,
        phone=phone,
        email=email,
        raw_data=raw_data,
        delete_content=delete_content,
        created_by=actor.username,
        now=now,
        also=also,
    )
    if created:
        details = {**requests.audit_details(request, solution.country), "via": via}
        record_for(session, actor, AuditAction.REQUEST_ADDED, request.id, details, at=now)
    return request, created


def cancel_request(
    session: Session, solution: Solution, request_id: str, *, actor: Principal, via: str, now: datetime
) -> None:
    """Cancel a waiting request: RequestNotFoundError if the solution has none by that id,
    RequestDoneError if it has been processed (its anonymization cannot be undone)."""
    details = {**requests.audit_details(requests.get_request(session, solution.id, request_id), solution.country)}
    requests.cancel_request(session, solution.id, request_id)
    record_for(session, actor, AuditAction.REQUEST_CANCELLED, request_id, {**details, "via": via}, at=now)


def preview_request(
    session: Session,
    solution: Solution,
    *,
    phone: str | None,
    email: str | None,
    raw_data: bool,
    delete_content: bool,
    also: Also | None,
    keyring: MentionKeyring,
    blobs: BlobStore | None,
    actor: Principal,
    via: str,
    now: datetime,
) -> tuple[Preview, list[Linked], Identifiers]:
    """What the request would change if the night came now (nothing is stored), its linked
    identifiers unmasked (for the page's ticks, never for a response), and the identifiers read.

    A preview looks the person up in the archive, like a search: the audit entry says which
    kinds of identifier were given, never their values.
    """
    ids = requests.parse_identifiers(phone, email, solution.country)
    counts, linked = preview_with_linked(
        session,
        solution,
        phone=phone,
        email=email,
        raw_data=raw_data,
        delete_content=delete_content,
        now=now,
        keyring=keyring,
        also=also,
        blobs=blobs,
    )
    details = {
        "phone": ids.phone_e164 is not None,
        "email": ids.email_norm is not None,
        "raw_data": raw_data,
        "via": via,
    }
    record_for(session, actor, AuditAction.REQUEST_PREVIEWED, None, details, at=now)
    return counts, linked, ids
