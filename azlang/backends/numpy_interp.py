"""Backend stage: the NumPy reference interpreter, the living definition of every op's semantics.

A program is lowered once per (task, memory) into one closure per instruction; running a component calls
them in order. Results are computed first and then stored by copy, so aliasing is always safe and no two
memory slots ever share an array (OP57/58 write single elements in place).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from azlang.backends import semantics as sem
from azlang.ir.nodes import COMPONENTS, Index, Instruction, MemoryShape, Program, bind_args
from azlang.ir.ops import NUM_OPS
from azlang.rng import Rng


class Memory:
    """Scalars as a Python list (fast scalar ops), vectors (V, F) and matrices (M, F, F) as float64 arrays."""

    __slots__ = ("F", "s", "v", "m")

    def __init__(self, shape: MemoryShape, F: int):
        self.F = F
        self.s = [0.0] * shape.S
        self.v = np.zeros((shape.V, F))
        self.m = np.zeros((shape.M, F, F))

    def snapshot(self) -> dict[str, np.ndarray]:
        return {"s": np.array(self.s, dtype=np.float64), "v": self.v.copy(), "m": self.m.copy()}


# Each kernel factory takes (memory, rng box, out, in1, in2, data) and returns a zero-argument closure.
_K: dict[int, object] = {}


def kernel(*ids):
    def register(factory):
        for i in ids:
            _K[i] = factory
        return factory

    return register


def _scalar2(fn):
    return lambda mem, r, o, a, b, d: (lambda s=mem.s: s.__setitem__(o, fn(s[a], s[b])))


def _scalar1(fn):
    return lambda mem, r, o, a, b, d: (lambda s=mem.s: s.__setitem__(o, fn(s[a])))


def _bank2(bank, fn):
    def factory(mem, r, o, a, b, d):
        arr = getattr(mem, bank)

        def run():
            arr[o] = fn(arr[a], arr[b])

        return run

    return factory


def _bank1(src, dst, fn):
    def factory(mem, r, o, a, b, d):
        x, y = getattr(mem, src), getattr(mem, dst)

        def run():
            y[o] = fn(x[a])

        return run

    return factory


def _to_scalar(src, fn):
    def factory(mem, r, o, a, b, d):
        x, s = getattr(mem, src), mem.s

        def run():
            s[o] = fn(x[a])

        return run

    return factory


_K[0] = lambda mem, r, o, a, b, d: None
for _id, _fn in ((1, float.__add__), (2, float.__sub__), (3, float.__mul__), (4, sem.div),
                 (44, sem.smin), (47, sem.smax)):
    _K[_id] = _scalar2(_fn)
for _id, _fn in ((5, abs), (6, lambda x: sem.div(1.0, x)), (7, sem.sin), (8, sem.cos), (9, sem.tan),
                 (10, sem.asin), (11, sem.acos), (12, sem.atan), (13, sem.exp), (14, sem.log),
                 (15, sem.heaviside_scalar)):
    _K[_id] = _scalar1(_fn)


def _hv(x):
    return (x > 0.0).astype(np.float64)


def _recip(x):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return 1.0 / x


def _ediv(x, y):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return x / y


def _emin(x, y):
    return np.where(x < y, x, y)


def _emax(x, y):
    return np.where(x > y, x, y)


for _bank, _ids in (("v", (23, 24, 25, 26, 45, 48)), ("m", (39, 40, 41, 42, 46, 49))):
    for _id, _fn in zip(_ids, (np.add, np.subtract, np.multiply, _ediv, _emin, _emax)):
        _K[_id] = _bank2(_bank, _fn)
_K[43] = _bank2("m", sem.matmul)
for _id, _src, _dst, _fn in (
    (16, "v", "v", _hv), (17, "m", "m", _hv), (20, "v", "v", _recip), (30, "m", "m", _recip),
    (22, "v", "v", np.abs), (38, "m", "m", np.abs), (37, "m", "m", lambda x: x.T),
    (32, "v", "m", lambda x: np.repeat(x[:, None], x.shape[0], axis=1)),
    (33, "v", "m", lambda x: np.repeat(x[None, :], x.shape[0], axis=0)),
    (35, "m", "v", lambda x: np.sqrt(sem.seqsum_axis(x * x, 0))),
    (36, "m", "v", lambda x: np.sqrt(sem.seqsum_axis(x * x, 1))),
    (52, "m", "v", lambda x: sem.seqsum_axis(x, 1) / float(x.shape[1])),
    (53, "m", "v", sem.row_std),
):
    _K[_id] = _bank1(_src, _dst, _fn)
for _id, _src, _fn in (
    (21, "v", lambda x: sem.sqrt(sem.seqsum(x * x))), (34, "m", lambda x: sem.sqrt(sem.seqsum(x * x))),
    (50, "v", lambda x: sem.seqsum(x) / float(x.size)), (51, "m", lambda x: sem.seqsum(x) / float(x.size)),
    (54, "v", sem.std_of), (55, "m", sem.std_of),
):
    _K[_id] = _to_scalar(_src, _fn)


@kernel(18)
def _scalar_vector(mem, r, o, a, b, d):
    s, v = mem.s, mem.v
    return lambda: v.__setitem__(o, s[a] * v[b])


@kernel(29)
def _scalar_matrix(mem, r, o, a, b, d):
    s, m = mem.s, mem.m
    return lambda: m.__setitem__(o, s[a] * m[b])


@kernel(19)
def _broadcast(mem, r, o, a, b, d):
    s, v = mem.s, mem.v
    return lambda: v.__setitem__(o, s[a])


@kernel(27)
def _dot(mem, r, o, a, b, d):
    s, v = mem.s, mem.v
    return lambda: s.__setitem__(o, sem.dot(v[a], v[b]))


@kernel(28)
def _outer(mem, r, o, a, b, d):
    v, m = mem.v, mem.m
    return lambda: m.__setitem__(o, np.outer(v[a], v[b]))


@kernel(31)
def _matvec(mem, r, o, a, b, d):
    v, m = mem.v, mem.m
    return lambda: v.__setitem__(o, sem.matvec(m[a], v[b]))


@kernel(56)
def _const(mem, r, o, a, b, d):
    s, value = mem.s, d[0]
    return lambda: s.__setitem__(o, value)


@kernel(57)
def _vconst(mem, r, o, a, b, d):
    v, i, value = mem.v, d[0], d[1]
    return lambda: v.__setitem__((o, i), value)


@kernel(58)
def _mconst(mem, r, o, a, b, d):
    m, i, j, value = mem.m, d[0], d[1], d[2]
    return lambda: m.__setitem__((o, i, j), value)


@kernel(59)
def _suniform(mem, r, o, a, b, d):
    s, (lo, hi) = mem.s, d
    return lambda: s.__setitem__(o, r[0].uniform(lo, hi))


@kernel(62)
def _sgauss(mem, r, o, a, b, d):
    s, (mu, sd) = mem.s, d
    return lambda: s.__setitem__(o, r[0].gaussian(mu, sd))


def _fill(bank, method):
    def factory(mem, r, o, a, b, d):
        arr = getattr(mem, bank)
        shape, n = arr.shape[1:], arr[0].size if len(arr) else 0

        def run():
            arr[o] = getattr(r[0], method)(d[0], d[1], n).reshape(shape)

        return run

    return factory


_K[60], _K[61] = _fill("v", "uniform_array"), _fill("m", "uniform_array")
_K[63], _K[64] = _fill("v", "gaussian_array"), _fill("m", "gaussian_array")

assert sorted(_K) == list(range(NUM_OPS)), "the interpreter must cover the whole op table"


def resolve_args(ins: Instruction, F: int, params: dict[str, float]) -> tuple:
    """Constants as the kernels take them: params substituted, indices resolved for this F."""
    return tuple(x.resolve(F) if isinstance(x, Index) else float(x) for x in bind_args(ins, params))


@dataclass
class Lowered:
    """A program lowered onto one memory: three lists of closures plus the random-stream box they share."""

    memory: Memory
    rng_box: list
    setup: list
    predict: list
    learn: list


def lower(program: Program, shape: MemoryShape, F: int, params: dict[str, float] | None = None) -> Lowered:
    """Bind every instruction to fresh zeroed memory of this shape and feature size."""
    values = program.param_values(params)
    mem, box = Memory(shape, F), [None]
    parts = {}
    for name in COMPONENTS:
        fns = []
        for ins in program.component(name).instructions:
            fn = _K[ins.op](mem, box, ins.out, ins.in1, ins.in2, resolve_args(ins, F, values))
            if fn is not None:
                fns.append(fn)
        parts[name] = fns
    return Lowered(mem, box, parts["setup"], parts["predict"], parts["learn"])


def run_component(fns: list) -> None:
    with np.errstate(all="ignore"):  # IEEE results (inf, NaN) are the semantics, not accidents
        for fn in fns:
            fn()


def execute(program: Program, shape: MemoryShape, F: int, rng: Rng, component: str = "setup",
            memory: Memory | None = None) -> Memory:
    """Run one component once on (given or fresh) memory; for op-level tests and tools."""
    low = lower(program, shape, F)
    if memory is not None:
        low.memory.s[:], low.memory.v[...], low.memory.m[...] = memory.s, memory.v, memory.m
    low.rng_box[0] = rng
    run_component(getattr(low, component))
    return low.memory
