"""The erasure engine (CONTRACT §9): what a request, or *Anonymize and delete*, changes — and changing it.

The one home of the rule. Given a person (their identifiers) and a scope (cutoff, options) it
walks the person's own interactions, then every other interaction the mention index names,
then raw data rows without an interaction of theirs. With ``apply`` it changes them; without,
it counts what it would change, through the same steps, so the preview and the night cannot
disagree. The nightly run, the preview and *Anonymize and delete* all call it.

An interaction is the person's own when its customer phone or email is theirs, when it lost
one of their identifiers to an earlier erasure (``ErasedIdentifier``: a second request for the
same person finds what the first anonymized), or when its caller is unidentified and one of
its variables holds their identifier (a callback number, a CRM address).

Data flows downward: this module calls the archive's row helpers (content, recordings, the
mention index) and the operators; nothing below imports it. Nothing here commits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, insert, or_, select, union, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from archivist.accounts.models import Solution
from archivist.anonymize.operators import (
    rewrite_interactions,
    rowcount,
)
from archivist.anonymize.requests import Also, NameValue
from archivist.archive.attachments import count_attachments
from archivist.archive.audio import silence_recordings
from archivist.archive.content import delete_content, with_content
from archivist.archive.mentions import (
    AttachmentSweep,
    MentionKeyring,
    SpokenSegment,
    Sweep,
    VariableMode,
    mentioning,
    reindex_interactions,
    sweep_interactions,
    sweep_mentions,
    texts_of,
    value_text,
)
from archivist.archive.models import Channel, ErasedIdentifier, Interaction, Mention, RawEvent
from archivist.archive.raw_data import anonymize_raw_data_of_interactions, raw_rows_to_anonymize
from archivist.archive.recordings import delete_recordings, recordings_of
from archivist.blobs import BlobStore
from archivist.db import CHUNK, chunks
from archivist.errors import NotFoundError
from archivist.exports.purge import purge_exports_naming
from archivist.identifiers_text import find_emails, find_phones, mentions_any, name_forms
from archivist.retention.holds import held_among, held_interactions, refuse_held

# *Anonymize and delete* names at most this many interactions at once: a page of results is at
# most 500, and a bound keeps one request's transaction short.
MAX_IDS = 1_000

# Interactions read and changed per step: memory does not grow with how many a person has, and
# the ids stay well inside SQLite's bound-parameter limit (the one batch size, db.CHUNK).
BATCH = CHUNK


@dataclass(frozen=True)
class Person:
    """Whom to forget: normalised identifiers (E.164 numbers, lower-case addresses)."""

    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    # (name, value) of variables that identify them, such as a customer number (``also.variables``).
    variables: tuple[tuple[str, str], ...] = ()

    @property
    def identifiers(self) -> tuple[str, ...]:
        return self.phones + self.emails

    @classmethod
    def of(cls, phone_e164: str | None, email_norm: str | None, also: Also) -> Person:
        """A request's person: its phone and address, and whatever ``also`` adds."""
        return cls(
            phones=tuple(dict.fromkeys([*([phone_e164] if phone_e164 else []), *also.phones])),
            emails=tuple(dict.fromkeys([*([email_norm] if email_norm else []), *also.emails])),
            variables=also.variables,
        )


@dataclass(frozen=True)
class Scope:
    """Where and how: the solution, the moment before which interactions count, the options."""

    solution_id: str
    country: str
    replacement: str
    cutoff: datetime
    delete_content: bool = False
    raw_data: bool = False


