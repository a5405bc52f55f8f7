"""Search stage: functional equivalence checking (docs/semantics.md, section 9): fingerprint key and LRU cache.

The key is a 64-bit hash that the native search loop computes identically (search_fec.py). Over the
errors of one probe, train then valid, with -0.0 mapped to +0.0 and x_i their IEEE bit patterns:

    acc  = sum over positions i = 1, 2, ... of mix(x_i ^ mix(i * GAMMA))        (mod 2**64)
    key  = combine(combine(combine(combine(acc, n_train), n_valid), task_index), budgeted)
    combine(h, x) = mix((h ^ x) + GAMMA)

where mix is SplitMix64's output function and GAMMA its increment (azlang.rng). Summing position-keyed
mixes (instead of chaining HashCombine) lets NumPy hash all of a candidate's probes at once; lengths,
task and budgeted count are chained. Keys of distinct probes collide with probability about 2**-64 per
pair, negligible next to a cache of 10**5 entries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from azlang.rng import GAMMA, _mix

FEC_SEED = 235732282
_U64 = np.uint64
_GAMMA = _U64(GAMMA)


def _combine(h: np.ndarray, x: np.ndarray) -> np.ndarray:
    return _mix((h ^ x) + _GAMMA)


def fec_keys(
    train: Sequence[Sequence[float]], valid: Sequence[Sequence[float]], task_ids: Sequence[int], budgeted: Sequence[int]
) -> list[int]:
    """Keys of several probe runs (one per task) at once; see the module docstring."""
    nt = np.fromiter(map(len, train), dtype=np.int64, count=len(train))
    nv = np.fromiter(map(len, valid), dtype=np.int64, count=len(valid))
    flat = [x for tr, va in zip(train, valid) for part in (tr, va) for x in part]
    errors = np.array(flat, dtype=np.float64) + 0.0  # -0.0 -> +0.0, every other value unchanged
    ends = np.cumsum(nt + nv)
    starts = ends - (nt + nv)
    with np.errstate(over="ignore"):
        pos = (np.arange(len(errors)) - np.repeat(starts, nt + nv) + 1).astype(_U64)
        terms = _mix(errors.view(_U64) ^ _mix(pos * _GAMMA))
        sums = np.concatenate(([_U64(0)], np.cumsum(terms, dtype=_U64)))
        h = sums[ends] - sums[starts]
        for x in (nt, nv, task_ids, budgeted):
            h = _combine(h, np.asarray(x, dtype=np.int64).astype(_U64))
    return h.tolist()


def fec_key(train_errors: Sequence[float], valid_errors: Sequence[float], task_index: int, budgeted: int) -> int:
    """The key of one probe run. NaN and inf are hashable and stable (by their bits)."""
    return fec_keys([list(train_errors)], [list(valid_errors)], [task_index], [budgeted])[0]


class FecCache:
    """LRU map key -> task fitness, shared by all tasks. An entry is dropped right after its
    `forget_every`-th use (insert counts as the first), so it gets re-evaluated now and then."""

    __slots__ = ("_arrays", "_entries", "capacity", "forget_every", "hits", "misses")

    def __init__(self, capacity: int = 100000, forget_every: int = 100):
        if capacity <= 1:
            raise ValueError("FEC cache capacity must be > 1")
        if forget_every == 1 or forget_every < 0:
            raise ValueError("forget_every must be 0 (never) or > 1")
        self.capacity, self.forget_every = capacity, forget_every
        self._entries: OrderedDict | None = OrderedDict()  # key -> [fitness, uses]
        self._arrays = None  # (keys, fitnesses, uses) oldest first, while _entries is None (see from_arrays)
        self.hits = self.misses = 0

    @property
    def entries(self) -> OrderedDict:
        """key -> [fitness, uses], least recently used first (built from the arrays on first use)."""
        if self._entries is None:
            keys, fits, uses = self._arrays
            self._entries = OrderedDict(zip(keys.tolist(), map(list, zip(fits.tolist(), uses.tolist()))))
            self._arrays = None
        return self._entries

    @entries.setter
    def entries(self, value: OrderedDict) -> None:
        self._entries, self._arrays = value, None

    def __len__(self) -> int:
        return len(self._arrays[0]) if self._entries is None else len(self._entries)

    def __contains__(self, key) -> bool:
        return key in self.entries

    def lookup(self, key) -> float | None:
        """The cached fitness (marking the entry most recently used), or None on a miss."""
        entries = self.entries
        entry = entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        entry[1] += 1
        if self.forget_every and entry[1] >= self.forget_every:
            del entries[key]
        else:
            entries.move_to_end(key)
        return entry[0]

    def insert(self, key, fitness: float) -> None:
        entries = self.entries
        entries[key] = [fitness, 1]
        entries.move_to_end(key)
        if len(entries) > self.capacity:
            entries.popitem(last=False)

    def export(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys uint64, fitnesses, uses) oldest first: the cache as arrays (checkpoints, native loop)."""
        if self._entries is None:
            keys, fits, uses = self._arrays
            return keys.astype(_U64), fits.astype(np.float64), uses.astype(np.int64)
        n = len(self._entries)
        keys = np.fromiter(self._entries.keys(), dtype=_U64, count=n)
        fits = np.fromiter((e[0] for e in self._entries.values()), dtype=np.float64, count=n)
        uses = np.fromiter((e[1] for e in self._entries.values()), dtype=np.int64, count=n)
        return keys, fits, uses

    @classmethod
    def from_arrays(cls, capacity: int, forget_every: int, keys, fits, uses, hits: int = 0, misses: int = 0):
        """The cache export() gave. The entry dict is built only when a lookup or insert needs it: a state that
        travels (worker -> coordinator, checkpoint -> native loop) goes on as arrays, never as 10**5 entries."""
        cache = cls(capacity, forget_every)
        keys, fits, uses = (np.asarray(a) for a in (keys, fits, uses))
        if not len(keys) == len(fits) == len(uses):
            raise ValueError("FEC cache arrays differ in length")
        cache._entries, cache._arrays = None, (keys, fits, uses)
        cache.hits, cache.misses = hits, misses
        return cache

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0
