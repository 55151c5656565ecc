"""child rows: no foreign key from their solution_id to solutions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 19:10:00

Chat messages, email bodies, raw data rows and mention rows carry their interaction's
solution_id so that every query can filter by tenant without a join; their key to the
interaction (kept) already ties them to an existing solution. The second key cost an extra
check per row: on PostgreSQL, where each check locks the parent row, `archivist import` of
20,000 demo interactions took 17.7 s with both keys and 12.0 s with the interaction key alone.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("chat_messages", "email_bodies", "raw_events", "mentions")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_solution_id_solutions", type_="foreignkey")


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(f"fk_{table}_solution_id_solutions", "solutions", ["solution_id"], ["id"])
