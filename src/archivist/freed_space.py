"""PostgreSQL's storage step: what committed erasures replaced, made unreadable in the relation files.

An UPDATE or DELETE leaves the old row version in the table file, and its index entries in the
index files, until VACUUM; VACUUM makes them unreachable but leaves their bytes in the pages'
free space; VACUUM FULL and REINDEX write new files, but copy every row version that a
transaction still open can see (CONTRACT §18: that is how whole erased rows survived a
VACUUM FULL). So the step, in order:

1. waits (at most ``wait_s``) until no snapshot or transaction older than the step is left on
   the server (any database: a snapshot's horizon counts every transaction running anywhere),
   nor a prepared transaction or replication slot that old, and says when it gave up;
2. rewrites each erasable table: plain mode VACUUMs the table (dead versions gone, their bytes
   left in free space until reused) and rebuilds into new files the indexes over identifier
   columns (``IDENTIFIER_COLUMNS``: REINDEX, writes and those index scans wait for it); full
   mode rewrites table, TOAST and indexes (VACUUM FULL, an exclusive lock for the duration).
   Past a wait that gave up, a table whose lock the old transaction holds is skipped and named
   (``locked``), never waited for without end;
3. refreshes the planner's statistics of those tables (ANALYZE), whose most common values can
   quote erased ones, and rewrites ``pg_statistic`` itself where the role may;
4. checkpoints, so the files the rewrites replaced are removed from disk;
5. verifies: every relation it meant to rewrite has a new file, or is named as not rewritten.

One step runs at a time in a database (a session advisory lock, ``STEP_LOCK``): the nights of
several solutions, on several workers, each end with this step over the same shared tables, and
two VACUUMs and REINDEXes of one table at once can deadlock each other (seen: a worker's night
failed with PostgreSQL's deadlock error while another worker's night ran its step).

Nights that end together share a step. A night notes the server's time when it reaches its step
(all its erasures committed before it); once it holds the lock, a step recorded in
``storage_steps`` that *started* after that time, over the same tables and in the same or a
stronger mode, waited for every transaction older than itself and rewrote everything this night
could have left, so its result is this night's too (``shared``). N nights finishing while a step
runs wait for it and then share the one step the first of them runs: two steps, not N.

What stays out of reach is named in the result: WAL segments and archives, backups, and with
``gave_up`` what the old transaction could still see.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from psycopg.errors import DeadlockDetected, LockNotAvailable
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

# How long the step waits for transactions older than itself (ARCHIVIST_STORAGE_WAIT_S).
DEFAULT_WAIT_S = 60.0
_POLL_S = 0.2
# How often a command PostgreSQL cancelled to break a deadlock is run (the first time included).
_DEADLOCK_TRIES = 3
# The advisory lock key every storage step holds while it runs ("Archivis" in ASCII).
STEP_LOCK = 0x4172636869766973
# Once the wait gave up: how long one rewrite may wait for a lock the old transaction holds.
_LOCK_TIMEOUT_MS = 2_000

# What keeps an erased row version alive through any VACUUM or rewrite: a snapshot or a
# transaction older than the step's own transaction id ``:mark`` — in ANY database, because
# every snapshot's xmin counts every transaction running on the server — and replication slots
# and prepared transactions just as old. ``age`` compares transaction ids across wraparound.
_OLDER = text(
    "SELECT (SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
    "  AND (age(backend_xmin) > age(CAST(:mark AS xid)) OR age(backend_xid) > age(CAST(:mark AS xid))))"
    " + (SELECT count(*) FROM pg_prepared_xacts WHERE age(transaction) > age(CAST(:mark AS xid)))"
    " + (SELECT count(*) FROM pg_replication_slots WHERE age(xmin) > age(CAST(:mark AS xid)))"
)


# Each table, its indexes, its TOAST table and the TOAST table's index, with their files.
_RELATIONS = text(
    "WITH t AS (SELECT c.oid, c.reltoastrelid FROM pg_class c WHERE c.oid = ANY(CAST(:oids AS oid[]))) "
    "SELECT c.oid::regclass::text AS name, c.relfilenode FROM pg_class c WHERE c.oid IN ("
    " SELECT oid FROM t"
    " UNION SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM t)"
    " UNION SELECT reltoastrelid FROM t WHERE reltoastrelid <> 0"
    " UNION SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT reltoastrelid FROM t WHERE reltoastrelid <> 0)"
    ")"
)


# Columns that hold a person's identifier or name as it was written: an index over one keeps
# the erased value in its pages. Indexes over anything else (times, ids, keyed hashes, queue
# and agent names) hold nothing erasure replaces, so plain mode leaves them as they are.
IDENTIFIER_COLUMNS = (
    "customer_phone",
    "customer_phone_e164",
    "customer_email",
    "customer_email_norm",
    "customer_name",
    "customer",
    "customer_norm",
    "phone_e164",
    "email_norm",
    # An external id that wrote an erased identifier is replaced by its pseudonym (CONTRACT §16).
    "external_id",
)
_IDENTIFIER_INDEXES = text(
    "SELECT DISTINCT i.indexrelid::regclass::text, i.indrelid::regclass::text FROM pg_index i "
    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
    "WHERE i.indrelid = ANY(CAST(:oids AS oid[])) AND a.attname = ANY(CAST(:columns AS text[])) ORDER BY 1"
)


def _oids(conn: Connection, tables: Sequence[str]) -> list[int]:
    return [
        oid
        for table in tables
        if (oid := conn.execute(text("SELECT CAST(to_regclass(:t) AS oid)"), {"t": table}).scalar()) is not None
    ]


def identifier_indexes(conn: Connection, tables: Sequence[str]) -> dict[str, str]:
    """The indexes of ``tables`` whose keys include an identifier column (index -> its table): what
    plain mode rebuilds."""
    found = conn.execute(_IDENTIFIER_INDEXES, {"oids": _oids(conn, tables), "columns": list(IDENTIFIER_COLUMNS)})
    return {str(index): str(table) for index, table in found}


def _older_transactions(conn: Connection, mark: str) -> int:
    return int(conn.execute(_OLDER, {"mark": mark}).scalar() or 0)


def _mark(conn: Connection) -> str:
    """A transaction id of the step's own, newer than every erasure committed before it (32-bit form)."""
    full = int(conn.execute(text("SELECT CAST(pg_current_xact_id() AS text)")).scalar_one())
    return str(full % 2**32)


