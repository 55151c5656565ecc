"""Process-wide settings, read from ``ARCHIVIST_*`` environment variables (CONTRACT §2)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the data lives and the limits the service enforces.

    Per-solution settings (country, time zone, nightly time, replacement text) live in the
    database, not here, because each tenant has its own.
    """

    model_config = SettingsConfigDict(env_prefix="ARCHIVIST_", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = None
    blob_url: str | None = None
    secret_key: str | None = None
    # Base64 of a raw 32-byte Ed25519 private key that signs erasure receipts; without it one
    # is generated once into the data dir.
    signing_key: str | None = None
    # Where the erasure ledger lives (an fsspec URL); outside the database so that restoring
    # a backup does not roll it back. Default: a folder in the data dir.
    ledger_url: str | None = None
    # PostgreSQL: rewrite the tables an erasure touched (VACUUM FULL, an exclusive lock) instead
    # of a plain VACUUM, so not even the free space of the data files keeps erased bytes.
    postgres_vacuum_full: bool = False
    # PostgreSQL: how long the storage step waits for transactions older than itself (their
    # snapshots keep erased row versions alive through any VACUUM) before it goes on and says
    # so in the receipt (`gave_up`, CONTRACT §18).
    storage_wait_s: float = Field(default=60.0, ge=0, le=3600)

    # A JSON body larger than this is refused with 413 before it is parsed; a batch of
    # 1,000 chats with long logs fits comfortably.
    max_json_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    # Recordings are streamed to the blob store; an hour of 8 kHz WAV is ~58 MB.
    max_recording_bytes: int = Field(default=200 * 1024 * 1024, gt=0)

    # Serving (CONTRACT §13). How long a nightly run's lease lasts without renewal: a runner
    # that dies is taken over this long after; renewed between requests, so it must outlast
    # the longest single request and any clock skew between servers.
    nightly_lease_seconds: int = Field(default=120, gt=0)
    # A pause after each request of a nightly run (0: none), so a long night leaves the
    # database to daytime traffic; the serving tests also use it to kill a runner mid-run.
    nightly_request_pause_ms: int = Field(default=0, ge=0, le=60_000)
    # False: `archivist serve` does not run the nightly job (what --no-scheduler sets).
    scheduler: bool = True
    # Addresses of the proxies whose X-Forwarded-For/-Proto `archivist serve` believes
    # (comma-separated IPs or networks, "*" for any); unset: none, the peer address is the client.
    forwarded_allow_ips: str | None = None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.resolve() / 'archivist.db'}"

    @property
    def resolved_blob_url(self) -> str:
        if self.blob_url:
            return self.blob_url
        return f"file://{self.data_dir.resolve() / 'blobs'}"

    @property
    def resolved_ledger_url(self) -> str:
        if self.ledger_url:
            return self.ledger_url.rstrip("/")
        return f"file://{self.data_dir.resolve() / 'erasure-ledger'}"

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data dir.

        Generated rather than defaulted so that two installations never share a key, and
        kept on disk so that sessions survive a restart.
        """
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return keep_once(path, secrets.token_urlsafe(48))


def keep_once(path: Path, text: str) -> str:
    """Keep ``text`` at ``path``, readable by the owner only, unless a file is there already;
    what is there now (``text``, or what another process kept first), stripped.

    For secrets generated on first start: a server, the CLI and workers starting at once must
    all end up with the one key (a second would make the mention index, sessions or receipts
    of one process unreadable to the others). Written beside it first, synced, then linked into
    place, so a process that loses the race never reads a file the winner has not finished.
    """
    staged = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(staged, path)
        except FileExistsError:
            return path.read_text().strip()
        return text.strip()
    finally:
        staged.unlink(missing_ok=True)


def get_settings() -> Settings:
    """A fresh ``Settings`` from the environment; a factory so tests can build their own."""
    return Settings()
