"""``summary.html``: the subject access export as a letter a person can read (CONTRACT §19, GDPR Art. 15).

What is held, per channel and as a list in the solution's local time; how many interactions were
anonymized already; and the items of Art. 15 (1) the person is owed — purposes, recipients,
retention in plain words, the source, and their rights — from the solution's settings and
retention rules. In Norwegian for a solution in Norway, in English elsewhere. Self-contained
(no script, no remote load), every value escaped; written as a stream, so a person with
thousands of interactions costs no more memory than one with ten.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from archivist.archive.models import Channel, Direction
from archivist.retention.models import RetentionWhat

# The supervisory authority a person may complain to, by country (Art. 15 (1)(f), Art. 77).
_AUTHORITY = {"NO": "Datatilsynet (datatilsynet.no)"}


@dataclass(frozen=True)
class HeldItem:
    """One interaction of the person's, as the letter lists it."""

    started_at: datetime
    channel: Channel
    direction: Direction
    queue: str | None
    has_recording: bool


@dataclass(frozen=True)
class RuleWords:
    """A retention rule, as the letter states it."""

    what: RetentionWhat
    channel: Channel | None
    queue: str | None
    keep_days: int


@dataclass(frozen=True)
class LetterFacts:
    solution_name: str
    country: str
    timezone: str
    created_at: datetime
    phone: str | None
    email: str | None
    calls: int
    chats: int
    emails: int
    recordings: int
    raw_data_rows: int
    mentioned_in: int
    anonymized: int
    anonymized_last_at: datetime | None
    purposes: str
    recipients: str
    source: str
    rules: Sequence[RuleWords]


_EN = {
    "lang": "en",
    "title": "Your data at {name}",
    "intro": "This letter answers your request for access to the personal data {name} holds about you "
    "(GDPR Article 15). It was made on {date} for {who}.",
    "and": " and ",
    "phone": "phone number {0}",
    "email": "email address {0}",
    "held": "What we hold",
    "counts": "{calls} calls, {chats} chats and {emails} emails; {recordings} recordings; {raw} rows of "
    "statistics raw data.",
    "mentions": "You are also mentioned in {0} conversations of other people. Those are listed in "
    "interactions.json by time and channel only, as their content is the other people's data.",
    "anonymized": "{0} more of your conversations were anonymized at your or another request, last on {1}: "
    "they hold none of your data any more, so they are not listed here.",
    "none": "We hold no conversation of yours.",
    "list": "Your conversations",
    "when": "When",
    "channel": "Channel",
    "direction": "Direction",
    "queue": "Queue",
    "recording": "Recording",
    "yes": "yes",
    "no": "no",
    "channels": {"call": "call", "chat": "chat", "email": "email"},
    "directions": {"inbound": "from you", "outbound": "to you"},
    "purposes": "Why we process your data",
    "recipients": "Who receives it",
    "source": "Where it comes from",
    "retention": "How long we keep it",
    "unset": "Not stated by the contact centre; ask it directly.",
    "no_rules": "No fixed period is set: the data is kept until it is deleted on request or by hand.",
    "rule": "{what} {scope} are deleted {days} days after the conversation.",
    "what": {
        "recording": "Recordings",
        "content": "Chat logs, email texts and transcripts",
        "interaction": "Whole conversations",
        "raw_data": "Statistics raw data rows",
    },
    "scope_all": "of all conversations",
    "scope_channel": "of {0}s",
    "scope_queue": "in the queue {0}",
    "scope_both": "of {0}s in the queue {1}",
    "rights": "Your rights",
    "rights_text": "You may ask for your data to be corrected or erased, for its processing to be restricted, "
    "and object to it. You may complain to the data protection authority{authority}.",
    "files": "The other files of this export hold the same data for machines: interactions.json, raw_data.csv, "
    "the recordings and attachments, and manifest.json with each file's SHA-256.",
    "times": "Times are local time ({0}).",
}

