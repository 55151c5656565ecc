"""The mention index: which interactions' text names a phone number or email address, and erasing it there.

Ingestion records one ``Mention`` row per identifier of an interaction — its customer's phone
and address, and each one found in its chat messages, call transcript, email subject and body,
and variable values — keyed by an HMAC of the normalised identifier.
Erasure looks the rows up by key and re-reads only those interactions, never the archive.
Helpers take a session and never commit.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.attachments import delete_attachments_writing
from archivist.archive.mime import sanitize_html
from archivist.archive.models import (
    ChatMessage,
    EmailAttachment,
    EmailBody,
    Interaction,
    Mention,
    MentionKind,
    TranscriptSegment,
)
from archivist.config import Settings
from archivist.db import CHUNK
from archivist.identifiers_text import (
    SCANNER_VERSION,
    identifiers_of,
    mentions_any,
    replace_identifiers,
)

# How a keyed pseudonym of an external id begins (``MentionKeyring.erased_external_id``).
ERASED_EXTERNAL_ID = "erased-"
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# Interactions re-read per step, and ids per IN (...): the one batch size, db.CHUNK.
BATCH = CHUNK
# Distinct identifiers whose keys a keyring remembers; a bound, because ingestion of a large
# archive meets millions of numbers.
_KEY_CACHE = 200_000


class MentionKeyring:
    """Keys of the mention index: HMAC-SHA256 of the normalised identifier, per solution.

    The solution's key is HMAC-SHA256(secret, "mentions:" + solution id), so one tenant's index
    says nothing about another's, and without the server secret nobody can test a phone number
    against the table (a plain hash of every possible number takes minutes to build).
    Ingestion and erasure must use the same secret: changing it orphans the index.
    """

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the mention keyring needs a non-empty secret")
        self._secret = secret.encode()
        self._solution_keys: dict[str, bytes] = {}
        self._keys: dict[tuple[str, str], str] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> MentionKeyring:
        return cls(settings.resolved_secret_key)

    def solution_key(self, solution_id: str) -> bytes:
        key = self._solution_keys.get(solution_id)
        if key is None:
            key = hmac.new(self._secret, b"mentions:" + solution_id.encode(), hashlib.sha256).digest()
            self._solution_keys[solution_id] = key
        return key

    def erased_external_id(self, solution_id: str, external_id: str) -> str:
        """What an external id that writes an erased identifier becomes: a keyed pseudonym of it.

        A platform's contact id, a Message-ID or a CSV key can write the person ("call-4791234567-…").
        The pseudonym is unique as the id was and the same for the same id, so a re-delivery of
        the record is still recognised (CONTRACT §16) while the id itself is no longer kept.
        """
        digest = hmac.new(self.solution_key(solution_id), b"external-id\x00" + external_id.encode(), hashlib.sha256)
        return ERASED_EXTERNAL_ID + digest.hexdigest()[:40]

    def external_id_forms(self, solution_id: str, external_ids: Iterable[str]) -> dict[str, str]:
        """Each external id as it may be stored — itself, or the pseudonym an erasure gave it — to
        the id: what a look-up of archived interactions by their external ids reads. An id the
        index does not read (a UUID: ``external_id_text``) is never given a pseudonym."""
        forms: dict[str, str] = {}
        for external_id in external_ids:
            if external_id_text(external_id) is not None:
                forms[self.erased_external_id(solution_id, external_id)] = external_id
            forms[external_id] = external_id
        return forms

    def key(self, solution_id: str, identifier: str) -> str:
        """The index key (64 hex digits) of a normalised identifier: E.164 or a lower-case address."""
        cached = self._keys.get((solution_id, identifier))
        if cached is None:
            cached = hmac.new(self.solution_key(solution_id), identifier.encode(), hashlib.sha256).hexdigest()
            if len(self._keys) >= _KEY_CACHE:
                self._keys.clear()
            self._keys[(solution_id, identifier)] = cached
        return cached


def indexed_identifiers(
    texts: Iterable[str | None], country: str, phone_e164: str | None, email_norm: str | None
) -> set[tuple[MentionKind, str]]:
    """What the index holds for one interaction: its customer's phone and address, and every
    identifier its texts write. The customer's are there so that a key alone (an erasure
    ledger's) finds the interaction by an index lookup, never a scan of the archive."""
    found = identifiers_in(texts, country)
    if phone_e164 is not None:
        found.add((MentionKind.PHONE, phone_e164))
    if email_norm is not None:
        found.add((MentionKind.EMAIL, email_norm))
    return found


