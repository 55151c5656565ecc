"""erasure: keyed identifiers an anonymized interaction lost, the mention index's scanner version, also, receipts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:00:00

Erasure clears an interaction's customer phone and email, after which no later request for
the same person could find it again; `erased_identifiers` keeps their keyed hashes (the
mention index's HMAC, never the value). The scanner now reads more written forms than the
one that built existing indexes: `solutions.mention_scanner_version` is 1 for every archive
that exists (so preview and the nightly run say the index is out of date until
`archivist reindex-mentions` has run) and the current version for new solutions. A request
may name further identifiers of the same person (`anonymization_requests.also`, CONTRACT §9).
Every done request gets a signed receipt (`erasure_receipts`, CONTRACT §11), kept after the
request row is purged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archivist.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_identifiers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("interaction_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_erased_identifiers_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erased_identifiers")),
        sa.UniqueConstraint("interaction_id", "key", name="uq_erased_identifiers_interaction_key"),
    )
    with op.batch_alter_table("erased_identifiers", schema=None) as batch_op:
        batch_op.create_index("ix_erased_identifiers_key", ["solution_id", "key"], unique=False)
    with op.batch_alter_table("solutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mention_scanner_version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("anonymization_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("also", sa.JSON(), nullable=True))
    op.create_table(
        "erasure_receipts",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("processed_at", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["solution_id"], ["solutions.id"], name=op.f("fk_erasure_receipts_solution_id_solutions")
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_erasure_receipts")),
    )
    with op.batch_alter_table("erasure_receipts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_erasure_receipts_processed", ["solution_id", "processed_at", "request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("erasure_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_erasure_receipts_processed")
    op.drop_table("erasure_receipts")
    with op.batch_alter_table("anonymization_requests", schema=None) as batch_op:
        batch_op.drop_column("also")
    with op.batch_alter_table("solutions", schema=None) as batch_op:
        batch_op.drop_column("mention_scanner_version")
    with op.batch_alter_table("erased_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_erased_identifiers_key")
    op.drop_table("erased_identifiers")
