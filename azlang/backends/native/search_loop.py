"""Native stage: the exact regularized-evolution loop in IR: one call runs a chunk of children.

Per child, exactly as azlang.search.evolution's exact mode with azlang.search.engine.SearchEvaluator:
tournament (T draws of below(P), first drawn wins ties) -> Mutate -> train budget -> per task: FEC probe
(fresh Rng(235732282) per task, errors hashed) -> LRU lookup -> full evaluation with the search Rng on a
miss -> insert; hurdles after the first k tasks -> the child replaces the slot at the cursor. Evaluation
runs on the program with dead code removed (search_dce), and when that live program equals the parent's,
the parent's recorded probe keys are reused: a probe is deterministic, so its result would be the same.
Each slot keeps its program's live version (written with the child), so a parent is not dce'd again, and
a child whose mutation changed nothing live (no change, or a dead row rewritten into a dead row) is not dce'd
either: its live program is its parent's (search_dce.stays_dead).
Tasks are evaluated in search_eval.
"""

from __future__ import annotations

from azlang.backends.native import engine
from azlang.ir.nodes import MemoryShape

CHUNK, IMPORT, EXPORT = "azlang_search_chunk", "azlang_search_cache_import", "azlang_search_cache_export"


def addresses(shape: MemoryShape) -> dict[str, int]:
    """Addresses of the chunk, cache-import and cache-export functions for this memory shape."""
    key = f"search/s{shape.S}v{shape.V}m{shape.M}"
    return engine.load(key, lambda: _build(shape), [CHUNK, IMPORT, EXPORT])


def _build(shape: MemoryShape):
    """The loop's IR module (search_loop_ir.py): on an object-cache miss only (llvmlite.ir and the IR builders)."""
    from azlang.backends.native import search_loop_ir

    return search_loop_ir.build_module(shape)
