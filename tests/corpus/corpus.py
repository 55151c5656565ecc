"""A deterministic corpus of chats and emails with ground truth: who is mentioned where, in which form.

For the mention tests and ``bench.mentions``: Norwegian and English texts that write people's
phone numbers in every form the scanner must find (national groupings, ``+47``/``0047``/
``(+47)``/``47…``, foreign numbers internationally and in their own national form) and email
addresses in any case, between distractors that share digits with them (order numbers, dates,
amounts, postcodes, the company's own number). Each text field carries the exact spans of the
true mentions, so recall and precision are measured per occurrence, not guessed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers

# The company's own switchboard: written in texts, never anybody's request.
COMPANY_NUMBER = "+4722334455"
COMPANY_FORMS = ("22 33 44 55", "+47 22 33 44 55", "22334455")

# Foreign numbers the corpus uses, with the national trunk their owners write.
_FOREIGN = {"SE": 0.06, "GB": 0.03, "DE": 0.03, "DK": 0.03}

_FIRST = ("Kari", "Ola", "Ingrid", "Lars", "Sofie", "Jonas", "Emma", "Henrik", "Nora", "Magnus", "Anna", "Per")
_LAST = ("Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Dahl", "Lie", "Smith", "Karlsson")


@dataclass(frozen=True)
class Person:
    name: str
    phone: str  # E.164
    email: str  # normalised (lower case)


@dataclass
class Field:
    """One text of a document, and where in it each true mention stands."""

    text: str = ""
    # (start, end, identifier): identifier is an E.164 number or a lower-case address.
    mentions: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, piece: str, identifier: str | None = None) -> None:
        if identifier is not None:
            self.mentions.append((len(self.text), len(self.text) + len(piece), identifier))
        self.text += piece


@dataclass
class Document:
    """An interaction in the API's shape, with the ground truth of each of its texts."""

    body: dict[str, Any]
    customer: Person
    # "message:3", "subject", "body", "variable:callback" -> the field.
    fields: dict[str, Field]

    def identifiers(self) -> set[str]:
        return {ident for f in self.fields.values() for _, _, ident in f.mentions}


@dataclass
class Corpus:
    country: str
    people: list[Person]
    documents: list[Document]


# ---------------------------------------------------------------------------------------------
# Numbers and their written forms
# ---------------------------------------------------------------------------------------------


def _valid_number(rng: random.Random, region: str, national: Callable[[random.Random], str]) -> str:
    while True:
        number = phonenumbers.parse(national(rng), region)
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_NATIONAL = {
    "NO": lambda r: r.choice("49") + "".join(r.choice("0123456789") for _ in range(7)),
    "SE": lambda r: "07" + r.choice("0236") + "".join(r.choice("0123456789") for _ in range(7)),
    "GB": lambda r: "074" + "".join(r.choice("0123456789") for _ in range(8)),
    "DE": lambda r: "0151" + "".join(r.choice("0123456789") for _ in range(8)),
    "DK": lambda r: r.choice("2345") + "".join(r.choice("0123456789") for _ in range(7)),
}


def phone_forms(e164: str, home: str = "NO") -> list[str]:
    """How people write the number in a text of a ``home`` solution: every form the scanner must find."""
    number = phonenumbers.parse(e164, None)
    cc = str(number.country_code)
    nsn = phonenumbers.national_significant_number(number)
    region = phonenumbers.region_code_for_number(number)
    if region == home:
        d = nsn
        g323 = f"{d[:3]} {d[3:5]} {d[5:]}"
        return [
            d,
            g323,
            f"{d[:2]} {d[2:4]} {d[4:6]} {d[6:]}",
            f"{d[:3]}-{d[3:5]}-{d[5:]}",
            f"{d[:4]} {d[4:]}",
            f"{d[:3]}.{d[3:5]}.{d[5:]}",
            f"+{cc} {g323}",
            f"00{cc} {d}",
            f"(+{cc}) {d}",
            f"+{cc}-{d[:3]}-{d[3:5]}-{d[5:]}",
            f"{cc}{d}",
            f"+{cc}{d}",
        ]
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    forms = [international, "00" + international[1:], f"+{cc}{nsn}"]
    if region != "DK":
        # A Danish national number cannot be told from a Norwegian one: nobody could find it.
        forms.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    return forms


def email_forms(address: str) -> list[str]:
    local, _, domain = address.partition("@")
    return [address, address.upper(), f"{local.title()}@{domain.title()}", f"{local}@{domain.upper()}"]


# ---------------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------------


