"""CLI stage: the garbage collector during `azc`'s start-up (held off while modules load, then back on).

Start-up (typer, NumPy, llvmlite, the search modules) allocates a few hundred thousand objects and frees almost
none: the collector's passes over them found nearly nothing (a few hundred objects in ~90 collections, ~13 ms of
the demo run). `hold` turns collections off for `azc` itself only (cli.main, or `python -m azlang.cli`; a library
user importing azlang.cli keeps its collector as it is); `release` ends the start-up: what it built is moved out
of the collector's sight (gc.freeze: it lives to the end of the command anyway, and search/heap.py freezes the
heap at the sweeps as well) and collections resume, with their usual thresholds, for everything made after.
`azc evolve` counts the run's set-up (tasks, native code, islands) as start-up too: search/heap.py releases where
the sweeps begin (cli_evolve.py at the first progress line, for the parent of island processes).
"""

from __future__ import annotations

import gc

_held = False  # collections are off because of hold(), and release() turns them back on


def hold() -> None:
    """Collections off until `release` (nothing to do when they are off already: whoever did that restores them)."""
    global _held
    if not _held and gc.isenabled():
        gc.disable()
        _held = True


def release() -> None:
    """Start-up is over: freeze what it built and turn collections back on (no-op unless `hold` turned them off)."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


def held() -> bool:
    return _held
