"""The sweeps run with the heap that existed before them frozen (search/heap.py): the collector's full
collections skip it while the sweeps run, and it is handed back afterwards, also when a sweep raises."""

from __future__ import annotations

import gc

import pytest

import azlang
from azlang.search.heap import frozen_heap


def test_frozen_heap_freezes_and_hands_back():
    before = gc.get_freeze_count()
    keep = [object() for _ in range(10)]
    gc.collect()
    with frozen_heap():
        inside = gc.get_freeze_count()
        assert inside > before + len(keep) // 2
    assert gc.get_freeze_count() == before
    with pytest.raises(RuntimeError), frozen_heap():
        raise RuntimeError("a sweep failed")
    assert gc.get_freeze_count() == before


def test_an_experiment_sweeps_with_the_heap_frozen_and_leaves_it_as_it_was():
    """In-process islands (the default for one worker): the progress reports sent from inside the sweeps see the
    heap frozen (those before and after them do not); afterwards the heap is as it was."""
    before = gc.get_freeze_count()
    counts = []
    azlang.evolve(tasks=["linear:F4:D2"], progress=lambda p: counts.append(gc.get_freeze_count()),
                  population=20, tournament=4, max_individuals=400, random_seed=3, progress_every=100,
                  max_experiments=1)
    assert sum(c > before for c in counts) >= 2 and counts[0] == counts[-1] == before
    assert gc.get_freeze_count() == before