def _files(conn: Connection, tables: Sequence[str]) -> dict[str, int]:
    return {name: int(node) for name, node in conn.execute(_RELATIONS, {"oids": _oids(conn, tables)})}


def _may_rewrite_catalogs(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar())


def _checkpoint(conn: Connection) -> bool:
    allowed = conn.execute(
        text(
            "SELECT rolsuper OR pg_has_role(current_user, 'pg_checkpoint', 'MEMBER') "
            "FROM pg_roles WHERE rolname = current_user"
        )
    ).scalar()
    if not allowed:
        return False
    conn.exec_driver_sql("CHECKPOINT")
    return True


def postgres_storage_step(
    engine: Engine, tables: Sequence[str], *, vacuum_full: bool, wait_s: float = DEFAULT_WAIT_S
) -> dict[str, Any]:
    """Run the step over ``tables`` (names of existing tables); what was done, for the receipt."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        arrived = _now(conn)
        # Polled, not waited for in one statement: a waiting statement holds a snapshot, which the
        # running step would count as an older transaction and wait out.
        while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": STEP_LOCK}).scalar():
            time.sleep(_POLL_S)
        try:
            shared = _step_since(conn, arrived, tables, vacuum_full=vacuum_full)
            if shared is not None:
                return {**shared, "shared": True}
            started = _now(conn)
            result = {**_storage_step(conn, tables, vacuum_full=vacuum_full, wait_s=wait_s), "shared": False}
            _remember(conn, started, tables, vacuum_full=vacuum_full, result=result)
            return result
        finally:
            # A session lock outlives the step on a pooled connection: released here, unless the
            # connection broke (then the pool discards it, and the server frees the lock).
            if not conn.invalidated:
                with contextlib.suppress(SQLAlchemyError):
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STEP_LOCK})


# How long a step's record is kept for later nights to share (only one that started after a
# night reached its step can serve it, so a day is plenty).
_KEEP_STEPS = text("DELETE FROM storage_steps WHERE started_at < clock_timestamp() - interval '1 day'")


def _now(conn: Connection) -> datetime:
    # The server's clock, not this machine's: nights on several machines compare their times.
    return cast(datetime, conn.execute(text("SELECT clock_timestamp()")).scalar_one())


def _step_since(
    conn: Connection, arrived: datetime, tables: Sequence[str], *, vacuum_full: bool
) -> dict[str, Any] | None:
    """The result of the latest step that started after ``arrived`` over at least ``tables``, in
    full mode if ``vacuum_full``; None if there is none (then this night runs its own)."""
    rows = conn.execute(
        text(
            "SELECT tables, result FROM storage_steps WHERE started_at > :arrived "
            "AND (vacuum_full OR NOT :full) ORDER BY started_at DESC"
        ),
        {"arrived": arrived, "full": vacuum_full},
    ).all()
    for done, result in rows:
        # A step that skipped a locked table, or gave up waiting for an older transaction, did
        # less than a step of this night's own might: it is not shared.
        if set(tables) <= set(done) and not result.get("locked") and not result.get("gave_up"):
            return cast(dict[str, Any], result)
    return None


def _remember(
    conn: Connection, started: datetime, tables: Sequence[str], *, vacuum_full: bool, result: dict[str, Any]
) -> None:
    conn.execute(
        text(
            "INSERT INTO storage_steps (started_at, finished_at, vacuum_full, tables, result) "
            "VALUES (:started, clock_timestamp(), :full, CAST(:tables AS json), CAST(:result AS json))"
        ),
        {"started": started, "full": vacuum_full, "tables": json.dumps(list(tables)), "result": json.dumps(result)},
    )
    conn.execute(_KEEP_STEPS)


def _run(conn: Connection, command: str) -> None:
    """One maintenance command; run again (at most ``_DEADLOCK_TRIES`` times) when PostgreSQL broke
    a deadlock by cancelling it (a night's writes beside a REINDEX): the other side has gone on."""
    for attempt in range(1, _DEADLOCK_TRIES + 1):
        try:
            conn.exec_driver_sql(command)
            return
        except OperationalError as exc:
            if not isinstance(exc.orig, DeadlockDetected) or attempt == _DEADLOCK_TRIES:
                raise
            time.sleep(_POLL_S * attempt)


def _storage_step(conn: Connection, tables: Sequence[str], *, vacuum_full: bool, wait_s: float) -> dict[str, Any]:
    """The step itself, on an AUTOCOMMIT connection that holds ``STEP_LOCK``."""
    mark = _mark(conn)
    deadline = time.monotonic() + max(wait_s, 0.0)
    older = _older_transactions(conn, mark)
    while older and time.monotonic() < deadline:
        time.sleep(_POLL_S)
        older = _older_transactions(conn, mark)
    before = _files(conn, tables)
    # Plain mode rebuilds the indexes that can hold an erased value, not every index.
    rebuilt = {} if vacuum_full else identifier_indexes(conn, tables)
    # An old transaction also holds locks a rewrite must wait for: past the wait, a table
    # whose lock cannot be had at once is left (and named) rather than waited for forever.
    conn.execute(text("SELECT set_config('lock_timeout', :ms, false)"), {"ms": f"{_LOCK_TIMEOUT_MS if older else 0}"})
    try:
        locked: list[str] = []
        for table in tables:
            # Names come from our own constant, never from input.
            commands = (
                [f"VACUUM (FULL, ANALYZE) {table}"]
                if vacuum_full
                else [
                    f"VACUUM (ANALYZE) {table}",
                    *(f"REINDEX INDEX {index}" for index, of in rebuilt.items() if of == table),
                ]
            )
            try:
                for command in commands:
                    _run(conn, command)
            except OperationalError as exc:
                if not isinstance(exc.orig, LockNotAvailable):
                    raise
                locked.append(table)
        statistics = _may_rewrite_catalogs(conn)
        if statistics:
            try:
                _run(conn, "VACUUM (FULL) pg_catalog.pg_statistic")
            except OperationalError as exc:
                if not isinstance(exc.orig, LockNotAvailable):
                    raise
                statistics = False
    finally:
        # The connection goes back to the pool: nobody else's statement gets this timeout. One
        # that broke mid-step is discarded by the pool, and its error is the one to raise.
        if not conn.invalidated:
            with contextlib.suppress(SQLAlchemyError):
                conn.exec_driver_sql("RESET lock_timeout")
    checkpoint = _checkpoint(conn)
    after = _files(conn, tables)
    # Full mode rewrites every relation of every table; plain mode the identifier indexes.
    meant = sorted(name for name in after if vacuum_full or name in rebuilt)
    rewritten = [name for name in meant if after[name] != before.get(name)]
    return {
        "database": "postgresql",
        "vacuum_full": vacuum_full,
        "vacuumed": list(tables),
        "rewritten": rewritten + (["pg_catalog.pg_statistic"] if statistics else []),
        "not_rewritten": [name for name in meant if name not in rewritten],
        "gave_up": bool(older),
        # Tables an older transaction kept locked: vacuumed and rewritten by the next step.
        "locked": locked,
        "older_transactions": older,
        "statistics_rewritten": statistics,
        "checkpoint": checkpoint,
        # In plain mode the tables' free space keeps erased bytes until PostgreSQL reuses it.
        "free_space_overwritten": vacuum_full and not older,
        "out_of_reach": ["WAL segments and archives", "backups"]
        + (["row versions an older open transaction could still see"] if older else []),
    }
