"""Garbage collection while a bulk job allocates: rarer, and never over what existed before it.

An import allocates hundreds of thousands of short-lived, acyclic objects a chunk (validated
bodies, row tuples), and CPython's default (a young collection every 700 allocations, the old
generation walked as it grows) made each collection also walk the long-lived objects — the
phonenumbers metadata, SQLAlchemy's, the identifier caches — to free nothing: a third of the
time spent preparing a chunk, 14-18 % of a platform import's CPU. See docs/performance.md.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations between two young-generation collections while a bulk job runs (CPython: 700).
BULK_THRESHOLD = 50_000


def collect_less() -> tuple[int, int, int]:
    """Collect garbage less often, and never walk what exists now again; returns the old thresholds."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(BULK_THRESHOLD, old[1], old[2])
    return old


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """``collect_less`` while the block runs in this process, then the settings as before (nested: the outer's)."""
    frozen_before = gc.get_freeze_count()
    old = collect_less()
    try:
        yield
    finally:
        gc.set_threshold(*old)
        if not frozen_before:  # a caller that froze its heap itself keeps it frozen
            gc.unfreeze()
