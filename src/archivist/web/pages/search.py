"""The *Archive - Search* page: find requests, play recordings, read content, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from archivist.accounts.roles import Permission
from archivist.accounts.services import Principal
from archivist.web.pages import PageSolution, render, require_page

router = APIRouter(include_in_schema=False)

SearchViewer = Annotated[Principal, Depends(require_page(Permission.SEARCH))]


@router.get("/archive/search")
def search_page(request: Request, principal: SearchViewer, solution: PageSolution) -> Response:
    context = {"title": "Archive - Search", "solution": solution}
    return render(request, "archive/search.html", context, principal=principal)
