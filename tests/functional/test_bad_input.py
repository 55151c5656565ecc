"""Bad input, route family by route family: every case a 4xx with a clear message, nothing
stored, nothing personal echoed (issue 13). One row per case, one comment per row."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.archive.models import Interaction, PendingBlobDeletion, RawEvent, Recording
from archivist.audit.models import AuditEvent
from archivist.blobs.memory import MemoryBlobStore
from archivist.demo.audio import make_wav
from tests.conftest import USERNAME_OF_TOKEN, TokenMaker, auth
from tests.functional.test_search_page_auth import csrf_from, login

# Canary identifiers: they must never show up in an answer, a log line or an audit entry.
CANARY_PHONE = "41987654"
CANARY_EMAIL = "canary.7f3a@example.org"
YEAR_10000 = "9999-12-31T23:59:59-05:00"  # year 10000 once in UTC
BEFORE_YEAR_1 = "0001-01-01T00:00:00+05:00"  # year 0 once in UTC
WAV = make_wav(0.5, seed=11)


def forged(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


AT = "2026-03-01T09:00:00+00:00"
BAD_CURSORS = {
    "garbage": "!!not-a-cursor!!",
    "not_json": "YWJj",
    "time_overflow": forged([YEAR_10000, 1]),
    "time_underflow": forged([BEFORE_YEAR_1, 1]),
    "id_true": forged([AT, True]),
    "id_huge": forged([AT, 10**30]),
    "id_huge_string": forged([AT, "9" * 100]),
    "id_nul": forged([AT, "ab\x00cd"]),
}


def call(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "call",
        "direction": "inbound",
        "started_at": "2026-03-01T09:00:00+01:00",
        "customer": {"phone": CANARY_PHONE, "email": CANARY_EMAIL, "name": "Kari Canary"},
        "variables": {"callback": CANARY_PHONE},
        "events": [{"at": "2026-03-01T09:00:00+01:00", "type": "offered", "duration_s": 3.5}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def admin(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.ADMIN, solution)


def _counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Interaction)) or 0,
            session.scalar(select(func.count()).select_from(RawEvent)) or 0,
        )


def assert_clean_refusal(response: Any, status: int = 422) -> None:
    """A 4xx with a readable JSON detail that repeats no personal data."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert CANARY_PHONE not in response.text
    assert CANARY_EMAIL not in response.text


# ---------------------------------------------------------------------------------------------
# Ingest: POST /api/v1/interactions and /batch
# ---------------------------------------------------------------------------------------------

INGEST_CASES = [
    pytest.param(call(started_at=YEAR_10000), "started_at", id="started_at-year-10000"),  # the PostgreSQL breaker
    pytest.param(call(started_at=BEFORE_YEAR_1), "started_at", id="started_at-before-year-1"),  # underflows in UTC
    pytest.param(call(started_at="1969-12-31T23:59:59Z"), "started_at", id="started_at-1969"),  # before the range
    pytest.param(call(started_at="2100-01-01T00:00:00Z"), "started_at", id="started_at-2100"),  # the range's end
    pytest.param(call(ended_at=YEAR_10000), "ended_at", id="ended_at-year-10000"),  # ended_at is a time too
    pytest.param(
        call(events=[{"at": YEAR_10000, "type": "offered"}]), "events.0.at", id="event-at-year-10000"
    ),  # raw data row time
    pytest.param(
        call(
            channel="chat",
            messages=[{"at": YEAR_10000, "from": "customer", "text": "hei"}],
        ),
        "messages.0.at",
        id="chat-message-at-year-10000",
    ),  # answered 201 before
    pytest.param(
        call(channel="email", subject="s", body="b", ended_at="1950-01-01T00:00:00Z"), "ended_at", id="email-time-1950"
    ),  # email times
    pytest.param(
        call(events=[{"at": AT, "type": "offered", "duration_s": "Infinity"}]), "events.0.duration_s", id="duration-inf"
    ),  # showed null in JSON, inf in CSV
    pytest.param(
        call(events=[{"at": AT, "type": "offered", "duration_s": "NaN"}]), "events.0.duration_s", id="duration-nan"
    ),  # not a duration
    pytest.param(call(customer={"name": "Kari\x00Canary"}), "body", id="nul-in-name"),  # PostgreSQL: 500 before
    pytest.param(call(variables={"note": "a\x00b"}), "body", id="nul-in-variable-value"),  # also in values
    pytest.param(call(variables={"x\x00y": "v"}), "body", id="nul-in-variable-name"),  # and in keys
    pytest.param(
        call(variables={CANARY_PHONE: "x" * 5000}), "variables", id="variable-named-like-a-phone-too-long"
    ),  # the 422 must not name it
    pytest.param(call(customer={"phone": CANARY_PHONE, CANARY_EMAIL: "x"}), "customer", id="unknown-key-an-email"),
    # an unknown key that is an address: not echoed
]


