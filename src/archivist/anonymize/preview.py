"""The preview: what a request would change if the nightly run processed it now.

A privacy officer must not discover after the night that a typo matched nothing, or that a
switchboard number matched 40,000 calls; so the page shows these counts before *Add*. The
counts come from the erasure engine itself (``erasure.erase_person`` without ``apply``), so
they are exactly what ``processing.process_request`` would report for a run at ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.anonymize.erasure import Linked, Person, Scope, erase_person, linked_identifiers
from archivist.anonymize.requests import Also, parse_identifiers
from archivist.archive.mentions import MentionKeyring, index_is_current
from archivist.archive.models import Interaction
from archivist.blobs import BlobStore
from archivist.identifiers import mask_email, mask_phone, mask_phone_e164

INDEX_OUTDATED = (
    "The index of numbers and addresses written in chats, emails and variables was built by an older "
    "version of Archivist: mentions of this person in other people's interactions may be missed until "
    "an administrator runs archivist reindex-mentions. Their own interactions are complete."
)


@dataclass(frozen=True)
class LinkedOut:
    """Another identifier found with the person (CONTRACT §9), masked: the officer adds it in ``also``."""

    kind: str
    name: str | None
    value_masked: str
    interactions: int


def mask_linked(linked: Linked, country: str) -> LinkedOut:
    if linked.kind == "phone":
        masked = mask_phone_e164(linked.value, country)
    elif linked.kind == "email":
        masked = mask_email(linked.value)
    else:
        masked = mask_phone(linked.value) if linked.value.strip().isdigit() else linked.value[:1] + "***"
    return LinkedOut(linked.kind, linked.name, masked, linked.interactions)


@dataclass(frozen=True)
class Preview:
    """What a request would change if it ran now (also the API's response shape).

    Raw data rows, recordings and content count only when the request would touch them.
    """

    calls: int
    chats: int
    emails: int
    interactions: int
    raw_data_rows: int
    recordings: int
    content: int
    # Variable values of the matched interactions that contain the identifier (replaced whole).
    variable_values: int
    # Occurrences of the identifiers in chat logs, emails, subjects and variables (their own
    # interactions: the name too) that would be replaced, wherever the index finds them.
    mentions: int
    archive_size: int
    share: float
    warning: str | None
    # False while the mention index is an older scanner's (see INDEX_OUTDATED).
    mention_index_current: bool = True
    # Other identifiers in the person's own interactions, most used first.
    linked: tuple[LinkedOut, ...] = ()
    # Interactions a legal hold keeps as they are: the request would wait as "held" for them.
    held: int = 0
    # Email attachments the request would delete (CONTRACT §15): the result's attachments_deleted.
    attachments: int = 0
    # Transcript segments whose audio the request would silence (CONTRACT §17): the result's
    # audio_segments_silenced. A recording it cannot silence is counted in ``recordings`` instead.
    audio_segments_silenced: int = 0


def preview_with_linked(
    session: Session,
    solution: Solution,
    *,
    phone: str | None,
    email: str | None,
    raw_data: bool,
    delete_content: bool,
    now: datetime,
    keyring: MentionKeyring,
    also: Also | None = None,
    blobs: BlobStore | None = None,
) -> tuple[Preview, list[Linked]]:
    """Count what a request with these fields would change in a run at ``now``, and its linked
    identifiers unmasked, in the order ``linked`` shows them (for the page, which offers them as
    ticks; never for a response).

    Raw data rows, recordings and content count only when the request would touch them
    (``raw_data`` / ``delete_content``), so the preview reads as the result it predicts.
    Raises RequestError for input the request itself would refuse.
    """
    ids = parse_identifiers(phone, email, solution.country)
    person = Person.of(ids.phone_e164, ids.email_norm, also or Also())
    scope = Scope(
        solution_id=solution.id,
        country=solution.country,
        replacement=solution.replacement,
        cutoff=now,
        delete_content=delete_content,
        raw_data=raw_data,
    )
    # With the blob store, as the night has it: whether a recording can be silenced is read from it.
    counts = erase_person(session, scope, person, keyring=keyring, now=now, apply=False, blobs=blobs)
    linked = linked_identifiers(session, scope, person, keyring=keyring)
    archive_size = int(
        session.scalar(select(func.count()).select_from(Interaction).where(Interaction.solution_id == solution.id)) or 0
    )
    share = counts.interactions / archive_size if archive_size else 0.0
    warnings = []
    if share > solution.preview_warn_share:
        warnings.append(
            f"This request would anonymize {counts.interactions:,} of the {archive_size:,} interactions in the archive "
            f"({share:.1%}). Check the number or address: a switchboard number or a typo can match many people."
        )
    if counts.held:
        warnings.append(
            f"{counts.held:,} interaction(s) are under a legal hold and stay as they are: the request does "
            "everything else and waits as held until the hold is released."
        )
    current = index_is_current(session, solution.id)
    if not current:
        warnings.append(INDEX_OUTDATED)
    return Preview(
        calls=counts.calls,
        chats=counts.chats,
        emails=counts.emails,
        interactions=counts.interactions,
        raw_data_rows=counts.raw_data_rows,
        recordings=counts.recordings_deleted,
        content=counts.content_deleted,
        variable_values=counts.variables_replaced,
        mentions=counts.mentions_replaced,
        archive_size=archive_size,
        share=share,
        warning=" ".join(warnings) or None,
        mention_index_current=current,
        linked=tuple(mask_linked(item, solution.country) for item in linked),
        held=counts.held,
        attachments=counts.attachments_deleted,
        audio_segments_silenced=counts.audio_segments_silenced,
    ), linked
