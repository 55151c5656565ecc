"""email as it arrives: attachments, HTML, headers, own email domains (CONTRACT §15)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:15:00

Reserved so that work on several issues can add its schema in parallel; filled in by that work.
"""

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