@pytest.mark.parametrize(("body", "field"), INGEST_CASES)
def test_ingest_refuses_and_stores_nothing(
    client: TestClient, admin: str, session_factory: sessionmaker[Session], body: dict[str, Any], field: str
) -> None:
    # json.dumps writes float("inf") as Infinity, which Python's reader (and so FastAPI's) accepts.
    payload = json.dumps(body).replace('"Infinity"', "Infinity").replace('"NaN"', "NaN")
    headers = {**auth(admin), "Content-Type": "application/json"}
    response = client.post("/api/v1/interactions", content=payload, headers=headers)
    assert_clean_refusal(response)
    assert response.json()["detail"].startswith(f"{field}:") or f"; {field}:" in response.json()["detail"]
    batch = client.post("/api/v1/interactions/batch", content=f"[{json.dumps(call())}, {payload}]", headers=headers)
    assert_clean_refusal(batch)
    assert _counts(session_factory) == (0, 0)


MALFORMED_BODIES = [
    pytest.param(b'{"channel":', id="truncated"),  # cut off mid-object
    pytest.param(b"\xff\xfe", id="not-utf8"),  # not text at all: FastAPI's 400 before
    pytest.param(b'{"channel": "\xc3"}', id="broken-utf8-inside"),  # a cut multi-byte character
    pytest.param(b"[1, 2", id="truncated-array"),  # the batch route's shape, cut off
    pytest.param(b"", id="empty"),  # nothing
    pytest.param(b'{"channel": "call"', id="unclosed"),  # missing brace
]


@pytest.mark.parametrize("raw", MALFORMED_BODIES)
def test_malformed_json_is_422_not_400(client: TestClient, admin: str, raw: bytes) -> None:
    for path in ("/api/v1/interactions", "/api/v1/interactions/batch", "/api/v1/anonymization-requests"):
        response = client.post(path, content=raw, headers={**auth(admin), "Content-Type": "application/json"})
        assert_clean_refusal(response)


def test_a_good_interaction_after_all_that_is_stored(client: TestClient, admin: str) -> None:
    response = client.post("/api/v1/interactions", json=call(started_at="2099-12-31T23:59:59Z"), headers=auth(admin))
    assert response.status_code == 201, response.text


# ---------------------------------------------------------------------------------------------
# Lists: interactions, raw data (JSON and CSV), audit, anonymization requests, receipts
# ---------------------------------------------------------------------------------------------

LISTS = [
    pytest.param("/api/v1/interactions", id="interactions"),  # search
    pytest.param("/api/v1/raw-data", id="raw-data"),  # JSON pages
    pytest.param("/api/v1/raw-data?format=csv", id="raw-data-csv"),  # must fail before the stream starts
    pytest.param("/api/v1/audit-events", id="audit"),  # audit trail
    pytest.param("/api/v1/anonymization-requests", id="requests"),  # Archive - Anonymize
]
TIME_LISTS = [*LISTS[:4], pytest.param("/api/v1/receipts", id="receipts")]

BAD_TIMES = [
    pytest.param(YEAR_10000, id="year-10000"),  # overflowed on the way to UTC
    pytest.param(BEFORE_YEAR_1, id="before-year-1"),  # underflowed
    pytest.param("1969-07-20T20:17:00Z", id="1969"),  # before the range
    pytest.param("2100-01-01T00:00:00Z", id="2100"),  # the range's end
    pytest.param("2026-03-01T09:00:00", id="no-offset"),  # ambiguous
    pytest.param("yesterday", id="not-a-time"),  # not ISO 8601
]


