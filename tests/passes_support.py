"""Test support for the pass tests: small tasks, exact fitness comparison, renaming and reordering."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from functools import lru_cache

from hypothesis import strategies as st
from strategies import programs

from azlang.evaluate import EvalOptions, evaluate
from azlang.ir.analysis import RESERVED, dependencies
from azlang.ir.nodes import COMPONENTS, MemoryShape, Program
from azlang.ir.ops import OPS
from azlang.rng import Rng
from azlang.tasks.build import build_collection

SHAPE = MemoryShape(S=6, V=4, M=2)
NO_RANDOM = tuple(o for o in OPS if not o.is_random)
# Regression and classification, two F, so that sigmoid-in-memory and F-dependent indices are exercised.
TASK_SPECS = ("linear:F4:N6:V5", "teacher:F4:N6:V5", "ones:F4:N6:V4:acc", "linear:F2:N5:V4:E2")
RECORD = EvalOptions(max_abs_error=1e6, record=True)


@lru_cache(maxsize=1)
def tasks():
    return build_collection(list(TASK_SPECS))


def random_programs(max_size=6, random_ops=False):
    ops = None if random_ops else NO_RANDOM
    return programs(max_size=max_size, shape=SHAPE, F=2, with_params=False, ops=ops, max_magnitude=3.0)


def trace(program: Program, seed: int = 7):
    """Fitness and every recorded error of every task, NaN-aware, for exact comparison."""
    ev = evaluate(program, tasks(), Rng(seed), None, RECORD)
    key = lambda xs: tuple("nan" if math.isnan(x) else x for x in (xs or ()))
    return (ev.fitness if not math.isnan(ev.fitness) else "nan",
            tuple((t.fitness, t.train_steps, key(t.train_errors), key(t.valid_errors)) for t in ev.tasks))


def rename(program: Program, seed: int) -> Program:
    """The same program with its non-reserved registers permuted within each bank of SHAPE."""
    r = random.Random(seed)
    maps = {}
    for kind in "svm":
        free = [a for a in range(SHAPE.size(kind)) if (kind, a) not in RESERVED]
        maps[kind] = dict(zip(free, r.sample(free, len(free))))
    mapped = lambda kind, a: a if (kind, a) in RESERVED else maps[kind][a]
    for c in COMPONENTS:
        out = []
        for ins in program.component(c):
            od = ins.opdef
            regs = [mapped(k, a) for k, a in zip(od.ins, (ins.in1, ins.in2))] + [0, 0]
            o = mapped(od.out, ins.out) if od.out else 0
            out.append(replace(ins, out=o, in1=regs[0], in2=regs[1]))
        program = program.with_component(c, out)
    return program


def reorder(program: Program, seed: int) -> Program:
    """The same program with independent instructions shuffled (a random topological order)."""
    r = random.Random(seed)
    for c in COMPONENTS:
        instrs = program.component(c).instructions
        preds = [set(p) for p in dependencies(instrs)]
        done, order = set(), []
        while len(order) < len(instrs):
            ready = [i for i in range(len(instrs)) if i not in done and preds[i] <= done]
            i = r.choice(ready)
            done.add(i)
            order.append(i)
        program = program.with_component(c, [instrs[i] for i in order])
    return program


seeds = st.integers(0, 2**31)


def native_evaluate():
    """The native backend's evaluate when it is available here, else None."""
    try:
        from azlang.backends import native
    except ImportError:
        return None
    return native.evaluate if native.available() else None


def native_fitness(evaluate_fn, program: Program, seed: int = 7):
    ev = evaluate_fn(program, tasks(), Rng(seed), SHAPE, EvalOptions(max_abs_error=1e6))
    return tuple("nan" if math.isnan(t.fitness) else t.fitness for t in ev.tasks)
