"""IR stage: dataflow analyses over the evaluation loop (liveness, reaching definitions, dependency DAGs).

The control flow is the evaluation loop of docs/semantics.md, section 3: Setup once from zeroed memory, then
(Predict; Learn) per training example over the epochs, with Predict alone per validation example in
between; memory persists throughout. Before every Predict the engine writes s0 (zero) and v0 (features);
before every Learn it writes s0 (label) and v0 again, and may rewrite s1 (sigmoid, which reads s1). s1 is
observed after every Predict. Component-level successors therefore are:

    Setup   -> Predict
    Predict -> Learn (training), Predict (validation, next epoch), exit; s1 observed
    Learn   -> Predict
"""

from __future__ import annotations

from dataclasses import dataclass

from azlang.ir.nodes import COMPONENTS, Instruction, Program
from azlang.ir.ops import SCALAR, VECTOR

Reg = tuple[str, int]
S0: Reg = (SCALAR, 0)
S1: Reg = (SCALAR, 1)
V0: Reg = (VECTOR, 0)
RESERVED = frozenset({S0, S1, V0})
RESET = frozenset({S0, V0})  # written by the engine before every Predict and every Learn

SETUP, PREDICT, LEARN = COMPONENTS
SUCCESSORS = {SETUP: (PREDICT,), PREDICT: (LEARN, PREDICT), LEARN: (PREDICT,)}
PREDECESSORS = {SETUP: (), PREDICT: (SETUP, LEARN, PREDICT), LEARN: (PREDICT,)}
OBSERVED = {SETUP: frozenset(), PREDICT: frozenset({S1}), LEARN: frozenset()}
# Multi-class tasks (azlang/tasks/multiclass.py): the prediction is the logit vector v1; before Learn the
# engine replaces v1 by softmax(v1) (a read of v1, already observed) and writes the one-hot label to v2 and
# the class index to s0; s0 and v2 are zeroed and v0 gets the features before every Predict.
V1: Reg = (VECTOR, 1)
V2: Reg = (VECTOR, 2)
RESET_MC = frozenset({S0, V0, V2})
OBSERVED_MC = {SETUP: frozenset(), PREDICT: frozenset({V1}), LEARN: frozenset()}


def reg_name(reg: Reg) -> str:
    return f"{reg[0]}{reg[1]}"


def draws_random(ins: Instruction) -> bool:
    """Whether the instruction may consume the random stream (uniform with literal low >= high draws nothing)."""
    od = ins.opdef
    if not od.is_random:
        return False
    if od.data_fields == ("low", "high") and all(isinstance(a, float) for a in ins.args[:2]):
        lo, hi = ins.args[:2]
        return lo < hi
    return True


# --- liveness -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Liveness:
    """Strong (faint-variable) liveness: an instruction is live only if its result may reach a prediction.

    `live[name][i]` says whether instruction i of component `name` is needed; `live_in`/`live_out` are the
    registers needed at component entry/exit; `live_after[name][i]` those needed right after instruction i.
    """

    live: dict[str, tuple[bool, ...]]
    live_in: dict[str, frozenset[Reg]]
    live_out: dict[str, frozenset[Reg]]
    live_after: dict[str, tuple[frozenset[Reg], ...]]

    def is_live(self, component: str, index: int) -> bool:
        return self.live[component][index]

    def dead(self) -> list[tuple[str, int]]:
        return [(c, i) for c in COMPONENTS for i, ok in enumerate(self.live[c]) if not ok]


def _backward(instrs: tuple[Instruction, ...], live_out: frozenset[Reg], keep: set[int]):
    """One backward sweep: which instructions are live, the live set after each, and the live-in set."""
    live, flags, after = set(live_out), [False] * len(instrs), [frozenset()] * len(instrs)
    for i in range(len(instrs) - 1, -1, -1):
        ins = instrs[i]
        after[i] = frozenset(live)
        w = ins.writes()
        if w is None or (w not in live and i not in keep):
            continue
        flags[i] = True
        live.discard(w)
        live.update(ins.reads())
    return tuple(flags), tuple(after), frozenset(live)


def _component_live_out(name: str, live_in: dict[str, frozenset[Reg]], multiclass: bool) -> frozenset[Reg]:
    out = set((OBSERVED_MC if multiclass else OBSERVED)[name])
    reset = RESET_MC if multiclass else RESET
    for succ in SUCCESSORS[name]:
        out |= live_in[succ] - reset
    return frozenset(out)


