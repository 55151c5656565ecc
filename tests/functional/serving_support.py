"""Real ``archivist serve`` processes for the serving tests: started, waited for, killed.

Each server is its own process group (uvicorn's supervisor and its workers), so a test can
kill a whole server at once with SIGKILL, as a machine that dies would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from tests.conftest import TEST_SECRET_KEY

ARCHIVIST = str(Path(sys.executable).with_name("archivist"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a server on the test's database; ``settings`` are more ARCHIVIST_ variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVIST_")}
    env |= {
        "ARCHIVIST_DATABASE_URL": database_url,
        "ARCHIVIST_DATA_DIR": str(data_dir),
        # Shared by every server: blobs on disk, not in one process's memory.
        "ARCHIVIST_BLOB_URL": f"file://{data_dir / 'blobs'}",
        "ARCHIVIST_SECRET_KEY": TEST_SECRET_KEY,
    }
    env |= {f"ARCHIVIST_{name.upper()}": value for name, value in settings.items()}
    return env


@dataclass
class Server:
    """One ``archivist serve --workers N`` on a free port."""

    env: dict[str, str]
    log: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *options: str) -> Server:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [ARCHIVIST, "serve", "--port", str(self.port), "--workers", str(self.workers), *options],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}: {self.log.read_text()[-3000:]}")
            try:
                if httpx2.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready after {timeout}s: {self.log.read_text()[-3000:]}")

    @property
    def pids(self) -> set[int]:
        """The supervisor and its workers (the process group)."""
        assert self.process is not None
        found = {self.process.pid}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == self.process.pid:
                        found.add(int(entry.name))
                except ProcessLookupError:
                    continue
        return found

    def kill(self) -> None:
        """SIGKILL to every process of the server: no shutdown code runs."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM to the supervisor, as a service manager stops it; its exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.terminate(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        # Workers a SIGKILLed supervisor left behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
