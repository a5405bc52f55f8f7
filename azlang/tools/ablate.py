"""Tool stage: ablation (paper S8): knock out each instruction, or each group of lines, and measure the
fitness change on given tasks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from azlang.errors import ConfigError
from azlang.evaluate import EvalOptions, evaluate
from azlang.ir.nodes import COMPONENTS, Program
from azlang.rng import Rng
from azlang.syntax import format_instruction
from azlang.tools.show import label

Position = tuple[str, int]


@dataclass(frozen=True)
class AblationRow:
    name: str  # `L3` or the group as given
    lines: tuple[str, ...]  # the removed instructions' text
    fitness: float
    delta: float  # fitness without these lines minus the baseline (negative: the lines help)


@dataclass(frozen=True)
class Ablation:
    baseline: float
    rows: tuple[AblationRow, ...]  # most harmful knock-out first


def knock_out(program: Program, positions) -> Program:
    gone = set(positions)
    for comp in COMPONENTS:
        instrs = program.component(comp).instructions
        program = program.with_component(comp, (x for i, x in enumerate(instrs) if (comp, i) not in gone))
    return program


_RANGE = re.compile(r"^(?:(setup|predict|learn|[SPL]):)?(\d+)(?:-(\d+))?$", re.IGNORECASE)
_COMP = {"s": "setup", "p": "predict", "l": "learn"}


def parse_group(program: Program, spec: str) -> tuple[Position, ...]:
    """`12-14` (source lines), `learn:2-4` / `L2-4` (1-based positions in a component), comma-separated."""
    positions: list[Position] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        m = _RANGE.match(part.replace(" ", "")) or _RANGE.match(part[0] + ":" + part[1:])
        if not m:
            raise ConfigError(f"cannot read line group {part!r}", hint="use 12-14 (source lines) or learn:2-4")
        comp, lo = m.group(1), int(m.group(2))
        hi = int(m.group(3) or lo)
        positions += _select(program, comp, lo, hi, part)
    return tuple(positions)


def _select(program: Program, comp: str | None, lo: int, hi: int, part: str) -> list[Position]:
    if comp is None:
        found = [(c, i) for c, i, ins in program.instructions() if ins.loc and lo <= ins.loc.line <= hi]
    else:
        name = _COMP.get(comp.lower(), comp.lower())
        found = [(name, i) for i in range(lo - 1, hi) if i < len(program.component(name))]
    if not found:
        raise ConfigError(f"line group {part!r} selects no instruction")
    return found


def ablate(program: Program, tasks, groups=None, seed: int = 0, opts: EvalOptions | None = None) -> Ablation:
    """Baseline fitness, then the fitness without each instruction (or each group of positions).

    Every evaluation starts from the same random seed, so differences come from the knock-out alone;
    memory keeps the original program's shape."""
    shape = program.required_memory()

    def fitness(p: Program) -> float:
        return evaluate(p, tasks, Rng(seed), shape, opts).fitness

    base = fitness(program)
    if groups is None:
        groups = [(label(pos), (pos,)) for pos in ((c, i) for c, i, ins in program.instructions() if ins.op != 0)]
    instr = {(c, i): ins for c, i, ins in program.instructions()}
    rows = []
    for name, positions in groups:
        f = fitness(knock_out(program, positions))
        rows.append(AblationRow(name, tuple(format_instruction(instr[p]) for p in positions), f, f - base))
    rows.sort(key=lambda r: (r.delta, r.name))
    return Ablation(base, tuple(rows))
