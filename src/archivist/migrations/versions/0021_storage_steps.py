"""storage steps: concurrent nights share one PostgreSQL storage step instead of each running its own

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 18:30:00

Every night ended with a storage step over the same shared tables, one after the other: N nights
finishing together ran N steps, each vacuuming every erasable table whole. A night now records
when it reached its step; once it holds the step's lock, a step that started after that (so after
all its erasures committed) has done its work, and it shares that step's result.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archivist.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "storage_steps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("started_at", archivist.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", archivist.db.UTCDateTime(), nullable=False),
        sa.Column("vacuum_full", sa.Boolean(), nullable=False),
        sa.Column("tables", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("storage_steps", schema=None) as batch_op:
        batch_op.create_index("ix_storage_steps_started", ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("storage_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_storage_steps_started")
    op.drop_table("storage_steps")
