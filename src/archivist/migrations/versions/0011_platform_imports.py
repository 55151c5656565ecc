"""platform exports: re-delivery update times and the ledger's keys in the database (CONTRACT §16)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:15:00

`interactions.source_updated_at` is the platform's update time of an imported record: a
re-delivery replaces the stored fields only when it is newer. `ledger_keys` holds, per done
request, the keyed hashes of what it erased with its cutoff and options — the erasure ledger's
content, for the one look-up per batch that keeps an erased person from coming back. Requests
done before this revision are copied in from the ledger by the next import or
`archivist erasures replay`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archivist.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_updated_at", archivist.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "ledger_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("cutoff", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("raw_data", sa.Boolean(), nullable=False),
        sa.Column("delete_content", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_keys")),
        sa.UniqueConstraint("request_id", "key", name="uq_ledger_keys_request_key"),
    )
    with op.batch_alter_table("ledger_keys", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_keys_key", ["solution_id", "key"], unique=False)


def downgrade() -> None:
    op.drop_table("ledger_keys")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_column("source_updated_at")
