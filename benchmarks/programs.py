"""Benchmark support: the reference's hand-built programs (the stdlib's) and demo-sized random programs."""

from __future__ import annotations

import numpy as np

from azlang.ir.nodes import Instruction as I
from azlang.api import load
from azlang.ir.nodes import MemoryShape, Program
from azlang.ir.ops import OPS
from azlang.tools.tune import with_values

DEMO_SHAPE = MemoryShape(4, 3, 1)
BASELINE_SHAPE = MemoryShape(5, 9, 2)
DEMO_OPS = {"setup": (56, 27, 2, 3, 18, 23), "predict": (27,), "learn": (2, 3, 18, 23)}
DEMO_SIZES = {"setup": 10, "predict": 2, "learn": 8}


def linear_sgd(lr: float = 0.01) -> Program:
    """The built-in linear model (docs/semantics.md, section 6; stdlib/linear_sgd.az): s1 = v1 . v0, SGD on v1."""
    return with_values(load("linear_sgd"), {"lr": lr})


def nn_2layer(lr: float = 0.01, sd: float = 0.1) -> Program:
    """The built-in two-layer ReLU net with biases and backprop (docs/semantics.md, section 6; stdlib/nn_2layer.az)."""
    return with_values(load("nn_2layer"), {"lr": lr, "init_sd_out": sd, "init_sd_hidden": sd})


def _random_instruction(g: np.random.Generator, op: int, shape: MemoryShape) -> I:
    od = OPS[op]
    lo = {"s": 1, "v": 1, "m": 0}  # the reference never writes s0 or v0 in random instructions
    out = int(g.integers(lo[od.out], shape.size(od.out))) if od.out else 0
    ins = [int(g.integers(0, shape.size(k))) for k in od.ins] + [0, 0]
    args = (float(g.uniform(-1.0, 1.0)),) if op == 56 else ()
    return I(op, out, ins[0], ins[1], args)


def demo_random(g: np.random.Generator, shape: MemoryShape = DEMO_SHAPE) -> Program:
    """A random program of the demo's sizes and op sets."""
    comps = {name: [_random_instruction(g, int(g.choice(DEMO_OPS[name])), shape) for _ in range(n)]
             for name, n in DEMO_SIZES.items()}
    return Program.of(comps["setup"], comps["predict"], comps["learn"])
