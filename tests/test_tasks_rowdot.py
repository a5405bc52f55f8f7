"""Synthetic task labels: the column-at-a-time sequential dot product is bit-identical to the cumsum formula."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azlang.tasks import synthetic
from azlang.tasks.build import build_tasks

SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, -1e308, 5e-324, -5e-324, 1.0, -1.0]


def cumsum_rowdot(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The formula the labels were defined by: the last column of the row-wise running sum of x * w."""
    return np.cumsum(x * w[None, :], axis=1)[:, -1]


@pytest.fixture(autouse=True)
def quiet_floating_point():
    """inf, NaN and overflow are the point of these inputs, not warnings."""
    with np.errstate(all="ignore"):
        yield


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


floats = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from(SPECIAL)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 9), st.integers(0, 40), st.data())
def test_rowdot_matches_cumsum_bit_for_bit(F, n, data):
    x = np.array(data.draw(st.lists(floats, min_size=n * F, max_size=n * F)), dtype=np.float64).reshape(n, F)
    w = np.array(data.draw(st.lists(floats, min_size=F, max_size=F)), dtype=np.float64)
    assert same_bits(synthetic._rowdot(x, w), cumsum_rowdot(x, w))


@pytest.mark.parametrize("F", [1, 2, 4, 16])
def test_rowdot_matches_cumsum_on_gaussian_and_special_values(F):
    rng = np.random.default_rng(F)
    x = rng.standard_normal((500, F)) * 10.0 ** rng.integers(-300, 300, (500, F))
    x.flat[rng.integers(0, x.size, 60)] = rng.choice(SPECIAL, 60)
    w = rng.standard_normal(F)
    assert same_bits(synthetic._rowdot(x, w), cumsum_rowdot(x, w))
    w[0] = -0.0  # products of -0.0 and signed zeros: the first column decides the sign of an all-zero row
    x[:7, :] = -0.0
    assert same_bits(synthetic._rowdot(x, w), cumsum_rowdot(x, w))


@pytest.mark.parametrize("spec", ["linear:F4:D3:N1000:V100", "affine:F8:D2:N50:V7", "teacher:F4:D2:N60:V9"])
def test_task_labels_equal_the_cumsum_definition(spec):
    """Whole tasks: labels rebuilt from the features and weights with the cumsum formula, bit for bit."""
    for t in build_tasks(spec):
        if spec.startswith("teacher"):
            W, u = synthetic.teacher_weights(t.F, t.param_seed)
            expect = [cumsum_rowdot(np.where(h > 0.0, h, 0.0), u) for h in
                      (np.cumsum(x[:, None, :] * W[None, :, :], axis=2)[:, :, -1] for x in (t.train_x, t.valid_x))]
        else:
            w = synthetic._rng(t.param_seed, synthetic.LINEAR_PARAM).gaussian_array(0.0, 1.0, t.F, short_native=True)
            a = synthetic._rng(t.param_seed, synthetic.LINEAR_PARAM)
            a.gaussian_array(0.0, 1.0, t.F, short_native=True)
            bias = a.gaussian(0.0, 1.0) if spec.startswith("affine") else 0.0
            expect = [cumsum_rowdot(x, w) + bias for x in (t.train_x, t.valid_x)]
        assert same_bits(np.asarray(t.train_y), expect[0]) and same_bits(np.asarray(t.valid_y), expect[1])


def test_linear_task_arrays_start_on_cache_lines_so_the_native_evaluator_uses_them_in_place():
    from azlang.backends.native import available

    if not available():
        pytest.skip("no native backend here (features come from the Python fill)")
    from azlang.backends.native.evaluator import line_aligned

    for t in build_tasks("linear:F4:D5:N1000:V100") + build_tasks("affine:F3:D2:N3000:V7"):
        for a in (t.train_x, t.train_y, t.valid_x, t.valid_y):
            assert a.ctypes.data % 64 == 0 and a.flags.c_contiguous and line_aligned(a) is a
