"""The schema is made by the migrations alone, and they agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from archivist.models import Base
from archivist.schema import alembic_config, upgrade


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_database_is_at_the_newest_revision(engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= {t.name for t in Base.metadata.sorted_tables}


def test_every_table_carries_the_solution_id() -> None:
    # Tenant isolation starts in the schema: every row knows whose it is.
    missing = [t.name for t in Base.metadata.sorted_tables if t.name != "solutions" and "solution_id" not in t.columns]
    assert missing == []
