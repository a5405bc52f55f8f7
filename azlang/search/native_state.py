"""Search stage: an island's population and FEC cache as native arrays, with list-like views for Python.

While the native loop drives an island, `state.programs` is a `ProgramsView` (Bytecode built on access,
writes go to the arrays), `state.fitnesses` a `FitnessView` (the FIT array read in place) and `state.cache` a
`NativeFecCache` (the entries live in native memory). All pickle as the plain objects (a list of Bytecode, a
list of floats, a FecCache), so checkpoints and worker reports are the same as with the Python loop.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import numpy as np

from azlang.backends.native import pack
from azlang.backends.native.search_abi import C_ENTRY_WORDS, C_LINKS, Ctx
from azlang.ir.bytecode import Bytecode
from azlang.search.fec import FecCache
from azlang.search.generate import freeze


class Population:
    """P slots of at most `cap` rows each (code int32 (P, cap, 4), data (P, cap, 3)) plus per-slot
    probe records, the child and live-program buffers and the best-ever program."""

    def __init__(self, ctx: Ctx, P: int, n_tasks: int, cap: int, mask_words: int):
        self.ctx, self.P, self.nt = ctx, P, n_tasks
        self.mask_words = mask_words  # int64 words of one register bit set (search_dce.width / 64)
        self.fit = ctx.array("FIT", np.zeros(P))
        self.sizes = ctx.array("POP_SIZES", np.zeros((P, 3), dtype=np.int64))
        for name in ("PPART", "PSTEPS", "PVALID"):
            ctx.array(name, np.zeros((P, n_tasks), dtype=np.int64))
        for name in ("CH_PART", "CH_STEPS", "CH_VALID"):
            ctx.array(name, np.zeros(n_tasks, dtype=np.int64))
        for name in ("CH_SIZES", "LV_SIZES", "LP_SIZES", "BEST_SIZES"):
            ctx.array(name, np.zeros(3, dtype=np.int64))
        ctx.array("PL_SIZES", np.zeros((P, 3), dtype=np.int64))
        self.live_ok = ctx.array("PL_OK", np.zeros(P, dtype=np.int64))
        # the slots' live programs by hash (search_dce.live_hash): PHASH[i] is valid with PL_OK[i]; a table entry
        # only names a slot to compare with (search_loop.evaluate checks the whole program)
        ctx.array("PHASH", np.zeros(P, dtype=np.int64))
        size = 1 << max(4, (4 * P - 1).bit_length())
        ctx.array("PM_TABLE", np.full(size, -1, dtype=np.int64))
        ctx["PM_MASK"] = size - 1
        self.code = np.zeros((P, 0, 4), dtype=np.int32)
        self.data = np.zeros((P, 0, 3))
        self.resize(cap)

    @property
    def cap(self) -> int:
        return self.code.shape[1]

    def resize(self, cap: int) -> None:
        """Room for `cap` rows per program; contents are kept."""
        old = self.cap
        code, data = np.zeros((self.P, cap, 4), dtype=np.int32), np.zeros((self.P, cap, 3))
        code[:, :old], data[:, :old] = self.code, self.data
        self.code, self.data = self.ctx.array("POP_CODE", code), self.ctx.array("POP_DATA", data)
        # slots' live programs: rows move with cap, so they are simply recomputed on next use
        self.ctx.array("PL_CODE", np.zeros((self.P, cap, 4), dtype=np.int32))
        self.ctx.array("PL_DATA", np.zeros((self.P, cap, 3)))
        self.ctx.array("PL_AFTER", pack.aligned(self.P * cap * self.mask_words, np.int64))
        self.live_ok[:] = 0
        for prefix in ("CH", "LV", "LP", "BEST"):  # one row more: TRADE inserts before it deletes
            self._grow(f"{prefix}_CODE", (cap + 1, 4), np.int32)
            self._grow(f"{prefix}_DATA", (cap + 1, 3), np.float64)
        self.ctx.array("MARK", np.zeros(cap + 1, dtype=np.int64))
        self.ctx.array("DCE_MASKS", pack.aligned(4 * (cap + 1) * self.mask_words, np.int64))  # 4 sets per row
        for name in ("DCE_AFTER", "LP_AFTER"):  # a register set per row
            self.ctx.array(name, pack.aligned((cap + 1) * self.mask_words, np.int64))
        self.ctx["CAP"] = cap

    def _grow(self, name: str, shape, dtype) -> None:
        new, old = np.zeros(shape, dtype=dtype), self.ctx.keep.get(name)
        if old is not None:
            new[: len(old)] = old
        self.ctx.array(name, new)

    def get(self, i: int) -> Bytecode:
        n = int(self.sizes[i].sum())
        return freeze(Bytecode(self.code[i, :n].copy(), self.data[i, :n].copy(), tuple(self.sizes[i].tolist())))

    def put(self, i: int, bc: Bytecode, shape, Fs) -> None:
        """Write a program from Python (seeds, Init, immigrants): checked like any native input."""
        code, data = pack.check_bytecode(bc, shape, Fs)
        n = len(code)
        if n > self.cap - 1:
            self.resize(max(2 * self.cap, n + 1))
        self.code[i, :n], self.data[i, :n], self.sizes[i] = code, data, bc.sizes
        self.ctx.keep["PVALID"][i] = 0  # no probe record for it yet
        self.live_ok[i] = 0  # nor its live program
        self.ctx["MAX_TOTAL"] = max(self.ctx["MAX_TOTAL"], n)

    def get_many(self, slots: list[int]) -> list[Bytecode]:
        """get() of several slots (emigrants): the sizes read once, one copy per array."""
        sizes = self.sizes[slots].tolist()
        out = []
        for i, sz in zip(slots, sizes):
            n = sz[0] + sz[1] + sz[2]
            out.append(freeze(Bytecode(self.code[i, :n].copy(), self.data[i, :n].copy(), tuple(sz))))
        return out

    def put_many(self, slots: list[int], bcs: list[Bytecode], shape, Fs) -> None:
        """put() of several programs (immigrants) into distinct slots, checked in one vectorised pass; a batch
        with a bad program goes program by program, so the error and what was written are put()'s."""
        arrays = [pack.arrays(bc) for bc in bcs]
        if not arrays:
            return
        code = np.concatenate([a[0] for a in arrays])
        data = np.concatenate([a[1] for a in arrays])
        try:
            pack.check_rows(code, data, shape, Fs, lambda r: f"row {r}")
        except pack.BytecodeError:
            for i, bc in zip(slots, bcs):
                self.put(i, bc, shape, Fs)
            raise AssertionError("a batch that fails its check has a program that fails alone") from None
        longest = max(len(c) for c, _ in arrays)
        if longest > self.cap - 1:
            self.resize(max(2 * self.cap, longest + 1))
        valid = self.ctx.keep["PVALID"]
        for i, bc, (c, d) in zip(slots, bcs, arrays):
            n = len(c)
            self.code[i, :n], self.data[i, :n], self.sizes[i] = c, d, bc.sizes
            valid[i] = 0
            self.live_ok[i] = 0
        self.ctx["MAX_TOTAL"] = max(self.ctx["MAX_TOTAL"], longest)

    def put_packed(self, slots: list[int], group, shape, Fs) -> None:
        """put_many() of a migrants.Packed group: its programs' rows checked in one pass and written as one slice
        copy per array and run of consecutive slots; a group with a bad program goes through put_many, so the
        error and what was written are put()'s."""
        k = len(group)
        if not k:
            return
        rows, width = group.rows(), group.width
        if (group.code.shape != (k, width, 4) or group.data.shape != (k, width, 3) or group.sizes.shape != (k, 3)
                or len(slots) != k or (group.sizes < 0).any() or rows.max() > width):
            raise pack.BytecodeError(f"a packed group of {k} programs does not match its row count")
        used = (np.arange(width) < rows[:, None]).reshape(-1)
        try:
            pack.check_rows(group.code.reshape(-1, 4), group.data.reshape(-1, 3), shape, Fs,
                            lambda r: f"program {r // width} row {r % width}", used)
        except pack.BytecodeError:
            self.put_many(slots, [bc for _, bc in group.pairs()], shape, Fs)
            raise AssertionError("a batch that fails its check has a program that fails alone") from None
        longest = int(rows.max())
        if longest > self.cap - 1:
            self.resize(max(2 * self.cap, longest + 1))
        at = np.asarray(slots, dtype=np.int64)
        for part, src in self._runs(at):  # slots in runs of consecutive ones (immigrants: from the cursor on)
            self.code[part, :longest], self.data[part, :longest] = group.code[src, :longest], group.data[src, :longest]
        self.sizes[at] = group.sizes
        self.ctx.keep["PVALID"][at] = 0
        self.live_ok[at] = 0
        self.ctx["MAX_TOTAL"] = max(self.ctx["MAX_TOTAL"], longest)

    @staticmethod
    def _runs(at: np.ndarray) -> list[tuple[slice | np.ndarray, slice]]:
        """(population slots, group rows) pieces: consecutive slots (immigrants, from the cursor on, wrapping
        around to slot 0 at most once) as one or two slices, anything else as one index array."""
        k = len(at)
        breaks = np.flatnonzero(at[1:] != at[:-1] + 1) + 1
        if len(breaks) == 0:
            return [(slice(int(at[0]), int(at[0]) + k), slice(0, k))]
        if len(breaks) == 1 and at[breaks[0]] == 0:
            cut = int(breaks[0])
            return [(slice(int(at[0]), int(at[0]) + cut), slice(0, cut)), (slice(0, k - cut), slice(cut, k))]
        return [(at, slice(0, k))]

    def best(self) -> Bytecode:
        sizes = tuple(self.ctx.keep["BEST_SIZES"].tolist())
        n = sum(sizes)
        code, data = self.ctx.keep["BEST_CODE"][:n].copy(), self.ctx.keep["BEST_DATA"][:n].copy()
        return freeze(Bytecode(code, data, sizes))

    def set_best(self, fit: float, bc: Bytecode) -> None:
        code, data = pack.arrays(bc)
        if len(code) > self.cap - 1:
            self.resize(max(2 * self.cap, len(code) + 1))
        self.ctx.keep["BEST_CODE"][: len(code)], self.ctx.keep["BEST_DATA"][: len(code)] = code, data
        self.ctx.keep["BEST_SIZES"][:] = bc.sizes
        self.ctx.set_f("BEST_FIT", fit)
        self.ctx["HAS_BEST"] = 1


