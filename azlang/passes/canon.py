"""Pass stage: canonical form, so that programs equal up to register names and independent order coincide.

Steps (the sweep is repeated until nothing changes, two rounds in practice, so the pass is idempotent):
1. drop no_ops (they mean nothing to evaluation; the search pads its own components) and comments;
2. order each component as a deterministic topological order of its dependency DAG (read/write,
   write/read and write/write hazards, random-draw order): the ready instruction with the smallest
   name-independent structural key goes first; ties go to the one whose registers already have the
   smallest canonical numbers, which pairs up symmetric lines across components consistently;
3. put the operands of commutative ops in (structural key, canonical number) order;
4. renumber registers per bank by first use over Setup, Predict, Learn, keeping s0, s1 and v0; new
   numbers start right after the reserved ones, so no bank grows beyond the original program's memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from azlang.ir.analysis import RESERVED, Reg, dependencies
from azlang.ir.nodes import COMPONENTS, Component, Instruction, Param, Program
from azlang.ir.ops import MATRIX, SCALAR, VECTOR
from azlang.passes import PassOptions, register
from azlang.passes.structure import structural_keys

FIRST_FREE = {SCALAR: 2, VECTOR: 1, MATRIX: 0}
MAX_ROUNDS = 8


def strip(program: Program) -> Program:
    """No no_ops, no comments, no locations: only what evaluation sees."""
    comps = [Component(tuple(_bare(i) for i in c if i.op != 0)) for c in program.components()]
    params = tuple(sorted((Param(p.name, p.value) for p in program.params), key=lambda p: p.name))
    return Program(*comps, params=params)


def _bare(ins: Instruction) -> Instruction:
    return Instruction(ins.op, ins.out, ins.in1, ins.in2, ins.args)


class _Numbering:
    """Canonical register numbers, handed out by first use as the sweep emits instructions."""

    UNSEEN = 1 << 30

    def __init__(self):
        self.mapping: dict[Reg, int] = {r: r[1] for r in RESERVED}
        self.counters = dict(FIRST_FREE)

    def rank(self, reg: Reg) -> int:
        return self.mapping.get(reg, self.UNSEEN)

    def number(self, reg: Reg) -> int:
        if reg not in self.mapping:
            self.mapping[reg] = self.counters[reg[0]]
            self.counters[reg[0]] += 1
        return self.mapping[reg]


def _operands(ins: Instruction, opkeys: tuple[int, ...], names: _Numbering) -> Instruction:
    """Commutative operands in (structural key, canonical number) order."""
    if not ins.opdef.commutative:
        return ins
    kind = ins.opdef.ins[0]
    a, b = (opkeys[0], names.rank((kind, ins.in1))), (opkeys[1], names.rank((kind, ins.in2)))
    return replace(ins, in1=ins.in2, in2=ins.in1) if b < a else ins


def _registers(ins: Instruction) -> list[Reg]:
    regs = list(ins.reads())
    return regs + [ins.writes()] if ins.writes() is not None else regs


def _emit(ins: Instruction, names: _Numbering) -> Instruction:
    od = ins.opdef
    fields = dict(zip(("in1", "in2"), (names.number(r) for r in zip(od.ins, (ins.in1, ins.in2)))))
    if od.out:
        fields["out"] = names.number((od.out, ins.out))
    return replace(ins, **fields)


def _sweep(program: Program, keys) -> Program:
    """Deterministic topological order per component (Kahn's algorithm taking the ready instruction with
    the smallest structural key, then the smallest canonical register numbers so far, then position),
    operands ordered and registers renumbered as instructions are emitted."""
    names = _Numbering()
    for c in COMPONENTS:
        instrs = program.component(c).instructions
        preds = [set(p) for p in dependencies(instrs)]
        ready, done, out = [i for i, p in enumerate(preds) if not p], set(), []
        while ready:
            cands = [(i, _operands(instrs[i], keys.operands[c][i], names)) for i in ready]
            i, ins = min(cands, key=lambda t: (keys.instr[c][t[0]], [names.rank(r) for r in _registers(t[1])], t[0]))
            ready.remove(i)
            done.add(i)
            out.append(_emit(ins, names))
            ready += [j for j, p in enumerate(preds) if j not in done and j not in ready and i in p and p <= done]
        program = program.with_component(c, out)
    return program


def canonicalize(program: Program) -> Program:
    program = strip(program)
    for _ in range(MAX_ROUNDS):
        step = _sweep(program, structural_keys(program))
        if step == program:
            break
        program = step
    return program


def canonical_text(program: Program) -> str:
    from azlang.syntax import print_program  # the syntax layer imports Lark; load it only when asked

    return print_program(canonicalize(program))


def canonical_hash(program: Program) -> str:
    """Hex sha256 of the printed canonical program: the search's key for programs already evaluated."""
    return hashlib.sha256(canonical_text(program).encode("utf-8")).hexdigest()


@register("canon", "canonical register names, operand order and instruction order; no no_ops")
def canon(program: Program, options: PassOptions) -> Program:
    return canonicalize(program)
