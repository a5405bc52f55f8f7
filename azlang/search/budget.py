"""Search stage: the static compute-cost train budget (docs/semantics.md, section 10), from the op table's CU costs."""

from __future__ import annotations

import numpy as np

from azlang.ir.bytecode import Bytecode
from azlang.ir.ops import OPS

COSTS = np.array([o.cost for o in OPS], dtype=np.int64)


def costs(bc: Bytecode) -> tuple[int, int]:
    """(setup cost C_s, per-example cost C_t = predict + learn) in compute units."""
    ops = bc.code[:, 0]
    n_setup = bc.sizes[0]
    c_setup = int(COSTS[ops[:n_setup]].sum())
    c_train = int(COSTS[ops[n_setup:]].sum())
    return c_setup, c_train


class TrainBudget:
    """Allows an algorithm to train on a task's B = n_train * epochs examples iff
    C_s + B C_t <= factor (C_s_base + B C_t_base); otherwise it trains on 0 examples (fitness 0).

    The reference aborts when C_t = 0; here such a program is simply judged by the same inequality.
    """

    def __init__(self, baseline: Bytecode, factor: float):
        self.base_setup, self.base_train = costs(baseline)
        self.factor = float(factor)

    def allowed(self, bc: Bytecode, examples: int) -> int:
        """The budgeted number of training examples for a task offering `examples`."""
        c_setup, c_train = costs(bc)
        limit = self.factor * (self.base_setup + examples * self.base_train)
        return examples if c_setup + examples * c_train <= limit else 0
