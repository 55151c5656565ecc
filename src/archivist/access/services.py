"""The subject access actions (GDPR Art. 15): one function each, for the API and the *Archive - Access* page.

Each validates, changes, writes its own audit entry (the door says ``via``) and raises the
domain's typed errors; none commits (CONTRACT §19). What an export holds and how it is
streamed live in ``export.py``. Audit entries name masked identifiers and counts only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from archivist.access import export as exports
from archivist.access.criteria import Criteria, CriteriaBox
from archivist.access.export import ExportPlan
from archivist.accounts.models import Solution
from archivist.accounts.services import Principal
from archivist.archive.mentions import MentionKeyring
from archivist.audit.events import AuditAction, record_for
from archivist.exports.models import SubjectExport


def export_details(export: SubjectExport) -> dict[str, object]:
    """What the audit trail keeps of an export: masked identifiers and counts."""
    return {"phone": export.phone_masked, "email": export.email_masked, "counts": dict(export.counts or {})}


def preview_export(
    session: Session,
    solution: Solution,
    phone: str | None,
    email: str | None,
    *,
    keyring: MentionKeyring,
    actor: Principal,
    via: str,
    now: datetime,
) -> tuple[ExportPlan, Criteria]:
    """What an export made now would hold (nothing is stored), and the identifiers read.

    RequestError (an InvalidError naming the field) for identifiers that cannot be a person's.
    Looking a person up is worth an entry, as a search is: which kinds, never the values.
    """
    criteria = exports.parse_criteria(phone, email, solution.country)
    plan = exports.plan_export(session, solution, criteria, cutoff=now, keyring=keyring)
    details = {"phone": criteria.phone_e164 is not None, "email": criteria.email_norm is not None, "via": via}
    record_for(session, actor, AuditAction.SUBJECT_EXPORT_PREVIEWED, None, details, at=now)
    return plan, criteria


def create_export(
    session: Session,
    solution: Solution,
    phone: str | None,
    email: str | None,
    *,
    keyring: MentionKeyring,
    box: CriteriaBox,
    actor: Principal,
    via: str,
    now: datetime,
) -> SubjectExport:
    """Make an export of everything of the person's before ``now`` and audit it.

    RequestError (an InvalidError naming the field) for identifiers that cannot be a person's,
    before anything is written.
    """
    criteria = exports.parse_criteria(phone, email, solution.country)
    # Whatever else expired meanwhile forgets its criteria now, not only at the coming night.
    exports.purge_expired_exports(session, now, solution.id)
    export = exports.create_export(
        session, solution, criteria, created_by=actor.username, now=now, keyring=keyring, box=box
    )
    details = {**export_details(export), "via": via}
    record_for(session, actor, AuditAction.SUBJECT_EXPORT_CREATED, export.id, details, at=now)
    return export


def open_download(
    session: Session,
    solution: Solution,
    export_id: str,
    *,
    box: CriteriaBox,
    actor: Principal,
    via: str,
    now: datetime,
) -> tuple[SubjectExport, Criteria]:
    """Count and audit a download; the export and its criteria, for the door to stream.

    ExportNotFoundError (404), ExportErasedError or ExportExpiredError (410). The door commits
    before the first byte: a download that breaks off half-way was still a disclosure.
    """
    export, criteria = exports.open_for_download(session, solution, export_id, now=now, box=box)
    details = {**export_details(export), "download": export.downloads, "via": via}
    record_for(session, actor, AuditAction.SUBJECT_EXPORT_DOWNLOADED, export.id, details, at=now)
    return export, criteria
