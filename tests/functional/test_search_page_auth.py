"""The page scaffold: the login form, CSRF on every POST, redirects, navigation, static files."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from archivist.accounts.models import Role, Solution
from archivist.web.pages import AUTH_COOKIE, CSRF_COOKIE
from tests.conftest import TEST_PASSWORD, USERNAME_OF_TOKEN, TokenMaker

_CSRF_IN_FORM = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_IN_FORM.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def login_form_data(client: TestClient, username: str, password: str = TEST_PASSWORD, **extra: str) -> dict[str, str]:
    form = client.get("/login")
    return {"username": username, "password": password, "csrf_token": csrf_from(form.text), **extra}


def login(client: TestClient, token: str) -> None:
    """Log the test client in, through the real login form, as the user ``make_token`` made."""
    data = login_form_data(client, USERNAME_OF_TOKEN[token], next="/")
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text


@pytest.fixture
def supervisor_token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.SUPERVISOR, solution)


def test_root_redirects_to_search(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/archive/search"


def test_page_without_login_redirects_to_login(client: TestClient) -> None:
    response = client.get("/archive/search", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/archive/search"


def test_htmx_request_without_login_is_told_to_navigate(client: TestClient) -> None:
    response = client.get("/archive/search", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"


def test_login_with_password_sets_http_only_strict_cookie(client: TestClient, supervisor_token: str) -> None:
    data = login_form_data(client, USERNAME_OF_TOKEN[supervisor_token], next="/archive/search")
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/archive/search"
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    auth_cookie = next(c for c in cookies if c.startswith(AUTH_COOKIE + "="))
    assert "HttpOnly" in auth_cookie
    assert "SameSite=strict" in auth_cookie
    page = client.get("/archive/search")
    assert page.status_code == 200
    assert "Archive - Search" in page.text


def test_login_with_wrong_password_is_refused(client: TestClient, supervisor_token: str) -> None:
    data = login_form_data(client, USERNAME_OF_TOKEN[supervisor_token], password="wrong horse battery")
    response = client.post("/login", data=data)
    assert response.status_code == 401
    assert "do not match" in response.text
    assert AUTH_COOKIE not in response.cookies


def test_an_api_token_is_not_a_password(client: TestClient, supervisor_token: str) -> None:
    data = login_form_data(client, USERNAME_OF_TOKEN[supervisor_token], password=supervisor_token)
    assert client.post("/login", data=data).status_code == 401


def test_login_redirect_never_leaves_the_site(client: TestClient, supervisor_token: str) -> None:
    data = login_form_data(client, USERNAME_OF_TOKEN[supervisor_token], next="//evil.example/")
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.headers["location"] == "/archive/search"


def test_post_without_csrf_token_is_refused(client: TestClient, supervisor_token: str) -> None:
    client.get("/login")
    data = {"username": USERNAME_OF_TOKEN[supervisor_token], "password": TEST_PASSWORD}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert AUTH_COOKIE not in response.cookies


def test_csrf_token_from_before_login_no_longer_works_after(client: TestClient, supervisor_token: str) -> None:
    pre_login = csrf_from(client.get("/login").text)
    login(client, supervisor_token)
    response = client.post("/logout", data={"csrf_token": pre_login}, follow_redirects=False)
    assert response.status_code == 403


def test_forged_csrf_cookie_and_field_pair_is_refused_at_login(client: TestClient, supervisor_token: str) -> None:
    client.cookies.set(CSRF_COOKIE, "forged.0000")
    data = {"username": USERNAME_OF_TOKEN[supervisor_token], "password": TEST_PASSWORD, "csrf_token": "forged.0000"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403


def test_pre_login_csrf_pair_does_not_pass_for_a_session(client: TestClient, supervisor_token: str) -> None:
    anonymous = csrf_from(client.get("/login").text)
    login(client, supervisor_token)
    client.cookies.set(CSRF_COOKIE, anonymous)
    response = client.post("/logout", data={"csrf_token": anonymous}, follow_redirects=False)
    assert response.status_code == 403


def test_logout_ends_the_page_login(client: TestClient, supervisor_token: str) -> None:
    login(client, supervisor_token)
    page = client.get("/archive/search")
    response = client.post("/logout", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/archive/search", follow_redirects=False).status_code == 303


def test_ingest_role_may_not_see_the_search_page(
    client: TestClient, make_token: TokenMaker, solution: Solution
) -> None:
    login(client, make_token(Role.INGEST, solution))
    assert client.get("/archive/search").status_code == 403


def test_nav_shows_only_the_pages_of_the_role(client: TestClient, supervisor_token: str) -> None:
    login(client, supervisor_token)
    page = client.get("/archive/search").text
    assert 'href="/archive/search"' in page
    assert 'href="/raw-data"' in page
    assert 'href="/archive/anonymize"' not in page
    assert 'href="/users"' not in page


def test_pages_carry_a_strict_content_security_policy(client: TestClient, supervisor_token: str) -> None:
    login(client, supervisor_token)
    csp = client.get("/archive/search").headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_static_files_are_served_from_the_package(client: TestClient) -> None:
    htmx = client.get("/static/htmx.min.js")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text[:200]
    assert client.get("/static/app.css").status_code == 200
