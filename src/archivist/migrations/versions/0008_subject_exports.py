"""subject access exports (CONTRACT §12)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:00:00

A subject access export keeps its person's identifiers sealed (AES-GCM under a key derived from
the server secret) until it expires after 7 days, when the nightly purge deletes them. Requests get indexes on
their phone and address: a bulk upload (CONTRACT §12) looks each person up among thousands waiting.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archivist.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subject_exports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("solution_id", sa.String(length=32), nullable=False),
        sa.Column(
            "status", sa.Enum("ready", "expired", name="exportstatus", native_enum=False, length=10), nullable=False
        ),
        sa.Column("created_at", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("expires_at", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cutoff", archivist.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("criteria", sa.LargeBinary(), nullable=True),
        sa.Column("phone_masked", sa.String(length=40), nullable=True),
        sa.Column("email_masked", sa.String(length=40), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("last_downloaded_at", archivist.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["solution_id"], ["solutions.id"], name=op.f("fk_subject_exports_solution_id_solutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_exports")),
    )
    with op.batch_alter_table("subject_exports", schema=None) as batch_op:
        batch_op.create_index("ix_subject_exports_created", ["solution_id", "created_at", "id"], unique=False)
        batch_op.create_index("ix_subject_exports_expiry", ["status", "expires_at"], unique=False)
    # Bulk intake leaves thousands of requests waiting: finding a person's among them must not scan.
    with op.batch_alter_table("anonymization_requests", schema=None) as batch_op:
        batch_op.create_index("ix_anonymization_requests_phone", ["solution_id", "phone_e164"], unique=False)
        batch_op.create_index("ix_anonymization_requests_email", ["solution_id", "email_norm"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("anonymization_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_anonymization_requests_email")
        batch_op.drop_index("ix_anonymization_requests_phone")
    with op.batch_alter_table("subject_exports", schema=None) as batch_op:
        batch_op.drop_index("ix_subject_exports_expiry")
        batch_op.drop_index("ix_subject_exports_created")
    op.drop_table("subject_exports")
