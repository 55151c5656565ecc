"""raw data: index the customer together with the time

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 17:42:00

The nightly run looks raw data rows up by customer *before the cutoff*; with only
(solution_id, customer_norm) SQLite chose the time index instead and scanned every raw row
before the cutoff — ten million at a million interactions.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("raw_events", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_events_customer")
        batch_op.create_index("ix_raw_events_customer", ["solution_id", "customer_norm", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("raw_events", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_events_customer")
        batch_op.create_index("ix_raw_events_customer", ["solution_id", "customer_norm"], unique=False)
