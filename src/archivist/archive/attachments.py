"""Email attachments (CONTRACT §15): rows in the database, bytes in the blob store, never out of step.

Like recordings, every change that stops pointing at an attachment's blob queues a
``PendingBlobDeletion`` in the same transaction, and the blob goes after commit (in every
version, as the store deletes). Helpers take a session and never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from archivist.archive.models import EmailAttachment, PendingBlobDeletion
from archivist.db import chunks, new_id


def new_blob_key(solution_id: str, index: int) -> str:
    """Where one attachment's bytes go: random, so a key says nothing about whose mail it is.

    In a folder per 4.7 hours (the first six hex digits of a time-ordered id, as a recording's
    key): a folder per message cost a directory's creation per attachment and stayed, empty,
    after the attachment went.
    """
    key_id = new_id()
    return f"attachments/{solution_id}/{key_id[:6]}/{key_id}-{index}.bin"


def list_attachments(session: Session, interaction_id: str) -> list[EmailAttachment]:
    return list(
        session.scalars(
            select(EmailAttachment)
            .where(EmailAttachment.interaction_id == interaction_id)
            .order_by(EmailAttachment.seq)
        )
    )


def get_attachment(session: Session, interaction_id: str, index: int) -> EmailAttachment | None:
    return session.get(EmailAttachment, (interaction_id, index))


def count_attachments(session: Session, interaction_ids: Sequence[str]) -> int:
    """How many attachments ``delete_attachments`` would delete for these interactions."""
    return sum(
        int(
            session.scalar(
                select(func.count()).select_from(EmailAttachment).where(EmailAttachment.interaction_id.in_(chunk))
            )
            or 0
        )
        for chunk in chunks(interaction_ids)
    )


def delete_attachments(session: Session, interaction_ids: Sequence[str], now: datetime) -> int:
    """Delete every attachment of ``interaction_ids`` and queue their blobs; returns how many."""
    deleted = 0
    for chunk in chunks(interaction_ids):
        rows = session.execute(
            select(EmailAttachment.solution_id, EmailAttachment.blob_key).where(
                EmailAttachment.interaction_id.in_(chunk)
            )
        ).all()
        if not rows:
            continue
        _queue(session, [(solution_id, blob_key) for solution_id, blob_key in rows], now)
        session.execute(
            delete(EmailAttachment)
            .where(EmailAttachment.interaction_id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
        deleted += len(rows)
    return deleted


def delete_attachments_writing(
    session: Session,
    interaction_ids: Sequence[str],
    keys_of: Callable[[str], frozenset[str]],
    now: datetime,
    *,
    apply: bool,
) -> int:
    """Delete (``apply``) or count the attachments whose text writes one of ``keys_of(interaction_id)``.

    ``keys_of`` gives the mention index keys of the identifiers erased in that interaction; an
    attachment that writes one cannot be rewritten faithfully, so it goes whole (CONTRACT §15).
    """
    doomed: list[tuple[str, int, str, str]] = []
    for chunk in chunks(interaction_ids):
        for iid, seq, solution_id, blob_key, keys in session.execute(
            select(
                EmailAttachment.interaction_id,
                EmailAttachment.seq,
                EmailAttachment.solution_id,
                EmailAttachment.blob_key,
                EmailAttachment.mention_keys,
            ).where(EmailAttachment.interaction_id.in_(chunk), EmailAttachment.mention_keys.is_not(None))
        ):
            if keys and not keys_of(iid).isdisjoint(keys):
                doomed.append((iid, seq, solution_id, blob_key))
    if apply and doomed:
        _queue(session, [(solution_id, blob_key) for _, _, solution_id, blob_key in doomed], now)
        for start in range(0, len(doomed), 200):
            part = doomed[start : start + 200]
            session.execute(
                delete(EmailAttachment)
                .where(
                    or_(
                        *(
                            and_(EmailAttachment.interaction_id == iid, EmailAttachment.seq == seq)
                            for iid, seq, _, _ in part
                        )
                    )
                )
                .execution_options(synchronize_session=False)
            )
    return len(doomed)


def _queue(session: Session, blobs: Sequence[tuple[str, str]], now: datetime) -> None:
    """The blobs (solution id, key) go after this transaction commits, through the pending-deletion drain."""
    session.add_all(
        PendingBlobDeletion(solution_id=solution_id, blob_key=blob_key, not_before=now)
        for solution_id, blob_key in blobs
    )
