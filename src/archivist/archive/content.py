"""Reading and deleting an interaction's content: a chat log, an email with its attachments, a call's transcript."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from archivist.archive.attachments import delete_attachments, list_attachments
from archivist.archive.models import Channel, ChatMessage, EmailBody, Interaction, TranscriptSegment
from archivist.archive.schemas import (
    AttachmentOut,
    ChatContentOut,
    EmailContentOut,
    EmailHeadersOut,
    MessageOut,
    SegmentOut,
    TranscriptContentOut,
)
from archivist.db import chunks


def get_interaction(session: Session, solution_id: str, interaction_id: str) -> Interaction | None:
    """The interaction if it belongs to ``solution_id``; another tenant's is simply absent."""
    return session.scalars(
        select(Interaction).where(Interaction.id == interaction_id, Interaction.solution_id == solution_id)
    ).first()


def read_content(
    session: Session, interaction: Interaction
) -> ChatContentOut | EmailContentOut | TranscriptContentOut | None:
    """The chat log, email or transcript, or None when there is none (never had, or deleted)."""
    if not interaction.has_content:
        return None
    if interaction.channel is Channel.CALL:
        return TranscriptContentOut(transcript=read_transcript(session, interaction.id))
    if interaction.channel is Channel.CHAT:
        rows = session.scalars(
            select(ChatMessage).where(ChatMessage.interaction_id == interaction.id).order_by(ChatMessage.seq)
        )
        return ChatContentOut(messages=[MessageOut(at=m.at, sender=m.sender, text=m.text) for m in rows])
    if interaction.channel is Channel.EMAIL:
        email = session.get(EmailBody, interaction.id)
        if email is None:
            return None
        return EmailContentOut(
            subject=interaction.subject,
            body=email.body,
            html=email.html,
            headers=EmailHeadersOut.model_validate(email.headers or {}),
            attachments=[
                AttachmentOut(
                    index=a.seq, filename=a.filename, content_type=a.content_type, size=a.size_bytes, sha256=a.sha256
                )
                for a in list_attachments(session, interaction.id)
            ],
        )
    return None


def read_transcript(session: Session, interaction_id: str) -> list[SegmentOut]:
    """A call's transcript in order (CONTRACT §17); empty when it has none."""
    rows = session.scalars(
        select(TranscriptSegment)
        .where(TranscriptSegment.interaction_id == interaction_id)
        .order_by(TranscriptSegment.seq)
    )
    return [SegmentOut(begin_ms=s.begin_ms, end_ms=s.end_ms, speaker=s.speaker, text=s.text) for s in rows]


def with_content(interaction_ids: Sequence[str]) -> Select[str]:
    """Those of ``interaction_ids`` that still have content: what ``delete_content`` deletes and a
    preview counts (and whose attachments go with it)."""
    return select(Interaction.id).where(Interaction.id.in_(interaction_ids), Interaction.has_content.is_(True))


def delete_content(session: Session, interaction_ids: Sequence[str], *, now: datetime) -> int:
    """Delete the chat logs, emails (with their attachments) and transcripts of ``interaction_ids``; returns how
    many had some.

    Set-wise and chunked, so that *Anonymize and delete* and the nightly run can pass
    thousands of ids. Attachments' blobs are queued for deletion at ``now`` (CONTRACT §15).
    """
    deleted = 0
    for chunk in chunks(interaction_ids):
        having = session.scalars(with_content(chunk)).all()
        if not having:
            continue
        session.execute(delete(ChatMessage).where(ChatMessage.interaction_id.in_(having)))
        session.execute(delete(EmailBody).where(EmailBody.interaction_id.in_(having)))
        session.execute(delete(TranscriptSegment).where(TranscriptSegment.interaction_id.in_(having)))
        delete_attachments(session, having, now)
        session.execute(update(Interaction).where(Interaction.id.in_(having)).values(has_content=False))
        deleted += len(having)
    return deleted
