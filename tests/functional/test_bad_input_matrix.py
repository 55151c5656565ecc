"""Hand-made bad input against every JSON write and list operation (issue 23's goal: 0 deviations in
at least 500 per database). Each row is one input the contract (§6 errors, §18 strict input) calls
bad; each must be refused with the contract's 4xx and a JSON ``detail``, and leave the database as
it was. One client per operation family loops over its table and collects every deviation.

The table tests use the database (through ``app``), so tests/conftest.py marks them ``db``: they
run on SQLite by default and again on PostgreSQL with ``ARCHIVIST_TEST_POSTGRES_URL`` and ``-m db``."""

from __future__ import annotations

import base64
import copy
import enum
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.anonymize.erasure import MAX_IDS
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.anonymize.requests import MAX_ALSO
from archivist.archive.models import Interaction
from archivist.archive.schemas import MAX_OFFSET_MS, MAX_VARIABLES
from archivist.demo.audio import make_wav
from archivist.exports.models import ExportStatus, SubjectExport
from archivist.models import Base
from archivist.retention.holds import MAX_REASON
from archivist.retention.models import LegalHold
from archivist.retention.rules import MAX_KEEP_DAYS
from archivist.solutions.services import MAX_ACCESS_TEXT
from archivist.web.api.interactions import MAX_BATCH
from tests.conftest import TokenMaker, auth

Json = Any
API = "/api/v1"
WAV = make_wav(0.5, seed=23)
# 32 hex digits, the shape of every id, naming nothing.
UNKNOWN_ID = "0" * 32
YEAR_10000 = "9999-12-31T23:59:59-05:00"  # year 10000 once in UTC
AT = "2026-03-01T09:00:00+01:00"


class _Omit(enum.Enum):
    """Marks a field a row leaves out of the body (a required one missing)."""

    OMIT = "omit"


OMIT = _Omit.OMIT


@dataclass(frozen=True)
class Ref:
    """An id of the world the table runs in (``own_call``, ``foreign_request``, …), filled in when sent."""

    name: str


@dataclass(frozen=True)
class Case:
    """One bad input: what is sent, and the contract's answer to it."""

    id: str
    method: str
    url: str  # ``{own_call}``-style placeholders are filled from the world
    body: Json | _Omit = OMIT  # sent as JSON unless ``raw`` is given
    raw: bytes | None = None
    content_type: str | None = "application/json"
    status: int = 422
    # A word the detail must hold (the field it names), so that a 422 for some other reason fails.
    names: str | None = None


Values = Sequence[tuple[str, Json | _Omit]]

# ---------------------------------------------------------------------------------------------
# Bad values per type, from the schemas (archive/schemas.py, anonymize/schemas.py, …)
# ---------------------------------------------------------------------------------------------

# §18: a boolean is a JSON true/false (StrictBool), never text, a number, null or a container.
NOT_BOOLEANS: Values = [
    ("text-yes", "yes"),  # ran a real erasure before issue 23
    ("text-true", "true"),
    ("text-false", "false"),
    ("one", 1),
    ("zero", 0),
    ("float-one", 1.0),
    ("null", None),  # not nullable: the default is false
    ("list", []),
    ("object", {}),
]
# §18: an integer is a JSON integer (StrictInt) within the field's bounds.
NOT_INTEGERS: Values = [
    ("text", "5"),  # created a rule before issue 23
    ("float", 5.0),
    ("fraction", 5.5),
    ("true", True),
    ("false", False),
    ("null", None),
    ("empty-text", ""),
    ("list", [5]),
    ("huge", 10**20),
]
# §6/§18: a time is an ISO 8601 string with an offset, from 1970 and before 2100 (times.py).
NOT_TIMES: Values = [
    ("unix-int", 1767225600),  # was read as Unix time before issue 23
    ("unix-float", 1767225600.5),
    ("unix-as-text", "1767225600"),  # digits in a string are no ISO 8601 either
    ("true", True),
    ("list", []),
    ("object", {}),
    ("words", "yesterday"),
    ("month-13", "2026-13-01T00:00:00Z"),
    ("month-13-date", "2026-13-01"),
    ("february-30", "2026-02-30T09:00:00Z"),
    ("hour-25", "2026-03-01T25:00:00Z"),
    ("no-offset", "2026-03-01T09:00:00"),  # ambiguous: whose 09:00?
    ("date-only", "2026-03-01"),  # no time, no offset
    ("before-1970", "1969-12-31T00:00:00Z"),
    ("year-2100", "2100-01-01T00:00:00Z"),  # the range's exclusive end
    ("year-10000-in-utc", YEAR_10000),
    ("empty", ""),
]
# §18: a date (a hold's ``until``) is an ISO 8601 date string in the same range.
NOT_DATES: Values = [
    ("days-number", 20000),
    ("unix-int", 1767225600),
    ("unix-float", 1767225600.5),
    ("unix-as-text", "1767225600"),
    ("true", True),
    ("list", []),
    ("words", "yesterday"),
    ("month-13", "2026-13-01"),
    ("february-30", "2026-02-30"),
    ("before-1970", "1969-12-31"),
    ("year-2100", "2100-01-01"),
    ("empty", ""),
]
# §6: text fields are JSON strings.
NOT_STRINGS: Values = [("number", 5), ("true", True), ("list", []), ("object", {})]
# §5: an email address must be one (address syntax), here and on ingest (issue 23).
BAD_EMAILS: Values = [
    ("no-at-sign", "no-at-sign.example.org"),  # was stored on ingest before issue 23
    ("no-domain", "kari@"),
    ("no-local-part", "@example.org"),
    ("two-at-signs", "kari@@example.org"),
    ("space-inside", "kari nordmann@example.org"),
    ("empty-label", "kari@example..org"),
    ("over-long", "k" * 310 + "@example.org"),  # 322 characters: over the schema's 320
]
# §5: a phone number typed by a user must parse in the solution's convention (NO here).
BAD_PHONES: Values = [
    ("words", "not a phone"),
    ("two-digits", "12"),
    ("plus-only", "+"),
    ("country-code-only", "+47"),
    ("country-code-without-plus", "4791234567"),  # ambiguous: refused, never guessed
    ("letters-and-digits", "abc123"),
    ("over-long", "9" * 65),  # over the schema's 64
]


def over(limit: int) -> str:
    """A string one character longer than ``limit``."""
    return "x" * (limit + 1)


NUL_TEXT = "ab\x00cd"  # PostgreSQL cannot store it; the app refuses it for every request


def put(body: Json, path: str, value: Json | _Omit) -> Json:
    """A deep copy of ``body`` with the dotted ``path`` (list positions as numbers) set to ``value``."""
    copied = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = copied
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: int | str = int(last) if isinstance(node, list) else last
    if value is OMIT:
        del node[key]
    else:
        node[key] = value
    return copied


