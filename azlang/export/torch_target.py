"""Export stage: the PyTorch target: float64 tensors (scalars 0-d), torch's own reductions (so results agree
with azlang within float tolerance, not bit for bit), azlang's random stream for the random ops."""

from __future__ import annotations

from azlang.export.codegen import CLASS_HEAD, OBJECT_STEPS, Target, index_expr, value_expr

FNS = {5: "torch.abs", 7: "torch.sin", 8: "torch.cos", 9: "torch.tan", 10: "torch.asin", 11: "torch.acos",
       12: "torch.atan", 13: "torch.exp", 14: "torch.log", 22: "torch.abs", 38: "torch.abs"}

OPS = {
    1: "{a} + {b}", 2: "{a} - {b}", 3: "{a} * {b}", 4: "{a} / {b}", 6: "1.0 / {a}",
    **{k: f"{fn}({{a}})" for k, fn in FNS.items()},
    15: "({a} >= 0.0).double()", 16: "({a} > 0.0).double()", 17: "({a} > 0.0).double()",
    18: "{a} * {b}", 19: "{a}.expand({F}).clone()", 20: "1.0 / {a}", 21: "torch.sqrt(torch.sum({a} * {a}))",
    23: "{a} + {b}", 24: "{a} - {b}", 25: "{a} * {b}", 26: "{a} / {b}", 27: "torch.dot({a}, {b})",
    28: "torch.outer({a}, {b})", 29: "{a} * {b}", 30: "1.0 / {a}", 31: "torch.mv({a}, {b})",
    32: "{a}[:, None].expand({F}, {F}).clone()", 33: "{a}[None, :].expand({F}, {F}).clone()",
    34: "torch.sqrt(torch.sum({a} * {a}))", 35: "torch.sqrt(torch.sum({a} * {a}, 0))",
    36: "torch.sqrt(torch.sum({a} * {a}, 1))", 37: "{a}.T.clone()", 39: "{a} + {b}", 40: "{a} - {b}",
    41: "{a} * {b}", 42: "{a} / {b}", 43: "{a} @ {b}",
    44: "torch.where({b} < {a}, {b}, {a})", 45: "torch.where({a} < {b}, {a}, {b})",
    46: "torch.where({a} < {b}, {a}, {b})", 47: "torch.where({a} < {b}, {b}, {a})",
    48: "torch.where({a} > {b}, {a}, {b})", 49: "torch.where({a} > {b}, {a}, {b})",
    50: "torch.sum({a}) / {a}.numel()", 51: "torch.sum({a}) / {a}.numel()", 52: "torch.sum({a}, 1) / {F}",
    53: "_row_std({a})", 54: "_std({a})", 55: "_std({a})",
}
SHAPES = {"v": "(F,)", "m": "(F, F)"}


def _random(ins, kind, values) -> str:
    fn = "uniform" if ins.opdef.data_fields == ("low", "high") else "gaussian"
    if kind == "s":
        return f"_s(self.rng.{fn}({values[0]}, {values[1]}))"
    return f"_fill(self.rng, {fn!r}, {values[0]}, {values[1]}, {SHAPES[kind]})"


TARGET = Target(
    name="torch",
    ops=OPS,
    reg=lambda kind, addr: f"self.{kind}{addr}",
    value=value_expr,
    index=index_expr,
    assign=lambda dst, expr, kind: f"{dst} = {expr}",
    index_set=lambda dst, idx, value: f"{dst}[{', '.join(idx)}] = {value}",
    random=_random,
    const=lambda v: f"_s({v})",
    runtime=("runtime_torch", "runtime_py"),
)

HEADER = '''"""{title}

Exported by azlang (`azc export --to torch`) from {source}; depends only on PyTorch. Registers are float64
tensors (scalars 0-d, vectors (F,), matrices (F, F)), attributes of the model (model.v1, ...) after fit; memory
starts at zero and persists; s0 is zeroed before each Predict and holds the label during Learn; v0 holds the
features. Random ops draw from azlang's stream (SplitMix64) seeded by `seed`. Sums are torch's, so results agree
with azlang's within float64 rounding (about 1e-12 relative), not bit for bit.
"""

import math

import torch
'''

CLASS = CLASS_HEAD + OBJECT_STEPS + '''
    @torch.no_grad()
    def fit(self, X, y, epochs=1, data_seed=0, eval_set=None):
        """Setup once on zeroed memory, then Predict and Learn per example (epoch 0 in the given order, each
        later epoch a seeded shuffle of the previous); eval_set is predicted after every epoch, as azlang's
        validation does. Training predictions go to train_predictions_, eval passes to eval_predictions_."""
        X = torch.as_tensor(X, dtype=torch.float64)
        y = torch.as_tensor(y, dtype=torch.float64).reshape(-1)
        self._reset(X.shape[1])
        train, self.eval_predictions_ = [], []
        self.setup()
        for order in _epoch_orders(len(y), epochs, data_seed):
            for k in order:
                train.append(self._train(X[k], y[k]))
            if eval_set is not None:
                self.eval_predictions_.append(self.decision_function(eval_set))
        self.train_predictions_ = torch.stack(train) if train else torch.zeros(0, dtype=torch.float64)
        return self

    def _train(self, x, y):
        self.v0, self.s0 = x.clone(), _s(0.0)
        self.predict_step()
        if self.classification:
            self.s1 = _sigmoid(self.s1)
        s1 = self.s1
        self.v0, self.s0 = x.clone(), y.clone()
        self.learn_step()
        return s1

    @torch.no_grad()
    def decision_function(self, X):
        """s1 after Predict, per example in order (memory carries over from one example to the next)."""
        out = []
        for x in torch.as_tensor(X, dtype=torch.float64):
            self.v0, self.s0 = x.clone(), _s(0.0)
            self.predict_step()
            out.append(self.s1)
        return torch.stack(out) if out else torch.zeros(0, dtype=torch.float64)

    def predict_proba(self, X):
        """Probability of class 1: sigmoid(s1)."""
        return _sigmoid(self.decision_function(X))

    def predict(self, X):
        """Regression: s1. Classification: 1.0 where sigmoid(s1) > 0.5 else 0.0."""
        if self.classification:
            return (self.predict_proba(X) > 0.5).double()
        return self.decision_function(X)

    def memory(self):
        """The registers by name (copies)."""
        return {{r: getattr(self, r).clone() for r in self.REGISTERS}}
'''


def reset_lines(regs) -> str:
    init = {"s": "_s(0.0)", "v": "torch.zeros(F, dtype=torch.float64)",
            "m": "torch.zeros((F, F), dtype=torch.float64)"}
    return "\n".join(f"        self.{k}{a} = {init[k]}" for k, a in regs)
