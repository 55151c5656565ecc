"""erased stays erased (CONTRACT §18): subject exports carry the keyed hashes of their criteria

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:15:00

`subject_exports.keys` holds the mention-index keys (HMAC under the server secret) of the phone
and address an export was made for, so that the erasure that forgets them can purge the export
in the same transaction (`access.purge`). An export made before this revision has no keys: it
is purged by the next erasure in its solution, whoever that erases (its criteria are sealed, and
a download that could name an erased person is worse than one that answers 410).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subject_exports") as batch:
        batch.add_column(sa.Column("keys", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subject_exports") as batch:
        batch.drop_column("keys")