def _distractor(rng: random.Random, people: list[Person]) -> str:
    """Something with digits that is nobody's number here, often sharing digits with one."""
    digits = phonenumbers.national_significant_number(phonenumbers.parse(rng.choice(people).phone, None))
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.choice((2023, 2024, 2025))
    choices = [
        f"ordrenummer {digits}{rng.randint(10, 99)}",
        f"order no. {rng.randint(1, 9)}{digits}",
        f"ref {rng.randint(10, 99)}-{digits}",
        f"sak {digits}-{rng.randint(1, 9):02d}",
        f"{day:02d}.{month:02d}.{year}",
        f"{year}-{month:02d}-{day:02d}",
        f"{month:02d}/{day:02d}/{year}",
        f"kr {rng.randint(1, 99)} {rng.randint(100, 999)},00",
        f"NOK {rng.randint(100, 9999)}",
        f"{rng.choice(('0150 Oslo', '5003 Bergen', '7010 Trondheim', '9008 Tromsø'))}",
        f"kl. {rng.randint(8, 20)}.{rng.choice(('00', '15', '30', '45'))}",
        f"kundenummer {digits[:5]}",
        f"faktura {digits}{digits[:3]}",
    ]
    return rng.choice(choices)


_NO_OPENERS = ("Hei!", "Hei, jeg lurer på en ting.", "God dag.", "Hallo, takk for sist.")
_EN_OPENERS = ("Hi there.", "Hello, quick question.", "Good morning.", "Hi, thanks for getting back to me.")
_NO_OWN = ("Du kan ringe meg på {x}.", "Mitt nummer er {x}", "Nytt nummer: {x} (mobil)", "Send SMS til {x}, takk")
_EN_OWN = ("You can call me on {x}.", "My number is {x}", "New number: {x} (mobile)", "Text me at {x} please")
_NO_OTHER = (
    "Du kan også nå mannen min på {x}.",
    "Datteren min har {x}, ring henne om jeg ikke svarer.",
    "Naboen ({x}) tar imot pakken.",
)
_EN_OTHER = (
    "You can reach my husband on {x}.",
    "My daughter's number is {x} if I don't pick up.",
    "The neighbour ({x}) will take the parcel.",
)
_NO_MAIL = ("Svar gjerne til {x}.", "E-post: {x}", "Kopi til {x}, takk.")
_EN_MAIL = ("Please reply to {x}.", "Email: {x}", "Copy {x} on the reply, thanks.")
_NO_FILLER = ("Gjelder {d}.", "Jeg viser til {d}.", "Se {d}.", "Pakken kom ikke ({d}).")
_EN_FILLER = ("About {d}.", "Regarding {d}.", "See {d}.", "The parcel never arrived ({d}).")
_NO_COMPANY = ("Jeg ringte {x} i går.", "Sentralbordet {x} svarte ikke.")
_EN_COMPANY = ("I called {x} yesterday.", "Your switchboard {x} did not answer.")


def _sentence(f: Field, template: str, piece: str, identifier: str | None) -> None:
    before, _, after = template.partition("{x}")
    f.add(before)
    f.add(piece, identifier)
    f.add(after)


class _Writer:
    def __init__(self, rng: random.Random, people: list[Person], home: str) -> None:
        self.rng, self.people, self.home = rng, people, home

    def text(self, own: Person, english: bool, *, lines: int) -> Field:
        rng = self.rng
        f = Field()
        f.add(rng.choice(_EN_OPENERS if english else _NO_OPENERS))
        for _ in range(lines):
            f.add(" ")
            roll = rng.random()
            if roll < 0.25:
                _sentence(f, rng.choice(_EN_OWN if english else _NO_OWN), *self.phone(own))
            elif roll < 0.40:
                other = rng.choice(self.people)
                _sentence(f, rng.choice(_EN_OTHER if english else _NO_OTHER), *self.phone(other))
            elif roll < 0.55:
                who = own if rng.random() < 0.6 else rng.choice(self.people)
                _sentence(
                    f, rng.choice(_EN_MAIL if english else _NO_MAIL), rng.choice(email_forms(who.email)), who.email
                )
            elif roll < 0.62:
                _sentence(f, rng.choice(_EN_COMPANY if english else _NO_COMPANY), rng.choice(COMPANY_FORMS), None)
            else:
                template = rng.choice(_EN_FILLER if english else _NO_FILLER)
                f.add(template.replace("{d}", _distractor(rng, self.people)))
        return f

    def phone(self, person: Person) -> tuple[str, str]:
        return self.rng.choice(phone_forms(person.phone, self.home)), person.phone


