"""Search stage: random instructions and the built-in models (docs/semantics.md, section 6).

Instructions are plain row tuples `(op, in1, in2, out, d0, d1, d2)`, the bytecode's row layout, so that the
mutator and the evaluator work on compact arrays without building IR objects per child.
"""

from __future__ import annotations

import numpy as np

from azlang.errors import ConfigError
from azlang.ir.bytecode import Bytecode
from azlang.ir.nodes import f32
from azlang.ir.ops import MATRIX, OPS, SCALAR, VECTOR
from azlang.rng import Rng
from azlang.search.config import ExperimentConfig

NOOP_ROW = (0, 0, 0, 0, 0.0, 0.0, 0.0)
_F24 = 2.0**-24


def unit_f32(rng: Rng) -> float:
    """A float32 U[0, 1): 24 random bits, so the value is exact in float32 and never rounds up to 1."""
    return (rng.next_u64() >> 40) * _F24


def uniform_f32(rng: Rng, lo: float, hi: float) -> float:
    return f32(lo + (hi - lo) * unit_f32(rng))


def make_bytecode(rows_by_component) -> Bytecode:
    """Bytecode from three sequences of row tuples."""
    rows = [r for comp in rows_by_component for r in comp]
    arr = np.array(rows, dtype=np.float64).reshape(-1, 7)
    code = np.ascontiguousarray(arr[:, :4], dtype=np.int32)
    data = np.ascontiguousarray(arr[:, 4:])
    return freeze(Bytecode(code, data, tuple(len(c) for c in rows_by_component)))


def freeze(bc: Bytecode) -> Bytecode:
    """Make the arrays read-only: individuals are immutable, so a clone may be its parent's very object."""
    bc.code.flags.writeable = False
    bc.data.flags.writeable = False
    return bc


