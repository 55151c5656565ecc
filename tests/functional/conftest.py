"""Fixtures of the functional tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

ARCHIVIST = str(Path(sys.executable).with_name("archivist"))
# The `run` fixture: `archivist ARGS...` in a subprocess against the test database.
Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(database_url: str, engine: Engine, tmp_path: Path) -> Runner:
    env = {
        **os.environ,
        "ARCHIVIST_DATABASE_URL": database_url,
        "ARCHIVIST_DATA_DIR": str(tmp_path / "var"),
        "ARCHIVIST_BLOB_URL": f"file://{tmp_path / 'blobs'}",
    }

    def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ARCHIVIST, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
        )

    return _run
