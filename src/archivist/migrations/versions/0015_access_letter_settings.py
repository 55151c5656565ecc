"""the Art. 15 items of a subject export's letter (CONTRACT §19): purposes, recipients, source

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 05:50:00

Three texts per solution, edited on *Settings* and through `PATCH /api/v1/settings`, that the
`summary.html` of every subject export quotes: why the contact centre processes the data, who
receives it, and where it comes from. Empty by default; the letter then says they were not set.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("access_purposes", "access_recipients", "access_source")


def upgrade() -> None:
    with op.batch_alter_table("solutions") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("solutions") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