def _query(url: str, **params: str) -> str:
    from urllib.parse import urlencode

    return url + ("&" if "?" in url else "?") + urlencode(params)


@pytest.mark.parametrize("url", TIME_LISTS)
@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize("param", ["from", "to"])
def test_list_refuses_times_out_of_range(client: TestClient, admin: str, url: str, value: str, param: str) -> None:
    response = client.get(_query(url, **{param: value}), headers=auth(admin))
    assert_clean_refusal(response)
    assert response.json()["detail"].startswith(f"{param}:")


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("name", sorted(BAD_CURSORS))
def test_list_refuses_bad_cursors_before_anything_is_sent(client: TestClient, admin: str, url: str, name: str) -> None:
    client.post("/api/v1/interactions", json=call(), headers=auth(admin))
    response = client.get(_query(url, cursor=BAD_CURSORS[name]), headers=auth(admin))
    assert_clean_refusal(response)
    assert response.json()["detail"].startswith("cursor:")
    assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("phone=%00", id="nul-in-phone"),  # PostgreSQL: 500 before
        pytest.param("queue=Sup%00port", id="nul-in-queue"),  # any string parameter
        pytest.param("agent=%00", id="nul-in-agent"),
        pytest.param("cursor=ab%00", id="nul-in-cursor"),
    ],
)
def test_nul_in_a_query_value_is_422(client: TestClient, admin: str, query: str) -> None:
    response = client.get(f"/api/v1/interactions?{query}", headers=auth(admin))
    assert_clean_refusal(response)
    assert response.json()["errors"][0]["loc"] == ["query"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/interactions/ab%00cd",  # details
        "/api/v1/interactions/ab%00cd/content",  # content
        "/api/v1/interactions/ab%00cd/recording",  # recording
        "/api/v1/anonymization-requests/ab%00cd",  # a request
        "/api/v1/anonymization-requests/ab%00cd/receipt",  # its receipt
    ],
)
def test_nul_in_a_path_id_is_422(client: TestClient, admin: str, path: str) -> None:
    assert_clean_refusal(client.get(path, headers=auth(admin)))


def test_nul_in_a_request_body_is_422(client: TestClient, admin: str, session_factory: sessionmaker[Session]) -> None:
    response = client.post("/api/v1/anonymization-requests", json={"email": "a\x00@example.org"}, headers=auth(admin))
    assert_clean_refusal(response)
    # "\\u0000" in JSON is the text backslash-u-0000, not a NUL: that goes through to normal validation.
    literal = client.post(
        "/api/v1/anonymization-requests",
        content=b'{"phone": "\\\\u0000"}',
        headers={**auth(admin), "Content-Type": "application/json"},
    )
    assert literal.status_code == 422
    assert "NUL" not in literal.json()["detail"]


def test_csv_export_with_good_cursor_still_streams(client: TestClient, admin: str) -> None:
    for minute in range(3):
        client.post("/api/v1/interactions", json=call(started_at=f"2026-03-01T09:0{minute}:00Z"), headers=auth(admin))
    page = client.get("/api/v1/raw-data?limit=1", headers=auth(admin)).json()
    csv = client.get(_query("/api/v1/raw-data?format=csv", cursor=page["next_cursor"]), headers=auth(admin))
    assert csv.status_code == 200
    assert len(csv.text.strip().splitlines()) == 1 + 2  # header and the two rows after the first


# ---------------------------------------------------------------------------------------------
# Recordings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        pytest.param("audio/" + "x" * 95, 415, id="type-over-100-chars"),  # PostgreSQL: 500 after the blob was written
        pytest.param("text/html", 415, id="not-audio"),  # what a browser would render
        pytest.param("audio/wav\r\nX-Injected: 1", 415, id="header-injection"),  # never reaches a response
        pytest.param("audio/", 415, id="no-subtype"),  # not a type
        pytest.param("text/plain", 415, id="text-type"),  # was a 422 about NUL characters in the WAV
        pytest.param("multipart/form-data; boundary=x", 415, id="multipart"),  # was a 400 from the form parser
    ],
)
def test_recording_with_bad_type_is_refused_before_anything_is_written(
    client: TestClient,
    admin: str,
    blobs: MemoryBlobStore,
    session_factory: sessionmaker[Session],
    content_type: str,
    status: int,
) -> None:
    iid = client.post("/api/v1/interactions", json=call(), headers=auth(admin)).json()["id"]
    try:
        response = client.put(
            f"/api/v1/interactions/{iid}/recording", content=WAV, headers={**auth(admin), "Content-Type": content_type}
        )
    except Exception:  # noqa: BLE001 - httpx refuses a CR/LF header itself: that also never reaches us
        assert "\r" in content_type
        return
    assert_clean_refusal(response, status)
    assert blobs.list_keys() == []
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(PendingBlobDeletion)) == 0
        assert session.scalar(select(func.count()).select_from(Recording)) == 0


