"""Benchmark support: the reference's hand-built programs and demo-sized random programs."""

from __future__ import annotations

import numpy as np

from azlang.ir.nodes import Instruction as I
from azlang.ir.nodes import MemoryShape, Program, f32
from azlang.ir.ops import OPS

DEMO_SHAPE = MemoryShape(4, 3, 1)
BASELINE_SHAPE = MemoryShape(5, 9, 2)
DEMO_OPS = {"setup": (56, 27, 2, 3, 18, 23), "predict": (27,), "learn": (2, 3, 18, 23)}
DEMO_SIZES = {"setup": 10, "predict": 2, "learn": 8}


def linear_sgd(lr: float = 0.01) -> Program:
    """Semantics 4.1 linear model: s1 = v1 . v0, SGD on v1."""
    return Program.of(setup=[I(56, out=2, args=(lr,))], predict=[I(27, out=1, in1=1, in2=0)],
                      learn=[I(2, out=3, in1=0, in2=1), I(3, out=3, in1=2, in2=3), I(18, out=2, in1=3, in2=0),
                             I(23, out=1, in1=1, in2=2)])


def nn_2layer(lr: float = 0.01, sd: float = 0.1) -> Program:
    """Semantics 4.1 two-layer ReLU net with biases and backprop."""
    return Program.of(
        setup=[I(63, out=2, args=(0.0, f32(sd))), I(64, out=0, args=(0.0, f32(sd))), I(56, out=3, args=(lr,))],
        predict=[I(31, out=3, in1=0, in2=0), I(23, out=3, in1=3, in2=1), I(48, out=4, in1=3, in2=5),
                 I(27, out=1, in1=4, in2=2), I(1, out=1, in1=1, in2=2)],
        learn=[I(2, out=4, in1=0, in2=1), I(3, out=4, in1=3, in2=4), I(1, out=2, in1=2, in2=4),
               I(18, out=6, in1=4, in2=4), I(23, out=2, in1=2, in2=6), I(18, out=7, in1=4, in2=2),
               I(16, out=8, in1=3), I(25, out=7, in1=8, in2=7), I(23, out=1, in1=1, in2=7),
               I(28, out=1, in1=7, in2=0), I(39, out=0, in1=0, in2=1)])


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
