"""Export: the PyTorch and JAX modules agree with the NumPy one (itself bit-identical to azlang) within float64
tolerance: every op alone, random programs of smooth ops, and the stdlib trained on data. Skipped without them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azlang import api, export
from azlang.ir.nodes import Index, Instruction, Program
from azlang.ir.ops import OPS
from azlang.resources import list_resources
from export_support import random_task
from strategies import programs

TARGETS = [pytest.param(t, marks=pytest.mark.skipif(not __import__("importlib.util").util.find_spec(t),
                                                      reason=f"{t} not installed")) for t in ("torch", "jax")]
RTOL, ATOL = 1e-9, 1e-12


def as_numpy(x):
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x, dtype=np.float64)


def close(a, b, rtol=RTOL, atol=ATOL) -> bool:
    a, b = as_numpy(a), as_numpy(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def both(program, target, task, seed=1, epochs=1, dce=True):
    ref = export.to_class(program, "numpy", dce=dce)(seed=seed, classification=task.eval_type == "accuracy")
    other = export.to_class(program, target, dce=dce)(seed=seed, classification=task.eval_type == "accuracy")
    for m in (ref, other):
        m.fit(task.train_x, task.train_y, epochs=epochs, data_seed=task.data_seed, eval_set=task.valid_x)
    return ref, other


# Inputs for one op: scalars s0 (0 in Predict: heaviside at 0), s3, vectors v0 (features, the first 0), v2,
# matrices m1, m2, all from the features.
LOAD = [Instruction(50, 2, 0), Instruction(21, 3, 0), Instruction(18, 2, 2, 0), Instruction(28, 1, 0, 2),
        Instruction(28, 2, 2, 0)]
INPUTS = {"s": (0, 3), "v": (0, 2), "m": (1, 2)}
OUT = {"s": 4, "v": 3, "m": 3}
ARGS = {56: (0.25,), 57: (Index(1, False), 0.5), 58: (Index(0.5, True), Index(2, False), -1.5),
        59: (-1.0, 2.0), 60: (0.5, 0.25), 61: (-1.0, 1.0), 62: (0.0, 2.0), 63: (1.0, 0.5), 64: (0.0, 1.0)}


def single_op_program(op) -> Program:
    ins = [INPUTS[k][i] for i, k in enumerate(op.ins)] + [0, 0]
    out = OUT[op.out] if op.out else 0
    return Program.of(predict=LOAD + [Instruction(op.id, out, ins[0], ins[1], ARGS.get(op.id, ()))])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("op", OPS, ids=lambda o: o.name)
def test_every_op_agrees(target, op):
    program = single_op_program(op)
    task = random_task(5, 3, 2, op.id)
    task.train_x[:, 0] = task.valid_x[:, 0] = 0.0
    ref, other = both(program, target, task, dce=False)  # the op's result is dead code: keep it
    a, b = ref.memory(), other.memory()
    assert set(a) == set(b) and (not op.out or f"{op.out}{OUT[op.out]}" in a)
    for name in a:
        assert close(a[name], b[name]), (name, a[name], b[name])


SMOOTH = [o for o in OPS if o.id in (1, 2, 3, 18, 19, 21, 23, 24, 25, 27, 28, 29, 31, 32, 33, 34, 35, 36, 37, 39, 40,
                                     41, 43, 50, 51, 52, 56, 57, 58, 62, 63, 64, 7, 8, 12)]


@pytest.mark.parametrize("target", TARGETS)
@settings(max_examples=12, deadline=None)
@given(program=programs(max_size=5, F=4, ops=SMOOTH, max_magnitude=2.0), seed=st.integers(0, 1000))
def test_random_smooth_programs_agree(target, program, seed):
    task = random_task(4, 5, 3, seed)
    ref, other = both(program, target, task, seed)
    assert close(ref.train_predictions_, other.train_predictions_, 1e-7, 1e-9)
    for p, q in zip(ref.eval_predictions_, other.eval_predictions_):
        assert close(p, q, 1e-7, 1e-9)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", [n.removesuffix(".az") for n in list_resources("stdlib")])
@pytest.mark.parametrize("classify", [False, True])
def test_stdlib_agrees(target, name, classify):
    task = random_task(6, 30, 12, 2, classify)
    ref, other = both(api.load(name), target, task, seed=4, epochs=2)
    assert close(ref.train_predictions_, other.train_predictions_)
    assert close(ref.decision_function(task.valid_x), other.decision_function(task.valid_x))
    assert close(ref.predict(task.valid_x), other.predict(task.valid_x))


@pytest.mark.skipif(not __import__("importlib.util").util.find_spec("jax"), reason="jax not installed")
def test_jax_fit_batch_equals_separate_fits():
    program = api.load("nn_2layer")
    tasks = [random_task(5, 20, 8, s) for s in (1, 2, 3)]
    cls = export.to_class(program, "jax")
    batch = cls(seed=7).fit_batch(np.stack([t.train_x for t in tasks]), np.stack([t.train_y for t in tasks]),
                                  seeds=[7, 8, 9])
    preds = batch.predict_batch(np.stack([t.valid_x for t in tasks]))
    for k, t in enumerate(tasks):
        single = export.to_class(program, "numpy")(seed=7 + k).fit(t.train_x, t.train_y)
        assert close(preds[k], single.decision_function(t.valid_x))
