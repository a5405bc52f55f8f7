"""Search stage: Mutate(parent) -> child on bytecode, with every quirk of docs/semantics.md, section 7 kept.

Children never share mutable state with parents: arrays are copied before a change and are frozen
(read-only) so that a clone can be the parent's very object.
"""

from __future__ import annotations

import math

import numpy as np

from azlang.ir.bytecode import Bytecode
from azlang.ir.nodes import f32
from azlang.ir.ops import OPS
from azlang.rng import Rng
from azlang.search.config import MUTATIONS, ExperimentConfig
from azlang.search.generate import Generator, freeze, unit_f32

ALTER_PARAM, RANDOMIZE_INSTRUCTION, RANDOMIZE_COMPONENT, IDENTITY, INSERT, REMOVE, TRADE, RANDOMIZE_ALGORITHM = range(8)
_FLT_MAX = 3.4028234663852886e38
_FLIP = f32(0.1)
# Op class per op id for ALTER_PARAM: 0 no-op, 1 set op, 2 one input, 3 two inputs.
_CLASS = tuple(0 if o.id == 0 else 1 if o.is_set else o.arity + 1 for o in OPS)


def to_f32(x: float) -> float:
    """float32 rounding that overflows to +-inf quietly (a log-normal walk can leave float32's range)."""
    if abs(x) > _FLT_MAX:  # (NaN compares false and passes through)
        return math.copysign(math.inf, x)
    return f32(x)


def log_scale(rng: Rng, x: float, single: bool) -> float:
    """|x| times a log-normal factor, sign kept; 0 stays (-)0. Floats draw g as a float."""
    g = rng.gaussian(0.0, 1.0)
    if single:
        g = f32(g)
    if x > 0:
        y = math.exp(math.log(x) + g)
    elif x == 0:
        y = -0.0  # the reference computes -exp(log(-0) + g) = -exp(-inf)
    else:
        y = x if math.isnan(x) else -math.exp(math.log(-x) + g)
    return to_f32(y) if single else y


def log_scale_or_flip(rng: Rng, x: float, single: bool) -> float:
    if unit_f32(rng) < _FLIP:
        return -x
    return log_scale(rng, x, single)


