"""Pass stage: decoupling: literal constants and values computed from constants alone become named params.

Steps:
1. fold (exact): scalar computations on constants become literals;
2. every scalar that Setup computes from random draws or vector/matrix arithmetic and hands to the
   loop (live at Setup's exit) becomes `sK = <param>` whose default is its expected value, estimated by
   running Setup `samples` times at feature size F (the mean; the median where the mean is not finite).
   This step changes the program's meaning on purpose: a random value becomes its expectation;
3. dce, then every remaining literal (OP56 values, OP57/58 values, uniform bounds, gaussian mean and sd;
   not indices) becomes a param with its current value, so this step is exact. Zeros stay literals: a
   multiplicative tuner cannot move them, and a zero mean or bias is structure rather than a knob.
Param names say where the constant lives: `setup_s2`, `learn_s4`, `setup_v2_sd`; clashes get `_2`, `_3`.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from azlang.backends import numpy_interp as interp
from azlang.ir.analysis import SETUP, liveness, reg_name
from azlang.ir.nodes import COMPONENTS, Instruction, Param, ParamRef, Program
from azlang.ir.ops import SCALAR
from azlang.passes import PassOptions, register
from azlang.passes.dce import eliminate
from azlang.passes.fold import CONST_OP, constants, fold_constants
from azlang.rng import Rng


class _Names:
    """Fresh, readable param names that avoid the program's own."""

    def __init__(self, program: Program):
        self.used = {p.name for p in program.params}

    def fresh(self, base: str) -> str:
        name, k = base, 2
        while name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name


def computed_setup_scalars(program: Program) -> dict[int, int]:
    """Setup positions -> scalar register of the last writes that the loop reads and folding cannot fix."""
    live_out = liveness(program).live_out[SETUP]
    known = constants(program)[SETUP]
    last: dict[int, int] = {}
    for i, ins in enumerate(program.setup.instructions):
        w = ins.writes()
        if w is not None and w[0] == SCALAR:
            last[w[1]] = i
    return {i: reg for reg, i in last.items() if (SCALAR, reg) in live_out and known[i] is None
            and program.setup.instructions[i].op != CONST_OP}


def expected_scalars(program: Program, regs: list[int], F: int, samples: int, seed: int) -> dict[int, float]:
    """Expected value of each scalar register at Setup's exit, by running Setup `samples` times."""
    shape, rng = program.required_memory(), Rng(seed)
    draws = np.empty((samples, len(regs)))
    for k in range(samples):
        low = interp.lower(program, shape, F)
        low.rng_box[0] = rng
        interp.run_component(low.setup)
        draws[k] = [low.memory.s[r] for r in regs]
    out = {}
    for j, reg in enumerate(regs):
        column = draws[:, j]
        if np.all(column == column[0]):  # deterministic: take it as is (a mean could round it)
            out[reg] = float(column[0])
            continue
        with np.errstate(all="ignore"):
            mean = float(np.mean(column))
        out[reg] = mean if math.isfinite(mean) else float(np.median(column))
    return out


def _replace_computed(program: Program, options: PassOptions, names: _Names) -> Program:
    targets = computed_setup_scalars(program)
    values = expected_scalars(program, sorted(set(targets.values())), options.F, options.samples, options.seed)
    instrs, params = list(program.setup.instructions), list(program.params)
    for i, reg in sorted(targets.items()):
        if not math.isfinite(values[reg]):
            continue
        name = names.fresh(f"setup_s{reg}")
        params.append(Param(name, values[reg]))
        old = instrs[i]
        instrs[i] = replace(old, op=CONST_OP, out=reg, in1=0, in2=0, args=(ParamRef(name),))
    return replace(program.with_component(SETUP, instrs), params=tuple(params))


def _literal_name(component: str, ins: Instruction, field: str) -> str:
    base = f"{component}_{reg_name(ins.writes())}"
    return base if ins.op == CONST_OP else f"{base}_{field}"


def _decouple_literals(program: Program, names: _Names) -> Program:
    params, live = list(program.params), liveness(program).live
    for c in COMPONENTS:
        instrs = list(program.component(c).instructions)
        for i, ins in enumerate(instrs):
            if not live[c][i]:
                continue  # a dead draw kept for the random stream: its constants are no knob
            args = list(ins.args)
            for k, (field, value) in enumerate(zip(ins.opdef.data_fields, ins.args)):
                if isinstance(value, float) and value != 0.0:
                    name = names.fresh(_literal_name(c, ins, field))
                    params.append(Param(name, _shortest(value, ins.opdef.float32_data)))
                    args[k] = ParamRef(name)
            instrs[i] = replace(ins, args=tuple(args))
        program = program.with_component(c, instrs)
    return replace(program, params=tuple(params))


def _shortest(value: float, float32: bool) -> float:
    """A float32 field's value as its shortest decimal (0.1, not 0.10000000149011612): the param reads
    back through float32 to the very same constant, so the program's meaning is unchanged."""
    return float(str(np.float32(value))) if float32 else value


# A task spec in a comment, `linear:F4:D10` or `cifar:search:F16`: its F option is the feature size.
_SPEC_F = re.compile(r"\b[a-z]\w*(?::[\w.]+)*?:F(\d+)\b")


def _features_in(texts) -> set[int]:
    return {int(m.group(1)) for text in texts for m in _SPEC_F.finditer(text)}


def evolved_features(source: str, path: Path | None = None) -> int | None:
    """The F a program was evolved at, when its files say so unambiguously: task specs in the comments at the
    top of the file (`# evolved on cifar:search:F16`), else the search tasks of the run directory it was
    written to (`config.toml` beside it). None when unknown or when they name several sizes."""
    head = []
    for line in source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break
        head.append(line)
    found = _features_in(head)
    if not found and path is not None:
        found = _features_from_run(Path(path).parent / "config.toml")
    return found.pop() if len(found) == 1 else None


def _features_from_run(config: Path) -> set[int]:
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    try:
        tasks = tomllib.loads(config.read_text(encoding="utf-8")).get("tasks", {}).get("search", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return _features_in(str(t) for t in tasks) if isinstance(tasks, list) else set()


def decouple_program(program: Program, options: PassOptions | None = None) -> Program:
    options = options or PassOptions()
    names = _Names(program)
    program = fold_constants(program)
    program = _replace_computed(program, options, names)
    program = eliminate(program, options.random_policy)
    return _decouple_literals(program, names)


@register("decouple", "turn constants and constant-derived values into named params", exact=False)
def decouple(program: Program, options: PassOptions) -> Program:
    return decouple_program(program, options)