def vary(
    op: str,
    method: str,
    url: str,
    base: Json,
    path: str,
    values: Values,
    *,
    status: int = 422,
    names: str | None = None,
) -> list[Case]:
    """A row per value: ``base`` with ``path`` set to it, each expected to be refused alike."""
    named = names if names is not None else path.split(".")[-1]
    return [
        Case(f"{op}:{path}={label}", method, url, put(base, path, value), status=status, names=named)
        for label, value in values
    ]


def whole(op: str, method: str, url: str, bodies: Values, *, status: int = 422, names: str | None = None) -> list[Case]:
    """A row per whole body."""
    return [Case(f"{op}:{label}", method, url, body, status=status, names=names) for label, body in bodies]


def query(url: str, **params: str) -> str:
    # Braces stay as they are: a ``{foreign_request}`` placeholder is filled when the row is sent.
    return url + ("&" if "?" in url else "?") + urlencode(params, safe="{}")


# ---------------------------------------------------------------------------------------------
# POST /api/v1/interactions and /batch (archive/schemas.py InteractionIn: extra="forbid")
# ---------------------------------------------------------------------------------------------

INTERACTIONS = f"{API}/interactions"
BATCH = f"{API}/interactions/batch"
CALL: Json = {
    "channel": "call",
    "direction": "inbound",
    "started_at": AT,
    "queue": "Support",
    "customer": {"phone": "91234567", "email": "kari@example.org", "name": "Kari"},
    "variables": {"case": "A-1"},
    "events": [{"at": AT, "type": "offered", "queue": "Support", "duration_s": 3.5}],
    "transcript": [{"begin_ms": 0, "end_ms": 900, "speaker": "customer", "text": "hei"}],
}
CHAT: Json = {
    "channel": "chat",
    "direction": "inbound",
    "started_at": AT,
    "customer": {"email": "kari@example.org"},
    "messages": [{"at": AT, "from": "customer", "text": "hei"}],
}
EMAIL: Json = {"channel": "email", "direction": "inbound", "started_at": AT, "subject": "Hei", "body": "Tekst"}


def _ingest_rows() -> list[Case]:
    op, post = "ingest", "POST"
    rows: list[Case] = []

    def on(base: Json, path: str, values: Values, names: str | None = None) -> None:
        rows.extend(vary(op, post, INTERACTIONS, base, path, values, names=names))

    # §6: channel is call|chat|email, exactly (an enum: no other case, no other word, no other type).
    on(
        CALL,
        "channel",
        [
            ("capitalised", "Call"),
            ("upper-case", "CALL"),
            ("unknown-phone", "phone"),
            ("unknown-sms", "sms"),
            ("empty", ""),
            ("null", None),
            ("missing", OMIT),
            *NOT_STRINGS,
        ],
    )
    # §6: direction is inbound|outbound, exactly.
    on(
        CALL,
        "direction",
        [
            ("capitalised", "Inbound"),
            ("short", "in"),
            ("synonym", "incoming"),
            ("empty", ""),
            ("null", None),
            ("missing", OMIT),
            ("false", False),
            ("list", []),
        ],
    )
    # §18: started_at is a required ISO 8601 time in range.
    on(CALL, "started_at", [*NOT_TIMES, ("null", None), ("missing", OMIT)])
    # §18: ended_at likewise (null allowed: it is optional), and never before started_at (§6).
    # (Its Unix time as text is a day after started_at, so that only the form is wrong.)
    ended = [("unix-as-text", "1772409600") if label == "unix-as-text" else (label, v) for label, v in NOT_TIMES]
    on(CALL, "ended_at", [*ended, ("before-started-at", "2026-03-01T08:59:59+01:00")])
    # §6: queue, agent, external_id and service_number are strings of bounded length (external_id non-empty).
    for name, limit in (("queue", 200), ("agent", 200), ("external_id", 200), ("service_number", 64)):
        on(CALL, name, [("over-long", over(limit)), *NOT_STRINGS])
    on(CALL, "external_id", [("empty", "")])
    # §6: an email's subject is a string of at most 998 characters (RFC 5322's line).
    on(EMAIL, "subject", [("over-long", over(998)), *NOT_STRINGS])
    # §6: customer is an object of phone/email/name (extra="forbid": an unknown key is refused).
    on(
        CALL,
        "customer",
        [("text", "Kari"), ("null", None), ("number", 5), ("true", True), ("list", []), ("unknown-key", {"fax": "1"})],
    )
    # §6: the customer's phone is a string of at most 64 characters (anything else is kept as it came, §5).
    on(CALL, "customer.phone", [("over-long", over(64)), *NOT_STRINGS])
    # §5/issue 23: the customer's email is an address (no other syntax is stored), a string.
    on(CALL, "customer.email", [*BAD_EMAILS, *NOT_STRINGS], names="customer.email")
    # §6: the customer's name is a string of at most 200 characters.
    on(CALL, "customer.name", [("over-long", over(200)), *NOT_STRINGS])
    # §6: variables are an object of string -> string (names 1..100, values at most 4,000, at most 200 of them).
    on(
        CALL,
        "variables",
        [
            ("text", "case=A-1"),
            ("list", [["case", "A-1"]]),
            ("null", None),
            ("empty-name", {"": "v"}),
            ("number-value", {"case": 5}),
            ("boolean-value", {"case": True}),
            ("null-value", {"case": None}),
            ("list-value", {"case": ["A-1"]}),
            ("object-value", {"case": {}}),
            ("name-over-long", {over(100): "v"}),
            ("value-over-long", {"case": over(4000)}),
            ("too-many", {f"v{i}": "x" for i in range(MAX_VARIABLES + 1)}),
        ],
    )
    # §6: messages (a chat log) are only on a chat; each {at, from: customer|agent|system, text}.
    on(CALL, "messages", [("on-a-call", CHAT["messages"])])
    on(CHAT, "messages", [("text", "hei"), ("object", {}), ("number-item", [5]), ("empty-item", [{}])])
    on(CHAT, "messages.0.at", [t for t in NOT_TIMES if t[0] in {"unix-int", "unix-as-text", "words", "no-offset"}])
    on(CHAT, "messages.0.from", [("unknown", "bot"), ("capitalised", "Customer"), ("null", None), ("number", 5)])
    on(CHAT, "messages.0.text", [("over-long", over(100_000)), ("null", None), ("number", 5)])
    on(CHAT, "messages.0.author", [("unknown-key", "customer")])
    # §6: body (an email's text) is only on an email, a string.
    on(CALL, "body", [("on-a-call", "Tekst")])
    on(EMAIL, "body", NOT_STRINGS[:3])
    # §6: events (raw data rows) are a list of {at, type, queue, agent, duration_s}; duration a number >= 0.
    on(
        CALL,
        "events",
        [("text", "offered"), ("object", {}), ("number-item", [5]), ("empty-item", [{}]), ("null", None)],
    )
    on(
        CALL,
        "events.0.at",
        [t for t in NOT_TIMES if t[0] in {"unix-int", "unix-float", "unix-as-text", "words", "no-offset", "year-2100"}],
    )
    on(CALL, "events.0.type", [("empty", ""), ("over-long", over(40)), ("number", 5), ("null", None)])
    on(CALL, "events.0.duration_s", [("text", "3"), ("true", True), ("negative", -1), ("list", [3])])
    on(CALL, "events.0.queue", [("over-long", over(200)), ("number", 5)])
    on(CALL, "events.0.agent", [("number", 5)])
    on(CALL, "events.0.customer", [("unknown-key", "91234567")])
    # §17: a transcript is only on a call; offsets are JSON integers 0..a day, end >= begin.
    on(CHAT, "transcript", [("on-a-chat", CALL["transcript"])])
    on(CALL, "transcript", [("text", "hei")])
    on(
        CALL,
        "transcript.0.begin_ms",
        [
            ("text", "5"),
            ("float", 5.0),
            ("true", True),
            ("negative", -1),
            ("huge", 10**20),
            ("past-a-day", MAX_OFFSET_MS + 1),
            ("null", None),
        ],
    )
    on(CALL, "transcript.0.end_ms", [("text", "900"), ("negative", -1)])
    on(put(CALL, "transcript.0.begin_ms", 800), "transcript.0.end_ms", [("before-begin", 700)], names="end_ms")
    on(CALL, "transcript.0.speaker", [("unknown", "bot"), ("capitalised", "Agent")])
    on(CALL, "transcript.0.text", [("over-long", over(100_000)), ("number", 5)])
    on(CALL, "transcript.0.confidence", [("unknown-key", 0.9)])
    # extra="forbid": a key the schema does not have is refused, not ignored.
    on(CALL, "customer_phone", [("unknown-key", "91234567")])
    on(CALL, "Channel", [("key-in-wrong-case", "call")])
    # The app refuses NUL anywhere in a body (PostgreSQL cannot store it).
    for path in ("customer.name", "queue", "variables.case"):
        on(CALL, path, [("nul", NUL_TEXT)], names="body")
    # The body is one JSON object.
    rows.extend(whole(op, post, INTERACTIONS, [("array", [CALL]), ("text", "call"), ("number", 5), ("null", None)]))
    return rows


