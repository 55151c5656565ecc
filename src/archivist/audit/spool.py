"""Reads' audit entries on SQLite: spooled to a file of the server's own, moved in every second.

SQLite has one write lock per database. When each read (a search, a details view, a recording
played) inserted its entry into the database, every reader took that lock: the readers queued
behind each other and, during a nightly run, behind the night's transactions, and SQLite's
busy handler wakes a waiter only by polling (issue 26: search at 0.27x `/healthz` at 64 readers,
0.12x with timeouts during a night). A server on SQLite instead:

- appends each read's entry, when the read's transaction commits and before it answers, as one
  JSON line to a spool file of its own process (one ``write`` under a thread lock; the file
  is held with ``flock`` for as long as it is being written);
- every second (``AuditChainer``) swaps in a new file and moves the old one into
  ``audit_events`` in one transaction, with a mark (``AuditSpoolMark``) that says it was
  moved, then removes the file and the mark;
- moves, in the same pass, every file no live process holds: those of a worker that was killed.
  ``archivist audit verify`` does the same before it checks.

Crash semantics: an answered read's entry was written to the spool file before the answer,
so killing the server loses none (the page cache keeps it; like the database's own WAL with
``synchronous=NORMAL``, only a power cut can); the entry reaches ``audit_events`` within a
second, or at the next pass of any server or ``audit verify`` on the machine. A file is moved
once: the mark is committed with its entries, and a mover that finds it only removes the file.
A read whose transaction rolls back writes no entry, as before.

PostgreSQL needs none of this (a row insert takes no table-wide lock): reads insert their
entries as they always did, and so does SQLite outside a server (tests, the CLI).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, event, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from archivist.audit.models import AuditEvent, AuditSpoolMark
from archivist.db import utcnow

log = logging.getLogger(__name__)

# Keys in ``Session.info``: the server's spool, and the entries of the transaction under way.
SPOOL = "archivist.audit.spool"
_STAGED = "archivist.audit.staged"

_PATTERN = "reads-*.jsonl"


def spool_dir(engine: Engine) -> Path | None:
    """Where a server on this database spools reads' entries: beside a SQLite file, else None."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    database = Path(engine.url.database).resolve()
    return database.with_name(database.name + "-reads")


def stage(session: Session, entry: Mapping[str, Any]) -> bool:
    """Hold a read's entry until ``session``'s transaction commits, if the session has a spool;
    False if it has none (the caller inserts the entry itself)."""
    if SPOOL not in session.info:
        return False
    session.info.setdefault(_STAGED, []).append(dict(entry))
    return True


def _line(entry: Mapping[str, Any]) -> bytes:
    return json.dumps({**entry, "at": entry["at"].isoformat()}, separators=(",", ":")).encode() + b"\n"


class ReadSpool:
    """One server process's spool file, and the mover of every spool file of its database."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._fd: int | None = None  # opened by the first entry after a rotation

    @classmethod
    def for_engine(cls, engine: Engine) -> ReadSpool | None:
        directory = spool_dir(engine)
        return cls(directory) if directory is not None else None

    def _open(self) -> int:
        path = self.directory / f"reads-{os.getpid()}-{secrets.token_hex(8)}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when closed: then any mover may take the file
        return fd

    # -- the sessions' side -------------------------------------------------------------------

    def attach(self, factory: sessionmaker[Session]) -> None:
        """Give every later session of ``factory`` this spool: their reads' entries come here.

        The listeners stay when the spool is detached: a session that began before still
        writes its entry here (into a new file if the spool was closed), never nowhere.
        """
        factory.configure(info={SPOOL: self})
        if not event.contains(factory, "after_commit", self._committed):
            event.listen(factory, "after_commit", self._committed)
            event.listen(factory, "after_transaction_end", self._ended)

    def detach(self, factory: sessionmaker[Session]) -> None:
        """Later sessions of ``factory`` insert their reads' entries themselves."""
        factory.kw.get("info", {}).pop(SPOOL, None)

    def _committed(self, session: Session) -> None:
        if entries := session.info.pop(_STAGED, None):
            self.append(entries)

    def _ended(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # rolled back (a commit took them already): the read left no entry
            session.info.pop(_STAGED, None)

    def append(self, entries: list[dict[str, Any]]) -> None:
        data = b"".join(_line(entry) for entry in entries)
        with self._lock:
            if self._fd is None:
                self._fd = self._open()
            os.write(self._fd, data)  # O_APPEND: one write, never interleaved with another thread's

    # -- the mover's side ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the current file, if any: it is free to move, and the next entry starts a new one."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def move(self, factory: sessionmaker[Session]) -> int:
        """Close the current file, then move every file no process holds; returns entries moved."""
        self.close()
        return move_spooled(factory, self.directory)


def _entries(data: bytes, name: str) -> list[AuditEvent]:
    events = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
            events.append(
                AuditEvent(
                    solution_id=entry["solution_id"],
                    at=datetime.fromisoformat(entry["at"]),
                    actor=entry["actor"],
                    action=entry["action"],
                    target=entry["target"],
                    details=entry["details"],
                    hash="",
                )
            )
        except (ValueError, KeyError, TypeError):
            # A line cut short when its writer died mid-write: that read never answered.
            log.warning("audit spool: line %d of %s is not an entry; skipped", number, name)
    return events


def _insert(factory: sessionmaker[Session], name: str, events: list[AuditEvent]) -> int | None:
    """Insert a file's entries with its marks in one transaction: how many, 0 if the file was
    moved before (only its removal was lost), None if the database refuses an entry."""
    marked = AuditSpoolMark.name == name
    try:
        with factory() as session, session.begin():
            if session.scalar(select(exists().where(marked))):
                return 0
            now = utcnow()
            solutions = sorted({e.solution_id for e in events})
            session.add_all(AuditSpoolMark(solution_id=s, name=name, moved_at=now) for s in solutions)
            session.flush()  # a mover beside us committed the same marks first: IntegrityError
            session.add_all(events)
        return len(events)
    except IntegrityError:
        with factory() as session:
            return 0 if session.scalar(select(exists().where(marked))) else None


def move_spooled(factory: sessionmaker[Session], directory: Path | None = None) -> int:
    """Move every spool file of ``factory``'s database that no process is writing into
    ``audit_events``, each in one transaction with its mark; returns entries moved."""
    if directory is None:
        bind = factory.kw.get("bind")
        directory = spool_dir(bind) if isinstance(bind, Engine) else None
    if directory is None or not directory.is_dir():
        return 0
    moved = 0
    for path in sorted(directory.glob(_PATTERN)):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue  # another mover took it
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live process is writing it, or another mover is moving it
            if not path.exists():
                continue  # moved and removed while we waited for the lock
            with os.fdopen(os.dup(fd), "rb") as file:
                events = _entries(file.read(), path.name)
            inserted = _insert(factory, path.name, events)
            if inserted is None:
                log.warning("audit spool: %s could not be moved; kept for the next pass", path.name)
                continue
            moved += inserted
            path.unlink(missing_ok=True)
            with factory() as session, session.begin():
                session.execute(delete(AuditSpoolMark).where(AuditSpoolMark.name == path.name))
        finally:
            os.close(fd)
    return moved
