"""Export stage: the JAX target: memory as a dict of float64 arrays threaded through pure component functions,
training as one `lax.scan` per epoch (jit-compiled), `fit_batch` over many tasks at once with `vmap`."""

from __future__ import annotations

from azlang.export.codegen import CLASS_HEAD, Target, index_expr, value_expr

FNS = {5: "jnp.abs", 7: "jnp.sin", 8: "jnp.cos", 9: "jnp.tan", 10: "jnp.arcsin", 11: "jnp.arccos",
       12: "jnp.arctan", 13: "jnp.exp", 14: "jnp.log", 22: "jnp.abs", 38: "jnp.abs"}

OPS = {
    1: "{a} + {b}", 2: "{a} - {b}", 3: "{a} * {b}", 4: "{a} / {b}", 6: "1.0 / {a}",
    **{k: f"{fn}({{a}})" for k, fn in FNS.items()},
    15: "jnp.where({a} >= 0.0, 1.0, 0.0)", 16: "jnp.where({a} > 0.0, 1.0, 0.0)",
    17: "jnp.where({a} > 0.0, 1.0, 0.0)",
    18: "{a} * {b}", 19: "jnp.full(({F},), {a})", 20: "1.0 / {a}", 21: "jnp.sqrt(jnp.sum({a} * {a}))",
    23: "{a} + {b}", 24: "{a} - {b}", 25: "{a} * {b}", 26: "{a} / {b}", 27: "jnp.dot({a}, {b})",
    28: "jnp.outer({a}, {b})", 29: "{a} * {b}", 30: "1.0 / {a}", 31: "{a} @ {b}",
    32: "jnp.broadcast_to({a}[:, None], ({F}, {F}))", 33: "jnp.broadcast_to({a}[None, :], ({F}, {F}))",
    34: "jnp.sqrt(jnp.sum({a} * {a}))", 35: "jnp.sqrt(jnp.sum({a} * {a}, 0))",
    36: "jnp.sqrt(jnp.sum({a} * {a}, 1))", 37: "{a}.T", 39: "{a} + {b}", 40: "{a} - {b}",
    41: "{a} * {b}", 42: "{a} / {b}", 43: "{a} @ {b}",
    44: "jnp.where({b} < {a}, {b}, {a})", 45: "jnp.where({a} < {b}, {a}, {b})",
    46: "jnp.where({a} < {b}, {a}, {b})", 47: "jnp.where({a} < {b}, {b}, {a})",
    48: "jnp.where({a} > {b}, {a}, {b})", 49: "jnp.where({a} > {b}, {a}, {b})",
    50: "jnp.sum({a}) / {a}.size", 51: "jnp.sum({a}) / {a}.size", 52: "jnp.sum({a}, 1) / {F}",
    53: "_row_std({a})", 54: "_std({a})", 55: "_std({a})",
}
SHAPES = {"s": "()", "v": "(F,)", "m": "(F, F)"}


def _random(ins, kind, values) -> str:
    fn = "_uniform" if ins.opdef.data_fields == ("low", "high") else "_gaussian"
    return f"{fn}(m, {values[0]}, {values[1]}, {SHAPES[kind]})"


TARGET = Target(
    name="jax",
    ops=OPS,
    reg=lambda kind, addr: f'm["{kind}{addr}"]',
    value=value_expr,
    index=index_expr,
    assign=lambda dst, expr, kind: f"{dst} = {expr}",
    index_set=lambda dst, idx, value: f"{dst} = {dst}.at[{', '.join(idx)}].set({value})",
    random=_random,
    const=lambda v: f"jnp.float64({v})",
    runtime=("runtime_jax", "runtime_py"),
)


def component_prelude(code: str, indent: str) -> list[str]:
    return [f"{indent}m = dict(m)"]


def component_epilogue(indent: str) -> list[str]:
    return [f"{indent}return m"]


HEADER = '''"""{title}

Exported by azlang (`azc export --to jax`) from {source}; depends only on JAX (and NumPy, which JAX
needs; 64-bit mode is switched on, as azlang computes in float64). The memory is a dict of arrays (scalars
0-d, vectors (F,), matrices (F, F)) plus the random stream's state `rng`, threaded through pure functions:
`setup(m)`, `predict_step(m)`, `learn_step(m)`; fit trains one jit-compiled `lax.scan` per epoch and
`fit_batch` many tasks at once (vmap). After fit the registers are attributes (model.v1, ...). Random ops
draw azlang's stream (SplitMix64) seeded by `seed`. Sums are XLA's, so results agree with azlang's within
float64 rounding, not bit for bit.
"""

import jax
import jax.numpy as jnp
import numpy as np  # only to round constants to float32 as azlang does (JAX depends on it)

jax.config.update("jax_enable_x64", True)
'''

