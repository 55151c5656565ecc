"""erased stays erased (CONTRACT §18)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:15:00

Reserved so that work on several issues can add its schema in parallel; filled in by that work.
"""

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
