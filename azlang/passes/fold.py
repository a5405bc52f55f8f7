"""Pass stage: constant folding: scalar instructions whose inputs are the same constants on every run of
their component become `sK = <value>`.

A scalar lattice (unknown / constant / varying) is propagated over the evaluation loop to a fixpoint:
Setup starts from zeroed memory; Predict's entry meets Setup's, Learn's and Predict's exits with s0 = 0
(the engine zeroes it); Learn's entry is Predict's exit with s0 (label) and s1 (sigmoid) varying. Params
count as varying, since a run may override them. Values are computed by the NumPy interpreter, so folding
is exact; a non-finite result is not folded (`inf`/`nan` are not literals) but still propagates.
"""

from __future__ import annotations

import math
import struct
from dataclasses import replace

from azlang.backends import numpy_interp as interp
from azlang.ir.analysis import LEARN, PREDICT, S0, S1, SETUP
from azlang.ir.nodes import COMPONENTS, Instruction, MemoryShape, Program
from azlang.ir.ops import SCALAR
from azlang.passes import PassOptions, register
from azlang.rng import Rng

VARYING = "varying"
CONST_OP = 56


def _same(a, b) -> bool:
    if a is VARYING or b is VARYING:
        return a is b
    return struct.pack("<d", a) == struct.pack("<d", b)  # NaN equals NaN, 0.0 differs from -0.0


def _meet(states: list[dict | None]) -> dict | None:
    states = [s for s in states if s is not None]
    if not states:
        return None
    out = dict(states[0])
    for s in states[1:]:
        for reg, value in s.items():
            if not _same(out[reg], value):
                out[reg] = VARYING
    return out


def _same_state(a: dict | None, b: dict | None) -> bool:
    return a is not None and b is not None and all(_same(a[r], b[r]) for r in a)


def foldable(ins: Instruction) -> bool:
    """Scalar result from scalar operands only, deterministic: arithmetic, functions, min/max, const."""
    od = ins.opdef
    return od.out == SCALAR and not od.is_random and all(k == SCALAR for k in od.ins)


def _compute(ins: Instruction, state: dict, n_scalars: int) -> float:
    if ins.op == CONST_OP:
        return float(ins.args[0])
    mem = interp.Memory(MemoryShape(n_scalars, 0, 0), 1)
    for (kind, addr), value in state.items():
        mem.s[addr] = value
    prog = Program.of(setup=[ins])
    return interp.execute(prog, MemoryShape(n_scalars, 0, 0), 1, Rng(0), "setup", mem).s[ins.out]


def _transfer(instrs, state: dict, n_scalars: int, record: list | None = None) -> dict:
    """Run the lattice through one component; `record` gets each instruction's known result (or None)."""
    state = dict(state)
    for ins in instrs:
        value = VARYING
        known = foldable(ins) and all(isinstance(a, float) for a in ins.args)  # a ParamRef may be overridden
        if known and all(state[r] is not VARYING for r in ins.reads()):
            value = _compute(ins, {r: state[r] for r in ins.reads()}, n_scalars)
        if record is not None:
            record.append(None if value is VARYING else value)
        w = ins.writes()
        if w is not None and w[0] == SCALAR:
            state[w] = value
    return state


def constants(program: Program) -> dict[str, list]:
    """For every instruction, its result when that is the same scalar constant on every run, else None."""
    n = program.required_memory().S
    zero = {(SCALAR, k): 0.0 for k in range(n)}
    exits: dict[str, dict | None] = {c: None for c in COMPONENTS}
    exits[SETUP] = _transfer(program.setup.instructions, zero, n)
    while True:
        entry_p = _meet([exits[SETUP], exits[LEARN], exits[PREDICT]]) | {S0: 0.0}
        out_p = _transfer(program.predict.instructions, entry_p, n)
        entry_l = out_p | {S0: VARYING, S1: VARYING}
        out_l = _transfer(program.learn.instructions, entry_l, n)
        if _same_state(out_p, exits[PREDICT]) and _same_state(out_l, exits[LEARN]):
            break
        exits[PREDICT], exits[LEARN] = out_p, out_l
    entries = {SETUP: zero, PREDICT: entry_p, LEARN: entry_l}
    result = {}
    for c in COMPONENTS:
        result[c] = []
        _transfer(program.component(c).instructions, entries[c], n, result[c])
    return result


def fold_constants(program: Program) -> Program:
    known = constants(program)
    for c in COMPONENTS:
        instrs = list(program.component(c).instructions)
        for i, ins in enumerate(instrs):
            value = known[c][i]
            if value is not None and ins.op != CONST_OP and math.isfinite(value):
                instrs[i] = replace(ins, op=CONST_OP, in1=0, in2=0, args=(value,))
        program = program.with_component(c, instrs)
    return program


@register("fold", "replace scalar computations on constants by their value")
def fold(program: Program, options: PassOptions) -> Program:
    return fold_constants(program)
