"""The erasing actions: one function each, for the API and the pages.

The officer's requests on *Archive - Anonymize*, and what *Archive - Search* erases at once:
*Anonymize and delete* of chosen interactions, and deleting one interaction's content or
recording. Each validates, changes, writes its own audit entry (the door says ``via``) and
raises the domain's typed errors; none commits (CONTRACT §19). The rules they apply live in
``requests.py`` (what a request is), ``preview.py`` (what it would change) and ``erasure.py``
(what an erasure changes). Deleting one interaction's content lives here, above the archive,
because a legal hold (``retention``, which stands on the archive) can refuse it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.services import Principal
from archivist.anonymize import erasure, requests
from archivist.anonymize.erasure import ErasureResult, Linked, UnknownInteractionError
from archivist.anonymize.models import AnonymizationRequest
from archivist.anonymize.preview import Preview, preview_with_linked
from archivist.anonymize.requests import Also, AlsoTyped, Identifiers
from archivist.archive import content, recordings
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Interaction
from archivist.audit.events import AuditAction, record_for
from archivist.blobs import BlobStore
from archivist.errors import NotFoundError
from archivist.retention.holds import refuse_held


class NoContentError(NotFoundError):
    """The interaction has no content to delete: it never had, or it was deleted already."""

    def __init__(self) -> None:
        super().__init__("This interaction has no content (or it was deleted)")


class NoRecordingError(NotFoundError):
    """The interaction has no recording to delete: it never had, or it was deleted already."""

    def __init__(self) -> None:
        super().__init__("This interaction has no recording (or it was deleted)")


def add_request(
    session: Session,
    solution: Solution,
    *,
    phone: str | None,
    email: str | None,
    raw_data: bool,
    delete_content: bool,
    also: AlsoTyped | Also | None,
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
    also: AlsoTyped | Also | None,
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
    ids, read_also = requests.read_request(phone, email, also, solution.country)
    counts, linked = preview_with_linked(
        session,
        solution,
        phone=phone,
        email=email,
        raw_data=raw_data,
        delete_content=delete_content,
        now=now,
        keyring=keyring,
        also=read_also,
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


def anonymize_and_delete(
    session: Session,
    solution: Solution,
    interaction_ids: Sequence[str],
    *,
    raw_data: bool,
    keyring: MentionKeyring,
    actor: Principal,
    via: str,
    now: datetime,
) -> ErasureResult:
    """*Anonymize and delete* the chosen interactions, all or nothing, and audit ids and counts.

    UnknownInteractionError if any id is not the solution's, HeldError (naming the held ids) if
    any is under a legal hold: both before anything is written. The blobs it frees are left as
    pending deletions for the door to drain after its commit.
    """
    ids = list(interaction_ids)
    result = erasure.anonymize_and_delete(session, solution, ids, raw_data=raw_data, now=now, keyring=keyring)
    details = {**erasure.audit_details(ids, raw_data, result), "via": via}
    record_for(session, actor, AuditAction.ANONYMIZED_AND_DELETED, None, details, at=now)
    return result


def _interaction(session: Session, solution: Solution, interaction_id: str) -> Interaction:
    interaction = content.get_interaction(session, solution.id, interaction_id)
    if interaction is None:
        raise UnknownInteractionError()
    return interaction


def delete_content(
    session: Session, solution: Solution, interaction_id: str, *, actor: Principal, via: str, now: datetime
) -> Interaction:
    """Delete one interaction's chat log, email body (with attachments) or transcript; the interaction.

    UnknownInteractionError, HeldError, or NoContentError when there is nothing (left) to delete.
    """
    interaction = _interaction(session, solution, interaction_id)
    refuse_held(session, solution.id, [interaction.id])
    if content.delete_content(session, [interaction.id], now=now) == 0:
        raise NoContentError()
    record_for(session, actor, AuditAction.CONTENT_DELETED, interaction.id, {"via": via}, at=now)
    return interaction


def delete_recording(
    session: Session, solution: Solution, interaction_id: str, *, actor: Principal, via: str, now: datetime
) -> Interaction:
    """Delete one interaction's recording (its blob is left pending, for the door to drain after
    its commit); the interaction.

    UnknownInteractionError, HeldError, or NoRecordingError when there is nothing (left) to delete.
    """
    interaction = _interaction(session, solution, interaction_id)
    refuse_held(session, solution.id, [interaction.id])
    if recordings.delete_recordings(session, [interaction.id], now) == 0:
        raise NoRecordingError()
    record_for(session, actor, AuditAction.RECORDING_DELETED, interaction.id, {"via": via}, at=now)
    return interaction