class Mutator:
    """Applies one mutation action, chosen uniformly from the configured list, with probability mutate_prob."""

    def __init__(self, cfg: ExperimentConfig, generator: Generator):
        self.gen = generator
        self.prob = f32(cfg.evolution.mutate_prob)
        self.actions = tuple(MUTATIONS.index(m) for m in cfg.evolution.mutations)
        comps = cfg.components()
        self.mutable = tuple(c for c in range(3) if comps[c].ops and not comps[c].frozen)
        self.size_min = tuple(c.size_min for c in comps)
        self.size_max = tuple(c.size_max for c in comps)
        self._do = (
            self._alter_param,
            self._randomize_instruction,
            self._randomize_component,
            self._identity,
            self._insert,
            self._remove,
            self._trade,
            self._randomize_algorithm,
        )

    def mutate(self, parent: Bytecode, rng: Rng, zero: bool = False) -> Bytecode:
        """The child of `parent`. With `zero` (Init), only the mutate-or-not draw is consumed."""
        if self.prob < 1.0 and not unit_f32(rng) < self.prob:
            return parent
        if zero:
            return parent
        action = self.actions[rng.below(len(self.actions))] if len(self.actions) > 1 else self.actions[0]
        return self._do[action](parent, rng)

    def apply(self, action: int, parent: Bytecode, rng: Rng) -> Bytecode:
        """One given action (for tests)."""
        return self._do[action](parent, rng)

    # --- helpers -----------------------------------------------------------------------------------------

    def _component(self, rng: Rng) -> int | None:
        n = len(self.mutable)
        if n == 0:
            return None
        return self.mutable[rng.below(n)] if n > 1 else self.mutable[0]

    @staticmethod
    def _start(bc: Bytecode, c: int) -> int:
        return sum(bc.sizes[:c])

    @staticmethod
    def _replace_rows(bc: Bytecode, start: int, rows: list[tuple]) -> Bytecode:
        code, data = bc.code.copy(), bc.data.copy()
        for k, row in enumerate(rows):
            code[start + k] = row[:4]
            data[start + k] = row[4:]
        return freeze(Bytecode(code, data, bc.sizes))

    @staticmethod
    def _resize(bc: Bytecode, c: int, delta: int) -> tuple[int, int, int]:
        sizes = list(bc.sizes)
        sizes[c] += delta
        return tuple(sizes)

    def _insert_row(self, bc: Bytecode, c: int, pos: int, row: tuple) -> Bytecode:
        at = self._start(bc, c) + pos
        code = np.concatenate((bc.code[:at], np.array([row[:4]], dtype=np.int32), bc.code[at:]))
        data = np.concatenate((bc.data[:at], np.array([row[4:]], dtype=np.float64), bc.data[at:]))
        return freeze(Bytecode(code, data, self._resize(bc, c, 1)))

    def _delete_row(self, bc: Bytecode, c: int, pos: int) -> Bytecode:
        at = self._start(bc, c) + pos
        code = np.concatenate((bc.code[:at], bc.code[at + 1 :]))
        data = np.concatenate((bc.data[:at], bc.data[at + 1 :]))
        return freeze(Bytecode(code, data, self._resize(bc, c, -1)))

    # --- actions (docs/semantics.md, section 7.2) ---------------------------------------------------------------

    def _identity(self, bc: Bytecode, rng: Rng) -> Bytecode:
        return bc

    def _randomize_instruction(self, bc: Bytecode, rng: Rng) -> Bytecode:
        c = self._component(rng)
        if c is None or bc.sizes[c] == 0:
            return bc
        pos = rng.below(bc.sizes[c])
        return self._replace_rows(bc, self._start(bc, c) + pos, [self.gen.instruction(rng, c)])

    def _randomize_component(self, bc: Bytecode, rng: Rng) -> Bytecode:
        c = self._component(rng)
        if c is None or bc.sizes[c] == 0:
            return bc
        return self._replace_rows(bc, self._start(bc, c), self.gen.component_rows(rng, c, bc.sizes[c]))

    def _randomize_algorithm(self, bc: Bytecode, rng: Rng) -> Bytecode:
        for c in self.mutable:
            if bc.sizes[c]:
                bc = self._replace_rows(bc, self._start(bc, c), self.gen.component_rows(rng, c, bc.sizes[c]))
        return bc

    def _insert(self, bc: Bytecode, rng: Rng) -> Bytecode:
        c = self._component(rng)
        if c is None:
            return bc
        size, top = bc.sizes[c], self.size_max[c]
        if top and size >= top - 1:  # the reference's quirk: reachable maximum is max - 1; unset = unbounded
            return bc
        pos = rng.below(size + 1)
        return self._insert_row(bc, c, pos, self.gen.instruction(rng, c))

    def _remove(self, bc: Bytecode, rng: Rng) -> Bytecode:
        c = self._component(rng)
        if c is None or bc.sizes[c] <= self.size_min[c] or bc.sizes[c] == 0:
            return bc
        return self._delete_row(bc, c, rng.below(bc.sizes[c]))

    def _trade(self, bc: Bytecode, rng: Rng) -> Bytecode:
        c = self._component(rng)
        if c is None:
            return bc
        pos = rng.below(bc.sizes[c] + 1)
        bc = self._insert_row(bc, c, pos, self.gen.instruction(rng, c))
        return self._delete_row(bc, c, rng.below(bc.sizes[c]))

    def _alter_param(self, bc: Bytecode, rng: Rng) -> Bytecode:
        c = self._component(rng)
        if c is None or bc.sizes[c] == 0:
            return bc
        r = self._start(bc, c) + rng.below(bc.sizes[c])
        row = tuple(bc.code[r].tolist()) + tuple(bc.data[r].tolist())
        new = self.alter_row(rng, row)
        return bc if new is row else self._replace_rows(bc, r, [new])

    def alter_row(self, rng: Rng, row: tuple) -> tuple:
        """Change one parameter of one instruction (docs/semantics.md, section 7.3); a NO_OP is returned as is."""
        op = row[0]
        kind = _CLASS[op]
        if kind == 0:
            return row
        od, gen = OPS[op], self.gen
        if kind == 1:
            if rng.below(2) == 0:
                return row[:3] + (gen._out(rng, od.out),) + row[4:]
            return row[:4] + self.alter_data(rng, op, row[4:])
        choice = rng.below(kind)  # 2 or 3 choices
        if choice == kind - 1:
            return row[:3] + (gen._out(rng, od.out),) + row[4:]
        if choice == 0:
            return (op, gen._in(rng, od.ins[0])) + row[2:]
        return (op, row[1], gen._in(rng, od.ins[1])) + row[3:]

    @staticmethod
    def alter_data(rng: Rng, op: int, d: tuple) -> tuple:
        """Constant perturbation (docs/semantics.md, section 7.3): log-normal scaling, 10% sign flips, new fractions."""
        d0, d1, d2 = d
        if op == 56:
            return (log_scale_or_flip(rng, d0, False), d1, d2)
        if op == 57:
            return (unit_f32(rng), d1, d2) if rng.below(2) == 0 else (d0, log_scale_or_flip(rng, d1, True), d2)
        if op == 58:
            k = rng.below(3)
            if k == 2:
                return (d0, d1, log_scale_or_flip(rng, d2, True))
            return (unit_f32(rng), d1, d2) if k == 0 else (d0, unit_f32(rng), d2)
        if op in (62, 63, 64):
            return (
                (log_scale_or_flip(rng, d0, True), d1, d2) if rng.below(2) == 0 else (d0, log_scale(rng, d1, True), d2)
            )
        if rng.below(2) == 0:  # 59-61: perturb low or high, then re-sort the bounds
            d0 = log_scale_or_flip(rng, d0, True)
        else:
            d1 = log_scale_or_flip(rng, d1, True)
        return (min(d0, d1), max(d0, d1), d2)