@dataclass(kw_only=True)
class Erased:
    """What an erasure changed in the archive, or would change: counts only, never an identifier.

    The one record of these counts: the engine's ``Counts``, a request's ``RequestResult`` and a
    night's ``RunSummary`` are each this record and what only they add.
    """

    interactions: int = 0
    recordings_deleted: int = 0
    content_deleted: int = 0
    raw_data_rows: int = 0
    variables_replaced: int = 0
    # Occurrences of the identifiers (and, in their own interactions, the name) replaced in text.
    mentions_replaced: int = 0
    # Email attachments deleted: those that write an erased identifier, and with *Delete
    # recordings and content* every attachment of the person's own emails (CONTRACT §15).
    attachments_deleted: int = 0
    # Transcript segments whose audio was (or would be) silenced because the sweep replaced one of
    # the person's identifiers in them (CONTRACT §17).
    audio_segments_silenced: int = 0

    def erased(self) -> dict[str, int]:
        """These counts alone, by name."""
        return {f.name: getattr(self, f.name) for f in fields(Erased)}

    def add_erased(self, other: Erased) -> None:
        for name, value in other.erased().items():
            setattr(self, name, getattr(self, name) + value)

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) changed."""
        return any(self.erased().values())


@dataclass(kw_only=True)
class Counts(Erased):
    """What an erasure changed, or would change, with the per-channel split the preview shows."""

    calls: int = 0
    chats: int = 0
    emails: int = 0
    # Interactions left as they are because a legal hold covers them (CONTRACT §10).
    held: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def add(self, other: Counts) -> None:
        for name, value in other.as_dict().items():
            setattr(self, name, getattr(self, name) + value)


def erase_person(
    session: Session,
    scope: Scope,
    person: Person,
    *,
    keyring: MentionKeyring,
    now: datetime,
    apply: bool,
    erased_keys: Sequence[str] = (),
    blobs: BlobStore | None = None,
) -> Counts:
    """Erase (``apply``) or count what erasing ``person`` within ``scope`` changes.

    ``erased_keys``: further keyed identifiers of the person whose clear value the archive no
    longer holds (a ledger replay): the interactions that lost them are found by them.
    ``blobs``: where recordings are, to silence the spoken identifiers in them; without it a
    recording that says one is deleted instead (and counted so).
    """
    keys = _keys(keyring, scope, person, erased_keys)
    counts = Counts()
    own = own_interactions(scope, person, keys).subquery()
    # Read once, before anything changes: the rewrite clears what made them the person's.
    own_ids = _own_ids(session, scope, person, keys, own)
    # Held interactions are left wholly as they are: their own, their text, their raw data rows.
    held = held_interactions(session, scope.solution_id)
    if held is not None:
        held_own = held_among(session, scope.solution_id, own_ids)
        own_ids = [iid for iid in own_ids if iid not in held_own]
        counts.held = len(held_own | _held_mentioning(session, keyring, scope, person, held))
    spoken: list[SpokenSegment] = []
    for start in range(0, len(own_ids), BATCH):
        ids = own_ids[start : start + BATCH]
        spoken += _erase_own(
            session, scope, person, ids, VariableMode.MATCHING_WHOLE, counts, keyring=keyring, now=now, apply=apply
        )
    # Everybody else's interactions that write the person's identifiers, from the index. Applied,
    # the person's own come by again (already clean) so their index rows go; counted, they are
    # left out, having been counted above.
    swept = sweep_mentions(
        session,
        keyring,
        scope.solution_id,
        Sweep(
            scope.country,
            scope.replacement,
            person.identifiers,
            attachments=_attachment_sweep(keyring, scope, now, erased_keys),
            external_ids=partial(keyring.erased_external_id, scope.solution_id),
        ),
        before=scope.cutoff,
        skip=frozenset() if apply else frozenset(own_ids),
        leave=held,
        apply=apply,
    )
    counts.mentions_replaced += swept.mentions
    counts.attachments_deleted += swept.attachments
    if scope.raw_data and person.identifiers:
        counts.raw_data_rows += _erase_raw_rows_without_own_interaction(session, scope, person, own.c.id, held, apply)
    if apply:
        # An export made for the person would hand them back after this commits (CONTRACT §18).
        purge_exports_naming(session, scope.solution_id, keys)
    # Last of the writes to the archive: a failure before it leaves no rewritten blob behind.
    silenced = silence_recordings(session, blobs, [*spoken, *swept.spoken], now=now, apply=apply)
    counts.audio_segments_silenced += silenced.segments
    counts.recordings_deleted += silenced.recordings_deleted
    return counts


def _held_mentioning(
    session: Session, keyring: MentionKeyring, scope: Scope, person: Person, held: Select[Any]
) -> set[str]:
    """Held interactions that write the person's identifiers (theirs or anybody's): left unswept."""
    keys = [keyring.key(scope.solution_id, identifier) for identifier in person.identifiers]
    if not keys:
        return set()
    return set(
        session.scalars(
            select(Mention.interaction_id)
            .join(Interaction, Interaction.id == Mention.interaction_id)
            .where(mentioning(scope.solution_id, keys, scope.cutoff), Mention.interaction_id.in_(held))
            .group_by(Mention.interaction_id)
        )
    )


def _attachment_sweep(
    keyring: MentionKeyring, scope: Scope, now: datetime, erased_keys: Sequence[str] = ()
) -> AttachmentSweep:
    """Attachments that write a swept identifier go (CONTRACT §15): found by their index keys, and
    by ``erased_keys`` alone where the archive holds their clear value nowhere else (a replay)."""
    return AttachmentSweep(
        key=lambda identifier: keyring.key(scope.solution_id, identifier), now=now, known_keys=frozenset(erased_keys)
    )


class UnknownInteractionError(NotFoundError):
    """Some ids are not interactions of this solution (another solution's are just as absent);
    nothing was changed."""

    def __init__(self) -> None:
        super().__init__("Interaction not found")


@dataclass(frozen=True)
class ErasureResult:
    """What *Anonymize and delete* did."""

    anonymized: int
    recordings_deleted: int
    content_deleted: int
    raw_data_rows: int
    # The customer's own phone, email or name replaced in what text remains (the subject).
    mentions_replaced: int = 0


def audit_details(ids: list[str], raw_data: bool, result: ErasureResult) -> dict[str, object]:
    """What *Anonymize and delete* did, for the audit trail: ids and counts."""
    return {
        "ids": sorted(set(ids)),
        "raw_data": raw_data,
        "anonymized": result.anonymized,
        "recordings_deleted": result.recordings_deleted,
        "content_deleted": result.content_deleted,
        "raw_data_rows": result.raw_data_rows,
    }


def anonymize_and_delete(
    session: Session,
    solution: Solution,
    interaction_ids: Sequence[str],
    *,
    raw_data: bool,
    now: datetime,
    keyring: MentionKeyring,
) -> ErasureResult:
    """*Anonymize and delete* on chosen interactions (the seed's action on *Archive - Search*); all or nothing.

    Raises UnknownInteractionError before writing anything if any id is unknown or belongs to
    another solution, so that a mistyped id never leaves a half-done erasure. Does not commit.
    """
    ids = list(dict.fromkeys(interaction_ids))
    if len(ids) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} interactions at once")
    known = sum(
        _count(session, select(Interaction.id).where(Interaction.solution_id == solution.id, Interaction.id.in_(chunk)))
        for chunk in chunks(ids)
    )
    if known != len(ids):
        raise UnknownInteractionError()
    # A legal hold keeps them as they are: all or nothing (HeldError names the held ids).
    refuse_held(session, solution.id, ids)
    scope = Scope(
        solution.id, solution.country, solution.replacement, cutoff=now, delete_content=True, raw_data=raw_data
    )
    counts = erase_interactions(session, scope, ids, keyring=keyring, now=now)
    return ErasureResult(
        anonymized=counts.interactions,
        recordings_deleted=counts.recordings_deleted,
        content_deleted=counts.content_deleted,
        raw_data_rows=counts.raw_data_rows,
        mentions_replaced=counts.mentions_replaced,
    )


@dataclass(frozen=True)
class Linked:
    """Another identifier found with the person in their own interactions (for ``also``).

    ``value`` is the normalised identifier or the variable's value: for the page that offers
    it, never for a response, a log or the audit trail.
    """

    kind: str  # "phone" | "email" | "variable"
    value: str
    interactions: int
    name: str | None = None


# Variables that hold a customer's number in a CRM or billing system.
CUSTOMER_NUMBER_VARIABLE = re.compile(
    r"(?:customer|kunde|client|crm|account|konto|member|medlem)[ _.-]?(?:no|nr|id|number|nummer|num)?", re.IGNORECASE
)
# At most this many linked identifiers are listed (a switchboard number links thousands).
MAX_LINKED = 50


def own_interaction_ids(session: Session, scope: Scope, person: Person, *, keyring: MentionKeyring) -> list[str]:
    """The ids of the person's own interactions started before the scope's cutoff that still hold
    their data: what a subject access export hands over (``archivist.access``).

    Unlike an erasure, it never looks an interaction up by the keyed hashes of identifiers it
    lost (CONTRACT §18): those serve erasure alone, and an anonymized interaction is nobody's.
    """
    keys = _keys(keyring, scope, person)
    return _own_ids(session, scope, person, keys, own_interactions(scope, person, ()).subquery())


def linked_identifiers(session: Session, scope: Scope, person: Person, *, keyring: MentionKeyring) -> list[Linked]:
    """The other phones, addresses and customer numbers in the person's own interactions, most used first."""
    keys = _keys(keyring, scope, person)
    own_ids = _own_ids(session, scope, person, keys, own_interactions(scope, person, keys).subquery())
    seen: dict[tuple[str, str | None, str], set[str]] = {}
    known = set(person.identifiers)
    named = set(person.variables)
    for ids in (own_ids[start : start + BATCH] for start in range(0, len(own_ids), BATCH)):
        for iid, phone, email, variables in session.execute(
            select(
                Interaction.id, Interaction.customer_phone_e164, Interaction.customer_email_norm, Interaction.variables
            ).where(Interaction.id.in_(ids))
        ):
            found: set[tuple[str, str | None, str]] = set()
            if phone is not None:
                found.add(("phone", None, phone))
            if email is not None:
                found.add(("email", None, email))
            for name, value in (variables or {}).items():
                text = value_text(value)
                if text is None or text == scope.replacement:
                    continue
                found.update(("phone", None, e164) for _, _, e164 in find_phones(text, scope.country))
                found.update(("email", None, address) for _, _, address in find_emails(text))
                if CUSTOMER_NUMBER_VARIABLE.fullmatch(name) and (name, text) not in named:
                    found.add(("variable", name, text))
            for item in found:
                if item[0] == "variable" or item[2] not in known:
                    seen.setdefault(item, set()).add(iid)
    ranked = sorted(seen.items(), key=lambda entry: (-len(entry[1]), entry[0][0], entry[0][1] or "", entry[0][2]))
    return [
        Linked(kind=kind, value=value, interactions=len(ids), name=name)
        for (kind, name, value), ids in ranked[:MAX_LINKED]
    ]


def also_from(linked: Sequence[Linked]) -> Also:
    """The ``also`` of a request that takes these linked identifiers."""
    return Also(
        phones=tuple(item.value for item in linked if item.kind == "phone"),
        emails=tuple(item.value for item in linked if item.kind == "email"),
        variables=tuple(NameValue(item.name, item.value) for item in linked if item.kind == "variable" and item.name),
    )


def _keys(keyring: MentionKeyring, scope: Scope, person: Person, extra: Sequence[str] = ()) -> list[str]:
    """The index keys of the person's identifiers (and of ``extra`` keyed ones), each once."""
    return sorted({*(keyring.key(scope.solution_id, identifier) for identifier in person.identifiers), *extra})


def _own_ids(session: Session, scope: Scope, person: Person, keys: Sequence[str], own: Subquery) -> list[str]:
    """Every own interaction's id, read in one query (the union runs once, whatever the batches)."""
    found = list(session.scalars(select(own.c.id).order_by(own.c.id)))
    taken = set(found)
    return found + [iid for iid in _unidentified_callers(session, scope, person, keys) if iid not in taken]


def erase_interactions(
    session: Session, scope: Scope, interaction_ids: Sequence[str], *, keyring: MentionKeyring, now: datetime
) -> Counts:
    """*Anonymize and delete*: erase the customer of each chosen interaction from it, wholly.

    Recordings and content go, every variable value is replaced, and each one's own customer
    (phone, address, name) is replaced in what text remains (the subject). Other people named
    there are not this action's business: they stay, and stay indexed for their own request.
    The ids must be the solution's (the caller checks).
    """
    counts = Counts()
    for start in range(0, len(interaction_ids), BATCH):
        batch = list(interaction_ids[start : start + BATCH])
        _erase_own(
            session, scope, Person(), batch, VariableMode.ALL_WHOLE, counts, keyring=keyring, now=now, apply=True
        )
        # The index must not point at text that is gone, and must keep pointing at what remains.
        reindex_interactions(session, keyring, scope.solution_id, scope.country, batch)
    return counts


def own_interactions(scope: Scope, person: Person, keys: Sequence[str]) -> Select[Any]:
    """Ids of the person's own interactions found by index lookups (a UNION, usable as a subquery).

    A UNION rather than ``phone IN … OR email IN …``: SQLite would not always use two indexes
    for an OR, and a miss there means a full scan of the archive.
    """
    before = Interaction.started_at < scope.cutoff
    in_solution = Interaction.solution_id == scope.solution_id
    selects: list[Select[Any]] = []
    if person.phones:
        selects.append(
            select(Interaction.id.label("id")).where(
                in_solution, Interaction.customer_phone_e164.in_(person.phones), before
            )
        )
    if person.emails:
        selects.append(
            select(Interaction.id.label("id")).where(
                in_solution, Interaction.customer_email_norm.in_(person.emails), before
            )
        )
    for name, value in person.variables:
        # No index serves a variable's value: a range scan of the solution's interactions
        # before the cutoff, paid only by requests that name a customer number.
        written = cast(Interaction.variables[name].as_string(), String)
        selects.append(select(Interaction.id.label("id")).where(in_solution, before, written == value))
    if keys:
        selects.append(
            select(ErasedIdentifier.interaction_id.label("id"))
            .join(Interaction, Interaction.id == ErasedIdentifier.interaction_id)
            .where(ErasedIdentifier.solution_id == scope.solution_id, ErasedIdentifier.key.in_(keys), before)
        )
    if not selects:
        return select(Interaction.id.label("id")).where(Interaction.id.is_(None))
    if len(selects) == 1:
        return selects[0]
    return select(union(*selects).subquery().c.id)


def _unidentified_callers(session: Session, scope: Scope, person: Person, keys: Sequence[str]) -> list[str]:
    """Interactions whose caller is unidentified and one of whose variables holds the person's identifier."""
    if not keys:
        return []
    candidates = list(
        session.scalars(
            select(Mention.interaction_id)
            .join(Interaction, Interaction.id == Mention.interaction_id)
            .where(
                Mention.solution_id == scope.solution_id,
                Mention.key.in_(keys),
                Interaction.started_at < scope.cutoff,
                Interaction.customer_phone_e164.is_(None),
                Interaction.customer_email_norm.is_(None),
                Interaction.anonymized_at.is_(None),
            )
            .group_by(Mention.interaction_id)
            .order_by(Mention.interaction_id)
        )
    )
    found: list[str] = []
    for start in range(0, len(candidates), BATCH):
        chunk = candidates[start : start + BATCH]
        for iid, variables in session.execute(
            select(Interaction.id, Interaction.variables).where(Interaction.id.in_(chunk))
        ):
            if any(mentions_any(text, person.identifiers, scope.country) for text in texts_of(variables)):
                found.append(iid)
    return sorted(found)


def _erase_own(
    session: Session,
    scope: Scope,
    person: Person,
    ids: list[str],
    variables: VariableMode,
    counts: Counts,
    *,
    keyring: MentionKeyring,
    now: datetime,
    apply: bool,
) -> list[SpokenSegment]:
    """Erase (or count) one batch of the person's own interactions: all of its customer goes.

    Returns the transcript segments in which one of their identifiers was replaced (to silence).
    """
    rows = session.execute(
        select(
            Interaction.id,
            Interaction.channel,
            Interaction.customer_phone_e164,
            Interaction.customer_email_norm,
            Interaction.customer_name,
            Interaction.anonymized_at,
        ).where(Interaction.id.in_(ids))
    ).all()
    # Each interaction's own customer is the person too: their other identifier and their name
    # go from its text as well.
    sweep = Sweep(
        scope.country,
        scope.replacement,
        person.identifiers,
        names={
            row.id: forms
            for row in rows
            if row.customer_name != scope.replacement and (forms := name_forms(row.customer_name))
        },
        own_identifiers={row.id: _customer_identifiers(row) for row in rows},
        variables=variables,
        named_values=frozenset(person.variables),
        attachments=_attachment_sweep(keyring, scope, now),
        external_ids=partial(keyring.erased_external_id, scope.solution_id),
    )
    # An interaction an earlier erasure anonymized is found again (to delete what this request
    # adds, its raw data), but it is not anonymized twice.
    fresh = [row for row in rows if row.anonymized_at is None]
    counts.interactions += len(fresh)
    for row in fresh:
        if row.channel is Channel.CALL:
            counts.calls += 1
        elif row.channel is Channel.CHAT:
            counts.chats += 1
        else:
            counts.emails += 1
    if scope.delete_content:
        # The person's own emails lose every attachment with their content: the same selection
        # that ``delete_content`` deletes (``with_content``), counted before it goes.
        counts.attachments_deleted += count_attachments(session, list(session.scalars(with_content(ids))))
        if apply:
            # Content and recordings first, so nothing is left that the replacement would no
            # longer let anyone find (the seed: delete the recordings before anonymizing).
            counts.recordings_deleted += delete_recordings(session, ids, now)
            counts.content_deleted += delete_content(session, ids, now=now)
        else:
            # What the apply above deletes, by the same selections.
            counts.recordings_deleted += _count(session, recordings_of(ids))
            counts.content_deleted += _count(session, with_content(ids))
    if scope.raw_data:
        if apply:
            counts.raw_data_rows += anonymize_raw_data_of_interactions(session, ids, replacement=scope.replacement)
        else:
            counts.raw_data_rows += _count(
                session, select(RawEvent.id).where(raw_rows_to_anonymize(ids, scope.replacement))
            )
    # Before the rewrite, which replaces the customer name the sweep looks for in the text.
    swept = sweep_interactions(session, ids, sweep, content=apply or not scope.delete_content, apply=apply)
    counts.mentions_replaced += swept.mentions
    counts.attachments_deleted += swept.attachments
    if apply:
        _record_erased(session, keyring, scope.solution_id, person, rows)
        rewritten = rewrite_interactions(
            session, ids, replacement=scope.replacement, now=now, variable_rule=sweep.replaces_whole
        )
        counts.variables_replaced += rewritten.variable_values
    else:
        counts.variables_replaced += _count_whole_values(session, ids, sweep)
    return swept.spoken


def _customer_identifiers(row: Any) -> tuple[str, ...]:
    return tuple(v for v in (row.customer_phone_e164, row.customer_email_norm) if v is not None)


def _record_erased(
    session: Session, keyring: MentionKeyring, solution_id: str, person: Person, rows: Sequence[Any]
) -> None:
    """Keep the keyed hashes of what each interaction loses, so it stays findable by them."""
    wanted = {
        (row.id, keyring.key(solution_id, identifier))
        for row in rows
        for identifier in {*person.identifiers, *_customer_identifiers(row)}
    }
    if not wanted:
        return
    existing = {
        (iid, key)
        for iid, key in session.execute(
            select(ErasedIdentifier.interaction_id, ErasedIdentifier.key).where(
                ErasedIdentifier.interaction_id.in_([row.id for row in rows])
            )
        )
    }
    new = sorted(wanted - existing)
    if new:
        session.execute(
            insert(ErasedIdentifier),
            [{"solution_id": solution_id, "interaction_id": iid, "key": key} for iid, key in new],
        )
    # *Anonymize and delete* erases customers no request named: their exports go too.
    purge_exports_naming(session, solution_id, {key for _, key in wanted})


def _count_whole_values(session: Session, ids: list[str], sweep: Sweep) -> int:
    values = 0
    for iid, variables in session.execute(
        select(Interaction.id, Interaction.variables).where(Interaction.id.in_(ids), Interaction.variables.is_not(None))
    ):
        values += sum(
            1
            for name, value in (variables or {}).items()
            if value != sweep.replacement and sweep.replaces_whole(iid, name, value)
        )
    return values


def _erase_raw_rows_without_own_interaction(
    session: Session,
    scope: Scope,
    person: Person,
    own_ids: ColumnElement[str],
    held: Select[Any] | None,
    apply: bool,
) -> int:
    """Raw data rows naming the person that are not rows of their own interactions (rewritten with them),
    nor of a held interaction."""
    elsewhere: ColumnElement[bool] = RawEvent.interaction_id.not_in(select(own_ids))
    if held is not None:
        elsewhere = and_(elsewhere, RawEvent.interaction_id.not_in(held))
    condition = and_(
        RawEvent.solution_id == scope.solution_id,
        RawEvent.customer_norm.in_(person.identifiers),
        RawEvent.at < scope.cutoff,
        or_(RawEvent.interaction_id.is_(None), elsewhere),
    )
    if not apply:
        return _count(session, select(RawEvent.id).where(condition))
    return rowcount(
        session.execute(
            update(RawEvent)
            .where(condition)
            .values(customer=scope.replacement, customer_norm=None)
            .execution_options(synchronize_session=False)
        )
    )


def _count(session: Session, query: Select[*tuple[Any, ...]]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