def identifiers_in(texts: Iterable[str | None], country: str) -> set[tuple[MentionKind, str]]:
    """Every identifier (kind, normalised) the texts mention, each once."""
    found: set[tuple[MentionKind, str]] = set()
    for text in texts:
        if not text:
            continue
        phones, emails = identifiers_of(text, country)
        found.update((MentionKind.PHONE, e164) for e164 in phones)
        found.update((MentionKind.EMAIL, address) for address in emails)
    return found


def email_keys(keyring: MentionKeyring, solution_id: str, written: Iterable[tuple[MentionKind, str]]) -> list[str]:
    """What an email's row keeps of the identifiers its body, HTML and headers write: their keys, sorted."""
    return sorted({keyring.key(solution_id, value) for _, value in written})


def mention_rows(
    keyring: MentionKeyring, solution_id: str, interaction_id: str, found: Iterable[tuple[MentionKind, str]]
) -> list[dict[str, Any]]:
    """Rows for the ``mentions`` table: the identifiers become keys here and are not kept."""
    return [
        {
            "solution_id": solution_id,
            "interaction_id": interaction_id,
            "key": keyring.key(solution_id, value),
            "kind": kind,
        }
        for kind, value in found
    ]


def value_text(value: Any) -> str | None:
    """The text of a variable value as the scanner reads it: strings, and numbers (a platform
    may send a callback number as a JSON number); None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def attachment_name_text(filename: str) -> str:
    """What an attachment's name writes, for the index: the name without its extension, which
    would otherwise end an address ("kari@example.no.png" names kari@example.no)."""
    stem, dot, extension = filename.rpartition(".")
    return stem if dot and stem and extension.isalnum() and len(extension) <= 5 else filename


def external_id_text(external_id: str | None) -> str | None:
    """What an external id writes, for the index and the sweep: the id, unless it is a UUID.

    A CSV's or a gateway's key can write the customer ("+4791234567_20260309T0800"); a UUID is
    a platform's generated key (Amazon Connect's ``ContactId``, Genesys' ``conversationId``),
    writes nobody, and would cost the scanner as much as a sentence on every record imported.
    """
    if not external_id or _UUID.fullmatch(external_id):
        return None
    return external_id


def texts_of(variables: Mapping[str, Any] | None) -> list[str]:
    return [text for text in map(value_text, (variables or {}).values()) if text is not None]


# ---------------------------------------------------------------------------------------------
# Erasure
# ---------------------------------------------------------------------------------------------


class VariableMode(enum.Enum):
    """What happens to a variable value that writes an identifier."""

    # Other people's interactions: the occurrence is replaced, the rest of the value stays.
    IN_PLACE = "in_place"
    # The person's own interactions (§7): the value is replaced whole, by the rewrite.
    MATCHING_WHOLE = "matching_whole"
    # *Anonymize and delete*: every value is replaced whole, whatever it holds.
    ALL_WHOLE = "all_whole"


@dataclass(frozen=True)
class AttachmentSweep:
    """How a sweep treats attachments: those whose text writes a swept identifier are deleted
    (CONTRACT §15), their blobs queued at ``now``. ``key`` is the mention index key of an identifier."""

    key: Callable[[str], str]
    now: datetime
    # Keys of the person's identifiers whose clear value the archive no longer holds (a ledger
    # replay after a restore): an attachment that writes one goes too, found by the key alone.
    known_keys: frozenset[str] = frozenset()

    def key_set(self, identifiers: Iterable[str]) -> frozenset[str]:
        return frozenset(self.key(identifier) for identifier in identifiers) | self.known_keys


@dataclass(frozen=True, order=True)
class SpokenSegment:
    """A transcript segment in which the sweep replaced one of the person's identifiers: where
    the recording of ``interaction_id`` says it aloud, [begin_ms, end_ms) (CONTRACT §17)."""

    interaction_id: str
    begin_ms: int
    end_ms: int


@dataclass
class Swept:
    """What a sweep replaced (occurrences in text) and deleted (attachments), or would; and the
    transcript segments where it replaced one of the person's identifiers (their audio is silenced)."""

    mentions: int = 0
    attachments: int = 0
    spoken: list[SpokenSegment] = field(default_factory=list)

    def add(self, other: Swept) -> None:
        self.mentions += other.mentions
        self.attachments += other.attachments
        self.spoken += other.spoken


