"""subject access exports (CONTRACT §12)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:00:00

Reserved so that work on several issues can add its schema in parallel; filled in by that work.
"""

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
