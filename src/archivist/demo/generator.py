"""Deterministic synthetic interactions for a Norwegian contact centre.

``generate(n, seed, start, days)`` yields ``n`` JSON-ready interaction
bodies in the shape the ingestion API accepts (plus ``recording_seconds``,
which the demo loader pops to decide how long a WAV to attach).

The fictional company is an insurer, *Nordvik Forsikring*, with four queues
(Sales, Support, Billing, Claims). What the data is meant to exercise:

* Channel mix ~60 % calls, 25 % chats, 15 % emails; mostly inbound.
* Customers come from a Zipf-weighted pool of repeat contacts plus one-off
  contacts, so a few people call, chat and write many times — the demo for
  "find everything about this person" and erasure.
* Call ``customer.phone`` is what a telephony platform sends: E.164 Norwegian
  mobiles (``+47`` + 8 digits starting 4 or 9), some landlines, ~5 % foreign
  (SE, DK, DE, UK), ~3 % ``"anonymous"`` and ~1 % ``"unknown"`` (withheld).
* Personal data also hides in free text and IVR variables: chat messages with
  "ring meg på 912 34 567", email signatures, ``callback_number`` typed in
  the IVR (E.164 or as 8 bare digits), email addresses in mixed case.
* Times are weighted to office hours in Europe/Oslo, yielded in
  chronological order, and rendered as ISO-8601 with the Oslo offset
  (``+01:00`` or ``+02:00``) to whole seconds.

Email addresses use reserved example domains (RFC 2606) so no real mailbox
is named; phone numbers are random digits in realistic ranges.

Everything comes from one ``random.Random`` seeded from ``seed``: the same
``(n, seed, start, days)`` always gives identical output. Generation does
no I/O and runs well above 20 000 interactions per second.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

__all__ = [
    "CHANNEL_WEIGHTS",
    "EVENT_TYPES",
    "OSLO",
    "QUEUES",
    "Interaction",
    "generate",
]

Interaction = dict[str, Any]
"""One ingestion API body (JSON-ready) plus ``recording_seconds``."""

OSLO = ZoneInfo("Europe/Oslo")
_T = TypeVar("_T")

CHANNEL_WEIGHTS: dict[str, float] = {"call": 0.60, "chat": 0.25, "email": 0.15}
QUEUES: tuple[str, ...] = ("Sales", "Support", "Billing", "Claims")
EVENT_TYPES: frozenset[str] = frozenset({"offered", "queued", "answered", "abandoned", "hold", "transferred", "ended"})

_QUEUE_WEIGHTS = (0.20, 0.40, 0.25, 0.15)
_IVR_CHOICE = {"Sales": "1", "Support": "2", "Billing": "3", "Claims": "4"}
_SERVICE_NUMBERS = {  # what the customer dialled (fictional 800 numbers)
    "Sales": "+4780030010",
    "Support": "+4780030020",
    "Billing": "+4780030030",
    "Claims": "+4780030040",
}
_SWITCHBOARD = "+4722990000"  # main number, also the caller ID for outbound calls
_COMPANY = "Nordvik Forsikring"
_MAILBOX = {q: f"{q.lower()}@nordvik.example" for q in QUEUES}
_MAILBOX["Support"] = "kundeservice@nordvik.example"
_MAILBOX["Claims"] = "skade@nordvik.example"

# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

# fmt: off
_FIRST_F = (
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid",
    "Bjørg", "Hilde", "Anna", "Solveig", "Marianne", "Randi", "Ida", "Nina",
    "Maria", "Elisabeth", "Kristin", "Emma", "Nora", "Sofie", "Ingeborg", "Sara",
    "Thea", "Maja", "Silje", "Tone", "Hanne", "Camilla", "Ragnhild", "Åse",
    "Sigrid", "Anne-Lise", "Kari Anne", "Mari", "Tuva", "Linnea", "Fatima",
    "Agnieszka", "Aisha",
)
_FIRST_M = (
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein",
    "Thomas", "Hans", "Geir", "Tor", "Morten", "Terje", "Odd", "Erik", "Martin",
    "Andreas", "John", "Anders", "Rune", "Trond", "Tore", "Jon", "Harald",
    "Magnus", "Henrik", "Jakob", "Emil", "Ola", "Sindre", "Øyvind", "Håkon",
    "Ståle", "Espen", "Per-Erik", "Jon Arne", "Mohammed", "Piotr", "Ali",
)
_LAST = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
    "Kristiansen", "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen",
    "Berg", "Haugen", "Hagen", "Johannessen", "Andreassen", "Jacobsen", "Dahl",
    "Jørgensen", "Halvorsen", "Henriksen", "Lund", "Sørensen", "Jakobsen",
    "Moen", "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen", "Eide",
    "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen", "Mathisen",
    "Lie", "Amundsen", "Nguyen", "Rasmussen", "Ali", "Lunde", "Solheim",
    "Berge", "Moe", "Nygård", "Bakke", "Kristensen", "Fredriksen", "Holm",
    "Lien", "Hauge", "Nordmann", "Aas", "Myhre", "Ahmed", "Haugland",
    "Sæther", "Næss", "Ødegård", "Rønning", "Strøm", "Bøe", "Kowalski",
    "Birkeland", "Tveit", "Brekke", "Vik", "Haug", "Ruud", "Aune",
)
_EMAIL_DOMAINS = (  # RFC 2606 reserved names only, dressed up a little
    "example.com", "example.com", "example.com", "example.net", "example.org",
    "post.example.com", "online.example.net", "mail.example.org",
)
# fmt: on
_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "aa", " ": ".", "-": ""})

# --------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------

# Oslo (21-23) dominates; then Bergen, Trondheim, Stavanger and the rest
_LANDLINE_AREAS = ("22", "22", "22", "23", "21", "55", "73", "51", "38", "69", "33", "32", "64", "67", "75", "77")


def _ri(rng: random.Random, lo: int, hi: int) -> int:
    """Uniform int in [lo, hi]; a cheaper ``randint`` for the hot paths."""
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: random.Random, items: Sequence[str]) -> str:
    return items[int(rng.random() * len(items))]


def _no_mobile(rng: random.Random) -> str:
    return f"+47{'4999'[int(rng.random() * 4)]}{int(rng.random() * 10_000_000):07d}"


def _no_landline(rng: random.Random) -> str:
    return f"+47{_pick(rng, _LANDLINE_AREAS)}{int(rng.random() * 1_000_000):06d}"


def _foreign(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.40:  # Sweden, mobile: +46 7X XXX XX XX
        return f"+467{_pick(rng, '02369')}{int(rng.random() * 10_000_000):07d}"
    if r < 0.65:  # Denmark: +45 XXXX XXXX
        return f"+45{_pick(rng, '2345678')}{int(rng.random() * 10_000_000):07d}"
    if r < 0.85:  # Germany, mobile: +49 15X XXXXXXXX
        return f"+4915{_pick(rng, '1279')}{int(rng.random() * 100_000_000):08d}"
    return f"+447{_pick(rng, '45789')}{int(rng.random() * 100_000_000):08d}"  # UK mobile


def _new_phone(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.05:
        return _foreign(rng)
    if r < 0.14:
        return _no_landline(rng)
    return _no_mobile(rng)


def _spoken_phone(rng: random.Random, e164: str) -> str:
    """How a person writes their number in free text ("912 34 567")."""
    if not e164.startswith("+47") or len(e164) != 11:
        return e164 if rng.random() < 0.6 else f"{e164[:3]} {e164[3:]}"
    d = e164[3:]
    r = rng.random()
    # mobiles group 3-2-3, landlines 2-2-2-2
    grouped = f"{d[:3]} {d[3:5]} {d[5:]}" if d[0] in "49" else f"{d[:2]} {d[2:4]} {d[4:6]} {d[6:]}"
    if r < 0.45:
        return grouped
    if r < 0.70:
        return d
    if r < 0.85:
        return f"+47 {grouped}"
    return f"0047{d}"


def _typed_phone(rng: random.Random, e164: str) -> str:
    """A number keyed into an IVR or web form: E.164 or bare national digits."""
    if e164.startswith("+47") and rng.random() < 0.3:
        return e164[3:]
    return e164


# --------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------


class _Person:
    __slots__ = ("alt_phone", "customer_no", "email", "english", "first", "name", "phone")

    def __init__(self, rng: random.Random, customer_no: str | None) -> None:
        first = _pick(rng, _FIRST_F if rng.random() < 0.5 else _FIRST_M)
        last = _pick(rng, _LAST)
        self.first = first
        self.name = f"{first} {last}"
        self.phone = _new_phone(rng)
        self.alt_phone = _no_landline(rng) if rng.random() < 0.10 else None
        self.customer_no = customer_no
        self.english = self.phone[:3] != "+47" or rng.random() < 0.05
        fl, ll = first.lower().translate(_TRANSLIT), last.lower().translate(_TRANSLIT)
        r = rng.random()
        if r < 0.55:
            local = f"{fl}.{ll}"
        elif r < 0.70:
            local = f"{fl}{ll}"
        elif r < 0.80:
            local = f"{fl[0]}{ll}"
        elif r < 0.90:
            local = f"{fl}_{ll}"
        else:
            local = f"{fl}.{ll}{_ri(rng, 50, 99)}"
        self.email = f"{local}@{_pick(rng, _EMAIL_DOMAINS)}"


def _mixed_case(email: str) -> str:
    """``kari.nordmann@example.com`` -> ``Kari.Nordmann@Example.com``."""
    local, _, domain = email.partition("@")
    return f"{'.'.join(p.capitalize() for p in local.split('.'))}@{domain.capitalize()}"


class _Agent:
    __slots__ = ("first", "name", "queues")

    def __init__(self, name: str, queues: tuple[str, ...]) -> None:
        self.name = name
        self.first = name.split(" ")[0]
        self.queues = queues


def _make_agents(rng: random.Random) -> dict[str, list[_Agent]]:
    seen: set[str] = set()
    agents: list[_Agent] = []
    while len(agents) < 28:
        first = _pick(rng, _FIRST_F if rng.random() < 0.55 else _FIRST_M)
        name = f"{first} {_pick(rng, _LAST)}"
        if name in seen:
            continue
        seen.add(name)
        home = QUEUES[len(agents) % len(QUEUES)]
        extra = tuple(q for q in QUEUES if q != home and rng.random() < 0.25)
        agents.append(_Agent(name, (home, *extra)))
    return {q: [a for a in agents if q in a.queues] for q in QUEUES}


# --------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------

# Relative contact volume by local hour, Monday–Friday.
# fmt: off
_WEEKDAY_HOURS = (
    0.01, 0.005, 0.005, 0.005, 0.01, 0.02, 0.06, 0.30, 1.00, 1.40, 1.50, 1.35,
    1.10, 1.30, 1.25, 1.05, 0.70, 0.35, 0.20, 0.15, 0.10, 0.07, 0.04, 0.02,
)
# fmt: on
# Saturday: short opening hours, sparse; Sunday: emails and night owls only.
_SATURDAY_HOURS = tuple(w * 0.25 if 9 <= h < 16 else w * 0.08 for h, w in enumerate(_WEEKDAY_HOURS))
_SUNDAY_HOURS = tuple(w * 0.06 for w in _WEEKDAY_HOURS)
_DAY_HOURS = (_WEEKDAY_HOURS,) * 5 + (_SATURDAY_HOURS, _SUNDAY_HOURS)


class _Timeline:
    """Inverse CDF over [start, start + days) weighted by Oslo office hours."""

    def __init__(self, start: datetime, days: int) -> None:
        t0 = start.timestamp()
        end = t0 + days * 86_400.0
        starts: list[float] = []
        cum: list[float] = []
        total = 0.0
        t = t0
        while t < end:  # hour-long slots in absolute time: DST-safe
            local = datetime.fromtimestamp(t, OSLO)
            nxt = min(end, t + 3600.0 - (t % 3600.0))  # Oslo offsets are whole hours
            weight = _DAY_HOURS[local.weekday()][local.hour] * (nxt - t) / 3600.0
            starts.append(t)
            total += weight
            cum.append(total)
            t = nxt
        starts.append(end)
        self._starts = starts
        self._cum = [c / total for c in cum]
        self._cum[-1] = 1.0

    def at(self, x: float) -> float:
        """POSIX time for quantile ``x`` in [0, 1): monotone in ``x``."""
        cum = self._cum
        i = bisect.bisect_right(cum, x)
        if i >= len(cum):
            i = len(cum) - 1
        lo = cum[i - 1] if i else 0.0
        frac = (x - lo) / (cum[i] - lo) if cum[i] > lo else 0.0
        return self._starts[i] + frac * (self._starts[i + 1] - self._starts[i])


_MM_SS = tuple(f"{m:02d}:{s:02d}" for m in range(60) for s in range(60))


class _IsoClock:
    """POSIX seconds -> ISO-8601 in Oslo time, e.g. ``2025-03-03T09:15:07+01:00``.

    Same result as ``datetime.fromtimestamp(ts, OSLO).isoformat()`` for
    whole seconds, several times faster: Oslo's UTC offset is a whole
    number of hours and only changes on the hour, so the text up to the
    hour and the offset are cached per UTC hour and minutes:seconds come
    from a table.
    """

    __slots__ = ("_hours",)

    def __init__(self) -> None:
        self._hours: dict[int, tuple[str, str]] = {}

    def __call__(self, ts: int) -> str:
        hour = ts // 3600
        parts = self._hours.get(hour)
        if parts is None:
            text = datetime.fromtimestamp(hour * 3600, OSLO).isoformat()
            parts = self._hours[hour] = (text[:14], text[19:])  # "YYYY-MM-DDTHH:", "+01:00"
        return f"{parts[0]}{_MM_SS[ts - hour * 3600]}{parts[1]}"


def _office_hours(rng: random.Random, ts: int) -> int:
    """``ts`` if it falls in weekday office hours (08–16 Oslo), else a time
    early the next working morning: when an agent would pick up an email."""
    local = datetime.fromtimestamp(ts, OSLO)
    if local.weekday() < 5 and 8 <= local.hour < 16:
        return ts
    day = local.date() if local.hour < 8 else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    morning = datetime(day.year, day.month, day.day, 8, tzinfo=OSLO)
    return int(morning.timestamp()) + int(rng.random() * 5400)


# 1024 standard-normal quantiles: a table lookup is several times cheaper than
# random.gauss() and plenty for synthetic durations
_NORMAL_Z = tuple(NormalDist().inv_cdf((k + 0.5) / 1024) for k in range(1024))


def _lognormal(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    """Log-normal whole seconds around ``median``, clamped to [lo, hi]."""
    v = int(median * math.exp(sigma * _NORMAL_Z[int(rng.random() * 1024)]))
    return lo if v < lo else hi if v > hi else v


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------

_PRODUCTS_NB = ("bilforsikring", "innboforsikring", "husforsikring", "reiseforsikring", "båtforsikring")
_PRODUCTS_EN = ("car insurance", "contents insurance", "home insurance", "travel insurance", "boat insurance")

_CHAT_OPEN = {
    ("Sales", False): (
        "Hei, hva koster {product} hos dere?",
        "Hei! Jeg vurderer å flytte {product} til dere. Har dere tilbud?",
        "Hei, kan jeg få et pristilbud på {product}?",
    ),
    ("Support", False): (
        "Hei, jeg får ikke logget inn på Min side.",
        "Hei! Appen henger når jeg prøver å åpne forsikringsbeviset.",
        "Hei, jeg har flyttet og må endre adresse på avtalen.",
    ),
    ("Billing", False): (
        "Hei, fakturaen {invoice_no} er mye høyere enn vanlig?",
        "Hei, jeg har fått purring, men jeg betalte forrige uke.",
        "Kan jeg få utsatt betalingen av faktura {invoice_no}?",
    ),
    ("Claims", False): (
        "Hei, jeg vil melde en skade på bilen.",
        "Hei, hva er status på skadesak {claim_no}?",
        "Det har vært vannlekkasje på badet, hva gjør jeg nå?",
    ),
    ("Sales", True): ("Hi, how much is {product} with you?", "Hello, can I get a quote for {product}?"),
    ("Support", True): ("Hi, I can't log in to My page.", "Hello, I moved and need to update my address."),
    ("Billing", True): ("Hi, invoice {invoice_no} looks too high?", "Hi, I got a reminder but I already paid."),
    ("Claims", True): ("Hi, I need to report damage to my car.", "Hello, what is the status of claim {claim_no}?"),
}
_CHAT_CUSTOMER_MID = {
    False: (
        "Ok, takk.",
        "Det skjedde på fredag.",
        "Jeg har vært kunde hos dere i mange år.",
        "Hvor lang tid tar det?",
        "Skjønner. Må jeg sende noe dokumentasjon?",
        "Ja, det stemmer.",
        "Ok, jeg venter.",
    ),
    True: ("Ok, thanks.", "It happened on Friday.", "How long will it take?", "Yes, that's right.", "Ok, I'll wait."),
}
_CHAT_PII = {
    False: (
        "Kundenummeret mitt er {customer_no}.",
        "Du kan ringe meg på {phone_text} hvis det er enklere.",
        "ring meg på {phone_text}",
        "E-posten min er {email}",
        "Send det gjerne til {email}",
        "Nummeret mitt er {phone_text}, kundenr {customer_no}",
    ),
    True: (
        "My customer number is {customer_no}.",
        "You can call me on {phone_text}.",
        "My email is {email}",
    ),
}
_CHAT_AGENT_MID = {
    False: (
        "Hei {first}, takk for at du tar kontakt! Jeg skal se på det.",
        "Et øyeblikk, jeg sjekker saken din.",
        "Kan du bekrefte kundenummeret ditt?",
        "Jeg ser det her nå.",
        "Det skal være ordnet i løpet av et par dager.",
        "Jeg har registrert det, du får en bekreftelse på e-post.",
        "Er det noe mer jeg kan hjelpe med?",
    ),
    True: (
        "Hi {first}, thanks for contacting us! Let me have a look.",
        "One moment, I'm checking your case.",
        "Could you confirm your customer number?",
        "I've registered it, you'll get a confirmation by email.",
        "Anything else I can help with?",
    ),
}
_CHAT_CLOSE = {
    False: (
        ("Nei, det var alt. Takk for hjelpen!", "Bare hyggelig, ha en fin dag!"),
        ("Supert, takk!", "Ha en fin dag!"),
    ),
    True: (
        ("No, that's all. Thanks!", "You're welcome, have a nice day!"),
        ("Great, thanks!", "Have a nice day!"),
    ),
}
_CHAT_PAGES = {
    "Sales": ("/privat/forsikring/bil", "/privat/forsikring/innbo", "/privat/kjop"),
    "Support": ("/min-side", "/min-side/dokumenter", "/kontakt"),
    "Billing": ("/min-side/faktura", "/privat/betaling"),
    "Claims": ("/skade/meld-skade", "/skade/status"),
}


def _mail(subject: str, *lines: str) -> tuple[str, str]:
    return subject, "\n".join(lines)


_SIGN_OFF = ("", "Med vennlig hilsen", "{agent}", "{company}")
_EMAIL_IN = {
    ("Sales", False): (
        _mail(
            "Tilbud på {product}",
            "Hei,",
            "",
            "Jeg ønsker et tilbud på {product}. Jeg har i dag forsikring et annet sted, men den fornyes snart.",
            "",
            "Kan dere ringe meg?",
        ),
        _mail(
            "Spørsmål om priser",
            "Hei!",
            "",
            "Hva koster {product} for en familie på fire?",
            "Vi har allerede innbo hos dere.",
        ),
    ),
    ("Support", False): (
        _mail(
            "Endring av adresse",
            "Hei,",
            "",
            "Jeg har flyttet og ønsker å endre adressen på alle avtalene mine.",
            "Ny adresse er Storgata {house_no}, 0155 Oslo.",
        ),
        _mail(
            "Får ikke logget inn",
            "Hei.",
            "",
            "Jeg får ikke logget inn på Min side, det står bare «noe gikk galt».",
            "Har prøvd både mobil og PC.",
        ),
    ),
    ("Billing", False): (
        _mail(
            "Feil på faktura {invoice_no}",
            "Hei,",
            "",
            "Fakturaen jeg fikk i dag ({invoice_no}) er på kr {amount},-, det er mer enn avtalt.",
            "Kan dere se på dette?",
        ),
        _mail(
            "Purring",
            "Hei,",
            "",
            "Jeg har fått purring på en faktura som er betalt. Betalingen gikk {paid_date}.",
            "Vennligst fjern purregebyret.",
        ),
        _mail(
            "Oppsigelse",
            "Hei,",
            "",
            "Jeg ønsker å si opp {product} fra neste måned.",
            "Bekreft gjerne på e-post.",
        ),
    ),
    ("Claims", False): (
        _mail(
            "Skademelding",
            "Hei,",
            "",
            "Jeg vil melde en skade. Det har vært vannlekkasje fra oppvaskmaskinen og gulvet på kjøkkenet er ødelagt.",
            "Bilder er vedlagt.",
        ),
        _mail(
            "Re: Skadesak {claim_no}",
            "Hei igjen,",
            "",
            "Viser til skadesak {claim_no}. Jeg har ikke hørt noe på to uker.",
            "Når kan jeg forvente svar?",
        ),
    ),
    ("Sales", True): (
        _mail(
            "Quote for {product}", "Hello,", "", "I would like a quote for {product}.", "I moved to Norway recently."
        ),
    ),
    ("Support", True): (
        _mail("Cannot log in", "Hi,", "", "I cannot log in to My page. It just says 'something went wrong'."),
    ),
    ("Billing", True): (
        _mail(
            "Invoice {invoice_no}",
            "Hello,",
            "",
            "Invoice {invoice_no} is NOK {amount}, which is more than agreed.",
            "Please check.",
        ),
    ),
    ("Claims", True): (
        _mail(
            "Claim {claim_no}",
            "Hello,",
            "",
            "Regarding claim {claim_no}: is there any update?",
            "I sent the photos last week.",
        ),
    ),
}
_EMAIL_OUT = (
    _mail(
        "Bekreftelse: {subject_topic}",
        "Hei {first},",
        "",
        "Takk for henvendelsen. Vi bekrefter at saken er registrert.",
        "Saksnummer: {claim_no}",
        *_SIGN_OFF,
    ),
    _mail(
        "Ditt pristilbud på {product}",
        "Hei {first},",
        "",
        "Her er tilbudet på {product} som vi snakket om på telefon.",
        "Tilbudet gjelder i 30 dager.",
        *_SIGN_OFF,
    ),
    _mail(
        "Vi forsøkte å ringe deg",
        "Hei {first},",
        "",
        "Vi forsøkte å nå deg på {phone_text} angående faktura {invoice_no}.",
        "Ring oss gjerne på 800 30 030.",
        *_SIGN_OFF,
    ),
)
_SUBJECT_TOPIC = {"Sales": "tilbud", "Support": "endring", "Billing": "faktura", "Claims": "skademelding"}


# --------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------


def _as_oslo(start: datetime) -> datetime:
    if start.tzinfo is None or start.utcoffset() is None:
        return start.replace(tzinfo=OSLO)
    return start.astimezone(OSLO)


class _Fill(dict[str, str]):
    """Template values for one interaction, each drawn only when a template
    asks for it (``str.format_map`` calls ``__missing__``), so unused fields
    cost no random draws."""

    __slots__ = ("_person", "_queue", "_rng")

    def __init__(self, rng: random.Random, person: _Person, queue: str) -> None:
        super().__init__(email=person.email, first=person.first, company=_COMPANY)
        self._rng = rng
        self._person = person
        self._queue = queue

    def __missing__(self, key: str) -> str:
        rng = self._rng
        person = self._person
        if key == "product":
            value = _pick(rng, _PRODUCTS_EN if person.english else _PRODUCTS_NB)
        elif key == "invoice_no":
            value = str(_ri(rng, 10_000_000, 99_999_998))
        elif key == "claim_no":
            value = f"SK-{_ri(rng, 2023, 2026)}-{int(rng.random() * 1_000_000):06d}"
        elif key == "customer_no":
            value = person.customer_no or str(100_000 + int(rng.random() * 900_000))
        elif key == "phone_text":
            value = _spoken_phone(rng, person.phone)
        elif key == "amount":
            value = str(_ri(rng, 300, 8999))
        elif key == "house_no":
            value = str(_ri(rng, 1, 120))
        elif key == "paid_date":
            value = f"{_ri(rng, 1, 28)}.{_ri(rng, 1, 12)}"
        elif key == "subject_topic":
            value = _SUBJECT_TOPIC[self._queue]
        else:
            raise KeyError(key)
        self[key] = value
        return value


class _Generator:
    def __init__(self, n: int, seed: int, start: datetime, days: int) -> None:
        self.rng = rng = random.Random(seed)
        self.seed = seed
        self.n = n
        start = _as_oslo(start)
        self.first_ts = math.ceil(start.timestamp())
        self.timeline = _Timeline(start, days)
        self.agents = _make_agents(rng)
        self.iso = _IsoClock()
        # Repeat contacts: half of all interactions come from a pool picked
        # Zipf-like (weight 1/(rank+8)), so in 2 000 interactions the most
        # frequent person has a few dozen contacts and a long tail has 2–5.
        pool_size = max(30, n // 12)
        self.pool = [_Person(rng, str(100_000 + int(rng.random() * 900_000))) for _ in range(pool_size)]
        cum: list[float] = []
        total = 0.0
        for k in range(pool_size):
            total += 1.0 / (k + 8)
            cum.append(total)
        self.pool_cum = [c / total for c in cum]
        self.channel_cum = _cum(CHANNEL_WEIGHTS.values())
        self.channels = tuple(CHANNEL_WEIGHTS)
        self.queue_cum = _cum(_QUEUE_WEIGHTS)

    # -- small helpers ------------------------------------------------------

    def _choose(self, items: Sequence[_T], cum: list[float]) -> _T:
        i = bisect.bisect_right(cum, self.rng.random())
        return items[min(i, len(items) - 1)]

    def _person(self) -> tuple[_Person, bool]:
        rng = self.rng
        if rng.random() < 0.5:
            return self._choose(self.pool, self.pool_cum), True
        cno = str(100_000 + int(rng.random() * 900_000)) if rng.random() < 0.6 else None
        return _Person(rng, cno), False

    def _agent(self, queue: str, avoid: str | None = None) -> str:
        agents = self.agents[queue]
        i = int(self.rng.random() * len(agents))
        if agents[i].name == avoid:
            i = (i + 1) % len(agents)
        return agents[i].name

    def _fill(self, person: _Person, queue: str) -> _Fill:
        return _Fill(self.rng, person, queue)

    # -- channels -----------------------------------------------------------

    def _call(self, item: Interaction, t0: int, queue: str, person: _Person, known: bool) -> None:
        rng = self.rng
        iso = self.iso
        inbound = rng.random() < 0.85
        item["direction"] = "inbound" if inbound else "outbound"
        phone = person.alt_phone if person.alt_phone and rng.random() < 0.3 else person.phone
        events: list[dict[str, Any]] = []
        variables: dict[str, str] = {}
        agent: str | None = None
        recording: float | None = None
        if inbound:
            r = rng.random()
            withheld = "anonymous" if r < 0.03 else "unknown" if r < 0.04 else None
            item["service_number"] = _SWITCHBOARD if rng.random() < 0.1 else _SERVICE_NUMBERS[queue]
            variables["ivr_choice"] = _IVR_CHOICE[queue]
            variables["language"] = "en" if person.english else "nb"
            identified = person.customer_no is not None and rng.random() < 0.55
            if identified and person.customer_no is not None:
                variables["customer_no"] = person.customer_no
            if queue == "Claims" and rng.random() < 0.4:
                variables["claim_no"] = f"SK-{_ri(rng, 2023, 2026)}-{int(rng.random() * 1_000_000):06d}"
            ivr = _ri(rng, 8, 55)
            events.append({"at": iso(t0), "type": "offered", "queue": queue, "agent": None, "duration_s": ivr})
            t = t0 + ivr
            if rng.random() < 0.03:  # hung up in the IVR
                events.append({"at": iso(t), "type": "abandoned", "queue": queue, "agent": None, "duration_s": None})
                end = t
            else:
                wait = _lognormal(rng, 50, 1.0, 1, 1500)
                # "press 1 to be called back": likelier after a long wait or when withheld
                if (wait > 240 or withheld or rng.random() < 0.04) and rng.random() < 0.6:
                    variables["callback_number"] = _typed_phone(rng, phone)
                events.append({"at": iso(t), "type": "queued", "queue": queue, "agent": None, "duration_s": wait})
                t += wait
                if rng.random() < 0.10 + min(wait, 600) / 2400:  # impatience
                    events.append(
                        {"at": iso(t), "type": "abandoned", "queue": queue, "agent": None, "duration_s": None}
                    )
                    end = t
                else:
                    agent = self._agent(queue)
                    talk = _lognormal(rng, 240, 0.7, 20, 3600)
                    events.append(
                        {"at": iso(t), "type": "answered", "queue": queue, "agent": agent, "duration_s": talk}
                    )
                    r = rng.random()
                    if r < 0.08:  # transferred to another queue and answered there
                        first_part = max(10, talk // 3)
                        new_queue = _pick(rng, [q for q in QUEUES if q != queue])
                        tt = t + first_part
                        events.append(
                            {
                                "at": iso(tt),
                                "type": "transferred",
                                "queue": new_queue,
                                "agent": agent,
                                "duration_s": None,
                            }
                        )
                        xfer_wait = _ri(rng, 5, 90)
                        agent = self._agent(new_queue, avoid=agent)
                        rest = talk - first_part + _ri(rng, 30, 300)
                        events.append(
                            {
                                "at": iso(tt + xfer_wait),
                                "type": "answered",
                                "queue": new_queue,
                                "agent": agent,
                                "duration_s": rest,
                            }
                        )
                        end = tt + xfer_wait + rest
                        queue = new_queue
                    else:
                        if r < 0.23:  # put on hold for a while
                            hold = _ri(rng, 15, 180)
                            events.append(
                                {
                                    "at": iso(t + _ri(rng, 5, max(6, talk // 2))),
                                    "type": "hold",
                                    "queue": queue,
                                    "agent": agent,
                                    "duration_s": hold,
                                }
                            )
                            talk += hold
                        end = t + talk
                    if rng.random() < 0.93:
                        recording = round(rng.uniform(2.0, 6.0), 1)
            item["customer"] = {
                "phone": withheld or phone,
                "email": None,
                "name": person.name if identified else None,
            }
        else:  # outbound: callback or sales follow-up, always from an agent
            item["service_number"] = _SWITCHBOARD
            agent = self._agent(queue)
            variables["campaign"] = _pick(rng, ("callback", "callback", "renewal", "claim-follow-up"))
            if person.customer_no:
                variables["customer_no"] = person.customer_no
            ring = _ri(rng, 4, 35)
            events.append({"at": iso(t0), "type": "offered", "queue": queue, "agent": agent, "duration_s": ring})
            t = t0 + ring
            if rng.random() < 0.3:  # no answer
                events.append({"at": iso(t), "type": "abandoned", "queue": queue, "agent": agent, "duration_s": None})
                end = t
            else:
                talk = _lognormal(rng, 180, 0.7, 15, 2400)
                events.append({"at": iso(t), "type": "answered", "queue": queue, "agent": agent, "duration_s": talk})
                end = t + talk
                if rng.random() < 0.93:
                    recording = round(rng.uniform(2.0, 6.0), 1)
            item["customer"] = {"phone": phone, "email": None, "name": person.name if person.customer_no else None}
        events.append({"at": iso(end), "type": "ended", "queue": queue, "agent": agent, "duration_s": end - t0})
        item["queue"] = queue
        item["agent"] = agent
        item["variables"] = variables
        item["events"] = events
        item["_end"] = end
        item["recording_seconds"] = recording

    def _chat(self, item: Interaction, t0: int, queue: str, person: _Person, known: bool) -> None:
        rng = self.rng
        iso = self.iso
        en = person.english
        fill = self._fill(person, queue)
        item["direction"] = "inbound"
        item["service_number"] = None
        phone: str | None = None
        if rng.random() < 0.35:
            phone = person.phone if rng.random() < 0.7 else _spoken_phone(rng, person.phone)
        item["customer"] = {
            "phone": phone,
            "email": person.email if rng.random() < 0.85 else _mixed_case(person.email),
            "name": person.name if rng.random() < 0.8 else None,
        }
        variables = {
            "entry_page": _pick(rng, _CHAT_PAGES[queue]),
            "language": "en" if en else "nb",
            "device": "mobile" if rng.random() < 0.6 else "desktop",
        }
        if known and person.customer_no and rng.random() < 0.5:  # logged in
            variables["customer_no"] = person.customer_no
        wait = _lognormal(rng, 45, 0.9, 4, 1200)
        events: list[dict[str, Any]] = [
            {"at": iso(t0), "type": "offered", "queue": queue, "agent": None, "duration_s": None},
            {"at": iso(t0), "type": "queued", "queue": queue, "agent": None, "duration_s": wait},
        ]
        messages: list[tuple[int, str, str]] = [(t0, "system", "Chat started")]
        opener = _pick(rng, _CHAT_OPEN[(queue, en)]).format_map(fill)
        messages.append((t0 + _ri(rng, 1, min(wait, 30)), "customer", opener))
        t = t0 + wait
        agent: str | None = None
        if rng.random() < 0.12:  # customer gave up before an agent joined
            if rng.random() < 0.5:
                messages.append((t, "customer", "Hallo?" if not en else "Hello?"))
            messages.append((t, "system", "Customer left the chat"))
            events.append({"at": iso(t), "type": "abandoned", "queue": queue, "agent": None, "duration_s": None})
            end = t
        else:
            agent = self._agent(queue)
            handle = _lognormal(rng, 420, 0.6, 60, 3600)
            events.append({"at": iso(t), "type": "answered", "queue": queue, "agent": agent, "duration_s": handle})
            end = t + handle
            messages.append((t, "system", f"Agent {agent} joined"))
            # 3–12 lines in all: start, opener, joined, <middle>, ended, plus
            # "transferred" and a second "joined" when handed over mid-chat
            transfer = rng.random() < 0.05
            fixed = 6 if transfer else 4
            middle = _ri(rng, fixed + 1, 12) - fixed
            times = sorted(_ri(rng, t + 1, end - 1) for _ in range(middle))
            agent_lines = _CHAT_AGENT_MID[en]
            cust_lines = _CHAT_CUSTOMER_MID[en]
            pii_at = int(rng.random() * middle) if rng.random() < 0.4 else -1
            close_c, close_a = _CHAT_CLOSE[en][int(rng.random() * 2)]
            for k, at in enumerate(times):
                speaker = "agent" if k % 2 == 0 else "customer"
                if k == pii_at:
                    speaker = "customer"
                    text = _pick(rng, _CHAT_PII[en]).format_map(fill)
                elif k == middle - 1 and middle >= 2:
                    text = close_a if speaker == "agent" else close_c
                elif k == middle - 2 and middle >= 3 and speaker == "customer":
                    text = close_c
                elif speaker == "agent":
                    text = (agent_lines[0] if k == 0 else _pick(rng, agent_lines[1:])).format_map(fill)
                else:
                    text = _pick(rng, cust_lines)
                messages.append((at, speaker, text))
            if transfer:  # handed over to another team mid-chat
                new_queue = _pick(rng, [q for q in QUEUES if q != queue])
                tt = times[middle // 2]
                events.append(
                    {"at": iso(tt), "type": "transferred", "queue": new_queue, "agent": agent, "duration_s": None}
                )
                messages.append((tt, "system", f"Chat transferred to {new_queue}"))
                agent = self._agent(new_queue, avoid=agent)
                events.append(
                    {"at": iso(tt), "type": "answered", "queue": new_queue, "agent": agent, "duration_s": end - tt}
                )
                messages.append((tt, "system", f"Agent {agent} joined"))
                queue = new_queue
            messages.append((end, "system", "Chat ended"))
        events.append({"at": iso(end), "type": "ended", "queue": queue, "agent": agent, "duration_s": end - t0})
        item["queue"] = queue
        item["agent"] = agent
        item["variables"] = variables
        item["events"] = events
        item["_end"] = end
        messages.sort(key=lambda m: m[0])  # stable: same-second lines keep their order
        item["messages"] = [{"at": iso(at), "from": who, "text": text} for at, who, text in messages]
        item["recording_seconds"] = None

    def _email(self, item: Interaction, t0: int, queue: str, person: _Person, known: bool) -> None:
        rng = self.rng
        iso = self.iso
        en = person.english
        fill = self._fill(person, queue)
        inbound = rng.random() < 0.9
        item["direction"] = "inbound" if inbound else "outbound"
        item["service_number"] = None
        agent = self._agent(queue)
        variables = {
            "mailbox": _MAILBOX[queue],
            "message_id": f"<{self.seed}.{t0}.{int(rng.random() * 10**9)}@mail.example.com>",
        }
        if inbound:
            subject, body = _EMAIL_IN[(queue, en)][int(rng.random() * len(_EMAIL_IN[(queue, en)]))]
            lines = [body.format_map(fill), ""]
            lines.append("Regards," if en else _pick(rng, ("Mvh", "Med vennlig hilsen", "Hilsen")))
            lines.append(person.name)
            r = rng.random()
            if r < 0.45:
                lines.append(f"{'Phone' if en else 'Tlf'}: {_spoken_phone(rng, person.phone)}")
            if person.customer_no and rng.random() < 0.35:
                lines.append(f"{'Customer no' if en else 'Kundenr'}: {person.customer_no}")
            if rng.random() < 0.1:
                lines += ["", "Sendt fra min iPhone" if not en else "Sent from my iPhone"]
            email = person.email if rng.random() < 0.85 else _mixed_case(person.email)
            item["customer"] = {"phone": None, "email": email, "name": person.name if rng.random() < 0.9 else None}
            wait = _office_hours(rng, t0 + _lognormal(rng, 2 * 3600, 1.0, 120, 3 * 86_400)) - t0
            handle = _lognormal(rng, 420, 0.7, 60, 3600)
            events: list[dict[str, Any]] = [
                {"at": iso(t0), "type": "offered", "queue": queue, "agent": None, "duration_s": None},
                {"at": iso(t0), "type": "queued", "queue": queue, "agent": None, "duration_s": wait},
                {"at": iso(t0 + wait), "type": "answered", "queue": queue, "agent": agent, "duration_s": handle},
            ]
            end: int | None = t0 + wait + handle
            if rng.random() < 0.06:  # forwarded to another team
                new_queue = _pick(rng, [q for q in QUEUES if q != queue])
                tt = t0 + wait + handle // 2
                events.append(
                    {"at": iso(tt), "type": "transferred", "queue": new_queue, "agent": agent, "duration_s": None}
                )
                agent = self._agent(new_queue, avoid=agent)
                wait2 = _office_hours(rng, tt + _lognormal(rng, 2 * 3600, 0.8, 60, 86_400)) - tt
                events.append(
                    {
                        "at": iso(tt + wait2),
                        "type": "answered",
                        "queue": new_queue,
                        "agent": agent,
                        "duration_s": handle,
                    }
                )
                end = tt + wait2 + handle
                queue = new_queue
            elif rng.random() < 0.08:  # still being worked on: no end yet
                end = None
        else:
            subject, body = _EMAIL_OUT[int(rng.random() * len(_EMAIL_OUT))]
            fill["agent"] = agent
            item["customer"] = {"phone": None, "email": person.email, "name": person.name}
            handle = _lognormal(rng, 300, 0.6, 30, 2400)
            events = [
                {"at": iso(t0), "type": "offered", "queue": queue, "agent": agent, "duration_s": None},
                {"at": iso(t0), "type": "answered", "queue": queue, "agent": agent, "duration_s": handle},
            ]
            end = t0 + handle
            lines = [body.format_map(fill)]
        if end is not None:
            events.append({"at": iso(end), "type": "ended", "queue": queue, "agent": agent, "duration_s": end - t0})
        item["queue"] = queue
        item["agent"] = agent
        item["subject"] = subject.format_map(fill)
        item["body"] = "\n".join(lines)
        item["variables"] = variables
        item["events"] = events
        item["_end"] = end
        item["recording_seconds"] = None

    # -- driver -------------------------------------------------------------

    def __iter__(self) -> Iterator[Interaction]:
        rng = self.rng
        n = self.n
        timeline = self.timeline
        first_ts = self.first_ts
        iso = self.iso
        handlers = {"call": self._call, "chat": self._chat, "email": self._email}
        # Descending order statistics of n uniforms, generated one at a time
        # (y_k = y_{k+1} * U^(1/k)); 1 - y is then ascending, so interactions
        # come out in time order without holding all n timestamps in memory.
        y = 1.0
        for i in range(n):
            y *= (1.0 - rng.random()) ** (1.0 / (n - i))
            t0 = max(first_ts, int(timeline.at(1.0 - y)))
            channel = self._choose(self.channels, self.channel_cum)
            queue = self._choose(QUEUES, self.queue_cum)
            person, known = self._person()
            item: Interaction = {
                "external_id": f"demo-{self.seed}-{i}",
                "channel": channel,
                "direction": "inbound",
                "started_at": iso(t0),
                "queue": queue,
                "agent": None,
                "customer": {},
                "service_number": None,
                "subject": None,
                "variables": {},
                "events": [],
                "recording_seconds": None,
            }
            handlers[channel](item, t0, queue, person, known)
            end = item.pop("_end")
            if end is not None:
                item["ended_at"] = iso(end)
            yield item


def _cum(weights: Iterable[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return [c / total for c in out]


def generate(n: int, seed: int, start: datetime, days: int = 60) -> Iterator[Interaction]:
    """Yield ``n`` synthetic interactions, oldest first.

    ``started_at`` falls in ``[start, start + days)``; a naive ``start`` is
    read as Europe/Oslo local time. ``external_id`` is ``demo-<seed>-<i>``
    with ``i`` counting from 0 in time order. Deterministic in
    ``(n, seed, start, days)``; output for a given ``i`` depends on ``n``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    return iter(_Generator(n, seed, start, days))