@dataclass(frozen=True)
class Sweep:
    """What to replace in text: normalised identifiers (and, per interaction, its customer's name)."""

    country: str
    replacement: str
    identifiers: tuple[str, ...]
    # interaction id -> name forms to replace there too (the person's own interactions only).
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # interaction id -> identifiers to replace there besides ``identifiers`` (each one's own customer).
    own_identifiers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    variables: VariableMode = VariableMode.IN_PLACE
    # (name, value) pairs the request names (a customer number): replaced whole where they stand.
    named_values: frozenset[tuple[str, str]] = frozenset()
    # None: attachments are left as they are (nothing erases identifiers without this).
    attachments: AttachmentSweep | None = None
    # What an external id that writes a swept identifier becomes (its keyed pseudonym); None:
    # external ids are left as they are.
    external_ids: Callable[[str], str] | None = None

    def keys_of(self, interaction_id: str) -> frozenset[str]:
        """The index keys of what this interaction's sweep replaces (none known without ``attachments``)."""
        if self.attachments is None:
            return frozenset()
        return self.attachments.key_set(self.identifiers_of(interaction_id))

    def skips_email(self, interaction_id: str, keys: Sequence[str] | None) -> bool:
        """Whether an email whose texts write exactly ``keys`` (None: not known) can be left unread:
        it writes none of the identifiers, and no name of this interaction's customer is swept."""
        if keys is None or self.attachments is None or interaction_id in self.names:
            return False
        return self.keys_of(interaction_id).isdisjoint(keys)

    def identifiers_of(self, interaction_id: str) -> tuple[str, ...]:
        return self.identifiers + self.own_identifiers.get(interaction_id, ())

    def replaces_whole(self, interaction_id: str, name: str, value: Any) -> bool:
        """Whether the rewrite replaces this variable value whole (then the sweep leaves it)."""
        text = value_text(value)
        if text is None or self.variables is VariableMode.IN_PLACE:
            return False
        if self.variables is VariableMode.ALL_WHOLE or (name, text) in self.named_values:
            return True
        return self.mentions(interaction_id, text)

    def mentions(self, interaction_id: str, text: str) -> bool:
        """Whether ``text`` of this interaction writes one of the identifiers (names aside)."""
        own = self.own_identifiers.get(interaction_id, ())
        return mentions_any(text, self.identifiers_of(interaction_id), self.country, own)

    def replace(self, interaction_id: str, text: str) -> tuple[str, int]:
        # In the person's own interaction its customer's identifiers are trusted: a foreign
        # number's national digits there are theirs even where they could be a home number.
        return replace_identifiers(
            text,
            self.identifiers_of(interaction_id),
            self.country,
            self.replacement,
            self.names.get(interaction_id, ()),
            self.own_identifiers.get(interaction_id, ()),
        )


