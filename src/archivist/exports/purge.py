"""Purging the subject exports an erasure makes stale (CONTRACT §18).

An export made before an erasure would hand the erased person back at download: their phone,
address and the interactions that were theirs. The erasure calls ``purge_exports_naming`` in its
own transaction, so the export is gone exactly when the erasure commits. This module needs only
the export table, so the erasure engine can call it without depending on how exports are made.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archivist.exports.models import ExportStatus, SubjectExport


def purge_exports_naming(session: Session, solution_id: str, keys: Collection[str]) -> int:
    """Forget every export of the solution whose criteria name one of ``keys``; how many.

    ``keys`` are mention-index keys of erased identifiers. An export without keys (made before
    they were stored) is purged by any erasure: whether it names the person cannot be told
    without opening its sealed criteria. Its row keeps counts and who and when, like an expired one.
    """
    if not keys:
        return 0
    wanted = set(keys)
    live = session.scalars(
        select(SubjectExport).where(
            SubjectExport.solution_id == solution_id,
            or_(SubjectExport.criteria.is_not(None), SubjectExport.keys.is_not(None)),
        )
    ).all()
    purged = 0
    for export in live:
        if export.keys is not None and not wanted.intersection(export.keys):
            continue
        export.status = ExportStatus.ERASED
        export.criteria = None
        export.keys = None
        export.phone_masked = None
        export.email_masked = None
        purged += 1
    if purged:
        session.flush()
    return purged
