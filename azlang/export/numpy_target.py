"""Export stage: the NumPy target: scalars as Python floats (C-library math, as the interpreter), vectors and
matrices as float64 arrays with reductions added in index order, so predictions are bit-identical to azlang's."""

from __future__ import annotations

from azlang.export.codegen import CLASS_HEAD, OBJECT_STEPS, Target, index_expr, value_expr

SCALAR_FNS = {5: "abs", 7: "_sin", 8: "_cos", 9: "_tan", 10: "_arcsin", 11: "_arccos", 12: "_arctan", 13: "_exp",
              14: "_log"}

OPS = {
    1: "{a} + {b}", 2: "{a} - {b}", 3: "{a} * {b}", 4: "_div({a}, {b})", 6: "_div(1.0, {a})",
    **{k: f"{fn}({{a}})" for k, fn in SCALAR_FNS.items()},
    15: "1.0 if {a} >= 0.0 else 0.0", 16: "_heaviside({a})", 17: "_heaviside({a})",
    18: "{a} * {b}", 19: "np.full({F}, {a})", 20: "1.0 / {a}", 21: "_norm({a})", 22: "np.abs({a})",
    23: "{a} + {b}", 24: "{a} - {b}", 25: "{a} * {b}", 26: "{a} / {b}", 27: "_dot({a}, {b})",
    28: "np.outer({a}, {b})", 29: "{a} * {b}", 30: "1.0 / {a}", 31: "_matvec({a}, {b})",
    32: "np.repeat({a}[:, None], {F}, axis=1)", 33: "np.repeat({a}[None, :], {F}, axis=0)", 34: "_norm({a})",
    35: "np.sqrt(_seqsum_axis({a} * {a}, 0))", 36: "np.sqrt(_seqsum_axis({a} * {a}, 1))",
    37: "{a}.T.copy()", 38: "np.abs({a})", 39: "{a} + {b}", 40: "{a} - {b}", 41: "{a} * {b}", 42: "{a} / {b}",
    43: "_matmul({a}, {b})", 44: "_min({a}, {b})", 45: "np.where({a} < {b}, {a}, {b})",
    46: "np.where({a} < {b}, {a}, {b})", 47: "_max({a}, {b})", 48: "np.where({a} > {b}, {a}, {b})",
    49: "np.where({a} > {b}, {a}, {b})", 50: "_mean({a})", 51: "_mean({a})",
    52: "_seqsum_axis({a}, 1) / float({F})", 53: "_row_std({a})", 54: "_std({a})", 55: "_std({a})",
}
SHAPES = {"v": "F", "m": "(F, F)"}


def _random(ins, kind, values) -> str:
    fn = "uniform" if ins.opdef.data_fields == ("low", "high") else "gaussian"
    if kind == "s":
        return f"self.rng.{fn}({values[0]}, {values[1]})"
    return f"_{fn}_array(self.rng, {values[0]}, {values[1]}, {SHAPES[kind]})"


TARGET = Target(
    name="numpy",
    ops=OPS,
    reg=lambda kind, addr: f"self.{kind}{addr}",
    value=value_expr,
    index=index_expr,
    assign=lambda dst, expr, kind: f"{dst} = {expr}",
    index_set=lambda dst, idx, value: f"{dst}[{', '.join(idx)}] = {value}",
    random=_random,
    const=lambda v: v,
    runtime=("runtime_numpy", "runtime_py"),
)

HEADER = '''"""{title}

Exported by azlang (`azc export --to numpy`) from {source}; depends only on NumPy. Semantics
are azlang's, bit for bit: scalars are Python floats with the C library's math, vectors (F,) and matrices
(F, F) float64 arrays whose sums run in index order; memory starts at zero and persists; s0 is zeroed before
each Predict and holds the label during Learn; v0 holds the features. The registers are attributes
(model.v1, ...) after fit.
"""

import math

import numpy as np
'''

CLASS = CLASS_HEAD + OBJECT_STEPS + '''
    def fit(self, X, y, epochs=1, data_seed=0, eval_set=None):
        """Setup once on zeroed memory, then Predict and Learn per example (epoch 0 in the given order, each
        later epoch a seeded shuffle of the previous). eval_set: features predicted after every epoch, as
        azlang's validation does (Predict may change memory). Training predictions (s1 after each Predict) go to
        train_predictions_, those of each eval_set pass to eval_predictions_."""
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64).reshape(-1)
        self._reset(X.shape[1])
        self.train_predictions_, self.eval_predictions_ = [], []
        with np.errstate(all="ignore"):  # IEEE results (inf, NaN) are the semantics
            self.setup()
            for order in _epoch_orders(len(y), epochs, data_seed):
                for k in order:
                    self.train_predictions_.append(self._train(X[k], float(y[k])))
                if eval_set is not None:
                    self.eval_predictions_.append(self.decision_function(eval_set))
        return self

    def _train(self, x, y):
        self.v0, self.s0 = x.copy(), 0.0
        self.predict_step()
        if self.classification:
            self.s1 = _sigmoid(self.s1)
        s1 = self.s1
        self.v0, self.s0 = x.copy(), y
        self.learn_step()
        return s1

    def decision_function(self, X):
        """s1 after Predict, per example in order (memory carries over from one example to the next)."""
        out = []
        with np.errstate(all="ignore"):
            for x in np.asarray(X, dtype=np.float64):
                self.v0, self.s0 = x.copy(), 0.0
                self.predict_step()
                out.append(self.s1)
        return np.array(out, dtype=np.float64)

    def predict_proba(self, X):
        """Probability of class 1: sigmoid(s1)."""
        return np.array([_sigmoid(p) for p in self.decision_function(X)])

    def predict(self, X):
        """Regression: s1. Classification: 1.0 where sigmoid(s1) > 0.5 else 0.0."""
        if self.classification:
            return (self.predict_proba(X) > 0.5).astype(np.float64)
        return self.decision_function(X)

    def memory(self):
        """The registers by name (copies)."""
        return {{r: np.copy(getattr(self, r)) if not isinstance(getattr(self, r), float) else getattr(self, r)
                for r in self.REGISTERS}}

    def set_memory(self, memory):
        for r, value in memory.items():
            setattr(self, r, np.copy(value) if not isinstance(value, float) else value)
'''


def reset_lines(regs) -> str:
    out = []
    for kind, addr in regs:
        init = {"s": "0.0", "v": "np.zeros(F)", "m": "np.zeros((F, F))"}[kind]
        out.append(f"        self.{kind}{addr} = {init}")
    return "\n".join(out)
