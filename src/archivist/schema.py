"""Create or upgrade the schema with Alembic: the only way tables are ever made."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine


class MigrationRefusedError(RuntimeError):
    """A migration that cannot run on this archive's data until someone fixes it; the message says how.

    Raised before the migration changes anything (and the upgrade's transaction rolls back).
    """


# The job queue's tables (PostgreSQL, migration 0016): made by the migration, read and written
# by the queue library's own SQL, never through our models.
QUEUE_TABLE_PREFIX = "procrastinate_"


def is_ours(name: str | None, type_: str, _parents: object) -> bool:
    """Whether a database object is one our models describe (Alembic's ``include_name``): the
    queue's tables are not, so comparing and autogenerating leave them alone."""
    return not (type_ == "table" and name is not None and name.startswith(QUEUE_TABLE_PREFIX))


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("archivist") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision; a no-op when it is there already."""
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
