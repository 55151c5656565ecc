"""The solution's settings on the API (CONTRACT §19): read by admins and privacy officers, changed by admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from archivist.accounts.models import Solution
from archivist.solutions.services import MAX_ACCESS_TEXT, SettingsChange, SettingsInvalidError, change_settings
from archivist.web.deps import Administrator, RequestManager, ServicesDep, SessionDep, SolutionDep

router = APIRouter(prefix="/api/v1", tags=["settings"])

AccessText = Annotated[str, StringConstraints(max_length=MAX_ACCESS_TEXT)]


class SettingsOut(BaseModel):
    country: str
    timezone: str
    nightly_at: str
    replacement: str
    own_email_domains: list[str]
    access_purposes: str
    access_recipients: str
    access_source: str

    @classmethod
    def of(cls, solution: Solution) -> SettingsOut:
        return cls(
            country=solution.country,
            timezone=solution.timezone,
            nightly_at=solution.nightly_at,
            replacement=solution.replacement,
            own_email_domains=list(solution.own_email_domains or []),
            access_purposes=solution.access_purposes,
            access_recipients=solution.access_recipients,
            access_source=solution.access_source,
        )


class SettingsPatch(BaseModel):
    """The settings to change; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    country: Annotated[str, StringConstraints(max_length=16)] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None
    nightly_at: Annotated[str, StringConstraints(max_length=16)] | None = None
    replacement: Annotated[str, StringConstraints(max_length=100)] | None = None
    own_email_domains: (
        Annotated[list[Annotated[str, StringConstraints(max_length=300)]], Field(max_length=100)] | None
    ) = None
    access_purposes: AccessText | None = None
    access_recipients: AccessText | None = None
    access_source: AccessText | None = None


@router.get("/settings", response_model=SettingsOut)
def read_settings(_: RequestManager, solution: SolutionDep) -> SettingsOut:
    """The caller's solution's settings (admins and privacy officers)."""
    return SettingsOut.of(solution)


@router.patch("/settings", response_model=SettingsOut)
def patch_settings(
    body: SettingsPatch, principal: Administrator, session: SessionDep, solution: SolutionDep, services: ServicesDep
) -> SettingsOut:
    """Change the given settings, all or none (422 naming each bad field); the change is audited."""
    change = SettingsChange(**body.model_dump(exclude_none=True))
    try:
        change_settings(session, solution, change, actor=principal, via="api", now=services.clock())
    except SettingsInvalidError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    session.commit()
    return SettingsOut.of(solution)