@pytest.mark.parametrize(
    ("uploaded", "served"),
    [
        pytest.param("audio/wav", "audio/wav", id="wav"),  # playable: as uploaded
        pytest.param("audio/mpeg", "audio/mpeg", id="mp3"),  # playable
        pytest.param("audio/x-evil+html", "application/octet-stream", id="unknown-audio"),  # opaque bytes
    ],
)
def test_recording_is_served_with_a_safe_type_and_nosniff(
    client: TestClient, admin: str, uploaded: str, served: str
) -> None:
    iid = client.post("/api/v1/interactions", json=call(), headers=auth(admin)).json()["id"]
    put = client.put(
        f"/api/v1/interactions/{iid}/recording", content=WAV, headers={**auth(admin), "Content-Type": uploaded}
    )
    assert put.status_code == 204, put.text
    got = client.get(f"/api/v1/interactions/{iid}/recording", headers=auth(admin))
    assert got.status_code == 200
    assert got.headers["content-type"] == served
    assert got.headers["x-content-type-options"] == "nosniff"


# ---------------------------------------------------------------------------------------------
# Methods, errors and the OpenAPI document
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v1/interactions/abc/recording", "GET, PUT, DELETE, OPTIONS"),  # three routes, one path
        ("/api/v1/interactions", "GET, POST, OPTIONS"),  # search and ingest
        ("/api/v1/anonymization-requests/abc", "GET, DELETE, OPTIONS"),  # read and cancel
        ("/api/v1/anonymization-requests/preview", "POST, OPTIONS"),  # listed {id}'s GET and DELETE before
        ("/api/v1/retention-rules/preview", "POST, OPTIONS"),  # likewise under /retention-rules/{id}
        ("/openapi.json", "GET, HEAD, OPTIONS"),  # HEAD only where the route answers it
    ],
)
def test_options_and_405_list_every_method_of_the_path(client: TestClient, path: str, methods: str) -> None:
    options = client.options(path)
    assert options.status_code == 204
    assert options.headers["allow"] == methods
    patch = client.patch(path)
    assert patch.status_code == 405
    assert patch.headers["allow"] == methods
    assert patch.json()["detail"]


def test_openapi_declares_the_422_the_app_sends(client: TestClient, admin: str) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    shape = schemas["ValidationErrorOut"]
    assert shape["properties"]["detail"]["type"] == "string"
    assert shape["properties"]["errors"]["type"] == "array"
    operation = document["paths"]["/api/v1/interactions"]["post"]
    assert set(operation["responses"]) >= {"201", "401", "403", "413", "422", "503"}
    recording = document["paths"]["/api/v1/interactions/{interaction_id}/recording"]
    assert {"404", "415"} <= set(recording["put"]["responses"])
    assert "409" in document["paths"]["/api/v1/anonymization-requests/{request_id}"]["delete"]["responses"]
    # And what it declares is what comes back.
    sent = client.get("/api/v1/interactions?limit=0", headers=auth(admin)).json()
    assert isinstance(sent["detail"], str)
    assert set(sent["errors"][0]) == {"loc", "msg", "type"}


def test_unknown_api_url_is_json_and_unknown_page_is_html(client: TestClient) -> None:
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json() == {"detail": "Not Found"}
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")