INGEST_ROWS = _ingest_rows()
# The batch is all or nothing (§6): each bad body, second after a good one, refuses the whole batch.
BATCH_ROWS = [
    *(
        Case(case.id.replace("ingest:", "batch:", 1), "POST", BATCH, [CALL, case.body], names=case.names)
        for case in INGEST_ROWS
    ),
    # §6: the batch is a JSON array of at most 1,000 bodies.
    *whole(
        "batch",
        "POST",
        BATCH,
        [
            ("object-not-array", CALL),
            ("whole-text", "[]"),
            ("whole-null", None),
            ("null-item", [CALL, None]),
            ("nested-array", [[CALL]]),
            ("over-1000", [CALL] * (MAX_BATCH + 1)),
        ],
    ),
]

# ---------------------------------------------------------------------------------------------
# POST /api/v1/anonymization-requests (+ /preview): anonymize/schemas.py RequestIn, extra="forbid"
# ---------------------------------------------------------------------------------------------

REQUESTS = f"{API}/anonymization-requests"
REQUEST: Json = {"phone": "98765432", "raw_data": False, "delete_content": False}


def _request_rows(url: str, op: str) -> list[Case]:
    rows: list[Case] = []

    def on(base: Json, path: str, values: Values, names: str | None = None) -> None:
        rows.extend(vary(op, "POST", url, base, path, values, names=names))

    # §5: a phone must parse in the solution's convention; a string of at most 64.
    on(REQUEST, "phone", [*BAD_PHONES, *NOT_STRINGS[:3]])
    # §5: an email must be an address; a string of at most 320.
    on({"email": "kari@example.org"}, "email", [*BAD_EMAILS, *NOT_STRINGS[:2]])
    # §18: raw_data and delete_content are JSON booleans.
    on(REQUEST, "raw_data", NOT_BOOLEANS)
    on(REQUEST, "delete_content", NOT_BOOLEANS)
    # §9: also {phones, emails, variables} of the same person: each list of the right items, at most 20.
    on(
        REQUEST,
        "also",
        [
            ("text", "91234567"),
            ("list", ["91234567"]),
            ("phones-text", {"phones": "91234567"}),
            ("phones-number", {"phones": [91234567]}),
            ("phones-not-a-phone", {"phones": ["not a phone"]}),
            ("phones-too-many", {"phones": [f"9123{i:04d}" for i in range(MAX_ALSO + 1)]}),
            ("emails-not-an-address", {"emails": ["no-at-sign.example.org"]}),
            ("emails-number", {"emails": [5]}),
            ("variable-empty-name", {"variables": [{"name": "", "value": "A-1"}]}),
            ("variable-without-value", {"variables": [{"name": "case"}]}),
            ("variable-empty-value", {"variables": [{"name": "case", "value": ""}]}),
            ("variable-unknown-key", {"variables": [{"name": "case", "value": "A-1", "kind": "x"}]}),
            ("unknown-key", {"faxes": ["91234567"]}),
        ],
    )
    # §6: at least one of phone/email; a key the schema does not have is refused.
    rows.extend(
        whole(
            op,
            "POST",
            url,
            [
                ("no-identifier", {}),
                ("null-identifiers", {"phone": None, "email": None}),
                ("blank-phone", {"phone": "   "}),
                ("flags-only", {"raw_data": True}),
                ("unknown-key", {**REQUEST, "name": "Kari"}),
                ("key-in-wrong-case", {"Phone": "98765432"}),
                ("array", [REQUEST]),
                ("text", "98765432"),
                ("null", None),
            ],
        )
    )
    on(REQUEST, "phone", [("nul", "9876\x005432")], names="body")
    return rows


REQUEST_ROWS = [*_request_rows(REQUESTS, "request"), *_request_rows(f"{REQUESTS}/preview", "request-preview")]

# ---------------------------------------------------------------------------------------------
# POST /api/v1/interactions/anonymize-and-delete (web/api/search.py AnonymizeAndDeleteIn)
# ---------------------------------------------------------------------------------------------

ANONYMIZE_AND_DELETE = f"{API}/interactions/anonymize-and-delete"
A_AND_D: Json = {"ids": [Ref("own_call")], "raw_data": False}