class ProgramsView(Sequence):
    """state.programs while the native loop owns the population."""

    def __init__(self, pop: Population, shape, Fs):
        self.pop, self.shape, self.Fs = pop, shape, Fs

    def __len__(self) -> int:
        return self.pop.P

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.pop.get(k) for k in range(*i.indices(self.pop.P))]
        if not -self.pop.P <= i < self.pop.P:
            raise IndexError(i)
        return self.pop.get(i % self.pop.P)

    def __setitem__(self, i: int, bc: Bytecode) -> None:
        self.pop.put(i % self.pop.P, bc, self.shape, self.Fs)

    def __reduce__(self):
        """A list of the programs once unpickled (a worker's final state in the coordinator), travelling as three
        arrays: pickling a thousand Bytecodes one by one took most of the time between a stop and the end."""
        from azlang.search.checkpoint import programs_of

        return (programs_of, self.packed())

    def packed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sizes, code rows, data rows) of every program in slot order, each program's rows one after another:
        what checkpoint._programs makes of the list of programs, read from the arrays in one go."""
        pop = self.pop
        sizes = pop.sizes.copy()
        mask = np.arange(pop.cap) < sizes.sum(axis=1)[:, None]
        return sizes, pop.code[mask], pop.data[mask]


class FitnessView(Sequence):
    """state.fitnesses while the native loop owns the population: the FIT array, read in place. Between chunks
    nothing is converted (a list of P floats per chunk was most of the Python between the demo's sweeps);
    reads give Python floats, equal to the list's, and writes go to the array (immigrants)."""

    __slots__ = ("fit",)

    def __init__(self, fit: np.ndarray):
        self.fit = fit

    def __len__(self) -> int:
        return len(self.fit)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.fit[i].tolist()
        return self.fit.item(i)

    def __setitem__(self, i: int, value: float) -> None:
        self.fit[i] = value

    def __iter__(self):
        return iter(self.fit.tolist())

    def __eq__(self, other) -> bool:
        return list(self) == (list(other) if isinstance(other, FitnessView) else other)

    __hash__ = None  # mutable, like the list it stands for

    def __repr__(self) -> str:
        return repr(self.fit.tolist())

    def __reduce__(self):
        return (list, (self.fit.tolist(),))

    def snapshot(self) -> np.ndarray:
        """The fitnesses as they are now (a report's copy): one array copy, no floats built."""
        return self.fit.copy()


def pick(fitnesses: Sequence[float], order: list[int]) -> list[float]:
    """[fitnesses[i] for i in order] (emigrants), read from the array at once when it is a FitnessView."""
    if isinstance(fitnesses, FitnessView):
        return fitnesses.fit[order].tolist()
    return [fitnesses[i] for i in order]


class Cache:
    """The native FEC cache's arrays (table, entries, LRU links, free list) in the context."""

    def __init__(self, ctx: Ctx, capacity: int, forget_every: int, functions: dict[str, int]):
        self.ctx, self.capacity, self.forget_every = ctx, capacity, forget_every
        if capacity >= 1 << 31:
            raise ValueError("the native FEC cache holds fewer than 2**31 entries (fec.cache_size)")
        size = 1 << max(4, (2 * capacity - 1).bit_length())  # load factor <= 1/2
        table = pack.huge((size, 2), np.int64)  # (key, entry) per position: entry -1 = empty
        table.fill(-1)
        ctx.array("C_TABLE", table)
        ctx["C_MASK"] = size - 1
        ent = pack.huge((capacity, C_ENTRY_WORDS), np.int64)  # key, fitness bits, uses, prev | next
        links = ent[:, C_LINKS:].view(np.int32)  # (prev, next) as int32
        links[:, 1] = np.arange(1, capacity + 1, dtype=np.int32)
        links[-1, 1] = -1  # the free list: every entry, in order (through next)
        ctx.array("C_ENT", ent)
        ctx["C_HEAD"], ctx["C_TAIL"], ctx["C_FREE"], ctx["C_COUNT"], ctx["C_AHEAD"] = -1, -1, 0, 0, -1
        ctx["C_CAPACITY"], ctx["C_FORGET"] = capacity, forget_every
        self._import = ctypes.CFUNCTYPE(
            None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64
        )(functions["azlang_search_cache_import"])
        self._export = ctypes.CFUNCTYPE(
            ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64
        )(functions["azlang_search_cache_export"])

    def load(self, cache: FecCache) -> None:
        keys, fits, uses = (np.ascontiguousarray(a) for a in cache.export())
        self._import(self.ctx.a.ctypes.data, keys.ctypes.data, fits.ctypes.data, uses.ctypes.data, len(keys))
        self.ctx["C_HITS"], self.ctx["C_MISSES"] = cache.hits, cache.misses

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys uint64, fitnesses, uses) oldest first, as FecCache.export() gives them."""
        n = self.ctx["C_COUNT"]
        keys, fits, uses = np.zeros(n, dtype=np.uint64), np.zeros(n), np.zeros(n, dtype=np.int64)
        got = self._export(self.ctx.a.ctypes.data, keys.ctypes.data, fits.ctypes.data, uses.ctypes.data, n)
        assert got == n, "native FEC cache list and count disagree"
        return keys, fits, uses

    def export(self) -> FecCache:
        return FecCache.from_arrays(
            self.capacity, self.forget_every, *self.arrays(), self.ctx["C_HITS"], self.ctx["C_MISSES"]
        )


class NativeFecCache(FecCache):
    """state.cache while the native loop owns it: counters read live; pickles as a plain FecCache."""

    __slots__ = ("_native",)

    def __init__(self, native: Cache):
        self._native = native

    capacity = property(lambda self: self._native.capacity)
    forget_every = property(lambda self: self._native.forget_every)
    hits = property(lambda self: self._native.ctx["C_HITS"])
    misses = property(lambda self: self._native.ctx["C_MISSES"])
    entries = property(lambda self: self._native.export().entries)

    def __len__(self) -> int:
        return self._native.ctx["C_COUNT"]

    def lookup(self, key):
        raise RuntimeError("the native search loop owns this FEC cache; export() it first")

    insert = lookup

    def export(self):
        return self._native.arrays()  # straight from native memory: no entry dict built (checkpoints)

    def __reduce__(self):
        n = self._native
        return (FecCache.from_arrays, (n.capacity, n.forget_every, *n.arrays(), self.hits, self.misses))
