"""The schema is made by the migrations alone, and they agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from archivist.models import Base
from archivist.schema import alembic_config, is_ours, upgrade


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": is_ours})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_database_is_at_the_newest_revision(engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= {t.name for t in Base.metadata.sorted_tables}


# Tables whose rows are no tenant's: the tenants themselves, and the database's own maintenance.
NO_TENANTS = {"solutions", "storage_steps"}


def test_every_table_carries_the_solution_id() -> None:
    # Tenant isolation starts in the schema: every row knows whose it is.
    missing = [
        t.name for t in Base.metadata.sorted_tables if t.name not in NO_TENANTS and "solution_id" not in t.columns
    ]
    assert missing == []


def test_upgrade_from_the_first_revision_keeps_existing_solutions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from sqlalchemy import text

    from archivist.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                "INSERT INTO solutions (id, name, country, timezone, nightly_at, replacement, preview_warn_share,"
                " is_default, created_at) VALUES ('s1', 'Old', 'NO', 'Europe/Oslo', '02:00', 'Anonymized', 0.01,"
                " 1, '2026-01-01 00:00:00.000000')"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT audit_retention_days FROM solutions")).scalar() == 365
