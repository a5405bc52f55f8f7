"""Tool stage: what a program's lines do for the prediction (live or dead, where each read comes from),
and the same dataflow as a Graphviz graph."""

from __future__ import annotations

from dataclasses import dataclass

from azlang.ir.analysis import def_use, liveness, prediction_sources, reg_name
from azlang.ir.nodes import COMPONENTS, Program
from azlang.passes.dce import kept_instructions
from azlang.syntax import format_instruction

LETTER = {"setup": "S", "predict": "P", "learn": "L"}
ENGINE_LABEL = {"label": "label", "features": "features"}


def label(definition) -> str:
    """`P2` for Predict's second line; the engine's writes as `label` / `features`."""
    comp, index = definition
    return ENGINE_LABEL[index] if comp == "engine" else f"{LETTER[comp]}{index + 1}"


@dataclass(frozen=True)
class ShownLine:
    component: str
    index: int
    label: str
    text: str
    live: bool  # can influence a prediction
    kept: bool  # dce keeps it (live, or a dead draw kept for the random stream)
    sources: tuple[tuple[str, tuple[str, ...]], ...]  # (register read, labels of definitions reaching it)
    line: int | None  # source line, when parsed from a file


@dataclass(frozen=True)
class Shown:
    lines: tuple[ShownLine, ...]
    prediction: tuple[str, ...]  # labels of the s1 definitions the engine observes

    @property
    def live_count(self) -> int:
        return sum(line.live for line in self.lines)


def _sources(reads: dict) -> tuple:
    """Registers read and their definitions; a register no one writes reads as zero (empty tuple)."""
    return tuple((reg_name(reg), tuple(sorted(label(d) for d in defs))) for reg, defs in reads.items())


def analyse(program: Program) -> Shown:
    live, kept, uses = liveness(program).live, kept_instructions(program), def_use(program)
    lines = []
    for comp in COMPONENTS:
        for i, ins in enumerate(program.component(comp).instructions):
            lines.append(ShownLine(comp, i, label((comp, i)), format_instruction(ins), live[comp][i],
                                   kept[comp][i], _sources(uses[(comp, i)]), ins.loc.line if ins.loc else None))
    prediction = tuple(sorted(label(d) for d in prediction_sources(program)))
    return Shown(tuple(lines), prediction)


def _node(line: ShownLine) -> str:
    style = 'style=filled, fillcolor="#dbeafe"' if line.live else 'style=dashed, fontcolor=gray, color=gray'
    text = line.text.replace('"', '\\"')
    return f'    {line.label} [label="{line.label}: {text}", {style}];'


def _dot_id(name: str) -> str:
    return f"in_{name}" if name in ENGINE_LABEL else name


def to_dot(program: Program) -> str:
    """A digraph: one node per instruction (dead ones dashed and grey), def-use edges labelled with the
    register, the engine's label and features, and the prediction fed by the observed s1 definitions."""
    shown = analyse(program)
    out = ["digraph program {", "  rankdir=TB;", "  node [shape=box, fontname=monospace];",
           '  in_features [label="features (v0)", shape=oval]; in_label [label="label (s0)", shape=oval];',
           "  prediction [shape=doubleoctagon];"]
    for comp in COMPONENTS:
        out.append(f'  subgraph cluster_{comp} {{ label="{comp.capitalize()}";')
        out += [_node(line) for line in shown.lines if line.component == comp]
        out.append("  }")
    for line in shown.lines:
        for reg, defs in line.sources:
            for d in defs:
                color = "" if line.live else ", color=gray"
                out.append(f'  {_dot_id(d)} -> {line.label} [label="{reg}"{color}];')
    out += [f"  {d} -> prediction [label=s1];" for d in shown.prediction]
    out.append("}")
    return "\n".join(out) + "\n"