CLASS = CLASS_HEAD + '''
    def init_memory(self, F, seed=None):
        """Zeroed memory for F features; `rng` is the random stream's state."""
        self.F = F
        m = {{"rng": jnp.uint64(self.seed if seed is None else seed)}}
{reset}
        return m

    def setup(self, m):
{setup}

    def predict_step(self, m):
{predict}

    def learn_step(self, m):
{learn}

    def _train(self, m, xy):
        x, y = xy
        m = self.predict_step(dict(m, v0=x, s0=jnp.float64(0.0)))
        if self.classification:
            m["s1"] = _sigmoid(m["s1"])
        return self.learn_step(dict(m, v0=x, s0=y)), m["s1"]

    def _predict(self, m, x):
        m = self.predict_step(dict(m, v0=x, s0=jnp.float64(0.0)))
        return m, m["s1"]

    def fit_memory(self, X, y, seed=None, epochs=1, data_seed=0):
        """Pure: the memory after Setup and training on (X, y), and the training predictions."""
        m = self.setup(self.init_memory(X.shape[-1], seed))
        preds = []
        for order in _epoch_orders(X.shape[0], epochs, data_seed):
            order = jnp.asarray(order)
            m, p = jax.lax.scan(self._train, m, (X[order], y[order]))
            preds.append(p)
        return m, jnp.concatenate(preds)

    def fit(self, X, y, epochs=1, data_seed=0, eval_set=None):
        """Setup once on zeroed memory, then Predict and Learn per example (epoch 0 in the given order, each
        later epoch a seeded shuffle of the previous); eval_set is predicted after every epoch, as azlang's
        validation does. Training predictions go to train_predictions_, eval passes to eval_predictions_."""
        X, y = jnp.asarray(X, dtype=jnp.float64), jnp.asarray(y, dtype=jnp.float64).reshape(-1)
        self._jit = None  # params and classification are read (and compiled in) from here on
        m = self.setup(self.init_memory(X.shape[1]))
        epoch = self._compiled("train")
        train, self.eval_predictions_ = [], []
        for order in _epoch_orders(len(y), epochs, data_seed):
            order = jnp.asarray(order)
            m, p = epoch(m, X[order], y[order])
            train.append(p)
            self._store(m)
            if eval_set is not None:
                self.eval_predictions_.append(self.decision_function(eval_set))
                m = self.memory_
        self.train_predictions_ = jnp.concatenate(train)
        self._store(m)
        return self

    def fit_batch(self, Xs, ys, seeds=None):
        """Fit one model per task at once (vmap): Xs (tasks, n, F), ys (tasks, n), one epoch each; seeds per
        task (default seed, seed + 1, ...). The memory gets a leading task axis; predict_batch uses it."""
        Xs, ys = jnp.asarray(Xs, dtype=jnp.float64), jnp.asarray(ys, dtype=jnp.float64)
        if seeds is None:
            seeds = [self.seed + i for i in range(Xs.shape[0])]
        seeds = jnp.asarray(seeds, dtype=jnp.uint64)
        self._jit = None
        m, p = jax.jit(jax.vmap(lambda X, y, s: self.fit_memory(X, y, s)))(Xs, ys, seeds)
        self.train_predictions_ = p
        self._store(m)
        return self

    def predict_batch(self, Xs):
        """s1 for each task's examples after fit_batch: (tasks, n)."""
        Xs = jnp.asarray(Xs, dtype=jnp.float64)
        m, p = jax.jit(jax.vmap(lambda m, X: jax.lax.scan(self._predict, m, X)))(self.memory_, Xs)
        self._store(m)
        return p

    def _store(self, m):
        self.memory_ = m
        for r in self.REGISTERS:
            setattr(self, r, m[r])

    def decision_function(self, X):
        """s1 after Predict, per example in order (memory carries over from one example to the next)."""
        X = jnp.asarray(X, dtype=jnp.float64)
        m, p = self._compiled("predict")(self.memory_, X)
        self._store(m)
        return p

    def _compiled(self, name):
        """jit-compiled scans over examples, made once per fit."""
        if getattr(self, "_jit", None) is None:
            self._jit = {{"train": jax.jit(lambda m, X, y: jax.lax.scan(self._train, m, (X, y))),
                         "predict": jax.jit(lambda m, X: jax.lax.scan(self._predict, m, X))}}
        return self._jit[name]

    def predict_proba(self, X):
        """Probability of class 1: sigmoid(s1)."""
        return _sigmoid(self.decision_function(X))

    def predict(self, X):
        """Regression: s1. Classification: 1.0 where sigmoid(s1) > 0.5 else 0.0."""
        if self.classification:
            return jnp.where(self.predict_proba(X) > 0.5, 1.0, 0.0)
        return self.decision_function(X)

    def memory(self):
        """The registers by name."""
        return {{r: self.memory_[r] for r in self.REGISTERS}}
'''


def reset_lines(regs) -> str:
    init = {"s": "jnp.float64(0.0)", "v": "jnp.zeros(F, dtype=jnp.float64)",
            "m": "jnp.zeros((F, F), dtype=jnp.float64)"}
    return "\n".join(f'        m["{k}{a}"] = {init[k]}' for k, a in regs)
