"""The erasure ledger (CONTRACT §11): what every done request erased, kept outside the database.

Restoring yesterday's backup brings back the people erased since; the ledger is how they are
forgotten again (``archivist erasures replay``). It lives outside the archive database (a
folder in the data dir, or ``ARCHIVIST_LEDGER_URL``, any fsspec URL such as another bucket),
so a restore does not roll it back, and it outlives the request rows' 12-month purge.

An entry holds the keyed hashes of the request's identifiers — the mention index's HMAC, under a
per-solution key derived from the server secret and never stored in the database — with its
cutoff and options: no identifier in clear. Files are only ever added: ``entries/<id>.json``
before the request's transaction commits, ``committed/<id>`` after; replay takes the committed
ones, and a run reconciles an entry whose marker a crash kept it from writing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import fsspec

from archivist.config import Settings

VERSION = 1


@dataclass(frozen=True)
class LedgerEntry:
    solution_id: str
    request_id: str
    processed_at: datetime
    cutoff: datetime
    keys: tuple[str, ...]
    raw_data: bool
    delete_content: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "solution_id": self.solution_id,
            "request_id": self.request_id,
            "processed_at": self.processed_at.isoformat(),
            "cutoff": self.cutoff.isoformat(),
            "keys": list(self.keys),
            "raw_data": self.raw_data,
            "delete_content": self.delete_content,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LedgerEntry:
        return cls(
            solution_id=data["solution_id"],
            request_id=data["request_id"],
            processed_at=datetime.fromisoformat(data["processed_at"]),
            cutoff=datetime.fromisoformat(data["cutoff"]),
            keys=tuple(data["keys"]),
            raw_data=bool(data["raw_data"]),
            delete_content=bool(data["delete_content"]),
        )


class Ledger:
    """An append-only folder of entries at an fsspec URL."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._fs, self._root = fsspec.core.url_to_fs(self.url)

    @classmethod
    def from_settings(cls, settings: Settings) -> Ledger:
        return cls(settings.resolved_ledger_url)

    def _path(self, *parts: str) -> str:
        return "/".join([self._root, *parts])

    def prepare(self, entry: LedgerEntry) -> None:
        """Write the entry; before the request's transaction commits, so a commit is never unrecorded."""
        self._fs.makedirs(self._path("entries", entry.solution_id), exist_ok=True)
        with self._fs.open(self._path("entries", entry.solution_id, f"{entry.request_id}.json"), "w") as out:
            json.dump(entry.as_json(), out, sort_keys=True)

    def commit(self, solution_id: str, request_id: str) -> None:
        """Mark the entry as carried out (after the commit)."""
        self._fs.makedirs(self._path("committed", solution_id), exist_ok=True)
        with self._fs.open(self._path("committed", solution_id, request_id), "w") as out:
            out.write("")

    def _names(self, *parts: str) -> list[str]:
        folder = self._path(*parts)
        if not self._fs.exists(folder):
            return []
        return sorted(str(p).rsplit("/", 1)[-1] for p in self._fs.ls(folder, detail=False))

    def uncommitted(self, solution_id: str) -> list[str]:
        """Request ids whose entry was written but whose marker was not (a crash in between)."""
        committed = set(self._names("committed", solution_id))
        return [
            n.removesuffix(".json")
            for n in self._names("entries", solution_id)
            if n.removesuffix(".json") not in committed
        ]

    def entries(self, solution_id: str) -> Iterator[LedgerEntry]:
        """The committed entries of a solution, oldest first."""
        committed = set(self._names("committed", solution_id))
        found = []
        for name in self._names("entries", solution_id):
            if name.removesuffix(".json") in committed:
                with self._fs.open(self._path("entries", solution_id, name)) as source:
                    found.append(LedgerEntry.from_json(json.load(source)))
        yield from sorted(found, key=lambda e: (e.processed_at, e.request_id))

    def solutions(self) -> list[str]:
        return self._names("committed")