_NB = {
    "lang": "nb",
    "title": "Dine opplysninger hos {name}",
    "intro": "Dette brevet svarer på din forespørsel om innsyn i personopplysningene {name} har om deg "
    "(personvernforordningen artikkel 15). Det ble laget {date} for {who}.",
    "and": " og ",
    "phone": "telefonnummer {0}",
    "email": "e-postadresse {0}",
    "held": "Dette har vi",
    "counts": "{calls} samtaler, {chats} chatter og {emails} e-poster; {recordings} opptak; {raw} rader med "
    "rådata for statistikk.",
    "mentions": "Du er også nevnt i {0} samtaler med andre personer. De står i interactions.json med bare "
    "tidspunkt og kanal, fordi innholdet er de andres opplysninger.",
    "anonymized": "{0} av samtalene dine er allerede anonymisert etter forespørsel, sist {1}: de inneholder "
    "ingen opplysninger om deg lenger og er derfor ikke med her.",
    "none": "Vi har ingen samtaler med deg.",
    "list": "Samtalene dine",
    "when": "Tidspunkt",
    "channel": "Kanal",
    "direction": "Retning",
    "queue": "Kø",
    "recording": "Opptak",
    "yes": "ja",
    "no": "nei",
    "channels": {"call": "samtale", "chat": "chat", "email": "e-post"},
    "directions": {"inbound": "fra deg", "outbound": "til deg"},
    "purposes": "Hvorfor vi behandler opplysningene",
    "recipients": "Hvem som mottar dem",
    "source": "Hvor opplysningene kommer fra",
    "retention": "Hvor lenge vi lagrer dem",
    "unset": "Ikke oppgitt av kundesenteret; spør kundesenteret direkte.",
    "no_rules": "Det er ikke satt noen fast lagringstid: opplysningene lagres til de slettes etter "
    "forespørsel eller manuelt.",
    "rule": "{what} {scope} slettes {days} dager etter samtalen.",
    "what": {
        "recording": "Opptak",
        "content": "Chatlogger, e-posttekster og transkripsjoner",
        "interaction": "Hele samtaler",
        "raw_data": "Rader med rådata for statistikk",
    },
    "scope_all": "fra alle samtaler",
    "scope_channel": "fra kanalen {0}",
    "scope_queue": "i køen {0}",
    "scope_both": "fra kanalen {0} i køen {1}",
    "rights": "Dine rettigheter",
    "rights_text": "Du kan be om at opplysningene rettes eller slettes, at behandlingen begrenses, og du kan "
    "protestere mot behandlingen. Du kan klage til tilsynsmyndigheten{authority}.",
    "files": "De andre filene i eksporten har de samme opplysningene i maskinlesbar form: interactions.json, "
    "raw_data.csv, opptakene og vedleggene, og manifest.json med SHA-256 for hver fil.",
    "times": "Tidspunktene er lokal tid ({0}).",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5;"
    "color:#1a1a1a}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;"
    "border-bottom:1px solid #ddd}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}"
    "@media print{body{margin:0}}"
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _local(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _rule_sentence(rule: RuleWords, words: dict[str, object]) -> str:
    channels = words["channels"]
    assert isinstance(channels, dict)
    channel = channels[rule.channel.value] if rule.channel is not None else None
    if channel and rule.queue:
        scope = str(words["scope_both"]).format(channel, rule.queue)
    elif channel:
        scope = str(words["scope_channel"]).format(channel)
    elif rule.queue:
        scope = str(words["scope_queue"]).format(rule.queue)
    else:
        scope = str(words["scope_all"])
    what = words["what"]
    assert isinstance(what, dict)
    return str(words["rule"]).format(what=what[rule.what.value], scope=scope, days=rule.keep_days)


def _paragraph(text: str, unset: str) -> str:
    if not text.strip():
        return f"<p><em>{_e(unset)}</em></p>"
    return "".join(f"<p>{_e(line)}</p>" for line in text.strip().splitlines() if line.strip())


def letter(facts: LetterFacts, items: Iterable[HeldItem]) -> Iterator[bytes]:
    """The letter, in chunks: the head, one table row per item as ``items`` yields them, the rest."""
    words: dict[str, object] = dict(_NB if facts.country.upper() == "NO" else _EN)
    w = {k: v for k, v in words.items() if isinstance(v, str)}
    channels = words["channels"]
    directions = words["directions"]
    assert isinstance(channels, dict)
    assert isinstance(directions, dict)
    who = w["and"].join(
        [w["phone"].format(facts.phone)] * bool(facts.phone) + [w["email"].format(facts.email)] * bool(facts.email)
    )
    title = w["title"].format(name=facts.solution_name)
    total = facts.calls + facts.chats + facts.emails
    intro = w["intro"].format(name=facts.solution_name, date=_local(facts.created_at, facts.timezone), who=who)
    counts = w["counts"].format(
        calls=facts.calls,
        chats=facts.chats,
        emails=facts.emails,
        recordings=facts.recordings,
        raw=facts.raw_data_rows,
    )
    head = [
        f'<!doctype html><html lang="{w["lang"]}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{_e(intro)}</p>",
        f"<h2>{_e(w['held'])}</h2>",
        f"<p>{_e(counts)}</p>",
    ]
    if facts.mentioned_in:
        head.append(f"<p>{_e(w['mentions'].format(facts.mentioned_in))}</p>")
    if facts.anonymized and facts.anonymized_last_at is not None:
        last = _local(facts.anonymized_last_at, facts.timezone)
        head.append(f"<p>{_e(w['anonymized'].format(facts.anonymized, last))}</p>")
    yield "".join(head).encode()
    if total:
        columns = (w["when"], w["channel"], w["direction"], w["queue"], w["recording"])
        yield (
            f"<h2>{_e(w['list'])}</h2><p>{_e(w['times'].format(facts.timezone))}</p><table><thead><tr>"
            + "".join(f'<th scope="col">{_e(c)}</th>' for c in columns)
            + "</tr></thead><tbody>"
        ).encode()
        for item in items:
            cells = (
                _local(item.started_at, facts.timezone),
                channels[item.channel.value],
                directions[item.direction.value],
                item.queue or "",
                w["yes"] if item.has_recording else w["no"],
            )
            yield ("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>").encode()
        yield b"</tbody></table>"
    else:
        yield f"<p>{_e(w['none'])}</p>".encode()
    rules = [_rule_sentence(rule, words) for rule in facts.rules] or [w["no_rules"]]
    authority = _AUTHORITY.get(facts.country.upper())
    tail = [
        f"<h2>{_e(w['purposes'])}</h2>{_paragraph(facts.purposes, w['unset'])}",
        f"<h2>{_e(w['recipients'])}</h2>{_paragraph(facts.recipients, w['unset'])}",
        f"<h2>{_e(w['retention'])}</h2><ul>" + "".join(f"<li>{_e(r)}</li>" for r in rules) + "</ul>",
        f"<h2>{_e(w['source'])}</h2>{_paragraph(facts.source, w['unset'])}",
        f"<h2>{_e(w['rights'])}</h2>"
        f"<p>{_e(w['rights_text'].format(authority=f', {authority}' if authority else ''))}</p>",
        f"<p>{_e(w['files'])}</p></body></html>\n",
    ]
    yield "".join(tail).encode()
