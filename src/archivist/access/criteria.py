"""Sealing an export's criteria: AES-256-GCM under a key derived from the server secret.

The key is HKDF-SHA256(secret, info="subject-exports:" + solution id), so one tenant's
ciphertext cannot be opened with another's key, and the export id is the associated data, so a
sealed value copied onto another row does not open. Without the server secret (kept out of the
database) a copy of the database does not reveal whose data was exported.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from archivist.config import Settings

_NONCE = 12


class CriteriaUnreadable(ValueError):  # noqa: N818 - a state of the stored value, not a bug
    """The sealed criteria do not open: the server secret changed, or the row was altered."""


@dataclass(frozen=True)
class Criteria:
    """Whose data: normalised identifiers (E.164, lower-case address)."""

    phone_e164: str | None
    email_norm: str | None


class CriteriaBox:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("sealing export criteria needs a non-empty secret")
        self._secret = secret.encode()

    @classmethod
    def from_settings(cls, settings: Settings) -> CriteriaBox:
        return cls(settings.resolved_secret_key)

    def _aead(self, solution_id: str) -> AESGCM:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"subject-exports:{solution_id}".encode()
        ).derive(self._secret)
        return AESGCM(key)

    def seal(self, solution_id: str, export_id: str, criteria: Criteria) -> bytes:
        plain = json.dumps({"phone": criteria.phone_e164, "email": criteria.email_norm}).encode()
        nonce = os.urandom(_NONCE)
        return nonce + self._aead(solution_id).encrypt(nonce, plain, export_id.encode())

    def open(self, solution_id: str, export_id: str, sealed: bytes) -> Criteria:
        try:
            plain = self._aead(solution_id).decrypt(sealed[:_NONCE], sealed[_NONCE:], export_id.encode())
        except InvalidTag:
            raise CriteriaUnreadable(export_id) from None
        data = json.loads(plain)
        return Criteria(data.get("phone"), data.get("email"))