def liveness(program: Program, keep: dict[str, set[int]] | None = None, multiclass: bool = False) -> Liveness:
    """Least fixpoint over the loop; `keep` forces instructions live (their reads then count).

    `multiclass`: the program runs on multi-class tasks, so v1 (not s1) is the prediction and v2 is the
    engine's (see RESET_MC).
    """
    keep = keep or {}
    live_in = {c: frozenset() for c in COMPONENTS}
    while True:
        flags, after, outs, new_in = {}, {}, {}, {}
        for name in (LEARN, PREDICT, SETUP):
            outs[name] = _component_live_out(name, live_in, multiclass)
            instrs = program.component(name).instructions
            flags[name], after[name], new_in[name] = _backward(instrs, outs[name], keep.get(name, set()))
        if new_in == live_in:
            return Liveness(flags, live_in, outs, after)
        live_in = {c: live_in[c] | new_in[c] for c in COMPONENTS}


# --- reaching definitions (def-use edges across the loop) ----------------------------------------------

Def = tuple[str, int]  # (component, index) of the defining instruction
ENGINE = {S0: ("engine", "label"), V0: ("engine", "features")}  # pseudo-definitions by the engine


def reaching_definitions(program: Program) -> dict[str, dict[Reg, frozenset[Def]]]:
    """Definitions (component, index) of each register that may reach each component's entry.

    A register nobody wrote reads as zero and has no definitions; s0 and v0 at Predict and Learn entry
    are the engine's (`("engine", "label" | "features")`).
    """
    last = {c: _last_writers(program.component(c).instructions, c) for c in COMPONENTS}
    rd_in: dict[str, dict[Reg, frozenset]] = {c: {} for c in COMPONENTS}
    while True:
        changed = False
        for name in (PREDICT, LEARN):
            new = _merge(_rd_out(p, rd_in, last) for p in PREDECESSORS[name])
            for reg in RESET:
                new[reg] = frozenset({ENGINE[reg]})
            if new != rd_in[name]:
                rd_in[name], changed = new, True
        if not changed:
            return rd_in


def _last_writers(instrs, name: str) -> dict[Reg, Def]:
    last = {}
    for i, ins in enumerate(instrs):
        w = ins.writes()
        if w is not None:
            last[w] = (name, i)
    return last


def _rd_out(name, rd_in, last) -> dict[Reg, frozenset]:
    out = dict(rd_in[name])
    for reg, d in last[name].items():
        out[reg] = frozenset({d})
    return out


def _merge(maps) -> dict[Reg, frozenset]:
    merged: dict[Reg, frozenset] = {}
    for m in maps:
        for reg, defs in m.items():
            merged[reg] = merged.get(reg, frozenset()) | defs
    return merged


def def_use(program: Program) -> dict[tuple[str, int], dict[Reg, frozenset]]:
    """For every instruction, the definitions that may reach each register it reads."""
    rd_in = reaching_definitions(program)
    edges = {}
    for name in COMPONENTS:
        current = dict(rd_in[name])
        for i, ins in enumerate(program.component(name).instructions):
            edges[(name, i)] = {reg: current.get(reg, frozenset()) for reg in ins.reads()}
            w = ins.writes()
            if w is not None:
                current[w] = frozenset({(name, i)})
    return edges


def prediction_sources(program: Program) -> frozenset:
    """Definitions of s1 that the engine observes after Predict."""
    rd = reaching_definitions(program)
    out = _rd_out(PREDICT, rd, {c: _last_writers(program.component(c).instructions, c) for c in COMPONENTS})
    return out.get(S1, frozenset())


# --- dependency DAG inside one component -----------------------------------------------------------------


def dependencies(instrs: tuple[Instruction, ...]) -> list[frozenset[int]]:
    """Predecessors of each instruction that must stay before it: read/write, write/read and write/write
    hazards, plus the order of random draws (they share one stream)."""
    preds: list[frozenset[int]] = []
    for j, b in enumerate(instrs):
        bw, br, brand = b.writes(), set(b.reads()), draws_random(b)
        p = set()
        for i in range(j):
            a = instrs[i]
            aw = a.writes()
            if (aw is not None and (aw in br or aw == bw)) or (bw is not None and bw in a.reads()) or brand and draws_random(a):
                p.add(i)
        preds.append(frozenset(p))
    return preds
