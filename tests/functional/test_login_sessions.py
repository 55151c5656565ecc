"""Page sessions: fixation, logout, idle and absolute timeouts, CSRF, login throttling, and
disabling or revoking taking effect at once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import ApiToken, Role, Solution, User, WebSession
from archivist.accounts.sessions import (
    ABSOLUTE_TIMEOUT,
    FAILURE_WINDOW,
    IDLE_TIMEOUT,
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    session_id_of,
)
from archivist.web.pages import AUTH_COOKIE, CSRF_COOKIE
from tests.conftest import TEST_PASSWORD, USERNAME_OF_TOKEN, Clock, TokenMaker, auth
from tests.functional.test_search_page_auth import csrf_from, login, login_form_data


@pytest.fixture
def token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.ADMIN, solution)


def _attempt(client: TestClient, username: str, password: str) -> int:
    client.cookies.delete(AUTH_COOKIE)
    return client.post("/login", data=login_form_data(client, username, password), follow_redirects=False).status_code


def _logged_in(client: TestClient) -> bool:
    return client.get("/archive/search", follow_redirects=False).status_code == 200


def _set_cookie_value(response: Response, name: str) -> str:
    header = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(name + "="))
    return header.split(";", 1)[0].split("=", 1)[1]


def _login_bringing(client: TestClient, username: str, brought: str) -> Response:
    """A login POST from a browser that already holds the session cookie ``brought``."""
    client.cookies.clear()
    data = login_form_data(client, username)  # the anonymous CSRF pair
    client.cookies.set(AUTH_COOKIE, brought)
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303
    return response


def test_login_issues_a_new_session_id_and_ends_the_one_the_browser_brought(
    client: TestClient, token: str, session_factory: sessionmaker[Session]
) -> None:
    login(client, token)
    first = client.cookies[AUTH_COOKIE]
    second = _set_cookie_value(_login_bringing(client, USERNAME_OF_TOKEN[token], first), AUTH_COOKIE)
    assert first != second
    with session_factory() as session:
        old = session.get(WebSession, session_id_of(first))
        assert old is not None
        assert old.ended_at is not None
        # Only the hash of the cookie is stored: a copy of the table cannot be replayed.
        assert session.get(WebSession, second) is None
        assert session.get(WebSession, session_id_of(second)) is not None
    client.cookies.clear()
    client.cookies.set(AUTH_COOKIE, first)
    assert not _logged_in(client)


def test_a_session_id_the_attacker_chose_is_never_adopted(client: TestClient, token: str) -> None:
    issued = _set_cookie_value(_login_bringing(client, USERNAME_OF_TOKEN[token], "attacker-chosen"), AUTH_COOKIE)
    assert issued != "attacker-chosen"
    client.cookies.clear()
    client.cookies.set(AUTH_COOKIE, "attacker-chosen")
    assert not _logged_in(client)


def test_logout_ends_the_session_on_the_server(client: TestClient, token: str) -> None:
    login(client, token)
    cookie = client.cookies[AUTH_COOKIE]
    csrf = csrf_from(client.get("/archive/search").text)
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    # Replaying the old cookie after logout does not work: the server ended the session.
    client.cookies.set(AUTH_COOKIE, cookie)
    assert not _logged_in(client)


def test_idle_session_ends_after_the_idle_timeout(client: TestClient, token: str, clock: Clock) -> None:
    login(client, token)
    clock.advance(seconds=IDLE_TIMEOUT.total_seconds() - 1)
    assert _logged_in(client)  # and this use restarts the idle clock
    clock.advance(seconds=IDLE_TIMEOUT.total_seconds() - 1)
    assert _logged_in(client)
    clock.advance(seconds=IDLE_TIMEOUT.total_seconds())
    assert not _logged_in(client)


def test_busy_session_ends_at_the_absolute_timeout(client: TestClient, token: str, clock: Clock) -> None:
    login(client, token)
    step = IDLE_TIMEOUT / 2
    elapsed = step
    while elapsed < ABSOLUTE_TIMEOUT:
        clock.advance(seconds=step.total_seconds())
        assert _logged_in(client), elapsed
        elapsed += step
    clock.advance(seconds=step.total_seconds())
    assert not _logged_in(client)


def test_a_post_without_the_session_csrf_token_is_refused_with_403(client: TestClient, token: str) -> None:
    login(client, token)
    assert client.post("/archive/search", data={"queue": "x"}).status_code == 403
    assert client.post("/archive/search", data={"queue": "x", "csrf_token": "0" * 64}).status_code == 403
    assert client.post("/settings", data={"country": "SE"}, headers={"X-CSRF-Token": "nope"}).status_code == 403


def test_the_csrf_token_of_another_session_is_refused(
    client: TestClient, app: object, make_token: TokenMaker, solution: Solution
) -> None:
    with TestClient(app) as other:  # type: ignore[arg-type]
        login(other, make_token(Role.ADMIN, solution))
        foreign = csrf_from(other.get("/archive/search").text)
    login(client, make_token(Role.ADMIN, solution))
    assert client.post("/archive/search", data={"csrf_token": foreign}).status_code == 403


def test_htmx_requests_carry_the_csrf_token_in_a_header(client: TestClient, token: str) -> None:
    login(client, token)
    csrf = csrf_from(client.get("/archive/search").text)
    response = client.post("/archive/search", data={"queue": "x"}, headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert response.status_code == 200


def test_state_changing_routes_refuse_get(client: TestClient, token: str) -> None:
    login(client, token)
    for path in ("/logout", "/users/x/disable", "/archive/anonymize-and-delete"):
        assert client.get(path).status_code in (404, 405), path


def test_account_is_throttled_after_repeated_failures_then_recovers(
    client: TestClient, token: str, clock: Clock
) -> None:
    username = USERNAME_OF_TOKEN[token]
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert _attempt(client, username, "wrong password!") == 401
    # Now even the right password is refused, with a message that says why.
    client.cookies.delete(AUTH_COOKIE)
    response = client.post("/login", data=login_form_data(client, username), follow_redirects=False)
    assert response.status_code == 429
    assert "Too many failed logins" in response.text
    clock.advance(seconds=FAILURE_WINDOW.total_seconds() + 1)
    assert _attempt(client, username, TEST_PASSWORD) == 303


def test_the_username_is_matched_case_insensitively_for_throttling(client: TestClient, token: str) -> None:
    username = USERNAME_OF_TOKEN[token]
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        _attempt(client, username.upper(), "wrong password!")
    assert _attempt(client, username, TEST_PASSWORD) == 429


def test_one_address_trying_many_accounts_is_throttled(client: TestClient, token: str) -> None:
    for n in range(MAX_FAILURES_PER_ADDRESS):
        assert _attempt(client, f"nobody-{n}", "guess") == 401
    assert _attempt(client, USERNAME_OF_TOKEN[token], TEST_PASSWORD) == 429


def test_a_success_clears_the_account_failures(client: TestClient, token: str) -> None:
    username = USERNAME_OF_TOKEN[token]
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        _attempt(client, username, "wrong password!")
    assert _attempt(client, username, TEST_PASSWORD) == 303
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        assert _attempt(client, username, "wrong password!") == 401
    assert _attempt(client, username, TEST_PASSWORD) == 303


def test_login_cookie_is_secure_on_https(app: object, token: str) -> None:
    with TestClient(app, base_url="https://testserver") as secure:  # type: ignore[arg-type]
        data = login_form_data(secure, USERNAME_OF_TOKEN[token])
        response = secure.post("/login", data=data, follow_redirects=False)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(AUTH_COOKIE))
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    # The pre-login CSRF cookie is cleared: the session carries its own token.
    assert any(v.startswith(CSRF_COOKIE + '=""') for k, v in response.headers.multi_items() if k == "set-cookie")


def _admin_page_csrf(client: TestClient) -> str:
    return csrf_from(client.get("/users").text)


def test_disabling_a_user_ends_their_sessions_and_tokens_at_once(
    client: TestClient, app: object, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    victim_token = make_token(Role.SUPERVISOR, solution)
    with TestClient(app) as victim:  # type: ignore[arg-type]
        login(victim, victim_token)
        assert _logged_in(victim)
        login(client, make_token(Role.ADMIN, solution))
        with session_factory() as session:
            user_id = session.scalars(select(User.id).where(User.username == USERNAME_OF_TOKEN[victim_token])).one()
        response = client.post(
            f"/users/{user_id}/disable", data={"csrf_token": _admin_page_csrf(client)}, follow_redirects=False
        )
        assert response.status_code == 303
        assert not _logged_in(victim)
    assert client.get("/api/v1/interactions", headers=auth(victim_token)).status_code == 401
    assert _attempt(client, USERNAME_OF_TOKEN[victim_token], TEST_PASSWORD) == 401
    with session_factory() as session:
        assert session.scalars(select(ApiToken.revoked_at).where(ApiToken.user_id == user_id)).one() is not None


def test_revoking_a_token_stops_it_on_the_next_request(
    client: TestClient, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    api_token = make_token(Role.SUPERVISOR, solution)
    assert client.get("/api/v1/interactions", headers=auth(api_token)).status_code == 200
    with session_factory() as session:
        row = session.scalars(select(ApiToken).join(User).where(User.username == USERNAME_OF_TOKEN[api_token])).one()
    login(client, make_token(Role.ADMIN, solution))
    response = client.post(
        f"/users/{row.user_id}/tokens/{row.id}/revoke",
        data={"csrf_token": _admin_page_csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get("/api/v1/interactions", headers=auth(api_token)).status_code == 401


def test_a_password_reset_ends_the_users_sessions(
    client: TestClient, app: object, make_token: TokenMaker, solution: Solution, session_factory: sessionmaker[Session]
) -> None:
    target = make_token(Role.SUPERVISOR, solution)
    with TestClient(app) as victim:  # type: ignore[arg-type]
        login(victim, target)
        login(client, make_token(Role.ADMIN, solution))
        with session_factory() as session:
            user_id = session.scalars(select(User.id).where(User.username == USERNAME_OF_TOKEN[target])).one()
        page = client.post(f"/users/{user_id}/password", data={"csrf_token": _admin_page_csrf(client)})
        assert page.status_code == 200
        assert 'id="new-password"' in page.text
        assert not _logged_in(victim)
    assert _attempt(client, USERNAME_OF_TOKEN[target], TEST_PASSWORD) == 401
