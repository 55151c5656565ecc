"""Helpers for storing Python enums by value."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def enum_column(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    """A VARCHAR column holding the enum's *value* (not its name), without a DB enum type.

    Values rather than names keep the stored text equal to what the API shows; no native
    enum type means adding a member never needs an ALTER TYPE on PostgreSQL.
    """
    return Enum(
        enum_cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=False,
        length=length,
        validate_strings=True,
    )
