"""retention rules and legal holds (CONTRACT §10)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:00:00

Retention rules delete recordings, content, whole interactions or raw data rows after a set
number of days, per channel and/or queue; legal holds keep interactions whatever anybody asks.
An anonymization request that meets a hold gets the new status ``held`` (a value of the
existing status column: no change to it is needed).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archivist.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_rules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("queue", sa.String(length=200), nullable=True),
        sa.Column("what", sa.String(length=20), nullable=False),
        sa.Column("keep_days", sa.Integer(), nullable=False),
        sa.Column("created_at", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["solution_id"], ["solutions.id"], name=op.f("fk_retention_rules_solution_id_solutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_rules")),
    )
    with op.batch_alter_table("retention_rules", schema=None) as batch_op:
        batch_op.create_index("ix_retention_rules_solution", ["solution_id", "what"], unique=False)
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("phone_e164", sa.String(length=20), nullable=True),
        sa.Column("email_norm", sa.String(length=320), nullable=True),
        sa.Column("phone_masked", sa.String(length=40), nullable=True),
        sa.Column("email_masked", sa.String(length=40), nullable=True),
        sa.Column("queue", sa.String(length=200), nullable=True),
        sa.Column("from_at", archivist.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("to_at", archivist.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("interactions", sa.Integer(), nullable=False),
        sa.Column("created_at", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("released_at", archivist.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["solution_id"], ["solutions.id"], name=op.f("fk_legal_holds_solution_id_solutions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index("ix_legal_holds_active", ["solution_id", "released_at"], unique=False)
    op.create_table(
        "legal_hold_interactions",
        sa.Column("hold_id", sa.String(length=32), nullable=False),
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("interaction_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["legal_holds.id"],
            name=op.f("fk_legal_hold_interactions_hold_id_legal_holds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_legal_hold_interactions_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hold_id", "interaction_id", name=op.f("pk_legal_hold_interactions")),
    )
    with op.batch_alter_table("legal_hold_interactions", schema=None) as batch_op:
        batch_op.create_index("ix_legal_hold_interactions_interaction", ["interaction_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("legal_hold_interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_hold_interactions_interaction")
    op.drop_table("legal_hold_interactions")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_holds_active")
    op.drop_table("legal_holds")
    with op.batch_alter_table("retention_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_retention_rules_solution")
    op.drop_table("retention_rules")
