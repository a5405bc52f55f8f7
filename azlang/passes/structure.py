"""Pass stage: name-independent structural keys of instructions and operand values, for canonical ordering.

A key describes what an instruction computes (op, constants, and recursively where its operands come
from) without mentioning register numbers, so renamed or independently reordered copies of a program get
the same keys. Values crossing components are handled by a fixed number of refinement rounds over the
loop (Weisfeiler-Lehman style); consumers are folded in at the end so that twins feeding different
instructions are told apart. Hashes are stable across processes (blake2b, not Python's salted hash).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from azlang.ir.analysis import LEARN, PREDICT, RESERVED, RESET, S0, SETUP, SUCCESSORS, V0, Reg
from azlang.ir.nodes import COMPONENTS, Program

ROUNDS = 4


def stable_hash(*parts) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class Keys:
    """`instr[c][i]`: key of instruction i of component c; `operands[c][i]`: key of each value it reads."""

    instr: dict[str, list[int]]
    operands: dict[str, list[tuple[int, ...]]]


def _slot(ins, slot: int) -> int:
    """An operand's position, except that both operands of a commutative op count the same."""
    return -1 if ins.opdef.commutative and slot < 2 else slot


def _initial_entry(program: Program) -> dict[tuple[str, Reg], int]:
    regs = _registers(program)
    entry = {}
    for reg in regs:
        entry[(SETUP, reg)] = stable_hash("zero", reg[0])
        entry[(PREDICT, reg)] = stable_hash("entry", PREDICT, reg[0])
        entry[(LEARN, reg)] = stable_hash("entry", LEARN, reg[0])
    entry[(PREDICT, S0)], entry[(LEARN, S0)] = stable_hash("zeroed label"), stable_hash("label")
    entry[(PREDICT, V0)] = entry[(LEARN, V0)] = stable_hash("features")
    return entry


def _registers(program: Program) -> set[Reg]:
    regs = {S0, V0, ("s", 1)}
    for _, _, ins in program.instructions():
        regs.update(ins.reads())
        if ins.writes():
            regs.add(ins.writes())
    return regs


def _sweep(program: Program, entry):
    """Forward pass over each component: keys of instructions and operands, and each register's exit key."""
    instr, operands, exits = {}, {}, {}
    for c in COMPONENTS:
        current = {reg: entry[(c, reg)] for (cc, reg) in entry if cc == c}
        instr[c], operands[c] = [], []
        for ins in program.component(c).instructions:
            vals = tuple(current[r] for r in ins.reads())
            shape = tuple(sorted(vals)) if ins.opdef.commutative else vals
            killed = current[ins.writes()] if ins.writes() is not None else None  # tells a chain's links apart
            key = stable_hash(ins.op, ins.args, shape, killed)
            instr[c].append(key)
            operands[c].append(vals)
            if ins.writes() is not None:
                current[ins.writes()] = key
        exits.update({(c, reg): k for reg, k in current.items()})
    return instr, operands, exits


def _next_entry(entry, exits):
    new = dict(entry)
    for (c, reg) in entry:
        if c == PREDICT and reg not in RESET:
            new[(c, reg)] = stable_hash("P", sorted(exits[(p, reg)] for p in (SETUP, LEARN, PREDICT)))
        elif c == LEARN and reg not in RESET:
            new[(c, reg)] = stable_hash("L", exits[(PREDICT, reg)])
    return new


def _entry_uses(program: Program, instr) -> dict[tuple[str, Reg], list]:
    """(instruction key, operand slot) of every read, per component, of a value present at its entry."""
    uses: dict[tuple[str, Reg], list] = {}
    for c in COMPONENTS:
        written = set()
        for i, ins in enumerate(program.component(c).instructions):
            for slot, reg in enumerate(ins.reads()):
                if reg not in written:
                    uses.setdefault((c, reg), []).append((instr[c][i], _slot(ins, slot)))
            if ins.writes() is not None:
                written.add(ins.writes())
    return uses


def _consumers(program: Program, instr, c: str) -> list[list]:
    """For each instruction of component c: (key, slot) of the instructions that read its result."""
    instrs = program.component(c).instructions
    out: list[list] = [[] for _ in instrs]
    last: dict[Reg, int] = {}
    for j, ins in enumerate(instrs):
        for slot, reg in enumerate(ins.reads()):
            if reg in last:
                out[last[reg]].append(("same", "", instr[c][j], _slot(ins, slot)))
        if ins.writes() is not None:
            last[ins.writes()] = j
    uses = _entry_uses(program, instr)
    for reg, i in last.items():
        for succ in SUCCESSORS[c]:
            if reg not in RESET:
                out[i].extend(("next", succ) + u for u in uses.get((succ, reg), ()))
    return out


def _initial_colors(program: Program) -> dict[Reg, int]:
    return {reg: stable_hash(reg[0], reg if reg in RESERVED else "free") for reg in _registers(program)}


def _refine_colors(program: Program, instr, color: dict[Reg, int]) -> dict[Reg, int]:
    """A register's colour: its previous colour and every (component, instruction key, role) touching it,
    so that registers used differently (read twice versus once, say) are told apart."""
    touches: dict[Reg, list] = {reg: [] for reg in color}
    for c in COMPONENTS:
        for i, ins in enumerate(program.component(c).instructions):
            for slot, reg in enumerate(ins.reads()):
                touches[reg].append((c, instr[c][i], "r", _slot(ins, slot)))
            if ins.writes() is not None:
                touches[ins.writes()].append((c, instr[c][i], "w", 0))
    return {reg: stable_hash(color[reg], sorted(t)) for reg, t in touches.items()}


def _colored(entry, color):
    return {k: stable_hash(v, color[k[1]]) for k, v in entry.items()}


def structural_keys(program: Program) -> Keys:
    entry, color = _initial_entry(program), _initial_colors(program)
    for _ in range(ROUNDS):
        instr, operands, exits = _sweep(program, _colored(entry, color))
        entry = _next_entry(entry, exits)
        color = _refine_colors(program, instr, color)
    instr, operands, _ = _sweep(program, _colored(entry, color))
    refined = {}
    for c in COMPONENTS:
        dest = [color.get(ins.writes()) for ins in program.component(c).instructions]
        cons = _consumers(program, instr, c)
        refined[c] = [stable_hash(k, d, sorted(u)) for k, d, u in zip(instr[c], dest, cons)]
    return Keys(refined, operands)