def _a_and_d_rows() -> list[Case]:
    op, post, url = "a-and-d", "POST", ANONYMIZE_AND_DELETE
    return [
        # §6: ids is a non-empty list of at most 1,000 id strings.
        *vary(
            op,
            post,
            url,
            A_AND_D,
            "ids",
            [
                ("missing", OMIT),
                ("null", None),
                ("empty", []),
                ("text", "abc"),
                ("number-item", [5]),
                ("boolean-item", [True]),
                ("null-item", [None]),
                ("empty-item", [""]),
                ("over-long-item", [over(64)]),
                ("object", {"0": UNKNOWN_ID}),
                ("over-1000", [f"{i:032x}" for i in range(MAX_IDS + 1)]),
            ],
        ),
        # §18: raw_data is a JSON boolean — "yes" ran a real erasure with raw data before issue 23.
        *vary(op, post, url, A_AND_D, "raw_data", NOT_BOOLEANS),
        # §6: any unknown id, or another solution's, is a 404 and nothing is changed.
        *vary(
            op,
            post,
            url,
            A_AND_D,
            "ids",
            [
                ("unknown", [UNKNOWN_ID]),
                ("foreign", [Ref("foreign_call")]),
                ("own-and-unknown", [Ref("own_call"), UNKNOWN_ID]),
                ("own-and-foreign", [Ref("own_call"), Ref("foreign_call")]),
                ("not-an-id", ["not-an-id"]),
            ],
            status=404,
            names="",
        ),
        # extra="forbid".
        *vary(op, post, url, A_AND_D, "delete_content", [("unknown-key", True)]),
        *vary(op, post, url, A_AND_D, "id", [("unknown-key", UNKNOWN_ID)]),
        *whole(op, post, url, [("array", [Ref("own_call")]), ("null", None)]),
    ]


A_AND_D_ROWS = _a_and_d_rows()

# ---------------------------------------------------------------------------------------------
# POST /api/v1/retention-rules (+ /preview): retention/schemas.py RetentionRuleIn, extra="forbid"
# ---------------------------------------------------------------------------------------------

RULES = f"{API}/retention-rules"
RULE: Json = {"channel": "chat", "queue": "Sales", "what": "content", "keep_days": 30}


def _rule_rows(url: str, op: str) -> list[Case]:
    def on(path: str, values: Values, names: str | None = None) -> list[Case]:
        return vary(op, "POST", url, RULE, path, values, names=names)

    return [
        # §10: channel is call|chat|email or absent.
        *on("channel", [("capitalised", "Chat"), ("unknown", "phone"), ("empty", ""), *NOT_STRINGS[:3]]),
        # §10: what is recording|content|interaction|raw_data, required.
        *on(
            "what",
            [
                ("plural", "contents"),
                ("capitalised", "Content"),
                ("unknown", "everything"),
                ("empty", ""),
                ("null", None),
                ("missing", OMIT),
                ("number", 5),
            ],
        ),
        # §18: keep_days is a JSON integer from 1 to 36,500.
        *on(
            "keep_days",
            [*NOT_INTEGERS, ("zero", 0), ("negative", -1), ("above-max", MAX_KEEP_DAYS + 1), ("missing", OMIT)],
        ),
        # §10: queue is a string of at most 200.
        *on("queue", [("over-long", over(200)), *NOT_STRINGS[:3]]),
        # extra="forbid".
        *on("keep_months", [("unknown-key", 1)]),
        *on("solution_id", [("unknown-key", Ref("foreign_solution"))]),
        *whole(op, "POST", url, [("array", [RULE]), ("text", "content"), ("null", None)]),
    ]


RULE_ROWS = [*_rule_rows(RULES, "rule"), *_rule_rows(f"{RULES}/preview", "rule-preview")]

# ---------------------------------------------------------------------------------------------
# POST /api/v1/legal-holds: retention/schemas.py LegalHoldIn, extra="forbid"
# ---------------------------------------------------------------------------------------------

HOLDS = f"{API}/legal-holds"
HOLD: Json = {"reason": "Case 2026-17", "queue": "Support"}
HOLD_ON_IDS: Json = {"reason": "Case 2026-17", "interaction_ids": [Ref("own_call")]}
HOLD_ON_PERSON: Json = {"reason": "Case 2026-17", "phone": "91234567"}


def _hold_rows() -> list[Case]:
    op, post, url = "hold", "POST", HOLDS

    def on(base: Json, path: str, values: Values, *, status: int = 422, names: str | None = None) -> list[Case]:
        return vary(op, post, url, base, path, values, status=status, names=names)

    return [
        # §10: a reason is required, 1..500 characters of text.
        *on(
            HOLD,
            "reason",
            [
                ("empty", ""),
                ("blank", "   "),
                ("over-long", over(MAX_REASON)),
                ("null", None),
                ("missing", OMIT),
                *NOT_STRINGS[:3],
            ],
        ),
        # §18: until is an ISO 8601 date string in range.
        *on(HOLD, "until", NOT_DATES),
        # §10: interaction_ids is a list of id strings (at most 32 characters), not mixed with a person or queue.
        *on(
            HOLD_ON_IDS,
            "interaction_ids",
            [
                ("text", "abc"),
                ("number-item", [5]),
                ("empty-item", [""]),
                ("over-long-item", [over(32)]),
                ("null-item", [None]),
                ("empty-list-names-nothing", []),
            ],
        ),
        *on(HOLD_ON_IDS, "queue", [("ids-and-a-queue", "Support")], names="interaction_ids"),
        # §6: an unknown id, or another solution's, is a 404 (and no hold is placed).
        *on(
            HOLD_ON_IDS,
            "interaction_ids",
            [
                ("unknown", [UNKNOWN_ID]),
                ("foreign", [Ref("foreign_call")]),
                ("own-and-unknown", [Ref("own_call"), UNKNOWN_ID]),
                ("own-and-foreign", [Ref("own_call"), Ref("foreign_call")]),
            ],
            status=404,
            names="",
        ),
        # §5: a person is a phone or an address that parses; strings.
        *on(HOLD_ON_PERSON, "phone", [*BAD_PHONES, ("number", 91234567)]),
        *on({"reason": "Case 2026-17", "email": "kari@example.org"}, "email", [*BAD_EMAILS, ("number", 5)]),
        # §10: queue is a string of at most 200.
        *on(HOLD, "queue", [("over-long", over(200)), *NOT_STRINGS[:3]]),
        # §18: from and to are ISO 8601 times in range, from not after to.
        *on(HOLD, "from", NOT_TIMES),
        *on(HOLD, "to", NOT_TIMES),
        *on({**HOLD, "from": "2026-03-02T00:00:00Z"}, "to", [("before-from", "2026-03-01T00:00:00Z")]),
        # extra="forbid" ("from_" is the Python name; populate_by_name takes it, so it is no bad input).
        *on(HOLD, "until_at", [("unknown-key", "2030-01-01")]),
        *on(HOLD, "active", [("unknown-key", True)]),
        *whole(op, post, url, [("array", [HOLD]), ("text", "hold"), ("null", None)]),
    ]


HOLD_ROWS = _hold_rows()

# ---------------------------------------------------------------------------------------------
# PATCH /api/v1/settings: web/api/settings.py SettingsPatch, extra="forbid"
# ---------------------------------------------------------------------------------------------

