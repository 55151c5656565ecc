"""audit spool marks: reads' entries spooled beside a SQLite database, moved in once

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 15:00:00

On SQLite every read inserted its audit entry into the database and so took the database's one
write lock: at 64 readers search fell to 0.27x `/healthz`, and during a nightly run to 0.12x with
timeouts (issue 26). A server on SQLite now appends each read's entry to a spool file of its own
and moves the file into `audit_events` every second; the mark says a file was moved, in the
transaction that moved it, so a mover that dies before removing the file never moves it twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archivist.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_spool_marks",
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("moved_at", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["solution_id"], ["solutions.id"], name=op.f("fk_audit_spool_marks_solution_id_solutions")
        ),
        sa.PrimaryKeyConstraint("solution_id", "name", name=op.f("pk_audit_spool_marks")),
    )


def downgrade() -> None:
    op.drop_table("audit_spool_marks")
