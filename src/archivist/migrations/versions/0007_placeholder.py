"""nightly lease and read-path throttles (CONTRACT §13)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:00:00

Reserved so that work on several issues can add its schema in parallel; filled in by that work.
"""

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