SETTINGS = f"{API}/settings"


def _settings_rows() -> list[Case]:
    op, patch, url = "settings", "PATCH", SETTINGS

    def on(name: str, values: Values) -> list[Case]:
        return vary(op, patch, url, {}, name, values)

    return [
        # §19: country is an ISO 3166 alpha-2 code, a string of at most 16.
        *on(
            "country",
            [("unknown", "XX"), ("a-name", "Norway"), ("empty", ""), ("over-long", over(16)), *NOT_STRINGS[:3]],
        ),
        # §19: timezone is an IANA zone, a string of at most 64.
        *on(
            "timezone",
            [
                ("unknown", "Mars/Olympus_Mons"),
                ("truncated", "Europe/Osl"),
                ("empty", ""),
                ("over-long", over(64)),
                *NOT_STRINGS[:2],
            ],
        ),
        # §19: nightly_at is HH:MM.
        *on(
            "nightly_at",
            [
                ("hour-25", "25:00"),
                ("minute-60", "02:60"),
                ("words", "night"),
                ("empty", ""),
                ("over-long", over(16)),
                ("number", 200),
                ("true", True),
            ],
        ),
        # §19: replacement is 1..100 characters of text.
        *on("replacement", [("empty", ""), ("blank", "   "), ("over-long", over(100)), *NOT_STRINGS[:2]]),
        # §19: own_email_domains is a list of domain names (at most 100).
        *on(
            "own_email_domains",
            [
                ("text-not-list", "example.org"),
                ("number-item", [5]),
                ("single-label", ["localhost"]),
                ("an-address", ["kari@example.org"]),
                ("underscore", ["exa_mple.org"]),
                ("item-over-long", [over(300)]),
                ("too-many", [f"d{i}.example.org" for i in range(101)]),
            ],
        ),
        # §19: the Art. 15 texts are strings of at most 4,000.
        *(
            case
            for name in ("access_purposes", "access_recipients", "access_source")
            for case in on(name, [("over-long", over(MAX_ACCESS_TEXT)), *NOT_STRINGS[:3]])
        ),
        # extra="forbid": settings the API does not offer are refused, not ignored.
        *on("preview_warn_share", [("unknown-key", 0.5)]),
        *on("audit_retention_days", [("unknown-key", 400)]),
        *on("name", [("unknown-key", "Renamed")]),
        *on("id", [("unknown-key", Ref("foreign_solution"))]),
        *whole(op, patch, url, [("array", [{"country": "SE"}]), ("text", "SE"), ("number", 5), ("null", None)]),
    ]


SETTINGS_ROWS = _settings_rows()

# ---------------------------------------------------------------------------------------------
# POST /api/v1/subject-exports: access/schemas.py SubjectExportIn, extra="forbid"
# ---------------------------------------------------------------------------------------------

EXPORTS = f"{API}/subject-exports"


def _export_rows() -> list[Case]:
    op, post, url = "export", "POST", EXPORTS
    return [
        # §5: a person is a phone or an address that parses; strings.
        *vary(op, post, url, {"phone": "91234567"}, "phone", [*BAD_PHONES, *NOT_STRINGS[:3]]),
        *vary(op, post, url, {"email": "kari@example.org"}, "email", [*BAD_EMAILS, *NOT_STRINGS[:2]]),
        # §12: at least one of phone/email; extra="forbid".
        *whole(
            op,
            post,
            url,
            [
                ("no-identifier", {}),
                ("null-identifiers", {"phone": None, "email": None}),
                ("blank-email", {"email": " "}),
                ("unknown-key", {"phone": "91234567", "name": "Kari"}),
                ("flag-of-a-request", {"phone": "91234567", "raw_data": False}),
                ("array", [{"phone": "91234567"}]),
                ("null", None),
            ],
        ),
    ]


EXPORT_ROWS = _export_rows()

# ---------------------------------------------------------------------------------------------
# Query parameters of the lists (§6: from/to ISO 8601 with offset, limit in range, cursor as given)
# ---------------------------------------------------------------------------------------------

# Query values are text: the same rule as bodies, as text (times.parse_time_text).
BAD_TIME_TEXT: Values = [
    ("unix", "1767225600"),
    ("words", "yesterday"),
    ("month-13", "2026-13-01T00:00:00Z"),
    ("february-30", "2026-02-30T09:00:00Z"),
    ("no-offset", "2026-03-01T09:00:00"),
    ("before-1970", "1969-12-31T00:00:00Z"),
    ("year-2100", "2100-01-01T00:00:00Z"),
    ("year-10000-in-utc", YEAR_10000),
    ("over-long", "2026-03-01T09:00:00.000000+01:00" + "0" * 10),  # past times.MAX_TIME_TEXT
]


def _bad_limits(maximum: int) -> Values:
    # §6: limit is an integer from 1 to the list's maximum.
    return [
        ("zero", "0"),
        ("negative", "-1"),
        ("above-max", str(maximum + 1)),
        ("words", "ten"),
        ("fraction", "5.5"),
        ("boolean", "true"),
        ("huge", str(10**20)),
        ("empty", ""),
    ]


