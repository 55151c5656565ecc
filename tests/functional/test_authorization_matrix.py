"""The authorisation matrix, generated from the application's route table.

Every route × every role × own/another solution's object × no credentials, pages and API
alike. ``ROUTES`` says, per route, which permission it needs (CONTRACT §4), what an allowed
caller gets, and how to call it; ``test_every_route_has_an_entry`` fails the moment a route
is added without one. For each route:

- no credentials: the API answers 401, a page sends the browser to ``/login``;
- each role: 403 unless its role has the permission, else the route's success status;
- another solution's object: the answer is byte for byte the answer for an id that does not
  exist (404 unless the route says otherwise), and no response ever carries an id of the
  other solution.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import ApiToken, Role, Solution
from archivist.accounts.roles import Permission, may
from archivist.accounts.sessions import resume_session, session_id_of, start_session
from archivist.demo.audio import make_wav
from archivist.web.pages import AUTH_COOKIE, session_csrf_token
from tests.conftest import TEST_PASSWORD, Clock, auth

WAV = make_wav(0.2, seed=5)
MISSING = "0" * 32

# A role every logged-in user has: only logout needs nothing more than a session.
LOGGED_IN = "logged_in"


@dataclass(frozen=True)
class Objects:
    """One of each object a route can name, in one solution."""

    interaction: str
    request: str
    user: str
    token: str
    rule: str = ""
    hold: str = ""
    export: str = ""

    def ids(self) -> set[str]:
        return {self.interaction, self.request, self.user, self.token, self.rule, self.hold, self.export} - {""}


Call = Callable[[Objects], dict[str, Any]]


def _none(_: Objects) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Rule:
    permission: Permission | str | None  # None: public
    ok: int  # what an allowed role gets on its own object
    page: bool = False
    call: Call = _none  # extra request arguments (json, data, content, headers)
    # The status for another solution's object; None when the route names no object.
    other: int | None = None
    anonymous: int | None = None  # public routes: what a caller without credentials gets


def interaction_body(_: Objects) -> dict[str, Any]:
    return {
        "json": {
            "channel": "call",
            "direction": "inbound",
            "started_at": "2026-03-01T09:00:00+01:00",
            "customer": {"phone": "91234567"},
        }
    }


def email_message() -> dict[str, Any]:
    message = f"From: kari@example.com\r\nMessage-ID: <{secrets.token_hex(8)}@example.com>\r\n\r\nHei\r\n"
    return {"content": message.encode(), "headers": {"Content-Type": "message/rfc822"}}


def form(**values: Any) -> Call:
    return lambda _: {"data": values}


SETTINGS_FORM = {
    "country": "NO",
    "timezone": "Europe/Oslo",
    "nightly_at": "03:00",
    "replacement": "Anonymized",
    "preview_warn_percent": "1",
    "audit_retention_days": "365",
}

API, PAGE = False, True
P = Permission

# (method, path) -> rule. One line per route; keep it in the order of the route table.
ROUTES: dict[tuple[str, str], Rule] = {
    ("GET", "/openapi.json"): Rule(None, 200, anonymous=200),
    ("GET", "/docs"): Rule(None, 200, anonymous=200),
    ("GET", "/docs/oauth2-redirect"): Rule(None, 200, anonymous=200),
    ("GET", "/redoc"): Rule(None, 200, anonymous=200),
    ("GET", "/healthz"): Rule(None, 200, anonymous=200),
    # --- archive API
    ("GET", "/api/v1/interactions"): Rule(P.SEARCH, 200),
    ("POST", "/api/v1/interactions/anonymize-and-delete"): Rule(
        P.DELETE_CONTENT, 200, call=lambda o: {"json": {"ids": [o.interaction]}}, other=404
    ),
    ("POST", "/api/v1/interactions"): Rule(P.INGEST, 201, call=interaction_body),
    ("POST", "/api/v1/interactions/batch"): Rule(P.INGEST, 200, call=lambda o: {"json": [interaction_body(o)["json"]]}),
    ("GET", "/api/v1/interactions/{interaction_id}"): Rule(P.SEARCH, 200, other=404),
    ("GET", "/api/v1/interactions/{interaction_id}/content"): Rule(P.READ_CONTENT, 200, other=404),
    ("DELETE", "/api/v1/interactions/{interaction_id}/content"): Rule(P.DELETE_CONTENT, 204, other=404),
    ("PUT", "/api/v1/interactions/{interaction_id}/recording"): Rule(
        P.INGEST, 204, call=lambda _: {"content": WAV, "headers": {"Content-Type": "audio/wav"}}, other=404
    ),
    ("GET", "/api/v1/interactions/{interaction_id}/recording"): Rule(P.READ_CONTENT, 200, other=404),
    ("DELETE", "/api/v1/interactions/{interaction_id}/recording"): Rule(P.DELETE_CONTENT, 204, other=404),
    # An email as it arrives (CONTRACT §15); the matrix's interaction is a chat: no attachment 0.
    ("POST", "/api/v1/interactions/email"): Rule(P.INGEST, 201, call=lambda _: email_message()),
    ("GET", "/api/v1/interactions/{interaction_id}/attachments/{index}"): Rule(P.READ_CONTENT, 404, other=404),
    # --- anonymization API
    ("POST", "/api/v1/anonymization-requests"): Rule(
        P.MANAGE_REQUESTS, 201, call=lambda _: {"json": {"email": f"new-{secrets.token_hex(4)}@example.com"}}
    ),
    ("POST", "/api/v1/anonymization-requests/preview"): Rule(
        P.MANAGE_REQUESTS, 200, call=lambda _: {"json": {"phone": "98765432"}}
    ),
    ("GET", "/api/v1/anonymization-requests"): Rule(P.MANAGE_REQUESTS, 200),
    ("GET", "/api/v1/anonymization-requests/{request_id}"): Rule(P.MANAGE_REQUESTS, 200, other=404),
    ("DELETE", "/api/v1/anonymization-requests/{request_id}"): Rule(P.MANAGE_REQUESTS, 204, other=404),
    # A waiting request has no receipt yet: 409 for an allowed caller, 404 for another solution's.
    ("GET", "/api/v1/anonymization-requests/{request_id}/receipt"): Rule(P.MANAGE_REQUESTS, 409, other=404),
    ("GET", "/api/v1/receipts"): Rule(P.MANAGE_REQUESTS, 200),
    ("GET", "/api/v1/signing-keys"): Rule(LOGGED_IN, 200),
    ("POST", "/api/v1/nightly-runs"): Rule(P.ADMINISTER, 200),
    # --- retention rules and legal holds API
    ("GET", "/api/v1/retention-rules"): Rule(P.READ_RETENTION, 200),
    ("POST", "/api/v1/retention-rules"): Rule(
        P.ADMINISTER,
        201,
        call=lambda _: {"json": {"queue": f"q-{secrets.token_hex(4)}", "what": "content", "keep_days": 7}},
    ),
    ("POST", "/api/v1/retention-rules/preview"): Rule(
        P.ADMINISTER, 200, call=lambda _: {"json": {"what": "recording", "keep_days": 7}}
    ),
    ("DELETE", "/api/v1/retention-rules/{rule_id}"): Rule(P.ADMINISTER, 204, other=404),
    ("POST", "/api/v1/legal-holds"): Rule(
        P.MANAGE_HOLDS, 201, call=lambda o: {"json": {"reason": "matrix", "interaction_ids": [o.interaction]}}
    ),
    ("GET", "/api/v1/legal-holds"): Rule(P.MANAGE_HOLDS, 200),
    ("GET", "/api/v1/legal-holds/{hold_id}"): Rule(P.MANAGE_HOLDS, 200, other=404),
    ("DELETE", "/api/v1/legal-holds/{hold_id}"): Rule(P.MANAGE_HOLDS, 204, other=404),
    ("GET", "/api/v1/nightly-runs"): Rule(P.MANAGE_REQUESTS, 200),
    # --- settings (CONTRACT §19): officers read, admins change
    ("GET", "/api/v1/settings"): Rule(P.MANAGE_REQUESTS, 200),
    ("PATCH", "/api/v1/settings"): Rule(P.ADMINISTER, 200, call=lambda _: {"json": {"access_source": "calls"}}),
    # --- subject access and bulk intake API (CONTRACT §12)
    ("POST", "/api/v1/anonymization-requests/bulk"): Rule(
        P.MANAGE_REQUESTS,
        200,
        call=lambda _: {"content": b"phone,email\n98765432,\n", "headers": {"Content-Type": "text/csv"}},
    ),
    ("POST", "/api/v1/subject-exports"): Rule(P.MANAGE_REQUESTS, 201, call=lambda _: {"json": {"phone": "91234567"}}),
    ("GET", "/api/v1/subject-exports"): Rule(P.MANAGE_REQUESTS, 200),
    ("GET", "/api/v1/subject-exports/{export_id}"): Rule(P.MANAGE_REQUESTS, 200, other=404),
    ("GET", "/api/v1/subject-exports/{export_id}/download"): Rule(P.MANAGE_REQUESTS, 200, other=404),
    # --- raw data and audit API
    ("GET", "/api/v1/raw-data"): Rule(P.READ_RAW_DATA, 200),
    ("GET", "/api/v1/audit-events"): Rule(P.READ_AUDIT, 200),
    # --- pages: login
    ("GET", "/"): Rule(None, 303, page=PAGE, anonymous=303),
    ("GET", "/login"): Rule(None, 200, page=PAGE, anonymous=200),
    # Without the login form's CSRF pair a login POST is refused before anything else.
    ("POST", "/login"): Rule(None, 403, page=PAGE, anonymous=403),
    ("POST", "/logout"): Rule(LOGGED_IN, 303, page=PAGE),
    # --- pages: Archive - Search
    ("GET", "/archive/search"): Rule(P.SEARCH, 200, page=PAGE),
    ("POST", "/archive/search"): Rule(P.SEARCH, 200, page=PAGE, call=form(queue="Support")),
    ("GET", "/archive/interactions/{interaction_id}"): Rule(P.READ_CONTENT, 200, page=PAGE, other=404),
    ("GET", "/archive/recordings/{interaction_id}"): Rule(P.READ_CONTENT, 200, page=PAGE, other=404),
    ("GET", "/archive/interactions/{interaction_id}/attachments/{index}"): Rule(
        P.READ_CONTENT, 404, page=PAGE, other=404
    ),
    ("POST", "/archive/interactions/{interaction_id}/recording/delete"): Rule(
        P.DELETE_CONTENT, 200, page=PAGE, other=404
    ),
    ("POST", "/archive/interactions/{interaction_id}/content/delete"): Rule(
        P.DELETE_CONTENT, 200, page=PAGE, other=404
    ),
    ("POST", "/archive/anonymize-and-delete"): Rule(
        P.DELETE_CONTENT, 200, page=PAGE, call=lambda o: {"data": {"ids": [o.interaction]}}, other=404
    ),
    # --- pages: Archive - Anonymize
    ("GET", "/archive/anonymize"): Rule(P.MANAGE_REQUESTS, 200, page=PAGE),
    ("POST", "/archive/anonymize/preview"): Rule(P.MANAGE_REQUESTS, 200, page=PAGE, call=form(phone="98765432")),
    ("POST", "/archive/anonymize"): Rule(P.MANAGE_REQUESTS, 303, page=PAGE, call=form(phone="98765432")),
    # The page answers a row it cannot find with "no longer on the page", whoever's it was.
    ("POST", "/archive/anonymize/{request_id}/cancel"): Rule(P.MANAGE_REQUESTS, 303, page=PAGE, other=404),
    # The matrix's request is waiting, so it has no receipt yet.
    ("GET", "/archive/anonymize/{request_id}/receipt"): Rule(P.MANAGE_REQUESTS, 404, page=PAGE, other=404),
    # The matrix's request is waiting: its certificate is "not done yet" (409), another's is absent.
    ("GET", "/archive/anonymize/{request_id}/certificate"): Rule(P.MANAGE_REQUESTS, 409, page=PAGE, other=404),
    ("POST", "/archive/anonymize/lookup"): Rule(P.MANAGE_REQUESTS, 200, page=PAGE, call=form(phone="98765432")),
    ("POST", "/archive/anonymize/bulk/preview"): Rule(
        P.MANAGE_REQUESTS,
        200,
        page=PAGE,
        call=lambda _: {"files": {"file": ("people.csv", b"phone,email\n98765432,\n", "text/csv")}},
    ),
    ("POST", "/archive/anonymize/bulk"): Rule(
        P.MANAGE_REQUESTS, 303, page=PAGE, call=form(csv="phone,email\n98765432,\n")
    ),
    # --- pages: Archive - Access
    ("GET", "/archive/access"): Rule(P.MANAGE_REQUESTS, 200, page=PAGE),
    ("POST", "/archive/access/preview"): Rule(P.MANAGE_REQUESTS, 200, page=PAGE, call=form(phone="91234567")),
    ("POST", "/archive/access"): Rule(P.MANAGE_REQUESTS, 303, page=PAGE, call=form(phone="91234567")),
    ("GET", "/archive/access/{export_id}/download"): Rule(P.MANAGE_REQUESTS, 200, page=PAGE, other=404),
    # --- pages: Raw data, Audit log
    ("GET", "/raw-data"): Rule(P.READ_RAW_DATA, 200, page=PAGE),
    ("GET", "/raw-data/export.csv"): Rule(P.READ_RAW_DATA, 200, page=PAGE),
    ("GET", "/audit"): Rule(P.READ_AUDIT, 200, page=PAGE),
    # --- pages: Users, Settings
    ("GET", "/users"): Rule(P.ADMINISTER, 200, page=PAGE),
    ("POST", "/users"): Rule(
        P.ADMINISTER,
        200,
        page=PAGE,
        call=lambda _: {"data": {"username": f"new-{secrets.token_hex(4)}", "role": "supervisor"}},
    ),
    ("GET", "/users/{user_id}"): Rule(P.ADMINISTER, 200, page=PAGE, other=404),
    ("POST", "/users/{user_id}/role"): Rule(P.ADMINISTER, 303, page=PAGE, call=form(role="privacy_officer"), other=404),
    ("POST", "/users/{user_id}/disable"): Rule(P.ADMINISTER, 303, page=PAGE, other=404),
    ("POST", "/users/{user_id}/enable"): Rule(P.ADMINISTER, 303, page=PAGE, other=404),
    ("POST", "/users/{user_id}/password"): Rule(P.ADMINISTER, 200, page=PAGE, other=404),
    ("POST", "/users/{user_id}/tokens"): Rule(P.ADMINISTER, 200, page=PAGE, call=form(label="x"), other=404),
    ("POST", "/users/{user_id}/tokens/{token_id}/revoke"): Rule(P.ADMINISTER, 303, page=PAGE, other=404),
    ("GET", "/settings"): Rule(P.ADMINISTER, 200, page=PAGE),
    ("POST", "/settings"): Rule(P.ADMINISTER, 303, page=PAGE, call=lambda _: {"data": SETTINGS_FORM}),
    ("POST", "/settings/retention-rules/preview"): Rule(
        P.ADMINISTER, 200, page=PAGE, call=form(what="recording", keep_days="7")
    ),
    ("POST", "/settings/retention-rules"): Rule(
        P.ADMINISTER,
        303,
        page=PAGE,
        call=lambda _: {"data": {"queue": f"q-page-{secrets.token_hex(4)}", "what": "content", "keep_days": "7"}},
    ),
    ("POST", "/settings/retention-rules/{rule_id}/delete"): Rule(P.ADMINISTER, 303, page=PAGE, other=404),
    # --- pages: Legal holds
    ("GET", "/legal-holds"): Rule(P.MANAGE_HOLDS, 200, page=PAGE),
    ("POST", "/legal-holds"): Rule(
        P.MANAGE_HOLDS, 303, page=PAGE, call=lambda o: {"data": {"reason": "matrix", "interaction_ids": o.interaction}}
    ),
    ("POST", "/legal-holds/{hold_id}/release"): Rule(P.MANAGE_HOLDS, 303, page=PAGE, other=404),
    # --- pages: Nightly runs (CONTRACT §19)
    ("GET", "/nightly-runs"): Rule(P.MANAGE_REQUESTS, 200, page=PAGE),
    ("POST", "/nightly-runs/run"): Rule(P.ADMINISTER, 303, page=PAGE),
}

# Static files are public by design: the login page needs its stylesheet.
NOT_ROUTES = {"/static"}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        if context.path in NOT_ROUTES:
            continue
        for method in getattr(context, "methods", None) or ():
            if method != "HEAD":
                found.add((method, str(context.path)))
    return found


def test_every_route_has_an_entry(app: FastAPI) -> None:
    routes = app_routes(app)
    missing = sorted(routes - ROUTES.keys())
    assert not missing, f"routes without an entry in the authorisation matrix: {missing}"
    assert not sorted(ROUTES.keys() - routes), "entries for routes that no longer exist"


@dataclass
class Caller:
    role: Role
    token: str  # API bearer token
    cookie: str  # page session cookie
    csrf: str


@dataclass
class World:
    client: TestClient
    factory: sessionmaker[Session]
    secret: str
    clock: Clock
    solution: Solution
    other: Solution
    callers: dict[Role, Caller] = field(default_factory=dict)
    seeder: str = ""  # an admin token of ``solution``
    other_seeder: str = ""

    def objects(self, solution: Solution, seeder: str) -> Objects:
        """A fresh set of objects: a chat with content and a recording, a request, a user, a token."""
        body = {
            "channel": "chat",
            "direction": "inbound",
            "started_at": "2026-03-01T09:00:00+01:00",
            "queue": "Support",
            "customer": {"email": "kari@example.com"},
            "messages": [{"at": "2026-03-01T09:00:05+01:00", "from": "customer", "text": "Hei"}],
            "events": [{"at": "2026-03-01T09:00:00+01:00", "type": "offered"}],
        }
        interaction = self.client.post("/api/v1/interactions", json=body, headers=auth(seeder)).json()["id"]
        put = self.client.put(
            f"/api/v1/interactions/{interaction}/recording",
            content=WAV,
            headers={**auth(seeder), "Content-Type": "audio/wav"},
        )
        assert put.status_code == 204
        request = self.client.post(
            "/api/v1/anonymization-requests", json={"email": f"{interaction}@example.com"}, headers=auth(seeder)
        ).json()["id"]
        with self.factory() as session, session.begin():
            user = accounts.create_user(
                session,
                solution_id=solution.id,
                username=f"u-{interaction}",
                role=Role.SUPERVISOR,
                password=TEST_PASSWORD,
            )
            accounts.create_token(session, user, "target")
            token = session.scalars(select(ApiToken.id).where(ApiToken.user_id == user.id)).one()
        rule = self.client.post(
            "/api/v1/retention-rules",
            json={"queue": f"q-{interaction}", "what": "recording", "keep_days": 30},
            headers=auth(seeder),
        ).json()["id"]
        hold = self.client.post(
            "/api/v1/legal-holds", json={"reason": "matrix", "queue": f"q-{interaction}"}, headers=auth(seeder)
        ).json()["id"]
        export = self.client.post("/api/v1/subject-exports", json={"phone": "91234567"}, headers=auth(seeder))
        return Objects(interaction, request, user.id, token, rule, hold, export.json()["id"])


def _caller(world: World, role: Role, solution: Solution, n: int) -> Caller:
    with world.factory() as session, session.begin():
        user = accounts.create_user(
            session,
            solution_id=solution.id,
            username=f"{role.value}-{n}-{solution.id[-6:]}",
            role=role,
            password=TEST_PASSWORD,
        )
        token = accounts.create_token(session, user, "matrix")
        cookie = start_session(session, user, world.clock())
        login = resume_session(session, cookie, world.clock())
        assert login is not None
        return Caller(role, token, cookie, session_csrf_token(world.secret, login.csrf_secret))


@pytest.fixture
def world(
    client: TestClient,
    session_factory: sessionmaker[Session],
    settings: Any,
    clock: Clock,
    solution: Solution,
    other_solution: Solution,
) -> World:
    world = World(client, session_factory, settings.resolved_secret_key, clock, solution, other_solution)
    for n, role in enumerate(Role):
        world.callers[role] = _caller(world, role, solution, n)
    world.seeder = world.callers[Role.ADMIN].token
    world.other_seeder = _caller(world, Role.ADMIN, other_solution, 99).token
    return world


def _path(template: str, objects: Objects) -> str:
    return (
        template.replace("{interaction_id}", objects.interaction)
        .replace("{request_id}", objects.request)
        .replace("{user_id}", objects.user)
        .replace("{token_id}", objects.token)
        .replace("{rule_id}", objects.rule)
        .replace("{hold_id}", objects.hold)
        .replace("{export_id}", objects.export)
        .replace("{index}", "0")
    )


def _send(world: World, method: str, path: str, rule: Rule, caller: Caller | None, objects: Objects) -> Any:
    kwargs = rule.call(objects)
    headers = dict(kwargs.pop("headers", {}))
    world.client.cookies.clear()
    if caller is not None and rule.page:
        world.client.cookies.set(AUTH_COOKIE, caller.cookie)
        if method != "GET":
            kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": caller.csrf}
    elif caller is not None:
        headers.update(auth(caller.token))
    return world.client.request(method, path, headers=headers, follow_redirects=False, **kwargs)


def _allowed(role: Role, permission: Permission | str) -> bool:
    return permission == LOGGED_IN or may(role, Permission(permission))


def _cases() -> Iterator[Any]:
    for (method, path), rule in ROUTES.items():
        yield pytest.param(method, path, rule, id=f"{method} {path}")


@pytest.mark.parametrize(("method", "path", "rule"), list(_cases()))
def test_route_answers_each_caller_as_the_matrix_says(method: str, path: str, rule: Rule, world: World) -> None:
    own = world.objects(world.solution, world.seeder)
    others = world.objects(world.other, world.other_seeder)

    anonymous = _send(world, method, _path(path, own), rule, None, own)
    if rule.permission is None:
        assert anonymous.status_code == rule.anonymous, anonymous.text
        return
    if rule.page:
        assert anonymous.status_code == 303, anonymous.text
        assert anonymous.headers["location"].startswith("/login")
    else:
        assert anonymous.status_code == 401, anonymous.text

    for role, caller in world.callers.items():
        # A fresh set for anything that may change its objects: the last role may have deleted them.
        changes_objects = method != "GET" and ("{" in path or path.endswith("anonymize-and-delete"))
        mine = world.objects(world.solution, world.seeder) if changes_objects else own
        response = _send(world, method, _path(path, mine), rule, caller, mine)
        expected = rule.ok if _allowed(role, rule.permission) else 403
        assert response.status_code == expected, (role, response.text[:300])
        assert not any(i in response.text for i in others.ids()), (role, "another solution's id leaked")
        if rule.other is None or not _allowed(role, rule.permission):
            continue
        foreign = _send(world, method, _path(path, others), rule, caller, others)
        nothing = Objects(MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING)
        missing = _send(world, method, _path(path, nothing), rule, caller, nothing)
        assert foreign.status_code == rule.other, (role, foreign.text[:300])
        assert (foreign.status_code, foreign.content) == (missing.status_code, missing.content), role
        assert not any(i in foreign.text for i in others.ids())


def test_bulk_action_with_one_foreign_id_changes_nothing(world: World) -> None:
    mine = world.objects(world.solution, world.seeder)
    others = world.objects(world.other, world.other_seeder)
    response = world.client.post(
        "/api/v1/interactions/anonymize-and-delete",
        json={"ids": [mine.interaction, others.interaction]},
        headers=auth(world.seeder),
    )
    assert response.status_code == 404
    still = world.client.get(f"/api/v1/interactions/{mine.interaction}", headers=auth(world.seeder)).json()
    assert still["has_recording"]
    assert not still["anonymized"]


def test_a_session_cookie_is_not_a_bearer_token(world: World) -> None:
    caller = world.callers[Role.ADMIN]
    assert world.client.get("/api/v1/interactions", headers=auth(caller.cookie)).status_code == 401
    assert session_id_of(caller.cookie) != caller.cookie
