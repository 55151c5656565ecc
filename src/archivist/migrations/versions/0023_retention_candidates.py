"""retention reads what is still there to delete: partial indexes on interactions that keep a recording or content

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 20:20:00

A recording or content retention rule pages through the solution's interactions older than its
cutoff that still have a recording (content). With only the time index, every night re-read every
interaction the rule had emptied on earlier nights, to delete nothing (issue 26: 320 MB at a
million interactions). These indexes hold only the interactions that still have what the rule
deletes, in the pass's order, one for each shape of rule (so a rule for one queue does not read
the other queues' recordings, which no rule deletes); an interaction leaves them when it loses its
recording or content.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, the columns after solution_id, the flag it is on), for each shape of rule: every
# channel, one channel, one queue. The predicate is written as retention.rules writes its condition.
_KEPT = [
    (f"ix_interactions_{what}_kept{suffix}", [*by, "started_at", "id"], flag)
    for what, flag in (("recording", "has_recording"), ("content", "has_content"))
    for suffix, by in (("", []), ("_by_channel", ["channel"]), ("_by_queue", ["queue_key"]))
]


def upgrade() -> None:
    for name, columns, flag in _KEPT:
        op.create_index(
            name,
            "interactions",
            ["solution_id", *columns],
            postgresql_where=sa.text(f"{flag} IS true"),
            sqlite_where=sa.text(f"{flag} IS 1"),
        )


def downgrade() -> None:
    for name, _, _ in _KEPT:
        op.drop_index(name, table_name="interactions")