class Generator:
    """Draws random instructions for each component from its allowed-op list, within the memory shape."""

    def __init__(self, cfg: ExperimentConfig):
        m = cfg.memory
        self.in_size = {SCALAR: m.scalars, VECTOR: m.vectors, MATRIX: m.matrices}
        self.out_lo = {SCALAR: 1, VECTOR: 1, MATRIX: 0}
        self.ops = tuple(c.ops for c in cfg.components())
        self.size_init = tuple(c.size_init for c in cfg.components())
        self.frozen = tuple(c.frozen for c in cfg.components())
        self.frozen_rows: list[list[tuple]] = [[], [], []]  # what random programs take for frozen components
        self._check(cfg)

    def freeze_from(self, bc: Bytecode) -> None:
        """Frozen components of random programs (random search) are copied from this initial program."""
        rows = [tuple(c) + tuple(d) for c, d in zip(bc.code.tolist(), bc.data.tolist())]
        starts = np.cumsum((0,) + tuple(bc.sizes))
        self.frozen_rows = [rows[starts[c]:starts[c + 1]] for c in range(3)]

    def _check(self, cfg: ExperimentConfig) -> None:
        for name, ops in zip(("setup", "predict", "learn"), self.ops):
            for i in ops:
                od = OPS[i]
                ok = all(self.in_size[k] >= 1 for k in od.ins)
                ok = ok and (od.out is None or self.in_size[od.out] > self.out_lo[od.out])
                if not ok:
                    raise ConfigError(
                        f"{cfg.source}: {name}.ops: {od.name} needs more registers than [memory] "
                        f"gives (scalars/vectors/matrices = {self.in_size[SCALAR]}/"
                        f"{self.in_size[VECTOR]}/{self.in_size[MATRIX]})"
                    )

    def check_fits(self, bc: Bytecode, what: str) -> None:
        """Raise ConfigError if a program (a built-in model or a seed) addresses registers beyond the memory."""
        for row in bc.code.tolist():
            od = OPS[row[0]]
            regs = list(zip(od.ins, row[1:3])) + ([(od.out, row[3])] if od.out else [])
            for kind, addr in regs:
                if addr >= self.in_size[kind]:
                    raise ConfigError(
                        f"{what} uses {kind}{addr}, beyond the configured memory "
                        f"({self.in_size[SCALAR]}/{self.in_size[VECTOR]}/{self.in_size[MATRIX]})",
                        hint="raise [memory] scalars / vectors / matrices",
                    )

    def _in(self, rng: Rng, kind: str) -> int:
        return rng.below(self.in_size[kind])

    def _out(self, rng: Rng, kind: str) -> int:
        lo = self.out_lo[kind]
        return lo + rng.below(self.in_size[kind] - lo)

    def instruction(self, rng: Rng, component: int) -> tuple:
        """A fresh random row: op uniform over the list, then in1, in2, out (or out, data) in that order."""
        ops = self.ops[component]
        return self.with_op(rng, ops[rng.below(len(ops))])

    def with_op(self, rng: Rng, op: int) -> tuple:
        od = OPS[op]
        if op == 0:
            return NOOP_ROW
        if od.is_set:
            out = self._out(rng, od.out)
            return (op, 0, 0, out) + self.data(rng, op)
        in1 = self._in(rng, od.ins[0])
        in2 = self._in(rng, od.ins[1]) if od.arity == 2 else 0
        return (op, in1, in2, self._out(rng, od.out), 0.0, 0.0, 0.0)

    @staticmethod
    def data(rng: Rng, op: int) -> tuple[float, float, float]:
        """Initial constants (docs/semantics.md, section 6): OP56 U(-1,1) double; fractions U[0,1); others U[-1,1)."""
        if op == 56:
            return (rng.uniform(-1.0, 1.0), 0.0, 0.0)
        if op == 57:
            return (unit_f32(rng), uniform_f32(rng, -1.0, 1.0), 0.0)
        if op == 58:
            return (unit_f32(rng), unit_f32(rng), uniform_f32(rng, -1.0, 1.0))
        if op in (59, 60, 61):
            return (uniform_f32(rng, -1.0, 1.0), uniform_f32(rng, -1.0, 1.0), 0.0)
        return (uniform_f32(rng, -1.0, 1.0), unit_f32(rng), 0.0)  # 62-64: mean, sd

    def component_rows(self, rng: Rng, component: int, size: int) -> list[tuple]:
        return [self.instruction(rng, component) for _ in range(size)]

    # --- built-in models (docs/semantics.md, section 6) -----------------------------------------------------------

    def model(self, name: str, rng: Rng) -> Bytecode:
        """A built-in initial model by config name, padded with NO_OPs to the *_size_init values."""
        if name == "empty":
            return make_bytecode(((), (), ()))
        if name in ("random", "random_frozen"):  # random_frozen: Python-built (frozen rows from the seed)
            return self.random(rng)
        parts = {
            "noop": ((), (), ()),
            "linear": LINEAR,
            "neural_net": NEURAL_NET,
            "damaged_neural_net": (NEURAL_NET[0][2:],) + NEURAL_NET[1:],
        }[name]
        return make_bytecode(self.pad(parts))

    def pad(self, parts) -> list[list[tuple]]:
        return [list(p) + [NOOP_ROW] * max(0, n - len(p)) for p, n in zip(parts, self.size_init)]

    def random(self, rng: Rng) -> Bytecode:
        """RANDOM_ALGORITHM: sizes init; a component is randomised only if its op list is non-empty."""
        rows = []
        for c, n in enumerate(self.size_init):
            if self.frozen[c]:
                rows.append(list(self.frozen_rows[c]))
            else:
                rows.append(self.component_rows(rng, c, n) if self.ops[c] else [NOOP_ROW] * n)
        return make_bytecode(rows)


def _r(op, out=0, in1=0, in2=0, d=(0.0, 0.0, 0.0)) -> tuple:
    return (op, in1, in2, out) + tuple(d)


# Linear regression by SGD, learning rate 0.01 in s2; weights v1 start at zero.
LINEAR = (
    (_r(56, 2, d=(0.01, 0, 0)),),
    (_r(27, 1, 1, 0),),
    (_r(2, 3, 0, 1), _r(3, 3, 2, 3), _r(18, 2, 3, 0), _r(23, 1, 1, 2)),
)

# Two-layer ReLU net with biases and backprop (eta 0.01, init sd 0.1); stdlib/nn_2layer.az is its listing.
NEURAL_NET = (
    (_r(63, 2, d=(0.0, f32(0.1), 0)), _r(64, 0, d=(0.0, f32(0.1), 0)), _r(56, 3, d=(0.01, 0, 0))),
    (_r(31, 3, 0, 0), _r(23, 3, 3, 1), _r(48, 4, 3, 5), _r(27, 1, 4, 2), _r(1, 1, 1, 2)),
    (
        _r(2, 4, 0, 1),
        _r(3, 4, 3, 4),
        _r(1, 2, 2, 4),
        _r(18, 6, 4, 4),
        _r(23, 2, 2, 6),
        _r(18, 7, 4, 2),
        _r(16, 8, 3),
        _r(25, 7, 8, 7),
        _r(23, 1, 1, 7),
        _r(28, 1, 7, 0),
        _r(39, 0, 0, 1),
    ),
)
