"""Search stage: functional equivalence checking (semantics section 9): fingerprint key and LRU cache.

The key is exact: the IEEE bytes of every recorded error (-0 mapped to +0), the train/valid split point,
the task index and the budgeted example count. Unlike the reference's 64-bit hash it cannot collide.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Sequence

FEC_SEED = 235732282


def fec_key(train_errors: Sequence[float], valid_errors: Sequence[float], task_index: int, budgeted: int) -> tuple:
    """Exact fingerprint of one probe run. NaN and inf are hashable and stable as bytes."""
    errors = list(train_errors) + list(valid_errors)
    if 0.0 in errors:  # true for -0.0 as well: map it to +0.0 (x + 0.0 does, and leaves the rest alone)
        errors = [x + 0.0 for x in errors]
    return (task_index, budgeted, len(train_errors), struct.pack(f"<{len(errors)}d", *errors))


class FecCache:
    """LRU map key -> task fitness, shared by all tasks. An entry is dropped right after its
    `forget_every`-th use (insert counts as the first), so it gets re-evaluated now and then."""

    __slots__ = ("capacity", "entries", "forget_every", "hits", "misses")

    def __init__(self, capacity: int = 100000, forget_every: int = 100):
        if capacity <= 1:
            raise ValueError("FEC cache capacity must be > 1")
        if forget_every == 1 or forget_every < 0:
            raise ValueError("forget_every must be 0 (never) or > 1")
        self.capacity, self.forget_every = capacity, forget_every
        self.entries: OrderedDict = OrderedDict()  # key -> [fitness, uses]
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, key) -> bool:
        return key in self.entries

    def lookup(self, key) -> float | None:
        """The cached fitness (marking the entry most recently used), or None on a miss."""
        entry = self.entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        entry[1] += 1
        if self.forget_every and entry[1] >= self.forget_every:
            del self.entries[key]
        else:
            self.entries.move_to_end(key)
        return entry[0]

    def insert(self, key, fitness: float) -> None:
        self.entries[key] = [fitness, 1]
        self.entries.move_to_end(key)
        if len(self.entries) > self.capacity:
            self.entries.popitem(last=False)

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0
