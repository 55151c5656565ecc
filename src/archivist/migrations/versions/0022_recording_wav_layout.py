"""recordings keep their WAV layout: silencing a recording needs no read of its header

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 18:50:00

The erasure read each recording's header from the blob store to find where its samples are (a
file open and a read of its first 4 KB, per recording, inside the night). A recording stored by
the API or an import now keeps that layout, read from the bytes on their way in; rows from before
have none and their blob is read as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wav_layout", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("wav_layout")
