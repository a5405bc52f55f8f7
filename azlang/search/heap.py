"""Search stage: the Python heap during the sweeps (the garbage collector's view of it)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from azlang import cli_gc


@contextmanager
def frozen_heap() -> Iterator[None]:
    """The objects alive when the sweeps start (modules, configs, tasks, evaluators, the islands) stay alive
    through them: move them out of the collector's sight while the sweeps run, so its periodic full collections
    scan only what the sweeps create (re-scanning the rest took ~2% of the demo run). They go back to the oldest
    generation afterwards, so cycles among them are collected as before. Reference counting is unaffected.

    `azc evolve` keeps its start-up hold on the collector (azlang/cli_gc.py) through the run's set-up: it ends
    here, so the sweeps run with collections on (a library caller's collector is left as it is)."""
    cli_gc.release()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
