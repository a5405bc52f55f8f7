"""IR stage: frozen dataclass nodes for programs. Locations and comments ride beside structural equality."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from azlang.errors import Loc
from azlang.ir.ops import KINDS, MATRIX, OPS, SCALAR, VECTOR, OpDef

COMPONENTS = ("setup", "predict", "learn")


def f32(x: float) -> float:
    """Round a constant to float32 precision, as the reference stores OP57-64 constants."""
    return float(np.float32(x))


def bind_args(ins: "Instruction", params: dict[str, float]) -> tuple:
    """An instruction's constants with params substituted; float32 fields round a param's value to float32,
    exactly as a literal in that place is rounded when it is read (so `gaussian(0, sd)` with `sd = 0.1`
    means `gaussian(0, 0.1)`)."""
    to32 = OPS[ins.op].float32_data
    out = []
    for x in ins.args:
        if isinstance(x, ParamRef):
            x = f32(params[x.name]) if to32 else float(params[x.name])
        out.append(x)
    return tuple(out)


@dataclass(frozen=True)
class Index:
    """An OP57/58 position: an integer index (same for every F) or a fraction of F (what mutation makes)."""

    value: float
    fraction: bool

    def resolve(self, F: int) -> int:
        if self.fraction:
            return int(np.float32(F) * np.float32(self.value))
        return int(self.value)


@dataclass(frozen=True)
class ParamRef:
    """A named hyperparameter standing where a number may."""

    name: str


Arg = float | Index | ParamRef


@dataclass(frozen=True)
class Instruction:
    """One line: op id, register addresses (unused fields 0) and constant arguments (set ops only)."""

    op: int
    out: int = 0
    in1: int = 0
    in2: int = 0
    args: tuple = ()
    loc: Loc | None = field(default=None, compare=False, repr=False)
    comments: tuple[str, ...] = field(default=(), compare=False, repr=False)  # own-line, before it
    trailing: str | None = field(default=None, compare=False, repr=False)  # at its line end

    @property
    def opdef(self) -> OpDef:
        return OPS[self.op]

    def reads(self) -> tuple[tuple[str, int], ...]:
        """(kind, address) of every register this instruction reads (OP57/58 also read their target)."""
        od = self.opdef
        regs = tuple(zip(od.ins, (self.in1, self.in2)))
        if od.form == "index_set":
            regs += ((od.out, self.out),)
        return regs

    def writes(self) -> tuple[str, int] | None:
        od = self.opdef
        return (od.out, self.out) if od.out else None


@dataclass(frozen=True)
class Component:
    instructions: tuple[Instruction, ...] = ()
    comments: tuple[str, ...] = field(default=(), compare=False, repr=False)  # own-line, before `def`
    header_comment: str | None = field(default=None, compare=False, repr=False)
    footer: tuple[str, ...] = field(default=(), compare=False, repr=False)  # own-line, after last line

    def __len__(self) -> int:
        return len(self.instructions)

    def __iter__(self):
        return iter(self.instructions)


@dataclass(frozen=True)
class Param:
    name: str
    value: float
    loc: Loc | None = field(default=None, compare=False, repr=False)
    comments: tuple[str, ...] = field(default=(), compare=False, repr=False)
    trailing: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class MemoryShape:
    """Bank sizes: scalars, vectors, matrices."""

    S: int
    V: int
    M: int

    def size(self, kind: str) -> int:
        return {SCALAR: self.S, VECTOR: self.V, MATRIX: self.M}[kind]

    def union(self, other: MemoryShape) -> MemoryShape:
        return MemoryShape(max(self.S, other.S), max(self.V, other.V), max(self.M, other.M))


# The reserved registers s0 (label), s1 (prediction) and v0 (features) always exist.
MIN_MEMORY = MemoryShape(2, 1, 0)
# The most registers of each kind a program may address (s0..s999): beyond any real program, and small enough
# that no register index can make a memory allocation explode. Parser and config validation share it.
MAX_MEMORY = MemoryShape(1000, 1000, 1000)


@dataclass(frozen=True)
class Program:
    setup: Component = Component()
    predict: Component = Component()
    learn: Component = Component()
    params: tuple[Param, ...] = ()
    source: str | None = field(default=None, compare=False, repr=False)  # file name, for messages
    footer: tuple[str, ...] = field(default=(), compare=False, repr=False)  # comments at the end

    @staticmethod
    def of(setup=(), predict=(), learn=(), params=()) -> Program:
        """Build a program from instruction sequences (tests, generators, the search)."""
        return Program(Component(tuple(setup)), Component(tuple(predict)), Component(tuple(learn)), tuple(params))

    def components(self) -> tuple[Component, Component, Component]:
        return (self.setup, self.predict, self.learn)

    def component(self, name: str) -> Component:
        return getattr(self, name)

    def with_component(self, name: str, instructions) -> Program:
        return replace(self, **{name: replace(self.component(name), instructions=tuple(instructions))})

    def instructions(self):
        """(component name, position, instruction) for every instruction in program order."""
        for name, comp in zip(COMPONENTS, self.components()):
            for i, ins in enumerate(comp.instructions):
                yield name, i, ins

    def param_values(self, overrides: dict[str, float] | None = None) -> dict[str, float]:
        values = {p.name: p.value for p in self.params}
        values.update(overrides or {})
        return values

    def required_memory(self) -> MemoryShape:
        """Largest address used per bank plus one, never below the reserved registers."""
        top = {k: -1 for k in KINDS}
        for _, _, ins in self.instructions():
            regs = list(ins.reads())
            if ins.writes():
                regs.append(ins.writes())
            for kind, addr in regs:
                top[kind] = max(top[kind], addr)
        need = MemoryShape(top[SCALAR] + 1, top[VECTOR] + 1, top[MATRIX] + 1)
        return need.union(MIN_MEMORY)

    def size(self) -> int:
        return sum(len(c) for c in self.components())

    def __str__(self) -> str:
        """The program as `.az` source (canonical form, comments kept)."""
        from azlang.syntax.printer import print_program

        return print_program(self)

    def _repr_html_(self) -> str:
        from azlang.reprs import program_html

        return program_html(self)
