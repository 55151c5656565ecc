"""Garbage collection during an import (``archivist.allocation``): rarer while it runs, as before after."""

from __future__ import annotations

import gc

import pytest

from archivist import importers
from archivist.allocation import BULK_THRESHOLD, bulk_allocation
from archivist.importers import ImportFormat, ImportSummary


def test_every_import_format_collects_less_while_it_runs_and_restores_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, int]] = []

    def runner(job: object) -> ImportSummary:
        seen.append((gc.get_threshold()[0], gc.get_freeze_count()))
        raise RuntimeError("the source broke")

    monkeypatch.setattr(importers, "runner_for", lambda fmt: runner)
    before = gc.get_threshold(), gc.get_freeze_count()
    for fmt in ImportFormat:
        with pytest.raises(RuntimeError):
            importers.run_import(fmt, object())  # type: ignore[arg-type]
    assert [threshold for threshold, _ in seen] == [BULK_THRESHOLD] * len(ImportFormat)
    assert all(frozen > 0 for _, frozen in seen)  # what existed before is not walked again
    assert (gc.get_threshold(), gc.get_freeze_count()) == before  # a failed import too


def test_nested_bulk_jobs_leave_the_outer_settings_in_place() -> None:
    before = gc.get_threshold()
    with bulk_allocation():
        frozen = gc.get_freeze_count()
        with bulk_allocation():
            pass
        assert gc.get_threshold()[0] == BULK_THRESHOLD
        assert gc.get_freeze_count() >= frozen
    assert gc.get_threshold() == before