def _forged(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


# §6: a cursor is only what next_cursor gave; anything else is a 422 before anything is read.
BAD_CURSORS: Values = [
    ("garbage", "!!not-a-cursor!!"),
    ("not-json", "YWJj"),
    ("time-overflow", _forged([YEAR_10000, 1])),
    ("time-underflow", _forged(["0001-01-01T00:00:00+05:00", 1])),
    ("id-boolean", _forged([AT, True])),
    ("id-huge", _forged([AT, 10**30])),
    ("id-huge-text", _forged([AT, "9" * 100])),
    ("over-long", "A" * 201),
]


def q_rows(op: str, url: str, param: str, values: Values, *, status: int = 422, names: str | None = None) -> list[Case]:
    """A GET per value of one query parameter."""
    return [
        Case(
            f"{op}?{param}={label}",
            "GET",
            query(url, **{param: str(value)}),
            content_type=None,
            status=status,
            names=param if names is None else names,
        )
        for label, value in values
    ]


def _query_rows() -> list[Case]:
    interactions, raw, audit, requests = INTERACTIONS, f"{API}/raw-data", f"{API}/audit-events", REQUESTS
    runs, receipts = f"{API}/nightly-runs", f"{API}/receipts"
    rows: list[Case] = []
    for op, url, maximum in (
        ("search", interactions, 500),
        ("raw-data", raw, 500),
        ("audit", audit, 500),
        ("requests", requests, 500),
    ):
        rows += q_rows(op, url, "limit", _bad_limits(maximum))
        rows += q_rows(op, url, "cursor", BAD_CURSORS)
    rows += q_rows("raw-data-csv", f"{raw}?format=csv", "cursor", BAD_CURSORS[:3])  # before the stream starts
    rows += q_rows("runs", runs, "limit", _bad_limits(100))
    rows += q_rows("runs", runs, "cursor", [BAD_CURSORS[0], BAD_CURSORS[1], BAD_CURSORS[-1]])
    rows += q_rows("exports", EXPORTS, "limit", _bad_limits(100))
    # §6: from/to on every list that takes them.
    for op, url in (("search", interactions), ("raw-data", raw), ("audit", audit), ("receipts", receipts)):
        rows += q_rows(op, url, "from", BAD_TIME_TEXT)
        rows += q_rows(op, url, "to", BAD_TIME_TEXT)
    # §6: phone/email take any accepted input form, and only those (search and the officer's look-up, §19).
    for op, url in (("search", interactions), ("requests", requests)):
        rows += q_rows(op, url, "phone", BAD_PHONES)
        rows += q_rows(op, url, "email", BAD_EMAILS)
    # Enumerations: exactly their values.
    rows += q_rows("search", interactions, "channel", [("capitalised", "Call"), ("unknown", "sms"), ("empty", "")])
    rows += q_rows("search", interactions, "direction", [("short", "in"), ("capitalised", "Inbound")])
    rows += q_rows("raw-data", raw, "format", [("unknown", "xml"), ("capitalised", "CSV"), ("empty", "")])
    rows += q_rows("audit", audit, "action", [("unknown", "logged_in_as_root"), ("capitalised", "SEARCH")])
    rows += q_rows("requests", requests, "status", [("capitalised", "Waiting"), ("unknown", "pending"), ("empty", "")])
    # Bounded strings.
    rows += q_rows("search", interactions, "queue", [("over-long", over(200))])
    rows += q_rows("search", interactions, "agent", [("over-long", over(200))])
    rows += q_rows("audit", audit, "actor", [("over-long", over(100))])
    # §11: after is a receipt of this solution's (an unknown or another solution's request is none).
    rows += q_rows(
        "receipts",
        receipts,
        "after",
        [("unknown", UNKNOWN_ID), ("foreign-request", "{foreign_request}"), ("over-long", over(32))],
    )
    # §18: an over-long address is a 414 with a body, not a dropped connection.
    rows += q_rows("search", interactions, "queue", [("url-over-8kb", "x" * 9000)], status=414, names="")
    # NUL in a query value (PostgreSQL cannot store or compare it).
    rows += q_rows("search", interactions, "agent", [("nul", NUL_TEXT)], names="query")
    return rows


QUERY_ROWS = _query_rows()

# ---------------------------------------------------------------------------------------------
# Objects by id: an unknown id or another solution's is a 404 (§6), and changes nothing
# ---------------------------------------------------------------------------------------------

# Per route: the method, the path template, and which world object of another solution stands in.
BY_ID: list[tuple[str, str, str, str]] = [
    ("interaction", "GET", "/interactions/{id}", "call"),
    ("content", "GET", "/interactions/{id}/content", "chat"),
    ("content-delete", "DELETE", "/interactions/{id}/content", "chat"),
    ("recording", "GET", "/interactions/{id}/recording", "call"),
    ("recording-delete", "DELETE", "/interactions/{id}/recording", "call"),
    ("attachment", "GET", "/interactions/{id}/attachments/0", "call"),
    ("request", "GET", "/anonymization-requests/{id}", "request"),
    ("request-cancel", "DELETE", "/anonymization-requests/{id}", "request"),
    ("receipt", "GET", "/anonymization-requests/{id}/receipt", "request"),
    ("rule-delete", "DELETE", "/retention-rules/{id}", "rule"),
    ("hold", "GET", "/legal-holds/{id}", "hold"),
    ("hold-release", "DELETE", "/legal-holds/{id}", "hold"),
    ("export", "GET", "/subject-exports/{id}", "export"),
    ("export-download", "GET", "/subject-exports/{id}/download", "export"),
]


def _id_rows() -> list[Case]:
    rows: list[Case] = []
    for op, method, template, kind in BY_ID:
        for label, ident in (("unknown", UNKNOWN_ID), ("foreign", f"{{foreign_{kind}}}"), ("not-an-id", "no-such-id")):
            url = API + template.replace("{id}", ident)
            rows.append(Case(f"{op}/{label}", method, url, content_type=None, status=404))
    # A recording upload with a good type: the id decides (404), and nothing is written.
    for label, ident in (("unknown", UNKNOWN_ID), ("foreign", "{foreign_call}")):
        url = f"{API}/interactions/{ident}/recording"
        rows.append(Case(f"recording-upload/{label}", "PUT", url, raw=WAV, content_type="audio/wav", status=404))
    # An attachment's index is a number from 0 (web/api/interactions.py).
    for label, index in (("negative", "-1"), ("words", "first"), ("huge", "100001")):
        url = f"{API}/interactions/{{own_call}}/attachments/{index}"
        rows.append(Case(f"attachment-index/{label}", "GET", url, content_type=None, names="index"))
    return rows


ID_ROWS = _id_rows()

# ---------------------------------------------------------------------------------------------
# Bodies that are no JSON, and media types the routes do not take
# ---------------------------------------------------------------------------------------------

# Every JSON write route with a body good enough that only the framing is wrong.
JSON_ROUTES: list[tuple[str, str, str, Json]] = [
    ("ingest", "POST", INTERACTIONS, CALL),
    ("batch", "POST", BATCH, [CALL]),
    ("request", "POST", REQUESTS, REQUEST),
    ("request-preview", "POST", f"{REQUESTS}/preview", REQUEST),
    ("a-and-d", "POST", ANONYMIZE_AND_DELETE, A_AND_D),
    ("rule", "POST", RULES, RULE),
    ("rule-preview", "POST", f"{RULES}/preview", RULE),
    ("hold", "POST", HOLDS, HOLD),
    ("settings", "PATCH", SETTINGS, {"country": "SE"}),
    ("export", "POST", EXPORTS, {"phone": "91234567"}),
]
# §6: malformed JSON is invalid input (422), whatever the route.
MALFORMED: Sequence[tuple[str, bytes]] = [
    ("truncated", b'{"channel":'),
    ("not-utf8", b"\xff\xfe"),
    ("broken-utf8-inside", b'{"phone": "\xc3"}'),
    ("empty", b""),
    ("trailing-comma", b'{"phone": "98765432",}'),
    ("single-quotes", b"{'phone': '98765432'}"),
    ("trailing-garbage", b'{"phone": "98765432"} x'),
]
# A good JSON body declared as another media type. The contract does not name the status for a JSON
# route; the API answers a type a route does not take with 415 (recordings, email, bulk: README),
# and so does HTTP (RFC 9110 §15.5.16) — rather than a 422 saying the object is no object.
WRONG_TYPES: Sequence[tuple[str, str]] = [
    ("text-plain", "text/plain"),
    ("form", "application/x-www-form-urlencoded"),
    ("multipart", "multipart/form-data; boundary=x"),
    ("xml", "application/xml"),
]
WRONG_TYPE_STATUS = 415


def _framing_rows() -> list[Case]:
    rows: list[Case] = []
    for op, method, url, _ in JSON_ROUTES:
        for label, raw in MALFORMED:
            rows.append(Case(f"{op}:malformed-{label}", method, url, raw=raw, names="body"))
    for op, method, url, good in JSON_ROUTES:
        for label, content_type in WRONG_TYPES:
            rows.append(
                Case(f"{op}:type-{label}", method, url, good, content_type=content_type, status=WRONG_TYPE_STATUS)
            )
    # Routes that take one media type only: 415 for any other (§6, §15, CONTRACT's recording upload).
    rows += [
        Case("recording-upload:type-json", "PUT", f"{API}/interactions/{{own_call}}/recording", raw=b"{}", status=415),
        Case(
            "recording-upload:type-text",
            "PUT",
            f"{API}/interactions/{{own_call}}/recording",
            raw=WAV,
            content_type="text/plain",
            status=415,
        ),
        Case(
            "recording-upload:no-type",
            "PUT",
            f"{API}/interactions/{{own_call}}/recording",
            raw=WAV,
            content_type=None,
            status=415,
        ),
        Case("email-upload:type-json", "POST", f"{INTERACTIONS}/email", raw=b"{}", status=415),
        Case("bulk:type-json", "POST", f"{REQUESTS}/bulk", raw=b'{"phone": "98765432"}', status=415),
    ]
    return rows


FRAMING_ROWS = _framing_rows()

TABLES: dict[str, list[Case]] = {
    "ingest": INGEST_ROWS,
    "batch": BATCH_ROWS,
    "requests": REQUEST_ROWS,
    "anonymize-and-delete": A_AND_D_ROWS,
    "retention-rules": RULE_ROWS,
    "legal-holds": HOLD_ROWS,
    "settings": SETTINGS_ROWS,
    "subject-exports": EXPORT_ROWS,
    "queries": QUERY_ROWS,
    "ids": ID_ROWS,
    "framing": FRAMING_ROWS,
}

# Rows the app answers against the contract today: id -> what comes back. A row listed here is
# checked to still deviate (so a fix shows up as a failure asking to remove it), like a strict xfail.
# Empty: the 51 rows found first (digit-string times read as Unix time; a wrong media type answered
# 422/400 instead of 415) are fixed in times.iso_text_only and errors.refuse_non_json.
KNOWN_DEVIATIONS: dict[str, str] = {}


# ---------------------------------------------------------------------------------------------
# The world each table runs in: objects of the caller's solution and of another
# ---------------------------------------------------------------------------------------------


@dataclass
class World:
    ids: dict[str, str] = field(default_factory=dict)

    def fill(self, value: Json) -> Json:
        if isinstance(value, Ref):
            return self.ids[value.name]
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value

    def url(self, template: str) -> str:
        url = template.format(**self.ids) if "{" in template else template
        assert "{" not in url, f"a placeholder left unfilled in {url[:120]}"
        assert "%7B" not in url.upper(), f"a placeholder quoted, so never filled, in {url[:120]}"
        return url


def _made(response: Any) -> str:
    assert response.status_code in (200, 201), response.text
    ident: str = response.json()["id"]
    return ident


def _populate(client: TestClient, headers: Mapping[str, str], solution_id: str, prefix: str, world: World) -> None:
    """A call with a recording, a chat, a waiting request, a rule, a hold and an export of one solution."""
    call = _made(client.post(INTERACTIONS, json=CALL, headers=headers))
    chat = _made(client.post(INTERACTIONS, json=CHAT, headers=headers))
    upload = client.put(
        f"{INTERACTIONS}/{call}/recording", content=WAV, headers={**headers, "Content-Type": "audio/wav"}
    )
    assert upload.status_code == 204, upload.text
    world.ids.update(
        {
            f"{prefix}_solution": solution_id,
            f"{prefix}_call": call,
            f"{prefix}_chat": chat,
            f"{prefix}_request": _made(client.post(REQUESTS, json={"phone": "91234567"}, headers=headers)),
            f"{prefix}_rule": _made(client.post(RULES, json={"what": "recording", "keep_days": 90}, headers=headers)),
            # On a queue no row's body names, so that no hold stands between a row and its 404.
            f"{prefix}_hold": _made(client.post(HOLDS, json={"reason": "Case 1", "queue": "Held"}, headers=headers)),
            f"{prefix}_export": _made(client.post(EXPORTS, json={"phone": "91234567"}, headers=headers)),
        }
    )


# ---------------------------------------------------------------------------------------------
# What "nothing was stored" means: every table's row count and the states a write would change
# ---------------------------------------------------------------------------------------------


def _state_query() -> Any:
    counts = [select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in Base.metadata.sorted_tables]
    states = [
        select(func.count(Interaction.anonymized_at)).scalar_subquery().label("interactions_anonymized"),
        select(func.count(Interaction.customer_phone_e164)).scalar_subquery().label("interactions_with_phone"),
        select(func.count(Interaction.customer_email_norm)).scalar_subquery().label("interactions_with_email"),
        select(func.count())
        .select_from(AnonymizationRequest)
        .where(AnonymizationRequest.status == RequestStatus.WAITING)
        .scalar_subquery()
        .label("requests_waiting"),
        select(func.count(LegalHold.released_at)).scalar_subquery().label("holds_released"),
        select(func.count())
        .select_from(SubjectExport)
        .where(SubjectExport.status == ExportStatus.READY)
        .scalar_subquery()
        .label("exports_ready"),
    ]
    return select(*counts, *states)


def snapshot(factory: sessionmaker[Session]) -> dict[str, object]:
    """Row counts of every table, the states a write would change, and both solutions' settings."""
    with factory() as session:
        row = session.execute(_state_query()).one()
        state: dict[str, object] = dict(row._mapping)
        for solution in session.scalars(select(Solution).order_by(Solution.id)):
            state[f"settings:{solution.id}"] = (
                solution.country,
                solution.timezone,
                solution.nightly_at,
                solution.replacement,
                tuple(solution.own_email_domains or ()),
                solution.access_purposes,
                solution.access_recipients,
                solution.access_source,
            )
    return state


# ---------------------------------------------------------------------------------------------
# Running a table
# ---------------------------------------------------------------------------------------------


@dataclass
class Bench:
    client: TestClient
    headers: dict[str, str]
    factory: sessionmaker[Session]
    world: World


@pytest.fixture
def bench(
    app: FastAPI,
    session_factory: sessionmaker[Session],
    make_token: TokenMaker,
    solution: Solution,
    other_solution: Solution,
) -> Iterator[Bench]:
    # A 500 must come back as the app's answer, not as an exception in the test.
    with TestClient(app, raise_server_exceptions=False) as client:
        world = World()
        own = auth(make_token(Role.ADMIN, solution))
        _populate(client, auth(make_token(Role.ADMIN, other_solution)), other_solution.id, "foreign", world)
        _populate(client, own, solution.id, "own", world)
        yield Bench(client, own, session_factory, world)


def send(bench: Bench, case: Case) -> Any:
    headers = dict(bench.headers)
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    if case.raw is not None:
        content: bytes | None = case.raw
    elif case.body is not OMIT:
        content = json.dumps(bench.world.fill(case.body)).encode()
    else:
        content = None
    return bench.client.request(case.method, bench.world.url(case.url), content=content, headers=headers)


def judge(case: Case, response: Any, before: Mapping[str, object], after: Mapping[str, object]) -> list[str]:
    """How the answer departs from the contract's: status, a JSON body with a string detail, nothing stored."""
    problems: list[str] = []
    if response.status_code != case.status:
        problems.append(f"status {response.status_code}, expected {case.status}")
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, str) or not detail:
        problems.append("no JSON body with a string detail")
    elif case.names and case.names not in detail:
        problems.append(f"detail does not name {case.names!r}")
    changed = sorted(k for k in after if before.get(k) != after[k])
    if changed:
        problems.append("changed: " + ", ".join(f"{k} {before.get(k)!r}->{after[k]!r}" for k in changed))
    return problems


