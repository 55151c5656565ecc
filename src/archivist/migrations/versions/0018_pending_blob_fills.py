"""pending blob fills: digital silence written after the erasure commits

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:00:00

Silencing a spoken identifier copied the whole recording into a new blob inside the erasure's
transaction: a night that silenced 1,000 segments in 30-second calls copied 480 MB and cost 8-13x
the same night without audio (issue 22). The erasure now records which bytes to overwrite (byte
offsets and the format's silence value, nothing personal), and after commit the store overwrites
them in place, retried until done, as blob deletions are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archivist.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_blob_fills",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("blob_key", sa.String(length=300), nullable=False),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.Column("fill_byte", sa.Integer(), nullable=False),
        sa.Column("not_before", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["solution_id"], ["solutions.id"], name=op.f("fk_pending_blob_fills_solution_id_solutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_blob_fills")),
    )
    with op.batch_alter_table("pending_blob_fills", schema=None) as batch_op:
        batch_op.create_index("ix_pending_blob_fills_due", ["not_before"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pending_blob_fills", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_blob_fills_due")
    op.drop_table("pending_blob_fills")
