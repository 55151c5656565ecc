"""an email's own mention keys: which identifiers its body, HTML and headers write

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 10:30:00

The mention index names interactions; an email is often named by one of its attachments, and the
erasure then read and scanned its whole body and HTML to find nothing there (issue 27). Each email
row now keeps the keys (the index's HMACs, never the identifiers) of what its own texts write, as
attachments already do. Rows archived before stay NULL and are read as before; `archivist reindex`
fills them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("email_bodies") as batch:
        batch.add_column(sa.Column("mention_keys", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("email_bodies") as batch:
        batch.drop_column("mention_keys")
