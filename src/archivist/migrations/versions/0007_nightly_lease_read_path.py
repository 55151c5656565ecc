"""nightly lease and read-path throttles (CONTRACT §13)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:00:00

`nightly_leases` holds one row per solution: who runs its nightly job now, until when, and
which scheduled night it last started and finished, so that every process of every server
sharing the database starts each night once and takes over a night whose runner died.
`audit_events.seq` is the entry's place in its solution's hash chain: a read's entry is
written without it (no lock) and chained later; existing entries keep their id order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archivist.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nightly_leases",
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("taken_at", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("night", sa.String(length=10), nullable=True),
        sa.Column("night_finished_at", archivist.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["solution_id"], ["solutions.id"], name=op.f("fk_nightly_leases_solution_id_solutions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("solution_id", name=op.f("pk_nightly_leases")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
    # Every existing entry was chained in id order under the chain lock: that order is its place.
    op.execute("UPDATE audit_events SET seq = id")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_chain", ["solution_id", "seq"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_chain")
        batch_op.drop_column("seq")
    op.drop_table("nightly_leases")