def run_table(bench: Bench, table: Sequence[Case]) -> tuple[int, dict[str, str]]:
    """Every row sent once; how many were checked, and the deviations found by row id (a readable line each)."""
    deviations: dict[str, str] = {}
    checked = 0
    for case in table:
        before = snapshot(bench.factory)
        try:
            response = send(bench, case)
        except Exception as exc:  # noqa: BLE001 - a broken connection is a deviation to report, not a crash
            deviations[case.id] = f"{case.id}: {case.method} {case.url[:120]} raised {type(exc).__name__}"
            continue
        problems = judge(case, response, before, snapshot(bench.factory))
        checked += 1
        if problems:
            text = response.text[:300].replace("\n", " ")
            deviations[case.id] = f"{case.id}: {case.method} {case.url[:120]} -> {'; '.join(problems)} | {text}"
    return checked, deviations


def check(bench: Bench, table: Sequence[Case], controls: Iterable[tuple[str, str, Json]] = ()) -> None:
    """Run ``table``; fail on any deviation not known, on a known one that no longer happens, and
    on a control (the good input the rows vary) that is not taken — else every 422 might be the base's."""
    ids = [case.id for case in table]
    assert len(set(ids)) == len(ids), "row ids repeat"
    checked, deviations = run_table(bench, table)
    assert checked == len(table)
    unexpected = [line for ident, line in deviations.items() if ident not in KNOWN_DEVIATIONS]
    fixed = sorted(ident for ident in KNOWN_DEVIATIONS if ident in set(ids) and ident not in deviations)
    assert unexpected == [], f"{len(unexpected)} of {len(table)} rows deviate:\n" + "\n".join(unexpected)
    assert fixed == [], "no longer deviate, remove from KNOWN_DEVIATIONS: " + ", ".join(fixed)
    for method, url, body in controls:
        response = bench.client.request(
            method, bench.world.url(url), json=None if body is OMIT else bench.world.fill(body), headers=bench.headers
        )
        assert response.status_code < 300, f"control {method} {url}: {response.status_code} {response.text[:300]}"


