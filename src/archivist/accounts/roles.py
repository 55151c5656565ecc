"""What each role may do (CONTRACT §4), as data the route guards read."""

from __future__ import annotations

import enum

from archivist.accounts.models import Role


class Permission(enum.StrEnum):
    SEARCH = "search"
    READ_CONTENT = "read_content"
    READ_RAW_DATA = "read_raw_data"
    DELETE_CONTENT = "delete_content"
    MANAGE_REQUESTS = "manage_requests"
    READ_AUDIT = "read_audit"
    ADMINISTER = "administer"
    INGEST = "ingest"
    # Place and release legal holds; read retention rules (CONTRACT §10).
    MANAGE_HOLDS = "manage_holds"
    READ_RETENTION = "read_retention"


_READERS = {Permission.SEARCH, Permission.READ_CONTENT, Permission.READ_RAW_DATA}
_PRIVACY = _READERS | {
    Permission.DELETE_CONTENT,
    Permission.MANAGE_REQUESTS,
    Permission.READ_AUDIT,
    Permission.MANAGE_HOLDS,
    Permission.READ_RETENTION,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SUPERVISOR: frozenset(_READERS),
    Role.PRIVACY_OFFICER: frozenset(_PRIVACY),
    Role.ADMIN: frozenset(_PRIVACY | {Permission.ADMINISTER, Permission.INGEST}),
    Role.INGEST: frozenset({Permission.INGEST}),
}


def may(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
