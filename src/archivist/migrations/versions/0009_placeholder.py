"""usernames unique case-insensitively (CONTRACT §14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 13:00:00

Reserved so that work on several issues can add its schema in parallel; filled in by that work.
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
