"""Every benchmark module still imports (issue 26 found `python -m bench.bulk` broken at HEAD after
an import moved): a benchmark that rots is a figure in docs/performance.md nobody can reproduce."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
MODULES = sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__")


def test_there_are_benchmarks() -> None:
    assert {"ingest", "nightly", "search"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_bench_module_imports_and_has_a_main(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    if name != "common":
        assert callable(getattr(module, "main", None)), f"bench/{name}.py has no main()"
