"""Proof of erasure on the wire (CONTRACT §11): receipts of done requests and the keys that sign them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import and_, or_, select

from archivist.anonymize import requests as service
from archivist.anonymize.models import ErasureReceipt, RequestStatus
from archivist.archive.search import parse_time
from archivist.web import errors
from archivist.web.deps import PrincipalDep, RequestManager, ServicesDep, SessionDep, SolutionDep

router = APIRouter(prefix="/api/v1", tags=["proof of erasure"])

# Receipts per response; a range holding more is asked for again from the last one's time.
MAX_RECEIPTS = 1_000


@router.get("/anonymization-requests/{request_id}/receipt", responses=errors.responses(409))
def get_receipt(request_id: str, _: RequestManager, session: SessionDep, solution: SolutionDep) -> dict[str, Any]:
    """The signed receipt of a done request, exactly as ``archivist receipt verify`` takes it."""
    receipt = session.scalars(
        select(ErasureReceipt).where(ErasureReceipt.request_id == request_id, ErasureReceipt.solution_id == solution.id)
    ).first()
    if receipt is not None:
        return receipt.document
    request = service.get_request(session, solution.id, request_id)
    if request.status is RequestStatus.DONE:
        # Done, but the run that did it stopped before signing: the next run signs it.
        raise HTTPException(status.HTTP_409_CONFLICT, "The receipt is signed by the next nightly run")
    raise HTTPException(status.HTTP_409_CONFLICT, "The request is not done yet: it has no receipt")


@router.get("/receipts")
def list_receipts(
    _: RequestManager,
    session: SessionDep,
    solution: SolutionDep,
    from_: Annotated[
        str | None, Query(alias="from", max_length=40, description="Processed at or after (ISO 8601)")
    ] = None,
    to: Annotated[str | None, Query(max_length=40, description="Processed before (ISO 8601)")] = None,
    after: Annotated[
        str | None,
        Query(max_length=32, description=f"The request_id of the last receipt of a full page of {MAX_RECEIPTS}"),
    ] = None,
) -> list[dict[str, Any]]:
    """Receipts of the solution's done requests by the time they ran, oldest first (kept after the 12-month purge).

    At most ``MAX_RECEIPTS`` at a time; for the next ones pass the last one's ``request_id`` as
    ``after`` (one night's receipts share their time, so a time alone cannot page them).
    """
    start, end = parse_time("from", from_), parse_time("to", to)
    query = select(ErasureReceipt.document).where(ErasureReceipt.solution_id == solution.id)
    if start is not None:
        query = query.where(ErasureReceipt.processed_at >= start)
    if end is not None:
        query = query.where(ErasureReceipt.processed_at < end)
    if after is not None:
        last = session.scalar(
            select(ErasureReceipt.processed_at).where(
                ErasureReceipt.request_id == after, ErasureReceipt.solution_id == solution.id
            )
        )
        if last is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "after: not a receipt of this solution")
        query = query.where(
            or_(
                ErasureReceipt.processed_at > last,
                and_(ErasureReceipt.processed_at == last, ErasureReceipt.request_id > after),
            )
        )
    query = query.order_by(ErasureReceipt.processed_at, ErasureReceipt.request_id).limit(MAX_RECEIPTS)
    return list(session.scalars(query))


@router.get("/signing-keys")
def signing_keys(_: PrincipalDep, services: ServicesDep) -> list[dict[str, str]]:
    """The public keys that sign receipts: ``[{key_id, public_key}]``, the raw 32-byte key in base64."""
    return services.proof.signer.published_keys()