def sweep_interactions(
    session: Session, interaction_ids: Sequence[str], sweep: Sweep, *, content: bool = True, apply: bool = True
) -> Swept:
    """Replace the identifiers in the chat messages, call transcripts, emails (body, HTML, headers), subjects
    and variables of ``interaction_ids``, and delete the attachments that write them.

    Returns how many occurrences were (``apply``) or would be replaced, attachments deleted, and the
    transcript segments whose audio says one of the identifiers.
    ``content=False`` leaves chat logs and emails out (the preview of a request that deletes them).
    """
    swept = Swept()
    for start in range(0, len(interaction_ids), BATCH):
        ids = list(interaction_ids[start : start + BATCH])
        if content:
            swept.mentions += _sweep_messages(session, ids, sweep, apply)
            swept.add(_sweep_transcripts(session, ids, sweep, apply))
            swept.mentions += _sweep_bodies(session, ids, sweep, apply)
            if sweep.attachments is not None:
                swept.attachments += _sweep_attachments(session, ids, sweep, sweep.attachments, apply)
        swept.mentions += _sweep_fields(session, ids, sweep, apply)
    return swept


def _sweep_attachments(session: Session, ids: list[str], sweep: Sweep, how: AttachmentSweep, apply: bool) -> int:
    return delete_attachments_writing(session, ids, sweep.keys_of, how.now, apply=apply)


def _sweep_messages(session: Session, ids: list[str], sweep: Sweep, apply: bool) -> int:
    rows = session.execute(
        select(ChatMessage.id, ChatMessage.interaction_id, ChatMessage.text).where(ChatMessage.interaction_id.in_(ids))
    )
    updates: list[dict[str, Any]] = []
    replaced = 0
    for message_id, iid, text in rows:
        new, count = sweep.replace(iid, text)
        if count:
            replaced += count
            updates.append({"b_id": message_id, "b_text": new})
    if apply and updates:
        table = cast(Table, ChatMessage.__table__)
        session.execute(update(table).where(table.c.id == bindparam("b_id")).values(text=bindparam("b_text")), updates)
    return replaced


def _sweep_transcripts(session: Session, ids: list[str], sweep: Sweep, apply: bool) -> Swept:
    """Transcript text is swept as chat text is; a segment where an identifier (not only a name)
    was replaced is one whose audio must be silenced."""
    rows = session.execute(
        select(
            TranscriptSegment.id,
            TranscriptSegment.interaction_id,
            TranscriptSegment.begin_ms,
            TranscriptSegment.end_ms,
            TranscriptSegment.text,
        ).where(TranscriptSegment.interaction_id.in_(ids))
    )
    updates: list[dict[str, Any]] = []
    swept = Swept()
    for segment_id, iid, begin_ms, end_ms, text in rows:
        new, count = sweep.replace(iid, text)
        if not count:
            continue
        swept.mentions += count
        updates.append({"b_id": segment_id, "b_text": new})
        if sweep.mentions(iid, text):
            swept.spoken.append(SpokenSegment(iid, begin_ms, end_ms))
    if apply and updates:
        table = cast(Table, TranscriptSegment.__table__)
        session.execute(update(table).where(table.c.id == bindparam("b_id")).values(text=bindparam("b_text")), updates)
    return swept