def test_page_errors_are_html_with_navigation_and_log_out(
    client: TestClient, make_token: TokenMaker, solution: Solution
) -> None:
    supervisor = make_token(Role.SUPERVISOR, solution)
    login(client, supervisor)
    for path, status in (("/no-such-page", 404), ("/users", 403), ("/archive/search?x=%00", 422)):
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "Log out" in response.text, path
        assert 'href="/archive/search"' in response.text, path  # the navigation
    # A form value with a NUL: an HTML answer too, never JSON.
    form = client.get("/archive/search")
    posted = client.post(
        "/archive/search", data={"phone": "9\x001", "csrf_token": csrf_from(form.text)}, headers={"HX-Request": "true"}
    )
    assert posted.status_code == 422
    assert posted.headers["content-type"].startswith("text/html")


# ---------------------------------------------------------------------------------------------
# Personal data in errors, logs and audit
# ---------------------------------------------------------------------------------------------


def test_validation_error_names_no_variable_and_no_value(client: TestClient, admin: str) -> None:
    response = client.post(
        "/api/v1/interactions",
        json=call(variables={CANARY_PHONE: "x" * 5000, CANARY_EMAIL: "y" * 5000}),
        headers=auth(admin),
    )
    assert_clean_refusal(response)
    assert response.json()["detail"] == "variables: String should have at most 4000 characters"
    for error in response.json()["errors"]:
        assert error["loc"] == ["body", "variables"]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(f"phone={CANARY_PHONE}", id="phone"),  # masked before
        pytest.param(f"Phone={CANARY_PHONE}", id="Phone"),  # was not
        pytest.param(f"PHONE={CANARY_PHONE}", id="PHONE"),
        pytest.param(f"EMAIL={CANARY_EMAIL}", id="EMAIL"),
        pytest.param(f"Email={CANARY_EMAIL}&x=1", id="Email-among-others"),
    ],
)
def test_access_log_masks_identifiers_in_any_letter_case(
    client: TestClient, admin: str, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    with caplog.at_level(logging.INFO, logger="archivist.access"):
        client.get(f"/api/v1/interactions?{query}", headers=auth(admin))
    lines = [r.getMessage() for r in caplog.records if r.name == "archivist.access"]
    assert lines
    assert not any(CANARY_PHONE in line or CANARY_EMAIL in line for line in lines), lines


def test_access_log_cannot_be_forged_and_holds_no_control_characters(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="archivist.access"):
        client.get("/x%0A127.0.0.1%20%22GET%20/admin%22%20200%0D%00?q=%0Afake%00")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "archivist.access"]
    assert "\n" not in line
    assert "\r" not in line
    assert "\x00" not in line
    # The path as it was sent, still percent-encoded: a reader sees what came in.
    assert "/x%0A127.0.0.1%20%22GET" in line