# ---------------------------------------------------------------------------------------------
# The tests: one per operation family, each on whichever database the run uses
# ---------------------------------------------------------------------------------------------


def test_table_holds_at_least_500_distinct_bad_inputs() -> None:
    # The goal of issue 23 is per database: every table below runs whole on each.
    ids = [case.id for table in TABLES.values() for case in table]
    assert len(set(ids)) == len(ids)
    assert len(ids) >= 500, len(ids)
    assert set(KNOWN_DEVIATIONS) <= set(ids), "a known deviation names no row"


def test_ingest_refuses_bad_bodies_and_stores_nothing(bench: Bench) -> None:
    check(bench, INGEST_ROWS, [("POST", INTERACTIONS, b) for b in (CALL, CHAT, EMAIL)])


def test_batch_refuses_a_bad_body_among_good_ones_and_stores_nothing(bench: Bench) -> None:
    check(bench, BATCH_ROWS, [("POST", BATCH, [CALL, CHAT, EMAIL])])


def test_anonymization_requests_and_preview_refuse_bad_bodies(bench: Bench) -> None:
    good = {**REQUEST, "also": {"phones": ["91234568"], "emails": ["kari@example.org"]}}
    check(bench, REQUEST_ROWS, [("POST", f"{REQUESTS}/preview", good), ("POST", REQUESTS, good)])


def test_anonymize_and_delete_refuses_bad_bodies_and_erases_nothing(bench: Bench) -> None:
    check(bench, A_AND_D_ROWS, [("POST", ANONYMIZE_AND_DELETE, A_AND_D)])


def test_retention_rules_and_preview_refuse_bad_bodies(bench: Bench) -> None:
    check(bench, RULE_ROWS, [("POST", f"{RULES}/preview", RULE), ("POST", RULES, RULE)])


def test_legal_holds_refuse_bad_bodies(bench: Bench) -> None:
    controls = [("POST", HOLDS, b) for b in (HOLD, HOLD_ON_IDS, HOLD_ON_PERSON)]
    check(bench, HOLD_ROWS, [*controls, ("POST", HOLDS, {**HOLD, "until": "2030-01-01", "from": AT, "to": AT})])


def test_settings_patch_refuses_bad_values_and_changes_nothing(bench: Bench) -> None:
    check(bench, SETTINGS_ROWS, [("PATCH", SETTINGS, {"country": "SE", "own_email_domains": ["example.org"]})])


def test_subject_exports_refuse_bad_bodies(bench: Bench) -> None:
    check(bench, EXPORT_ROWS, [("POST", EXPORTS, {"email": "kari@example.org"})])


def test_list_query_parameters_are_refused_before_anything_is_read(bench: Bench) -> None:
    lists = [INTERACTIONS, f"{API}/raw-data", f"{API}/audit-events", REQUESTS, f"{API}/nightly-runs", f"{API}/receipts"]
    check(bench, QUERY_ROWS, [("GET", url, OMIT) for url in [*lists, EXPORTS]])


def test_unknown_and_foreign_ids_are_404_and_change_nothing(bench: Bench) -> None:
    check(bench, ID_ROWS, [("GET", f"{API}/interactions/{{own_call}}", OMIT), ("GET", f"{HOLDS}/{{own_hold}}", OMIT)])


def test_bodies_that_are_no_json_or_of_another_type_are_refused(bench: Bench) -> None:
    check(bench, FRAMING_ROWS, [(method, url, good) for _, method, url, good in JSON_ROUTES[:4]])
