"""Export: the NumPy module is bit-identical to the evaluator (random programs over all ops, and the stdlib)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azlang import api, export
from azlang.resources import list_resources
from export_support import random_task, reference, same_bits
from strategies import DEFAULT_SHAPE, programs

F = 4


def check_exact(program, task, seed, dce=True):
    """Training predictions, then (if training finished) validation errors and, without dce, all memory."""
    ref = reference(program, task, seed, program.required_memory().union(DEFAULT_SHAPE) if not dce else None)
    cls = export.to_class(program, "numpy", dce=dce)
    model = cls(seed=seed, classification=task.eval_type == "accuracy")
    model.fit(task.train_x, task.train_y, epochs=task.epochs, data_seed=task.data_seed, eval_set=task.valid_x)
    ys = task.train_y[task.train_sequence()]
    errs = np.abs(ys - np.array(model.train_predictions_))
    n = len(ref.train_errors)
    assert same_bits(errs[:n], ref.train_errors)
    if n < len(ys):  # the evaluator stopped at a NaN error
        assert np.isnan(errs[n])
        return
    p = np.concatenate(model.eval_predictions_)
    vy = np.tile(task.valid_y, task.epochs)
    if task.eval_type == "accuracy":
        with np.errstate(all="ignore"):
            q = 1.0 / (1.0 + np.exp(-p))
        errs = np.where(np.isnan(q), np.nan, ((vy > 0.5) != (q > 0.5)).astype(float))
    else:
        errs = np.abs(vy - p)
    bad = np.flatnonzero(np.isnan(errs))
    k = len(ref.valid_errors) if not len(bad) else min(bad[0], len(ref.valid_errors))
    assert same_bits(errs[:k], ref.valid_errors[:k])
    if len(bad):  # the evaluator ends a validation pass at a NaN prediction; the export predicts them all
        return
    if not dce:
        for name, value in model.memory().items():
            bank, addr = name[0], int(name[1:])
            assert same_bits(value, ref.memory[bank][addr]), name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(max_size=6, F=F), st.integers(0, 2**32), st.booleans(), st.booleans(), st.integers(1, 2))
def test_random_programs_bit_identical(program, seed, classify, dce, epochs):
    check_exact(program, random_task(F, 6, 4, seed % 1000, classify, epochs), seed, dce)


@settings(max_examples=60, deadline=None)
@given(programs(max_size=5, F=F, max_magnitude=3.0), st.integers(0, 2**16))
def test_random_programs_moderate_values(program, seed):
    check_exact(program, random_task(F, 8, 5, seed), seed, dce=False)


@pytest.mark.parametrize("name", [n.removesuffix(".az") for n in list_resources("stdlib")])
@pytest.mark.parametrize("classify", [False, True])
def test_stdlib_bit_identical(name, classify):
    program = api.load(name)
    check_exact(program, random_task(6, 40, 20, 3, classify, epochs=3), 5, dce=True)
    check_exact(program, random_task(6, 40, 20, 4, classify, epochs=2), 9, dce=False)


REDUCING = (1, 2, 3, 18, 19, 21, 23, 25, 27, 28, 31, 34, 35, 36, 43, 50, 51, 52, 53, 54, 55, 63, 64)


@settings(max_examples=60, deadline=None)
@given(programs(max_size=6, F=12, ops=[o for o in __import__("azlang.ir.ops").ir.ops.OPS if o.id in REDUCING],
                max_magnitude=10.0), st.integers(0, 2**16))
def test_reductions_sum_in_index_order(program, seed):
    """At F=12 NumPy's pairwise sums would differ in the last bits; the export must add in order."""
    check_exact(program, random_task(12, 6, 4, seed), seed, dce=False)
