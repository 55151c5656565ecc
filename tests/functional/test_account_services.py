"""The account actions (``solutions/services.py``): each changes, audits with ``via``, refuses by kind, never commits.

The *Users* page acts as a logged-in admin (a Principal) and reaches only its own solution; the
command line acts as ``cli`` and reaches every one. Both write the same audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import ApiToken, LoginFailure, Role, Solution, User, WebSession
from archivist.accounts.services import (
    AccountError,
    OwnAccountError,
    Principal,
    TokenNotFoundError,
    UserDisabledError,
    UserNotFoundError,
)
from archivist.accounts.sessions import MAX_FAILURES_PER_ACCOUNT, authenticate, start_session
from archivist.audit.events import AuditAction
from archivist.audit.models import AuditEvent
from archivist.errors import ConflictError, InvalidError, NotFoundError
from archivist.solutions import services
from tests.conftest import TEST_PASSWORD, TEST_SECRET_KEY

NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
CLI = "cli"


def add_user(factory: sessionmaker[Session], solution: Solution, username: str, role: Role = Role.SUPERVISOR) -> str:
    with factory() as session, session.begin():
        return accounts.create_user(
            session, solution_id=solution.id, username=username, role=role, password=TEST_PASSWORD
        ).id


def admin_of(factory: sessionmaker[Session], solution: Solution, username: str = "boss") -> Principal:
    user_id = add_user(factory, solution, username, Role.ADMIN)
    return Principal(user_id=user_id, username=username, role=Role.ADMIN, solution_id=solution.id)


def entries(factory: sessionmaker[Session], action: AuditAction) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def user_row(factory: sessionmaker[Session], user_id: str) -> User:
    with factory() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


def test_account_error_is_an_invalid_input_made_from_a_message_alone() -> None:
    error = AccountError("password must be at least 8 characters")
    assert isinstance(error, InvalidError)
    assert isinstance(error, ValueError)  # what callers caught before the kinds existed
    assert (error.field, str(error), error.detail) == (None, "password must be at least 8 characters", str(error))
    assert AccountError("too long", field="label").detail == "label: too long"


def test_create_user_audits_with_the_door_and_leaves_the_commit_to_it(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    boss = admin_of(session_factory, solution)
    with session_factory() as session:
        services.create_user(
            session, solution, username="eva", role=Role.SUPERVISOR, password="x" * 12, actor=boss, via="page", now=NOW
        )
        session.rollback()  # the door decides: without its commit nothing stays
    with session_factory() as session:
        assert accounts.find_user(session, "eva") is None
    assert entries(session_factory, AuditAction.USER_CREATED) == []

    with session_factory() as session:
        user = services.create_user(
            session, solution, username="eva", role=Role.SUPERVISOR, password="x" * 12, actor=boss, via="page", now=NOW
        )
        session.commit()
        user_id = user.id
    [entry] = entries(session_factory, AuditAction.USER_CREATED)
    assert (entry.solution_id, entry.actor, entry.target) == (solution.id, "boss", user_id)
    assert entry.details == {"username": "eva", "role": "supervisor", "via": "page"}


def test_the_command_line_writes_the_same_entry_as_cli(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    with session_factory() as session, session.begin():
        services.create_user(
            session, solution, username="ola", role=Role.ADMIN, password="x" * 12, actor=CLI, via="cli", now=NOW
        )
    [entry] = entries(session_factory, AuditAction.USER_CREATED)
    assert (entry.solution_id, entry.actor) == (solution.id, "cli")
    assert entry.details == {"username": "ola", "role": "admin", "via": "cli"}


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("short", "kari"),  # under the minimum length
        ("x" * 12, "kari nordmann"),  # a space inside the name
        ("x" * 12, "BOSS"),  # another spelling of an existing name
    ],
)
def test_create_user_refuses_bad_input_as_invalid_before_anything_is_written(
    session_factory: sessionmaker[Session], solution: Solution, password: str, username: str
) -> None:
    boss = admin_of(session_factory, solution)
    with session_factory() as session, pytest.raises(AccountError):
        services.create_user(
            session, solution, username=username, role=Role.ADMIN, password=password, actor=boss, via="page", now=NOW
        )
    assert entries(session_factory, AuditAction.USER_CREATED) == []


def test_another_solutions_user_and_token_are_not_found_by_an_admin_but_reached_by_the_cli(
    session_factory: sessionmaker[Session], solution: Solution, other_solution: Solution
) -> None:
    boss = admin_of(session_factory, solution)
    stranger = add_user(session_factory, other_solution, "stranger")
    with session_factory() as session, session.begin():
        accounts.create_token(session, accounts.get_user(session, None, stranger), "theirs")
        token_id = session.scalars(select(ApiToken.id).where(ApiToken.user_id == stranger)).one()
    actions: list[Callable[[Session], object]] = [
        lambda s: services.change_role(s, stranger, Role.ADMIN, actor=boss, via="page", now=NOW),
        lambda s: services.disable_user(s, stranger, actor=boss, via="page", now=NOW),
        lambda s: services.enable_user(s, stranger, actor=boss, via="page", now=NOW),
        lambda s: services.set_password(s, stranger, "y" * 12, secret=TEST_SECRET_KEY, actor=boss, via="page", now=NOW),
        lambda s: services.create_token(s, stranger, "", actor=boss, via="page", now=NOW),
        lambda s: services.rename_user(s, "stranger", "stranger2", actor=boss, via="page", now=NOW),
    ]
    for action in actions:
        with session_factory() as session, pytest.raises(UserNotFoundError) as caught:
            action(session)
        assert isinstance(caught.value, NotFoundError)
        assert str(caught.value) == "no such user"
    with session_factory() as session, pytest.raises(TokenNotFoundError):
        services.revoke_token(session, token_id, actor=boss, via="page", now=NOW)
    assert user_row(session_factory, stranger).disabled is False

    with session_factory() as session, session.begin():
        services.disable_user(session, stranger, actor=CLI, via="cli", now=NOW)
    [entry] = entries(session_factory, AuditAction.USER_DISABLED)
    assert (entry.solution_id, entry.actor) == (other_solution.id, "cli")


def test_a_token_is_found_only_under_its_own_user(session_factory: sessionmaker[Session], solution: Solution) -> None:
    boss = admin_of(session_factory, solution)
    ola, kari = add_user(session_factory, solution, "ola"), add_user(session_factory, solution, "kari")
    with session_factory() as session, session.begin():
        token = services.create_token(session, ola, "pbx", actor=boss, via="page", now=NOW)
    assert token
    with session_factory() as session:
        token_id = session.scalars(select(ApiToken.id).where(ApiToken.user_id == ola)).one()
    with session_factory() as session, pytest.raises(TokenNotFoundError):
        services.revoke_token(session, token_id, user_id=kari, actor=boss, via="page", now=NOW)


def test_an_admin_may_neither_demote_nor_disable_themselves(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    boss = admin_of(session_factory, solution)
    for action in (
        lambda s: services.change_role(s, boss.user_id, Role.SUPERVISOR, actor=boss, via="page", now=NOW),
        lambda s: services.disable_user(s, boss.user_id, actor=boss, via="page", now=NOW),
    ):
        with session_factory() as session, pytest.raises(OwnAccountError) as caught:
            action(session)
        assert isinstance(caught.value, InvalidError)  # the page answers 422, as before
    assert user_row(session_factory, boss.user_id).role is Role.ADMIN
    assert not user_row(session_factory, boss.user_id).disabled


def test_change_role_audits_a_change_and_passes_over_the_same_role(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    boss = admin_of(session_factory, solution)
    ola = add_user(session_factory, solution, "ola")
    with session_factory() as session, session.begin():
        assert services.change_role(session, ola, Role.SUPERVISOR, actor=boss, via="page", now=NOW) is False
        assert services.change_role(session, ola, Role.PRIVACY_OFFICER, actor=boss, via="page", now=NOW) is True
    assert user_row(session_factory, ola).role is Role.PRIVACY_OFFICER
    [entry] = entries(session_factory, AuditAction.USER_ROLE_CHANGED)
    assert entry.details == {"username": "ola", "from": "supervisor", "to": "privacy_officer", "via": "page"}


def test_disable_ends_sessions_and_tokens_and_enable_lets_the_user_back_without_them(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    boss = admin_of(session_factory, solution)
    ola = add_user(session_factory, solution, "ola")
    with session_factory() as session, session.begin():
        user = accounts.get_user(session, solution.id, ola)
        start_session(session, user, NOW)
        accounts.create_token(session, user, "one")
        accounts.create_token(session, user, "two")
    with session_factory() as session, session.begin():
        services.disable_user(session, ola, actor=boss, via="page", now=NOW)
    [entry] = entries(session_factory, AuditAction.USER_DISABLED)
    assert entry.details == {"username": "ola", "sessions_ended": 1, "tokens_revoked": 2, "via": "page"}
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(WebSession).where(WebSession.ended_at.is_(None))) == 0

    with session_factory() as session, session.begin():
        assert services.enable_user(session, ola, actor=boss, via="page", now=NOW) is True
        assert services.enable_user(session, ola, actor=boss, via="page", now=NOW) is False
    [enabled] = entries(session_factory, AuditAction.USER_ENABLED)
    assert enabled.details == {"username": "ola", "via": "page"}
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))) == 0


def test_set_password_ends_sessions_lifts_the_throttle_and_never_audits_the_password(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    boss = admin_of(session_factory, solution)
    ola = add_user(session_factory, solution, "ola")
    with session_factory() as session, session.begin():
        start_session(session, accounts.get_user(session, solution.id, ola), NOW)
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            authenticate(session, "OLA", "wrong password", "10.0.0.1", NOW, TEST_SECRET_KEY)
    with session_factory() as session, pytest.raises(AccountError, match="at least"):
        services.set_password(session, ola, "short", secret=TEST_SECRET_KEY, actor=boss, via="page", now=NOW)
    assert entries(session_factory, AuditAction.USER_PASSWORD_RESET) == []

    with session_factory() as session, session.begin():
        services.set_password(session, ola, "new-password-2", secret=TEST_SECRET_KEY, actor=boss, via="page", now=NOW)
    [entry] = entries(session_factory, AuditAction.USER_PASSWORD_RESET)
    assert entry.details == {
        "username": "ola",
        "sessions_ended": 1,
        "failures_cleared": MAX_FAILURES_PER_ACCOUNT,
        "via": "page",
    }
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0
        assert authenticate(session, "ola", "new-password-2", "10.0.0.1", NOW, TEST_SECRET_KEY).user is not None


def test_create_token_refuses_a_disabled_user_and_an_over_long_label(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    boss = admin_of(session_factory, solution)
    ola = add_user(session_factory, solution, "ola")
    with session_factory() as session, pytest.raises(AccountError) as long_label:
        services.create_token(session, ola, "x" * (accounts.MAX_TOKEN_LABEL + 1), actor=boss, via="page", now=NOW)
    assert long_label.value.field == "label"
    with session_factory() as session, session.begin():
        services.disable_user(session, ola, actor=CLI, via="cli", now=NOW)
    with session_factory() as session, pytest.raises(UserDisabledError) as disabled:
        services.create_token(session, ola, "pbx", actor=boss, via="page", now=NOW)
    assert isinstance(disabled.value, ConflictError)
    assert entries(session_factory, AuditAction.TOKEN_CREATED) == []


def test_token_create_and_revoke_write_the_same_entries_from_both_doors(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    boss = admin_of(session_factory, solution)
    ola = add_user(session_factory, solution, "ola")
    with session_factory() as session, session.begin():
        services.create_token(session, ola, "  pbx  ", actor=boss, via="page", now=NOW)
        services.create_token(session, ola, "script", actor=CLI, via="cli", now=NOW)
    created = entries(session_factory, AuditAction.TOKEN_CREATED)
    assert [(e.actor, e.details) for e in created] == [
        ("boss", {"username": "ola", "label": "pbx", "via": "page"}),
        ("cli", {"username": "ola", "label": "script", "via": "cli"}),
    ]
    with session_factory() as session:
        ids: dict[str, str] = dict(session.execute(select(ApiToken.label, ApiToken.id)).all())
    with session_factory() as session, session.begin():
        assert services.revoke_token(session, ids["pbx"], user_id=ola, actor=boss, via="page", now=NOW) is True
        assert services.revoke_token(session, ids["script"], actor=CLI, via="cli", now=NOW) is True
        assert services.revoke_token(session, ids["script"], actor=CLI, via="cli", now=NOW) is False
    revoked = entries(session_factory, AuditAction.TOKEN_REVOKED)
    assert [(e.target, e.details) for e in revoked] == [
        (ids["pbx"], {"username": "ola", "label": "pbx", "via": "page"}),
        (ids["script"], {"username": "ola", "label": "script", "via": "cli"}),
    ]


def test_rename_audits_from_and_to(session_factory: sessionmaker[Session], solution: Solution) -> None:
    ola = add_user(session_factory, solution, "ola")
    with session_factory() as session, session.begin():
        renamed = services.rename_user(session, "OLA", "ola.nordmann", actor=CLI, via="cli", now=NOW)
    assert (renamed.user_id, renamed.old, renamed.new) == (ola, "ola", "ola.nordmann")
    [entry] = entries(session_factory, AuditAction.USER_RENAMED)
    assert (entry.actor, entry.target, entry.details) == (
        "cli",
        ola,
        {"from": "ola", "to": "ola.nordmann", "via": "cli"},
    )
    with session_factory() as session, pytest.raises(UserNotFoundError):
        services.rename_user(session, "nobody", "somebody", actor=CLI, via="cli", now=NOW)
