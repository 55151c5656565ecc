"""what a processed request erased, masked (CONTRACT §19): every number and address, its `also` too

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 05:40:00

`anonymization_requests.erased_masked` is `{"phones": [...], "emails": [...]}`: the masked forms
of every identifier the request erased — its own and those `also` added — written when the
night processes it, so that its receipt can list them (`phones_masked`, `emails_masked`) after
the full identifiers are forgotten. A request processed before this revision has none: its
receipt lists its own masked phone and address, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("anonymization_requests") as batch:
        batch.add_column(sa.Column("erased_masked", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("anonymization_requests") as batch:
        batch.drop_column("erased_masked")