def test_canaries_reach_no_log_no_error_and_no_audit_entry(
    client: TestClient,
    admin: str,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        client.post("/api/v1/interactions", json=call(), headers=auth(admin))
        answers = [
            client.get(f"/api/v1/interactions?phone={CANARY_PHONE}&cursor=bad", headers=auth(admin)),
            client.get(f"/api/v1/interactions?email={CANARY_EMAIL}&from={YEAR_10000}", headers=auth(admin)),
            client.post("/api/v1/interactions", json=call(started_at=YEAR_10000), headers=auth(admin)),
            client.post("/api/v1/anonymization-requests", json={"phone": CANARY_PHONE + "x"}, headers=auth(admin)),
            client.post("/api/v1/anonymization-requests", json={"email": CANARY_EMAIL + "\x00"}, headers=auth(admin)),
        ]
        # A search that finds the canary answers with it, of course; its log lines and audit entry must not.
        client.get(f"/api/v1/interactions?phone={CANARY_PHONE}", headers=auth(admin))
    for answer in answers:
        assert CANARY_PHONE not in answer.text, answer.text
        assert CANARY_EMAIL not in answer.text, answer.text
    # Everything the server logged (httpx's lines are the test client's own, of what it sent).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert CANARY_PHONE not in logged
    assert CANARY_EMAIL not in logged
    with session_factory() as session:
        audit = json.dumps([[e.actor, e.action, e.target, e.details] for e in session.scalars(select(AuditEvent))])
    assert CANARY_PHONE not in audit
    assert CANARY_EMAIL not in audit


# ---------------------------------------------------------------------------------------------
# Login CSRF: bound to the client it was issued to
# ---------------------------------------------------------------------------------------------


def test_login_csrf_pair_cannot_be_replayed_from_another_client(
    app: Any, make_token: TokenMaker, solution: Solution
) -> None:
    username = USERNAME_OF_TOKEN[make_token(Role.SUPERVISOR, solution)]
    with TestClient(app, headers={"User-Agent": "client-a"}) as first:
        form = first.get("/login")
        token = csrf_from(form.text)
        cookie = first.cookies.get("archivist_csrf")
    assert cookie == token
    from tests.conftest import TEST_PASSWORD

    data = {"username": username, "password": TEST_PASSWORD, "csrf_token": token, "next": "/"}
    with TestClient(app, headers={"User-Agent": "client-b"}) as second:
        second.cookies.set("archivist_csrf", cookie)
        replayed = second.post("/login", data=data, follow_redirects=False)
    assert replayed.status_code == 403
    with TestClient(app, headers={"User-Agent": "client-a"}) as same:
        same.cookies.set("archivist_csrf", cookie)
        assert same.post("/login", data=data, follow_redirects=False).status_code == 303


def test_login_csrf_pair_expires(app: Any, clock: Any, make_token: TokenMaker, solution: Solution) -> None:
    from archivist.web.pages import LOGIN_CSRF_MAX_AGE
    from tests.conftest import TEST_PASSWORD

    username = USERNAME_OF_TOKEN[make_token(Role.SUPERVISOR, solution)]
    with TestClient(app) as c:
        token = csrf_from(c.get("/login").text)
        clock.advance(seconds=LOGIN_CSRF_MAX_AGE.total_seconds() + 1)
        data = {"username": username, "password": TEST_PASSWORD, "csrf_token": token, "next": "/"}
        assert c.post("/login", data=data, follow_redirects=False).status_code == 403


# ---------------------------------------------------------------------------------------------
# archivist nightly --as-of
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow  # starts processes or runs long: `make test-fast` leaves it out
@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--as-of", "9999-12-31"], "1970-01-01", id="year-9999-naive"),  # purged everything before
        pytest.param(["--as-of", "2090-01-01"], "more than 48 hours ahead", id="years-ahead-naive"),  # a drill only
        pytest.param(["--as-of", "9999-12-31T23:59:59-05:00"], "1970-01-01", id="year-10000-utc"),  # traceback before
        pytest.param(["--as-of", "0001-01-01T00:00:00+05:00"], "1970-01-01", id="before-year-1"),  # traceback before
        pytest.param(["--as-of", "0001-01-01"], "1970-01-01", id="year-1-naive"),  # underflows in a +14:00 zone
        pytest.param(["--as-of", "2099-06-01T00:00:00Z"], "--allow-future", id="far-future"),  # a drill needs the flag
        pytest.param(["--as-of", "9999-12-31", "--allow-future"], "1970-01-01", id="allow-future-still-in-range"),
        # the flag lifts the 48 hours, not the range
        pytest.param(["--as-of", "not-a-time"], "ISO-8601", id="not-a-time"),  # typer's usage error
    ],
)
def test_nightly_as_of_is_refused_with_exit_2(run: Any, args: list[str], message: str) -> None:
    assert run("init").returncode == 0
    result = run("nightly", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in " ".join((result.stdout + result.stderr).split())
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # starts processes or runs long: `make test-fast` leaves it out
def test_nightly_allow_future_runs_a_drill(run: Any) -> None:
    assert run("init").returncode == 0
    result = run("nightly", "--as-of", "2099-06-01T00:00:00Z", "--allow-future")
    assert result.returncode == 0, result.stderr
    assert "as of 2099-06-01" in result.stdout


def test_as_of_rule_at_its_boundary() -> None:
    from datetime import UTC, datetime, timedelta

    from archivist.cli import MAX_AS_OF_AHEAD, as_of_problem

    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert as_of_problem(now + MAX_AS_OF_AHEAD, now, allow_future=False) is None
    assert as_of_problem(now + MAX_AS_OF_AHEAD + timedelta(seconds=1), now, allow_future=False) is not None
    assert as_of_problem(now + MAX_AS_OF_AHEAD + timedelta(seconds=1), now, allow_future=True) is None
    # Without an offset it is some solution's local time: as late as UTC-12.
    naive = (now + MAX_AS_OF_AHEAD - timedelta(hours=11)).replace(tzinfo=None)
    assert as_of_problem(naive, now, allow_future=False) is not None


# ---------------------------------------------------------------------------------------------
# Strict types (CONTRACT §18): a JSON boolean is true/false, an integer an integer, a time a string
# ---------------------------------------------------------------------------------------------

STRICT_CASES = [
    pytest.param(
        "/api/v1/anonymization-requests", {"phone": "91234567", "raw_data": "yes"}, "raw_data", id="request-raw-yes"
    ),  # ran a real erasure with raw data before
    pytest.param(
        "/api/v1/anonymization-requests", {"phone": "91234567", "delete_content": 1}, "delete_content", id="request-1"
    ),  # 1 is not true
    pytest.param(
        "/api/v1/anonymization-requests/preview", {"phone": "91234567", "raw_data": "false"}, "raw_data", id="preview"
    ),  # the preview reads the same body
    pytest.param(
        "/api/v1/interactions/anonymize-and-delete", {"ids": ["a" * 32], "raw_data": "yes"}, "raw_data", id="a-and-d"
    ),  # Anonymize and delete
    pytest.param(
        "/api/v1/retention-rules", {"what": "recording", "keep_days": "5"}, "keep_days", id="rule-keep-days-text"
    ),  # created a rule before
    pytest.param(
        "/api/v1/retention-rules", {"what": "recording", "keep_days": 5.0}, "keep_days", id="rule-keep-days-float"
    ),  # 5.0 is a float
    pytest.param(
        "/api/v1/retention-rules/preview", {"what": "recording", "keep_days": True}, "keep_days", id="rule-true"
    ),  # true is not 1
    pytest.param(
        "/api/v1/legal-holds", {"reason": "case", "until": 20000, "queue": "x"}, "until", id="hold-until-number"
    ),  # a date is an ISO string
    pytest.param(
        "/api/v1/legal-holds", {"reason": "case", "from": 1767225600, "queue": "x"}, "from", id="hold-from-unix"
    ),  # a time is an ISO string
    pytest.param("/api/v1/interactions", call(started_at=1767225600), "started_at", id="ingest-unix-time"),
    # was read as Unix time
    pytest.param("/api/v1/interactions", call(ended_at=1767225600.5), "ended_at", id="ingest-float-time"),  # likewise
    pytest.param(
        "/api/v1/interactions",
        call(events=[{"at": AT, "type": "offered", "duration_s": "3"}]),
        "events.0.duration_s",
        id="duration-text",
    ),  # a number is a JSON number
]


@pytest.mark.parametrize(("url", "body", "field"), STRICT_CASES)
def test_strict_types_are_refused_and_nothing_is_stored(
    client: TestClient, admin: str, session_factory: sessionmaker[Session], url: str, body: dict[str, Any], field: str
) -> None:
    response = client.post(url, json=body, headers=auth(admin))
    assert_clean_refusal(response)
    assert field in response.json()["detail"]
    with session_factory() as session:
        from archivist.anonymize.models import AnonymizationRequest
        from archivist.retention.models import LegalHold, RetentionRule

        for model in (Interaction, AnonymizationRequest, RetentionRule, LegalHold):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model.__name__


def test_strict_types_still_take_what_the_contract_says(client: TestClient, admin: str) -> None:
    # The strict types refuse look-alikes, not the values themselves.
    assert (
        client.post(
            "/api/v1/retention-rules", json={"what": "recording", "keep_days": 5}, headers=auth(admin)
        ).status_code
        == 201
    )
    request = {"phone": "91234567", "raw_data": True, "delete_content": False}
    assert client.post("/api/v1/anonymization-requests", json=request, headers=auth(admin)).status_code == 201
    hold = {"reason": "case", "until": "2030-01-01", "from": "2026-01-01T00:00:00+01:00", "queue": "x"}
    assert client.post("/api/v1/legal-holds", json=hold, headers=auth(admin)).status_code == 201


def test_a_form_the_multipart_parser_cannot_read_is_a_422_page_not_a_400(client: TestClient) -> None:
    # Starlette's parser answers 400 for a broken multipart body; pages answer bad input with 422.
    response = client.post(
        "/login", content=b"--x\r\nnot a part", headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "not valid JSON or form data" in response.text
