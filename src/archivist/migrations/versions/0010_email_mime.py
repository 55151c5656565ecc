"""email as it arrives: attachments, HTML, headers, own email domains (CONTRACT §15)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:15:00

A message that arrives as MIME keeps its sanitised HTML part and decoded address headers beside
its text (`email_bodies.html`, `.headers`) and its attachments as blobs (`email_attachments`,
with the mention index's keys of what each one's text writes, so erasure can find it). Each
solution names the domains whose mail is its own (`solutions.own_email_domains`), which decide
an email's direction and customer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("email_bodies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("headers", sa.JSON(), nullable=True))
    with op.batch_alter_table("solutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("own_email_domains", sa.JSON(), server_default="[]", nullable=False))
    op.create_table(
        "email_attachments",
        sa.Column("interaction_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("blob_key", sa.String(length=300), nullable=False),
        sa.Column("mention_keys", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_email_attachments_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("interaction_id", "seq", name=op.f("pk_email_attachments")),
    )


def downgrade() -> None:
    op.drop_table("email_attachments")
    with op.batch_alter_table("solutions", schema=None) as batch_op:
        batch_op.drop_column("own_email_domains")
    with op.batch_alter_table("email_bodies", schema=None) as batch_op:
        batch_op.drop_column("headers")
        batch_op.drop_column("html")
