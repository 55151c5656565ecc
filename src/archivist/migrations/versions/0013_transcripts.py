"""transcripts of calls (CONTRACT §17): segments with their times in the recording

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:45:00

A call's transcript is kept as rows of `transcript_segments` (who spoke, what, and from when to
when in milliseconds), so that erasure can replace an identifier in the text and silence the
recording over exactly the segment in which it was said. Like the other rows of an interaction
it carries the solution's id without a key to `solutions` (see migration 0004).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "transcript_segments",
        sa.Column("id", big, autoincrement=True, nullable=False),
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("interaction_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("begin_ms", big, nullable=False),
        sa.Column("end_ms", big, nullable=False),
        sa.Column(
            "speaker",
            sa.Enum("customer", "agent", "system", name="sender", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_transcript_segments_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_segments")),
    )
    op.create_index("ix_transcript_segments_interaction", "transcript_segments", ["interaction_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_transcript_segments_interaction", table_name="transcript_segments")
    op.drop_table("transcript_segments")
