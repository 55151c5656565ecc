"""Signed receipts of done requests (CONTRACT §11): proof of an erasure that holds no personal data.

A receipt is the canonical JSON of what a request did (masked identifiers, counts, the cutoff,
who entered it — the officer's username —, when it ran, what the storage step did), signed
with Ed25519; nothing in it identifies the person erased. The private key
comes from ``ARCHIVIST_SIGNING_KEY`` or is generated once into the data dir; the public key is
published at ``GET /api/v1/signing-keys``, so anyone can check a receipt without trusting us.
Receipts outlive the request row's 12-month purge.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Select, and_, insert, select
from sqlalchemy.orm import Session

from archivist.anonymize.models import AnonymizationRequest, ErasureReceipt, RequestStatus
from archivist.config import Settings, keep_once

# Written into every receipt: what no storage step of ours can reach.
OUT_OF_REACH = {
    "sqlite": ["database backups and copies of the data dir", "file-system blocks of deleted files"],
    "postgresql": [
        "database backups",
        "old row versions a transaction that was already open can still see, until it ends and the next VACUUM",
        "the free space a plain VACUUM leaves in the data files, until PostgreSQL reuses it "
        "(not readable by any query; ARCHIVIST_POSTGRES_VACUUM_FULL rewrites the tables instead)",
        "PostgreSQL WAL segments until they are recycled (minutes to hours) and any WAL archive",
        "replicas until they replay the erasure",
    ],
}


class SigningKeyError(ValueError):
    """ARCHIVIST_SIGNING_KEY (or the key file) is not a base64 Ed25519 private key."""


def canonical(receipt: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: keys sorted, no spaces, UTF-8."""
    return json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw_public(public)).hexdigest()[:16]


class Signer:
    """The solution-independent signing key of this installation."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)
        self.public_key = base64.b64encode(_raw_public(self.public)).decode()

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer:
        if settings.signing_key:
            return cls(_private_from_b64(settings.signing_key))
        path = settings.data_dir / "signing_key"
        if not path.exists():
            private = Ed25519PrivateKey.generate()
            raw = private.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
            )
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            # Only if absent: processes starting at once must not each keep a key of their own
            # (one of them could never be verified).
            return cls(_private_from_b64(keep_once(path, base64.b64encode(raw).decode())))
        return cls(_private_from_b64(path.read_text().strip()))

    def sign(self, receipt: Mapping[str, Any]) -> dict[str, Any]:
        signature = self._private.sign(canonical(receipt))
        return {"receipt": dict(receipt), "key_id": self.key_id, "signature": base64.b64encode(signature).decode()}

    def published_keys(self) -> list[dict[str, str]]:
        return [{"key_id": self.key_id, "public_key": self.public_key}]


def _private_from_b64(value: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(value, validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (binascii.Error, ValueError):
        # Not the value: it is a secret.
        raise SigningKeyError("the signing key must be a base64-encoded raw 32-byte Ed25519 private key") from None


def verify(document: Mapping[str, Any], keys: Mapping[str, str]) -> bool:
    """Whether ``document`` (as the receipt endpoint returned it) is signed by one of ``keys`` (id -> public key)."""
    try:
        receipt, key_id, signature = document["receipt"], document["key_id"], document["signature"]
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[key_id], validate=True))
        public.verify(base64.b64decode(signature, validate=True), canonical(receipt))
    except (KeyError, TypeError, ValueError, binascii.Error, InvalidSignature):
        return False
    return True


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def receipt_of(request: AnonymizationRequest, storage: Mapping[str, Any]) -> dict[str, Any]:
    """What a done request's receipt says: masked identifiers and counts, never the person."""
    erased = request.erased_masked or {}
    return {
        "request_id": request.id,
        "solution_id": request.solution_id,
        "entered_at": _utc(request.created_at),
        "entered_by": request.created_by,
        "processed_at": _utc(request.processed_at),
        "cutoff": _utc(request.cutoff),
        "phone_masked": request.phone_masked,
        "email_masked": request.email_masked,
        # Every number and address the request erased, its own and its ``also``'s (CONTRACT §19).
        "phones_masked": list(erased.get("phones", [request.phone_masked] if request.phone_masked else [])),
        "emails_masked": list(erased.get("emails", [request.email_masked] if request.email_masked else [])),
        "raw_data": request.raw_data,
        "delete_content": request.delete_content,
        "result": request.result,
        "storage": dict(storage),
    }


def _unsigned(solution_id: str) -> Select[AnonymizationRequest]:
    return (
        select(AnonymizationRequest)
        .outerjoin(ErasureReceipt, ErasureReceipt.request_id == AnonymizationRequest.id)
        .where(
            and_(
                AnonymizationRequest.solution_id == solution_id,
                AnonymizationRequest.status == RequestStatus.DONE,
                ErasureReceipt.request_id.is_(None),
            )
        )
    )


def has_unsigned(session: Session, solution_id: str) -> bool:
    """Whether a done request of the solution still waits for its receipt."""
    return session.scalars(_unsigned(solution_id).limit(1)).first() is not None


def issue_receipts(session: Session, solution_id: str, signer: Signer, storage: Mapping[str, Any]) -> int:
    """Sign a receipt for every done request of the solution that has none yet; how many.

    Called after the storage step, so ``storage`` says what it did. A run that died before
    signing leaves its requests to the next run, which signs them with its own storage step.
    """
    database = str(storage.get("database", ""))
    storage = {**storage, "out_of_reach": OUT_OF_REACH.get(database, [])}
    unsigned = session.scalars(
        _unsigned(solution_id).order_by(AnonymizationRequest.processed_at, AnonymizationRequest.id)
    ).all()
    rows = [
        {
            "request_id": request.id,
            "solution_id": solution_id,
            "processed_at": request.processed_at,
            "document": signer.sign(receipt_of(request, storage)),
        }
        for request in unsigned
    ]
    if rows:
        session.execute(insert(ErasureReceipt), rows)
    return len(rows)
