"""The audited search as one function (archive/services.py) for the API and the page: it
audits which filters were used with the door's ``via``, never their values, and never commits."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Role, Solution
from archivist.accounts.services import Principal
from archivist.archive import services as reads
from archivist.archive.search import make_filters
from archivist.audit.models import AuditEvent
from archivist.pagination import CursorError
from tests.functional.anonymization_support import archive, call, oslo

PHONE = "91234567"  # a canary: never in an audit entry
NOW = oslo(2026, 3, 10, 12, 0)


def _supervisor(solution: Solution) -> Principal:
    return Principal(user_id="u-sup", username="supervisor", role=Role.SUPERVISOR, solution_id=solution.id)


def _searches(factory: sessionmaker[Session]) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "search")))


def test_a_search_is_audited_with_the_filters_named_and_the_door_and_no_value(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    archive(session_factory, solution, call(PHONE, oslo(2026, 3, 1, 9)), call("48211093", oslo(2026, 3, 2, 9)))
    filters = make_filters(solution.country, phone=PHONE)
    with session_factory() as session:
        reads.search(
            session,
            solution,
            filters,
            typed={"phone": PHONE, "email": "", "queue": None},
            limit=10,
            cursor=None,
            actor=_supervisor(solution),
            via="page",
            now=NOW,
        )
        session.rollback()  # the search never commits: the door's rollback leaves no entry
    assert _searches(session_factory) == []
    with session_factory() as session:
        page = reads.search(
            session,
            solution,
            filters,
            typed={"phone": PHONE, "email": "", "queue": None},
            limit=10,
            cursor=None,
            actor=_supervisor(solution),
            via="page",
            now=NOW,
        )
        session.commit()
    assert len(page.items) == 1
    (entry,) = _searches(session_factory)
    assert entry.details == {"filters": ["phone"], "results": 1, "next_page": False, "via": "page"}
    assert PHONE not in str(entry.details)


def test_a_cursor_this_archive_did_not_make_is_refused_and_not_audited(
    session_factory: sessionmaker[Session], solution: Solution
) -> None:
    with session_factory() as session, pytest.raises(CursorError):
        reads.search(
            session,
            solution,
            make_filters(solution.country),
            typed={},
            limit=10,
            cursor="not-a-cursor",
            actor=_supervisor(solution),
            via="api",
            now=NOW,
        )
    assert _searches(session_factory) == []
