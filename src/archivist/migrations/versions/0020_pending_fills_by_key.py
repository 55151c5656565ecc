"""pending blob fills by key: a recording is played with the silence still pending on it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:30:00

Between an erasure's commit and the drain that writes its silence into the blob, the recording
still said what was erased, and playing, downloading or exporting it handed that back. Every read
of a recording now applies the fills still pending on its blob, looked up by key.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pending_blob_fills", schema=None) as batch_op:
        batch_op.create_index("ix_pending_blob_fills_key", ["blob_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pending_blob_fills", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_blob_fills_key")