def _sweep_bodies(session: Session, ids: list[str], sweep: Sweep, apply: bool) -> int:
    """Emails' body, HTML and headers; an email whose keys say it writes none of the identifiers is
    not read (the index names interactions, and an interaction is often named by its attachment)."""
    keys_of: dict[str, list[str] | None] = {}
    for iid, keys in session.execute(
        select(EmailBody.interaction_id, EmailBody.mention_keys).where(EmailBody.interaction_id.in_(ids))
    ):
        keys_of[iid] = keys
    wanted = [iid for iid, keys in keys_of.items() if not sweep.skips_email(iid, keys)]
    if not wanted:
        return 0
    rows = session.execute(
        select(EmailBody.interaction_id, EmailBody.body, EmailBody.html, EmailBody.headers).where(
            EmailBody.interaction_id.in_(wanted)
        )
    )
    # In HTML the replacement is text: escaped, so a replacement such as "<slettet>" stays text.
    in_html = dataclasses.replace(sweep, replacement=html.escape(sweep.replacement))
    updates: list[dict[str, Any]] = []
    replaced = 0
    for iid, body, html_text, headers in rows:
        # What it wrote of these identifiers is gone from it now, so their keys go from its row too.
        keys = keys_of[iid]
        gone = sweep.keys_of(iid)
        kept_keys = None if keys is None else [key for key in keys if key not in gone]
        new, count = sweep.replace(iid, body)
        new_html = html_text
        if html_text:
            new_html, n = in_html.replace(iid, html_text)
            if n:
                # The replacement keeps the tags around it; sanitising again keeps the HTML well formed.
                new_html = sanitize_html(new_html)
            count += n
        new_headers = headers
        if headers:
            new_headers = {}
            for name, value in headers.items():
                if isinstance(value, str):
                    value, n = sweep.replace(iid, value)
                    count += n
                new_headers[name] = value
        replaced += count
        if count or kept_keys != keys:
            updates.append(
                {"b_id": iid, "b_body": new, "b_html": new_html, "b_headers": new_headers, "b_keys": kept_keys}
            )
    if apply and updates:
        table = cast(Table, EmailBody.__table__)
        session.execute(
            update(table)
            .where(table.c.interaction_id == bindparam("b_id"))
            .values(
                body=bindparam("b_body"),
                html=bindparam("b_html"),
                headers=bindparam("b_headers"),
                mention_keys=bindparam("b_keys"),
            ),
            updates,
        )
    return replaced


def _sweep_fields(session: Session, ids: list[str], sweep: Sweep, apply: bool) -> int:
    rows = session.execute(
        select(Interaction.id, Interaction.subject, Interaction.variables, Interaction.external_id).where(
            Interaction.id.in_(ids)
        )
    )
    updates: list[dict[str, Any]] = []
    replaced = 0
    for iid, subject, variables, external_id in rows:
        count = 0
        new_subject = subject
        if subject:
            new_subject, n = sweep.replace(iid, subject)
            count += n
        new_external_id = external_id
        written = external_id_text(external_id)
        if sweep.external_ids is not None and written and not written.startswith(ERASED_EXTERNAL_ID):
            # An id cannot be rewritten in place (two ids could become one): it becomes its pseudonym.
            _, n = sweep.replace(iid, written)
            if n:
                count += n
                new_external_id = sweep.external_ids(written)
        new_variables = variables
        if variables:
            new_variables = {}
            for name, value in variables.items():
                if isinstance(value, str) and not sweep.replaces_whole(iid, name, value):
                    value, n = sweep.replace(iid, value)
                    count += n
                new_variables[name] = value
        if count:
            replaced += count
            updates.append(
                {"b_id": iid, "b_subject": new_subject, "b_variables": new_variables, "b_external_id": new_external_id}
            )
    if apply and updates:
        table = cast(Table, Interaction.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                subject=bindparam("b_subject"),
                variables=bindparam("b_variables"),
                external_id=bindparam("b_external_id"),
            ),
            updates,
        )
    return replaced


def mentioning(solution_id: str, keys: Sequence[str], before: datetime) -> ColumnElement[bool]:
    """Condition on Mention joined with Interaction: rows for ``keys`` in interactions started before ``before``."""
    return and_(
        Mention.solution_id == solution_id,
        Mention.key.in_(keys),
        Interaction.id == Mention.interaction_id,
        Interaction.started_at < before,
    )


