"""Where an import reads from: a local file or folder, or an fsspec URL (``s3://bucket/prefix``).

One home for listing and opening a source's files, so every importer reads local folders and
buckets alike, one file at a time, and reports positions relative to the source.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from archivist.blobs import S3_ENDPOINT_ENV
from archivist.importers import SourceUnreadable

__all__ = ["Source", "open_source", "read_mapping"]


@dataclass(frozen=True)
class Source:
    """An opened source: its file system, its root, and whether the root is a single file."""

    fs: AbstractFileSystem
    root: str
    single_file: bool

    def files(self) -> Iterator[str]:
        """Paths relative to the root of every file under it, sorted (a file source: its name)."""
        if self.single_file:
            yield self.root.rstrip("/").rsplit("/", 1)[-1]
            return
        try:
            found = self.fs.find(self.root)
        except OSError as exc:
            raise SourceUnreadable(f"the source cannot be listed ({type(exc).__name__})") from None
        prefix = self.root.rstrip("/") + "/"
        for path in sorted(found):
            yield path[len(prefix) :] if path.startswith(prefix) else path

    def path(self, relative: str) -> str:
        return self.root if self.single_file else self.root.rstrip("/") + "/" + relative

    def open(self, relative: str) -> IO[bytes]:
        """The file, opened for streaming reads (never read whole here)."""
        if isinstance(self.fs, LocalFileSystem):
            # A local folder's files straight from the OS: fsspec's wrapper costs more CPU than
            # reading a small transcript file (an export holds one per chat).
            return Path(self.path(relative)).open("rb")
        handle: IO[bytes] = self.fs.open(self.path(relative), "rb")
        return handle

    def size(self, relative: str) -> int | None:
        try:
            size = self.fs.size(self.path(relative))
        except OSError:
            return None
        return int(size) if size is not None else None


def open_source(source: str) -> Source:
    """Open ``source``; SourceUnreadable (CLI exit 2) when it does not exist or cannot be reached."""
    options: dict[str, Any] = {}
    if source.startswith(("s3://", "s3a://")):
        endpoint = os.environ.get(S3_ENDPOINT_ENV, "").strip()
        if endpoint:
            options["client_kwargs"] = {"endpoint_url": endpoint}
    try:
        fs, root = url_to_fs(source, **options)
        if fs.isdir(root):
            return Source(fs, root, single_file=False)
        if fs.isfile(root):
            return Source(fs, root, single_file=True)
    except (OSError, ValueError, ImportError) as exc:
        raise SourceUnreadable(f"the source cannot be opened ({type(exc).__name__})") from None
    raise SourceUnreadable("the source is neither a file nor a folder")


def read_mapping(path: str | None) -> dict[str, Any]:
    """A ``--mapping`` file as a JSON object (YAML too when PyYAML is installed); {} for none."""
    if path is None:
        return {}
    try:
        with Path(path).open("rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise SourceUnreadable(f"the mapping file cannot be read ({type(exc).__name__})") from None
    loaded: Any
    try:
        loaded = json.loads(raw)
    except ValueError:
        loaded = _yaml(raw)
    if not isinstance(loaded, dict):
        raise SourceUnreadable("the mapping file must hold a JSON object")
    return loaded


def _yaml(raw: bytes) -> Any:
    try:
        import yaml  # type: ignore[import-untyped, unused-ignore]  # optional: not a dependency
    except ImportError:
        raise SourceUnreadable("the mapping file is not valid JSON (YAML needs PyYAML installed)") from None
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        raise SourceUnreadable("the mapping file is neither valid JSON nor valid YAML") from None
