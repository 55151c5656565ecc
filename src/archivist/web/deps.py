"""Request-scoped dependencies: the services, a session, the caller and their permissions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.accounts.roles import Permission, may
from archivist.accounts.services import Principal, principal_for_token
from archivist.archive import recordings
from archivist.archive.mentions import MentionKeyring
from archivist.blobs import BlobStore
from archivist.config import Settings
from archivist.db import forget_freed_space, utcnow
from archivist.nightly import runs
from archivist.nightly.lease import LeasePolicy
from archivist.nightly.summary import ErasureProof, RunSummary


@dataclass
class Services:
    """Everything a request may need, built once by ``create_app``."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    blobs: BlobStore
    # Time is a parameter: tests replace the clock to travel instead of sleeping.
    clock: Callable[[], datetime] = field(default=utcnow)
    # Keys of the mention index, from the server secret: ingestion and erasure must agree.
    keyring: MentionKeyring = field(init=False)
    # Receipts and the ledger of erasures (CONTRACT §11).
    proof: ErasureProof = field(init=False)

    def __post_init__(self) -> None:
        self.keyring = MentionKeyring.from_settings(self.settings)
        self.proof = ErasureProof.from_settings(self.settings)

    def commit_and_delete_blobs(self, session: Session) -> None:
        """Commit ``session``, then delete the blobs it recorded as pending deletions.

        After the commit: the audio goes now, or (if the store fails or the process dies
        here) on a later drain; the database never points at audio that is gone.
        """
        session.commit()
        recordings.drain_pending_blobs(self.session_factory, self.blobs, self.clock())

    def commit_erasure(self, session: Session) -> None:
        """``commit_and_delete_blobs`` for a handler that erased text, then the storage step, so what
        it replaced is not left readable in freed database pages (CONTRACT §11)."""
        self.commit_and_delete_blobs(session)
        forget_freed_space(
            self.engine, vacuum_full=self.settings.postgres_vacuum_full, wait_s=self.settings.storage_wait_s
        )

    def run_night_now(self, actor: Principal, via: str) -> RunSummary:
        """*Run now* for the actor's solution under its lease (``nightly.runs.run_now``): the API's and the page's."""
        return runs.run_now(
            self.session_factory,
            self.blobs,
            self.clock(),
            solution_id=actor.solution_id,
            actor=actor,
            via=via,
            keyring=self.keyring,
            proof=self.proof,
            policy=LeasePolicy.from_settings(self.settings),
        )


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """A session per request; the handler commits once, anything else is rolled back."""
    with services.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(request: Request, session: SessionDep, services: ServicesDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    principal = principal_for_token(session, token.strip(), services.clock())
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Invalid or revoked token", headers={"WWW-Authenticate": "Bearer"}
        )
    session.commit()  # last_used_at, if it was due
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets the call through only if the caller's role has ``permission``."""

    def check(principal: PrincipalDep) -> Principal:
        if not may(principal.role, permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Your role may not do this")
        return principal

    check.__name__ = f"require_{permission.value}"
    return check


def get_solution(principal: PrincipalDep, session: SessionDep) -> Solution:
    solution = session.get(Solution, principal.solution_id)
    if solution is None:  # the solution was removed under a live token
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid or revoked token")
    return solution


SolutionDep = Annotated[Solution, Depends(get_solution)]
Ingester = Annotated[Principal, Depends(require(Permission.INGEST))]
Searcher = Annotated[Principal, Depends(require(Permission.SEARCH))]
ContentReader = Annotated[Principal, Depends(require(Permission.READ_CONTENT))]
ContentDeleter = Annotated[Principal, Depends(require(Permission.DELETE_CONTENT))]
RequestManager = Annotated[Principal, Depends(require(Permission.MANAGE_REQUESTS))]
RawDataReader = Annotated[Principal, Depends(require(Permission.READ_RAW_DATA))]
AuditReader = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]
Administrator = Annotated[Principal, Depends(require(Permission.ADMINISTER))]
HoldManager = Annotated[Principal, Depends(require(Permission.MANAGE_HOLDS))]
RetentionReader = Annotated[Principal, Depends(require(Permission.READ_RETENTION))]