def generate_corpus(
    people: int, documents: int, *, seed: int = 1, country: str = "NO", domain: str = "example.no"
) -> Corpus:
    """``documents`` chats and emails (half each) by and about ``people`` persons; deterministic per seed.

    Two corpora meant to hold different people need different ``domain``s (addresses are
    numbered from 0 in each) and seeds.
    """
    rng = random.Random(seed)
    persons: list[Person] = []
    seen: set[str] = {COMPANY_NUMBER}
    while len(persons) < people:
        roll = rng.random()
        region = country
        for foreign, share in _FOREIGN.items():
            if roll < share:
                region = foreign
                break
            roll -= share
        phone = _valid_number(rng, region, _NATIONAL[region])
        if phone in seen:
            continue
        seen.add(phone)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        persons.append(Person(f"{first} {last}", phone, f"{first}.{last}{len(persons)}@{domain}".lower()))
    return Corpus(country, persons, list(_documents(rng, persons, documents, country)))


def _documents(rng: random.Random, people: list[Person], n: int, country: str) -> Iterator[Document]:
    writer = _Writer(rng, people, country)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(n):
        own = rng.choice(people)
        english = rng.random() < 0.4
        at = start + timedelta(minutes=7 * index)
        fields: dict[str, Field] = {}
        body: dict[str, Any] = {
            "direction": "inbound",
            "started_at": at.isoformat(),
            "external_id": f"corpus-{index}",
            "customer": {"name": own.name},
        }
        variables: dict[str, str] = {}
        if rng.random() < 0.3:
            f = Field()
            f.add(*writer.phone(own))
            fields["variable:callback"] = f
            variables["callback"] = f.text
        if rng.random() < 0.2:
            variables["order"] = _distractor(rng, people)
            fields["variable:order"] = Field(variables["order"])
        if index % 2 == 0:
            body["channel"] = "chat"
            body["customer"]["phone"] = phonenumbers.format_number(
                phonenumbers.parse(own.phone, None), phonenumbers.PhoneNumberFormat.E164
            )
            messages = []
            for seq in range(rng.randint(2, 6)):
                sender = "customer" if seq % 2 == 0 else "agent"
                f = writer.text(own, english, lines=rng.randint(0, 2))
                fields[f"message:{seq}"] = f
                messages.append({"at": (at + timedelta(seconds=30 * seq)).isoformat(), "from": sender, "text": f.text})
            body["messages"] = messages
        else:
            body["channel"] = "email"
            body["customer"]["email"] = own.email
            subject = Field()
            subject.add("Re: ")
            if rng.random() < 0.3:
                subject.add("ring meg " if not english else "call me ")
                subject.add(*writer.phone(own))
            else:
                subject.add(_distractor(rng, people))
            fields["subject"] = subject
            fields["body"] = writer.text(own, english, lines=rng.randint(1, 5))
            body["subject"] = subject.text
            body["body"] = fields["body"].text
        if variables:
            body["variables"] = variables
        yield Document(body=body, customer=own, fields=fields)


@dataclass
class Score:
    """Occurrences of requested identifiers: found at exactly their span, missed, or wrongly taken."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def recall(self) -> float:
        found = self.true_positives + self.false_negatives
        return self.true_positives / found if found else 1.0

    @property
    def precision(self) -> float:
        taken = self.true_positives + self.false_positives
        return self.true_positives / taken if taken else 1.0


def evaluate(corpus: Corpus) -> Score:
    """Recall and precision of ``identifier_spans`` with every person of the corpus as a request.

    For each text and each person it mentions or might be taken to mention, the spans erasure
    would replace are compared with the true spans: exact matches count, anything else is a miss
    or a wrong replacement (another person's number, an order number, a date).
    """
    from archivist.identifiers_text import find_emails, find_phones, identifier_spans

    requested = {p.phone for p in corpus.people} | {p.email for p in corpus.people}
    score = Score()
    for document in corpus.documents:
        for f in document.fields.values():
            truth: dict[str, set[tuple[int, int]]] = {}
            for start, end, identifier in f.mentions:
                truth.setdefault(identifier, set()).add((start, end))
            seen = {e for _, _, e in find_phones(f.text, corpus.country)} | {a for _, _, a in find_emails(f.text)}
            for identifier in (seen & requested) | set(truth):
                predicted = set(identifier_spans(f.text, (identifier,), corpus.country))
                true = truth.get(identifier, set())
                score.true_positives += len(predicted & true)
                score.false_positives += len(predicted - true)
                score.false_negatives += len(true - predicted)
    return score
