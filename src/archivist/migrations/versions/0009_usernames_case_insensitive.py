"""usernames unique case-insensitively (CONTRACT §14); queue and agent searched case-insensitively

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 13:00:00

`users.username_key` is the folded username (`accounts.usernames.fold_username`): unique, and
what login and throttling look a user up by, so `ADMIN` beside `admin` can no longer be made
(and failed logins for one no longer lock out the other). An archive that already holds two
usernames that fold together cannot be upgraded silently (which one is the real `admin`?):
the upgrade refuses, naming the users' ids, until all but one are renamed with
`archivist user rename OLD NEW`.

`interactions.queue_key` / `agent_key` are the folded queue and agent names
(`archive.models.fold_label`); the *Queue* and *Agent* filters match them, through indexes in
place of the ones on the names as they came.

On SQLite the new user column is added with a server default rather than by rebuilding
`users`: a rebuild drops the table, and with foreign keys on that would cascade to every
session and API token.
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from archivist.accounts.usernames import fold_username
from archivist.archive.models import fold_label
from archivist.schema import MigrationRefusedError

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def clashing_usernames(connection: sa.Connection) -> list[list[str]]:
    """Ids of users whose names fold together, one list per name, sorted."""
    ids_by_key: dict[str, list[str]] = defaultdict(list)
    for user_id, username in connection.execute(sa.text("SELECT id, username FROM users ORDER BY id")):
        ids_by_key[fold_username(username)].append(user_id)
    return sorted(ids for ids in ids_by_key.values() if len(ids) > 1)


def upgrade() -> None:
    connection = op.get_bind()
    clashes = clashing_usernames(connection)
    if clashes:
        groups = "; ".join(", ".join(ids) for ids in clashes)
        raise MigrationRefusedError(
            "usernames must now be unique whatever their case, and this archive has users whose names "
            f"differ only in case (user ids, one group per name: {groups}). Rename all but one in each "
            "group with `archivist user rename OLD NEW` (see the Users page for their names), then run "
            "the upgrade again (`archivist init`). Nothing was changed."
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=300), server_default="", nullable=False))
    users = sa.table("users", sa.column("id"), sa.column("username"), sa.column("username_key"))
    for user_id, username in connection.execute(sa.select(users.c.id, users.c.username)).all():
        connection.execute(sa.update(users).where(users.c.id == user_id).values(username_key=fold_username(username)))
    op.create_index("uq_users_username_key", "users", ["username_key"], unique=True)

    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_key", sa.String(length=600), nullable=True))
        batch_op.add_column(sa.Column("agent_key", sa.String(length=600), nullable=True))
    interactions = sa.table(
        "interactions",
        sa.column("solution_id"),
        sa.column("queue"),
        sa.column("agent"),
        sa.column("queue_key"),
        sa.column("agent_key"),
    )
    # One UPDATE per distinct name in each solution, through the old (solution_id, name) indexes:
    # an archive has a few queues and some hundreds of agents, and millions of interactions.
    for name, key in (("queue", "queue_key"), ("agent", "agent_key")):
        pairs = connection.execute(
            sa.select(interactions.c.solution_id, interactions.c[name])
            .where(interactions.c[name].is_not(None))
            .distinct()
        ).all()
        for solution_id, value in pairs:
            connection.execute(
                sa.update(interactions)
                .where(interactions.c.solution_id == solution_id, interactions.c[name] == value)
                .values({key: fold_label(value)})
            )
    op.drop_index("ix_interactions_queue", table_name="interactions")
    op.drop_index("ix_interactions_agent", table_name="interactions")
    op.create_index("ix_interactions_queue_key", "interactions", ["solution_id", "queue_key", "started_at", "id"])
    op.create_index("ix_interactions_agent_key", "interactions", ["solution_id", "agent_key", "started_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_interactions_agent_key", table_name="interactions")
    op.drop_index("ix_interactions_queue_key", table_name="interactions")
    op.create_index("ix_interactions_agent", "interactions", ["solution_id", "agent", "started_at", "id"])
    op.create_index("ix_interactions_queue", "interactions", ["solution_id", "queue", "started_at", "id"])
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_column("agent_key")
        batch_op.drop_column("queue_key")
    op.drop_index("uq_users_username_key", table_name="users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("username_key")
