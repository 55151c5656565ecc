"""The supervisor's audited reads of the archive: one function each, for the API and the page.

A search looks people up by their identifiers, so it is audited like a change: the entry names
which filters were used and how many interactions came back, never a value (CONTRACT §9). Each
function writes its own entry (the door says ``via``) and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from archivist.accounts.models import Solution
from archivist.accounts.services import Principal
from archivist.archive.search import SearchFilters, SearchPage, search_interactions
from archivist.audit.events import AuditAction, filters_used, record_for


def search(
    session: Session,
    solution: Solution,
    filters: SearchFilters,
    *,
    typed: Mapping[str, object],
    limit: int,
    cursor: str | None,
    actor: Principal,
    via: str,
    now: datetime,
) -> SearchPage:
    """One page of the solution's interactions that match ``filters``, audited.

    ``typed``: the filters as the user gave them (name -> value), of which the entry keeps the
    names of those given. Raises CursorError for a cursor this archive did not make.
    """
    page = search_interactions(session, solution, filters, limit, cursor or None)
    details = {
        "filters": filters_used(**typed),
        "results": len(page.items),
        "next_page": bool(cursor),
        "via": via,
    }
    record_for(session, actor, AuditAction.SEARCH, None, details, at=now)
    return page
