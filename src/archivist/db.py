"""Database plumbing: engines, sessions, the declarative base and the column types we share."""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    CursorResult,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    Result,
    Table,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so that migrations written on SQLite and PostgreSQL agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite only makes an INTEGER PRIMARY KEY an alias of the rowid (and so auto-incrementing);
# BIGINT would not be. PostgreSQL gets a real 64-bit key for the tables that grow largest.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC.

    SQLite keeps no offset, so without this a value would come back naive and compare
    wrongly against aware ones; we normalise on the way in and re-attach UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class.

    Bulk writes go through the Core table: a list of dicts becomes one executemany, where
    the ORM's bulk path splits a batch whenever the set of NULL columns changes.
    """
    table = model.__table__
    assert isinstance(table, Table)
    return table


# Ids per ``IN (...)``: under SQLite's bound-parameter limit, and small enough that one
# chunk's rows fit comfortably in memory.
CHUNK = 500


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE/DELETE touched (``Session.execute`` is typed as returning any Result)."""
    return int(result.rowcount or 0) if isinstance(result, CursorResult) else 0


def chunks(ids: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    """``ids`` in slices of ``size``, for statements that take a list of ids."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def new_id() -> str:
    """A 32-hex-digit opaque id that sorts by creation time (UUIDv7 layout).

    Time-ordered ids keep B-tree inserts at the right-hand edge, which matters at tens of
    millions of rows, and random bits make them unguessable across tenants.
    """
    return _id(time.time_ns() // 1_000_000, os.urandom(10))


def new_ids(count: int) -> list[str]:
    """``count`` ids as ``new_id`` makes them, with one call for the random bits of all."""
    ms = time.time_ns() // 1_000_000
    rand = os.urandom(10 * count)
    return [_id(ms, rand[i : i + 10]) for i in range(0, 10 * count, 10)]


def _id(ms: int, rand: bytes) -> str:
    value = (ms << 80) | int.from_bytes(rand, "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version nibble
    return f"{value:032x}"


def serialize(session: Session, name: str) -> None:
    """Make the transactions that call this with the same ``name`` run one after another.

    For a read-then-write step that must not run twice side by side (read the chain's head,
    then append; look for a waiting request, then add one). Held until the transaction ends.
    PostgreSQL: a transaction-scoped advisory lock keyed by ``name`` (crc32 folds it into the
    lock's integer; a rare collision only makes two names wait for each other). SQLite: its
    database-wide write lock, taken now by a write that changes nothing — otherwise only the
    step's own write would take it, after the reads that decided what to write.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())})
    elif dialect == "sqlite":
        session.execute(text("UPDATE solutions SET name = name WHERE 0"))
    else:
        raise ValueError(f"no lock for {dialect}")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web server read while the nightly job writes; busy_timeout makes a
    # second writer wait instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MB of page cache (the default is 2 MB): index pages of a large archive stay in memory.
    cursor.execute("PRAGMA cache_size=-65536")
    # Erased text must not stay readable in freed pages (CONTRACT §11); some builds have it on
    # by default, none should be relied on.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# The threads one server worker runs sync handlers on (AnyIO's default limiter), and so the
# connections its pool keeps.
THREADS_PER_WORKER = 40

# Tables an erasure rewrites or deletes from: their old row versions hold what was erased.
ERASED_TABLES = (
    "interactions",
    "chat_messages",
    "email_bodies",
    # What was said in a call (CONTRACT §17): a transcript's text is content like a chat's.
    "transcript_segments",
    "raw_events",
    "mentions",
    "recordings",
    "anonymization_requests",
    # A released hold clears the person it named (its masked forms stay).
    "legal_holds",
    # Attachment names can write an identifier (CONTRACT §15).
    "email_attachments",
    # A purged export's sealed criteria and masked identifiers (CONTRACT §18).
    "subject_exports",
)
# A WAL checkpoint cannot truncate the log while a reader holds an old snapshot: try a few times.
_CHECKPOINT_TRIES = 5


def engine_of(factory: sessionmaker[Session]) -> Engine:
    """The engine a session factory's sessions are bound to."""
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("the session factory is not bound to an engine")
    return bind


def forget_freed_space(engine: Engine, *, vacuum_full: bool = False, wait_s: float | None = None) -> dict[str, Any]:
    """Make what committed erasures replaced unreadable in the database files; what was done.

    SQLite: ``secure_delete`` zeroes freed pages as they are freed, and a TRUNCATE checkpoint
    copies the WAL into the main file and empties it, so old page images do not linger there.
    PostgreSQL: ``freed_space.postgres_storage_step`` waits (at most ``wait_s``) for transactions
    older than the step, vacuums the erasable tables and rewrites their indexes, or with
    ``vacuum_full`` rewrites the tables too, and says what it rewrote and what stays out of reach.
    """
    if engine.dialect.name == "sqlite":
        truncated = False
        with engine.connect() as conn:
            for attempt in range(_CHECKPOINT_TRIES):
                busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
                if not busy:
                    truncated = True
                    break
                time.sleep(0.2 * (attempt + 1))
        return {"database": "sqlite", "secure_delete": True, "wal_checkpoint": "truncated" if truncated else "busy"}
    from archivist.freed_space import DEFAULT_WAIT_S, postgres_storage_step

    existing = set(inspect(engine).get_table_names())
    tables = [table for table in ERASED_TABLES if table in existing]
    return postgres_storage_step(
        engine, tables, vacuum_full=vacuum_full, wait_s=DEFAULT_WAIT_S if wait_s is None else wait_s
    )


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine for ``url``; SQLite gets the pragmas above and its directory made."""
    # Error texts quote bound parameters, which may be phone numbers or email addresses;
    # exceptions end up in logs, so they must not carry them.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).resolve().parent.mkdir(parents=True, exist_ok=True)
            # As many pooled connections as a worker has threads (AnyIO's default limit, which
            # serves FastAPI's sync handlers): with fewer, requests queued for a connection and gave
            # up with 503 after the pool timeout, and each extra connection began with a cold cache.
            kwargs.setdefault("pool_size", THREADS_PER_WORKER)
            kwargs.setdefault("max_overflow", 0)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # psycopg prepares a statement after a few executions and PostgreSQL may then switch to
    # a generic plan made when the statistics were stale: during a bulk import into a fresh
    # table that turned the external-id lookup into a sequential scan per batch (quadratic).
    # Custom plans also suit our skewed data (one switchboard number vs. one caller).
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("options", "-c plan_cache_mode=force_custom_plan")
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