def sweep_mentions(
    session: Session,
    keyring: MentionKeyring,
    solution_id: str,
    sweep: Sweep,
    *,
    before: datetime,
    skip: frozenset[str] = frozenset(),
    leave: Select[Any] | None = None,
    apply: bool = True,
) -> Swept:
    """Replace the identifiers wherever the index says they are mentioned, before ``before``.

    Only the interactions the index names are re-read, BATCH at a time in id order (so memory
    does not grow with how often the person is mentioned). With ``apply`` their index rows for
    these keys are deleted too; the index of interactions started later is left, like them.
    ``skip`` leaves some interactions out (the preview counts the person's own apart); ``leave``
    (a subquery of ids: held ones) leaves them out with their index rows, for a later sweep.
    Returns the occurrences replaced and attachments deleted.
    """
    keys = [keyring.key(solution_id, identifier) for identifier in sweep.identifiers]
    if sweep.attachments is not None:
        keys += sorted(sweep.attachments.known_keys - set(keys))
    replaced = Swept()
    if not keys:
        return replaced
    condition = mentioning(solution_id, keys, before)
    if leave is not None:
        condition = and_(condition, Mention.interaction_id.not_in(leave))
    last = ""
    while True:
        ids = list(
            session.scalars(
                select(Mention.interaction_id)
                .join(Interaction, Interaction.id == Mention.interaction_id)
                .where(condition, Mention.interaction_id > last)
                .group_by(Mention.interaction_id)
                .order_by(Mention.interaction_id)
                .limit(BATCH)
            )
        )
        if not ids:
            return replaced
        replaced.add(sweep_interactions(session, [i for i in ids if i not in skip], sweep, apply=apply))
        if apply:
            session.execute(
                delete(Mention)
                .where(Mention.solution_id == solution_id, Mention.key.in_(keys), Mention.interaction_id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        if len(ids) < BATCH:
            return replaced
        last = ids[-1]


@dataclass
class StoredTexts:
    """What one interaction holds that the mention index reads, as it is stored now."""

    customer: tuple[str | None, str | None] = (None, None)  # E.164 and address
    # The subject, the variables' values, chat messages and transcript segments.
    texts: list[str] = field(default_factory=list)
    # An email's body, HTML and header values: read apart, as its row keeps the keys of what they write.
    email: list[str | None] | None = None

    def all(self) -> list[str | None]:
        return [*self.texts, *(self.email or ())]


def stored_texts(session: Session, ids: Sequence[str]) -> dict[str, StoredTexts]:
    """``StoredTexts`` of each of ``ids`` (at most a chunk of them): what ingest indexed, read back.

    The one reading of "what an interaction writes" after ingest: re-indexing builds the index
    from it, and a restore drill learns erased identifiers back from it. Attachments are not in it:
    their files are not read again; their rows keep the keys of what they write.
    """
    stored = {iid: StoredTexts() for iid in ids}
    for iid, subject, variables, phone, email, external_id in session.execute(
        select(
            Interaction.id,
            Interaction.subject,
            Interaction.variables,
            Interaction.customer_phone_e164,
            Interaction.customer_email_norm,
            Interaction.external_id,
        ).where(Interaction.id.in_(ids))
    ):
        stored[iid].customer = (phone, email)
        stored[iid].texts.extend([subject or "", *texts_of(variables), external_id_text(external_id) or ""])
    for iid, text in session.execute(
        select(ChatMessage.interaction_id, ChatMessage.text).where(ChatMessage.interaction_id.in_(ids))
    ):
        stored[iid].texts.append(text)
    for iid, text in session.execute(
        select(TranscriptSegment.interaction_id, TranscriptSegment.text).where(
            TranscriptSegment.interaction_id.in_(ids)
        )
    ):
        stored[iid].texts.append(text)
    for iid, body, html_text, headers in session.execute(
        select(EmailBody.interaction_id, EmailBody.body, EmailBody.html, EmailBody.headers).where(
            EmailBody.interaction_id.in_(ids)
        )
    ):
        stored[iid].email = [body, html_text, *texts_of(headers)]
    return stored


def reindex_interactions(
    session: Session, keyring: MentionKeyring, solution_id: str, country: str, interaction_ids: Sequence[str]
) -> None:
    """Rebuild the index rows of ``interaction_ids`` from the customer and text they hold now.

    For after an erasure that rewrote or deleted text wholesale (*Anonymize and delete*): what
    is gone leaves the index, what remains (another person's number in a subject) stays findable.
    """
    for start in range(0, len(interaction_ids), BATCH):
        ids = list(interaction_ids[start : start + BATCH])
        session.execute(
            delete(Mention).where(Mention.interaction_id.in_(ids)).execution_options(synchronize_session=False)
        )
        stored = stored_texts(session, ids)
        email_rows: list[dict[str, Any]] = []
        in_emails: dict[str, set[tuple[MentionKind, str]]] = {}
        for iid, held in stored.items():
            if held.email is not None:
                written = identifiers_in(held.email, country)
                in_emails[iid] = written
                email_rows.append({"b_id": iid, "b_keys": email_keys(keyring, solution_id, written)})
        if email_rows:
            table = cast(Table, EmailBody.__table__)
            by_id = table.c.interaction_id == bindparam("b_id")
            session.execute(update(table).where(by_id).values(mention_keys=bindparam("b_keys")), email_rows)
        rows = [
            row
            for iid, held in stored.items()
            for row in mention_rows(
                keyring,
                solution_id,
                iid,
                indexed_identifiers(held.texts, country, *held.customer) | in_emails.get(iid, set()),
            )
        ]
        # Attachments keep the keys of what they write (their files are not read again here); their
        # names are read, as ingest reads them (rows made before it did gain those keys).
        indexed = {(row["interaction_id"], row["key"]) for row in rows}
        renamed: list[dict[str, Any]] = []
        for iid, seq, filename, kept in session.execute(
            select(
                EmailAttachment.interaction_id,
                EmailAttachment.seq,
                EmailAttachment.filename,
                EmailAttachment.mention_keys,
            ).where(EmailAttachment.interaction_id.in_(ids))
        ):
            named = {
                keyring.key(solution_id, value): kind.value
                for kind, value in identifiers_in([attachment_name_text(filename)], country)
            }
            keys = dict(sorted({**(kept or {}), **named}.items()))
            if keys != (kept or {}):
                renamed.append({"a_id": iid, "a_seq": seq, "a_keys": keys})
            for key, kind in keys.items():
                if (iid, key) not in indexed:
                    indexed.add((iid, key))
                    rows.append(
                        {"solution_id": solution_id, "interaction_id": iid, "key": key, "kind": MentionKind(kind)}
                    )
        if renamed:
            table = cast(Table, EmailAttachment.__table__)
            one = (table.c.interaction_id == bindparam("a_id")) & (table.c.seq == bindparam("a_seq"))
            session.execute(update(table).where(one).values(mention_keys=bindparam("a_keys")), renamed)
        if rows:
            session.execute(insert(Mention), rows)


REINDEX_BATCH = 2_000


def reindex_solution(
    factory: sessionmaker[Session],
    keyring: MentionKeyring,
    solution_id: str,
    country: str,
    progress: Callable[[int], None] = lambda _: None,
) -> int:
    """Rebuild the whole mention index of a solution; returns how many interactions were read.

    For an archive ingested before the index existed, indexed by an older scanner, or after
    the server secret (and so the index key) changed. One transaction per batch, walking the
    ids in order, so it runs in bounded memory and can be stopped and run again; the last one
    records that the index is this scanner's.
    """
    done = 0
    after = ""
    while True:
        with factory() as session, session.begin():
            ids = list(
                session.scalars(
                    select(Interaction.id)
                    .where(Interaction.solution_id == solution_id, Interaction.id > after)
                    .order_by(Interaction.id)
                    .limit(REINDEX_BATCH)
                )
            )
            if not ids:
                # The whole index is now this scanner's reading.
                session.execute(
                    update(Solution)
                    .where(Solution.id == solution_id)
                    .values(mention_scanner_version=SCANNER_VERSION)
                    .execution_options(synchronize_session=False)
                )
                return done
            reindex_interactions(session, keyring, solution_id, country, ids)
        done += len(ids)
        after = ids[-1]
        progress(len(ids))


def index_is_current(session: Session, solution_id: str) -> bool:
    """Whether the solution's mention index was built by this scanner (else it may miss forms)."""
    version = session.scalar(select(Solution.mention_scanner_version).where(Solution.id == solution_id))
    return version is not None and version >= SCANNER_VERSION
