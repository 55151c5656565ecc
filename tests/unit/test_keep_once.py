"""Secrets generated on first start (the secret key, the receipt signing key): processes that
start at once all end up with the one that was kept first, never a half-written file."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from archivist.anonymize.receipts import Signer
from archivist.config import Settings, keep_once

STARTERS = 8


def _start(
    data_dir: str, barrier: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue[tuple[str, str]]
) -> None:
    settings = Settings(data_dir=Path(data_dir), database_url="sqlite://")
    barrier.wait()
    out.put((settings.resolved_secret_key, Signer.from_settings(settings).key_id))


def test_processes_starting_at_once_share_one_secret_key_and_one_signing_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(STARTERS)
    out: multiprocessing.Queue[tuple[str, str]] = context.Queue()
    starters = [context.Process(target=_start, args=(str(tmp_path), barrier, out)) for _ in range(STARTERS)]
    for process in starters:
        process.start()
    seen = {out.get(timeout=60) for _ in starters}
    for process in starters:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert len(seen) == 1  # every process: the same secret key and the same signing key
    for name in ("secret_key", "signing_key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key", "signing_key"]  # nothing staged left


def test_keep_once_keeps_the_first_text_and_answers_it_to_the_second(tmp_path: Path) -> None:
    path = tmp_path / "key"
    assert keep_once(path, "first\n") == "first"
    assert keep_once(path, "second") == "first"
    assert path.read_text() == "first\n"
