"""Search stage: migrants packed for the trip between island processes, so the coordinator never decodes them.

A `Packed` group holds k programs as four arrays: fitnesses (k,) float64, sizes (k, 3), code (rows, 4) int32 and
data (rows, 3) float64, the programs' rows one after another. It pickles as four arrays (a list of Bytecode
pickles as 2k small byte strings and is rebuilt object by object on every hop); the coordinator samples it by
index (`take`) and only the receiving island writes the rows into its population. Fitness bits, sizes, code
and data travel unchanged, so a packed migration is the same migration as one of (fitness, Bytecode) pairs.
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
    code: np.ndarray  # (rows, 4) int32
    data: np.ndarray  # (rows, 3) float64

    def __len__(self) -> int:
        return len(self.fitness)

    def starts(self) -> np.ndarray:
        """The first row of each program."""
        rows = self.sizes.sum(axis=1)
        return np.concatenate([[0], np.cumsum(rows)[:-1]]).astype(np.int64)

    def take(self, picks) -> Packed:
        """The programs at these indices (repeats allowed), in this order."""
        idx = np.asarray(picks, dtype=np.int64)
        rows = self.sizes.sum(axis=1)[idx]
        first = self.starts()[idx]
        # row r of the result comes from first[j] + (r - where j's rows start in the result)
        out_first = np.concatenate([[0], np.cumsum(rows)[:-1]]).astype(np.int64)
        src = np.repeat(first - out_first, rows) + np.arange(int(rows.sum()), dtype=np.int64)
        return Packed(self.fitness[idx], self.sizes[idx], self.code[src], self.data[src])

    def pairs(self) -> list[tuple[float, Bytecode]]:
        """(fitness, Bytecode) per program, as Island.immigrate takes them."""
        out, r = [], 0
        for fit, sz in zip(self.fitness.tolist(), self.sizes.tolist()):
            n = sz[0] + sz[1] + sz[2]
            out.append((fit, freeze(Bytecode(self.code[r:r + n].copy(), self.data[r:r + n].copy(), tuple(sz)))))
            r += n
        return out


def pack(pairs: list[tuple[float, Bytecode]]) -> Packed:
    """Packed form of (fitness, Bytecode) pairs (emigrants of an island run by the Python loop)."""
    fitness = np.array([f for f, _ in pairs], dtype=np.float64)
    sizes = np.array([bc.sizes for _, bc in pairs], dtype=np.int64).reshape(-1, 3)
    code = [np.asarray(bc.code, dtype=np.int32).reshape(-1, 4) for _, bc in pairs]
    data = [np.asarray(bc.data, dtype=np.float64).reshape(-1, 3) for _, bc in pairs]
    return Packed(fitness, sizes, np.concatenate(code) if code else np.zeros((0, 4), np.int32),
                  np.concatenate(data) if data else np.zeros((0, 3)))


def concat(groups: list[Packed]) -> Packed:
    if len(groups) == 1:
        return groups[0]
    return Packed(*(np.concatenate([getattr(g, f) for g in groups]) for f in ("fitness", "sizes", "code", "data")))


def from_population(pop, slots: list[int], fitness: list[float]) -> Packed:
    """The programs in these slots of a native population (native_state.Population), in one copy per array."""
    from azlang.search.native_state import row_places

    at = np.asarray(slots, dtype=np.int64)
    sizes = pop.sizes[at].astype(np.int64)
    slot, row = row_places(at, sizes.sum(axis=1))
    return Packed(np.array(fitness, dtype=np.float64), sizes, pop.code[slot, row], pop.data[slot, row])


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
