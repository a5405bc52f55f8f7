"""Search stage: migrants packed for the trip between island processes, so the coordinator never decodes them.

A `Packed` group holds k programs as four arrays: fitnesses (k,) float64, sizes (k, 3), code (k, w, 4) int32 and
data (k, w, 3) float64, program j's rows in code[j, :rows_j] and zeros after them (w: at least the longest). It
pickles as four arrays (a list of Bytecode pickles as 2k small byte strings and is rebuilt object by object on
every hop); the coordinator samples it by index (`take`: one gather per array) and only the receiving island
writes the rows into its population, whose slots have the same (rows, 4) / (rows, 3) shape. Fitness bits, sizes,
code and data travel unchanged, so a packed migration is the same migration as one of (fitness, Bytecode) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from azlang.ir.bytecode import Bytecode
from azlang.search.generate import freeze


@dataclass(eq=False)
class Packed:
    fitness: np.ndarray  # (k,) float64
    sizes: np.ndarray  # (k, 3) int64: setup, predict, learn rows
    code: np.ndarray  # (k, w, 4) int32
    data: np.ndarray  # (k, w, 3) float64

    def __len__(self) -> int:
        return len(self.fitness)

    @property
    def width(self) -> int:
        return self.code.shape[1]

    def rows(self) -> np.ndarray:
        """Each program's row count."""
        return self.sizes.sum(axis=1)

    def take(self, picks) -> Packed:
        """The programs at these indices (repeats allowed), in this order."""
        idx = np.asarray(picks, dtype=np.int64)
        return Packed(*(np.take(a, idx, axis=0) for a in (self.fitness, self.sizes, self.code, self.data)))

    def pairs(self) -> list[tuple[float, Bytecode]]:
        """(fitness, Bytecode) per program, as Island.immigrate takes them."""
        out = []
        for j, (fit, sz) in enumerate(zip(self.fitness.tolist(), self.sizes.tolist())):
            n = sz[0] + sz[1] + sz[2]
            out.append((fit, freeze(Bytecode(self.code[j, :n].copy(), self.data[j, :n].copy(), tuple(sz)))))
        return out


def empty(k: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((k, width, 4), dtype=np.int32), np.zeros((k, width, 3))


def pack(pairs: list[tuple[float, Bytecode]]) -> Packed:
    """Packed form of (fitness, Bytecode) pairs (emigrants of an island run by the Python loop)."""
    fitness = np.array([f for f, _ in pairs], dtype=np.float64)
    sizes = np.array([bc.sizes for _, bc in pairs], dtype=np.int64).reshape(-1, 3)
    code, data = empty(len(pairs), int(sizes.sum(axis=1).max(initial=0)))
    for j, (_, bc) in enumerate(pairs):
        n = sum(bc.sizes)
        code[j, :n], data[j, :n] = np.asarray(bc.code).reshape(n, 4), np.asarray(bc.data).reshape(n, 3)
    return Packed(fitness, sizes, code, data)


def widen(group: Packed, width: int) -> Packed:
    """The same programs in rows of `width` (at least the group's), zeros after each program."""
    if width == group.width:
        return group
    code, data = empty(len(group), width)
    code[:, :group.width], data[:, :group.width] = group.code, group.data
    return Packed(group.fitness, group.sizes, code, data)


def concat(groups: list[Packed]) -> Packed:
    if len(groups) == 1:
        return groups[0]
    width = max(g.width for g in groups)
    groups = [widen(g, width) for g in groups]
    return Packed(*(np.concatenate([getattr(g, f) for g in groups]) for f in ("fitness", "sizes", "code", "data")))


def from_population(pop, slots: list[int], fitness: list[float]) -> Packed:
    """The programs in these slots of a native population (native_state.Population), one gather per array."""
    at = np.asarray(slots, dtype=np.int64)
    sizes = pop.sizes[at].astype(np.int64)
    rows = sizes.sum(axis=1)
    width = int(rows.max(initial=0))
    code, data = np.take(pop.code[:, :width], at, axis=0), np.take(pop.data[:, :width], at, axis=0)
    past = np.arange(width) >= rows[:, None]  # rows a slot keeps from earlier programs
    code[past], data[past] = 0, 0.0
    return Packed(np.array(fitness, dtype=np.float64), sizes, code, data)


def packed_emigrants(island, fraction: float) -> Packed:
    """Island.emigrants (the same draw from the island's generator, the same members), packed; read from the
    native population in bulk when the native loop holds it."""
    native = getattr(island, "native", None)
    if native is None:
        return pack(island.emigrants(fraction))
    from azlang.search.native_state import pick

    st = island.state
    k = int(len(st.programs) * fraction)
    order = st.rng.permutation(len(st.programs))[:k].tolist()  # Island.emigrants's draw, exactly
    return from_population(native.pop, order, pick(st.fitnesses, order))


def immigrate_packed(island, arrivals: Packed) -> None:
    """Island.immigrate of a packed group: a native population takes the rows as they are."""
    if getattr(island, "native", None) is None:
        island.immigrate(arrivals.pairs())
        return
    island.immigrate_packed(arrivals)
