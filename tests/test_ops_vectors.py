"""The reference's deterministic op test vectors (docs/ops.md; docs/semantics.md, section 2), NumPy interpreter."""

import math

import numpy as np
import pytest

from azlang.backends.numpy_interp import Memory, execute
from azlang.ir.nodes import Index, Instruction, MemoryShape, Program
from azlang.ir.ops import op
from azlang.rng import Rng

F = 4
SHAPE = MemoryShape(3, 3, 3)
PI = 3.14159265359
E = 2.71828182846


def run_op(name, a=None, b=None, args=()):
    """The reference fixture: in1 = 1, in2 = 0, out = 1 (outputs overwrite an input)."""
    od = op(name)
    mem = Memory(SHAPE, F)
    for addr, kind, value in ((1, od.ins[0] if od.ins else None, a), (0, od.ins[1] if od.arity > 1 else None, b)):
        if kind is not None:
            getattr(mem, kind)[addr] = value
    ins = Instruction(od.id, out=1, in1=1 if od.arity else 0, in2=0, args=args)
    res = execute(Program.of(setup=[ins]), SHAPE, F, Rng(1), "setup", mem)
    return getattr(res, od.out)[1]


@pytest.mark.parametrize("name,a,b,expected", [
    ("SCALAR_SUM", 0.5, 2.0, 2.5), ("SCALAR_DIFF", -0.2, 2.3, -2.5), ("SCALAR_PRODUCT", -0.2, 2.3, -0.46),
    ("SCALAR_DIVISION", 8.8, -2.0, -4.4), ("SCALAR_DIVISION", 1.0, 0.0, math.inf),
    ("SCALAR_DIVISION", -1.0, 0.0, -math.inf),
    ("SCALAR_MIN", 0.5, 2.2, 0.5), ("SCALAR_MIN", 2.2, 0.5, 0.5), ("SCALAR_MIN", -2.2, -0.5, -2.2),
    ("SCALAR_MIN", 2.2, -0.5, -0.5), ("SCALAR_MAX", 0.5, 2.2, 2.2), ("SCALAR_MAX", 2.2, 0.5, 2.2),
    ("SCALAR_MAX", -2.2, -0.5, -0.5), ("SCALAR_MAX", 0.5, -2.2, 0.5),
])
def test_scalar_binary(name, a, b, expected):
    assert run_op(name, a, b) == pytest.approx(expected, rel=1e-12)


def test_scalar_division_zero_by_zero_is_nan():
    assert math.isnan(run_op("SCALAR_DIVISION", 0.0, 0.0))


def test_scalar_min_max_nan_rules():
    nan = math.nan
    assert run_op("SCALAR_MIN", 1.0, nan) == 1.0 and math.isnan(run_op("SCALAR_MIN", nan, 1.0))
    assert run_op("SCALAR_MAX", 1.0, nan) == 1.0 and math.isnan(run_op("SCALAR_MAX", nan, 1.0))


@pytest.mark.parametrize("name,inputs,expected", [
    ("SCALAR_ABS", (2.5, -2.5), (2.5, 2.5)),
    ("SCALAR_HEAVYSIDE", (-2.5, -0.5, 0.5, 2.5, 0.0, math.nan), (0, 0, 1, 1, 1, 0)),
    ("SCALAR_SIN", (0, PI / 6, PI / 2, 3 * PI / 2), (0, 0.5, 1, -1)),
    ("SCALAR_COS", (0, PI / 3, PI / 2, PI), (1, 0.5, 0, -1)),
    ("SCALAR_TAN", (0, PI / 4, 3 * PI / 4, 5 * PI / 4), (0, 1, -1, 1)),
    ("SCALAR_ARCSIN", (0, 0.5, 1, -1), (0, PI / 6, PI / 2, -PI / 2)),
    ("SCALAR_ARCCOS", (1, 0.5, 0, -1), (0, PI / 3, PI / 2, PI)),
    ("SCALAR_ARCTAN", (0, 1, -1, 1e9, -1e9), (0, PI / 4, -PI / 4, PI / 2, -PI / 2)),
    ("SCALAR_EXP", (0, 1), (1, E)),
    ("SCALAR_LOG", (1, E, 0), (0, 1, -math.inf)),
    ("SCALAR_RECIPROCAL", (4.0, 0.0), (0.25, math.inf)),
])
def test_scalar_unary(name, inputs, expected):
    for x, want in zip(inputs, expected):
        assert run_op(name, float(x)) == pytest.approx(want, abs=1e-4)


def test_ieee_edge_cases_of_unary_scalars():
    assert math.isnan(run_op("SCALAR_LOG", -0.1))
    assert math.isnan(run_op("SCALAR_ARCSIN", 1.5)) and math.isnan(run_op("SCALAR_ARCCOS", -1.5))
    assert run_op("SCALAR_EXP", 1000.0) == math.inf
    assert run_op("SCALAR_TAN", PI / 2 - 1e-9) > 1e6 and run_op("SCALAR_TAN", PI / 2 + 1e-9) < -1e6
    assert math.isnan(run_op("SCALAR_SIN", math.inf))


A = np.array([0.1, -0.1, 1.2, -10.0])
B = np.array([2.3, -0.3, 0.5, -0.001])


@pytest.mark.parametrize("name,a,b,expected", [
    ("VECTOR_SUM", A, B, [2.4, -0.4, 1.7, -10.001]),
    ("VECTOR_DIFF", A, B, [-2.2, 0.2, 0.7, -9.999]),
    ("VECTOR_PRODUCT", A, B, [0.23, 0.03, 0.6, 0.01]),
    ("VECTOR_DIVISION", [7, -18.18, 1, 0], [2, 3, 0.5, -0.5], [3.5, -6.06, 2, 0]),
    ("VECTOR_MIN", [0.5, 2.2, -2.2, 2.2], [2.2, 0.5, -0.5, -0.5], [0.5, 0.5, -2.2, -0.5]),
    ("VECTOR_MAX", [0.5, 2.2, -2.2, 0.5], [2.2, 0.5, -0.5, -2.2], [2.2, 2.2, -0.5, 0.5]),
])
def test_vector_binary(name, a, b, expected):
    np.testing.assert_allclose(run_op(name, np.array(a, float), np.array(b, float)), expected, atol=1e-4)


def test_vector_division_ieee():
    got = run_op("VECTOR_DIVISION", np.array([0.0, 1.0, -1.0, 2.0]), np.array([0.0, 0.0, 0.0, 4.0]))
    assert math.isnan(got[0]) and got[1] == math.inf and got[2] == -math.inf and got[3] == 0.5


def test_vector_unary_and_reductions():
    np.testing.assert_allclose(run_op("VECTOR_ABS", np.array([0.5, 0, -2.2, 100.5])), [0.5, 0, 2.2, 100.5])
    np.testing.assert_array_equal(run_op("VECTOR_HEAVYSIDE", np.array([-0.01, 0.001, 1.3, -0.001])), [0, 1, 1, 0])
    np.testing.assert_array_equal(run_op("VECTOR_HEAVYSIDE", np.array([0.0, -0.0, np.nan, 1])), [0, 0, 0, 1])
    got = run_op("SCALAR_VECTOR_PRODUCT", -0.2, B)
    np.testing.assert_allclose(got, [-0.46, 0.06, -0.1, 0.0002], atol=1e-12)
    assert run_op("VECTOR_INNER_PRODUCT", np.array([-0.01, 0, 1.3, -0.001]), B) == pytest.approx(0.627001)
    assert run_op("VECTOR_NORM", np.array([2.2, -0.5, 0, 0.01])) == pytest.approx(2.25612499654)
    assert run_op("VECTOR_MEAN", np.array([-0.01, -0.2, 1.3, -0.001])) == pytest.approx(0.27225)
    assert run_op("VECTOR_ST_DEV", np.array([2.2, -0.5, 0, 0.01])) == pytest.approx(1.04391989635)
    np.testing.assert_array_equal(run_op("SCALAR_BROADCAST", -1.5), [-1.5] * 4)


def test_outer_and_matvec():
    outer = run_op("VECTOR_OUTER_PRODUCT", A, B)
    np.testing.assert_allclose(outer[0], [0.23, -0.03, 0.05, -0.0001], atol=1e-12)
    np.testing.assert_allclose(outer[3], [-23, 3, -5, 0.01], atol=1e-12)
    m = np.array([[-0.2, 1, 0.03, 0], [0, 0.8, -0.01, 0], [2, 0, 2, 5], [-0.001, -0.1, 2.5, -3.2]])
    got = run_op("MATRIX_VECTOR_PRODUCT", m, np.array([0.1, -2.2, 10, 0]))
    np.testing.assert_allclose(got, [-1.92, -1.86, 20.2, 25.2199], atol=1e-9)


NORM_M = np.array([[0, 0.5, -0.5, -2.2], [2.2, -0.5, 0.5, -2.2], [22, 5, -5, -22], [0.22, 0.05, -0.05, -0.22]])
STATS_A = np.array([[0.1, 2.5, -0.5, -2.2], [10.3, -0.06, 0.7, -2.1], [22, 5, -5, -22], [0.4, 19.05, -0.05, -0.22]])
MAT_B = np.array([[10, 2, -0.5, 0.003], [10.3, 0.06, -7.3, -8], [-28, 0.076, 3, -32], [0.4, -2, 0.08, -0.7]])


def test_matrix_ops():
    assert run_op("MATRIX_NORM", NORM_M) == pytest.approx(32.149989113528484, rel=1e-12)
    assert run_op("MATRIX_MEAN", STATS_A) == pytest.approx(1.745)
    assert run_op("MATRIX_ST_DEV", STATS_A) == pytest.approx(9.5352523563878488, rel=1e-10)
    np.testing.assert_allclose(run_op("MATRIX_ROW_MEAN", STATS_A), [-0.025, 2.21, 0, 4.795], atol=1e-12)
    np.testing.assert_allclose(run_op("MATRIX_ROW_ST_DEV", STATS_A),
                               [1.68430252627, 4.78166289067, 15.9530561335, 8.23324510749], rtol=1e-9)
    np.testing.assert_allclose(run_op("MATRIX_MATRIX_PRODUCT", STATS_A, MAT_B), [
        [39.87, 4.712, -19.976, -2.4597], [81.942, 24.8496, -2.78, -20.4191],
        [402.7, 87.92, -64.26, 135.466], [201.527, 2.3792, -139.4326, -150.6448]], atol=1e-9)
    np.testing.assert_array_equal(run_op("MATRIX_TRANSPOSE", NORM_M), NORM_M.T)
    np.testing.assert_allclose(run_op("MATRIX_COLUMN_NORM", NORM_M), np.linalg.norm(NORM_M, axis=0))
    np.testing.assert_allclose(run_op("MATRIX_ROW_NORM", NORM_M), np.linalg.norm(NORM_M, axis=1))
    zero_row = NORM_M.copy()
    assert run_op("MATRIX_HEAVYSIDE", zero_row)[0, 0] == 0.0


def test_broadcasts_follow_numpy_axes():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    col = run_op("VECTOR_COLUMN_BROADCAST", v)
    row = run_op("VECTOR_ROW_BROADCAST", v)
    assert (col[:, 2] == v).all() and (row[2, :] == v).all()


def test_const_sets_change_one_element():
    got = run_op("VECTOR_CONST_SET", args=(Index((2 + 0.5) / 4, True), -1.5))
    np.testing.assert_array_equal(got, [0, 0, -1.5, 0])
    got = run_op("MATRIX_CONST_SET", args=(Index(2.5 / 4, True), Index(1.5 / 4, True), -1.5))
    want = np.zeros((4, 4))
    want[2, 1] = -1.5
    np.testing.assert_array_equal(got, want)
    assert run_op("SCALAR_CONST_SET", args=(0.25,)) == 0.25


def test_index_mapping_round_trips():
    for i, F_ in [(0, 4), (1, 4), (2, 4), (3, 4), (11, 16)]:
        assert Index(float(np.float32((i + 0.5) / F_)), True).resolve(F_) == i
    assert Index(0.501, True).resolve(16) == 8 and Index(0.501, True).resolve(8) == 4


def test_std_of_constant_vector_can_be_nan_not_clamped():
    # E[x^2] - E[x]^2 with no clamping: rounding may make the radicand negative (NaN) or leave it >= 0
    v = np.full(4, 0.1)
    got = run_op("VECTOR_ST_DEV", v)
    radicand = np.cumsum(v * v)[-1] / 4 - (np.cumsum(v)[-1] / 4) ** 2
    assert (math.isnan(got) if radicand < 0 else got == math.sqrt(radicand))


def test_random_sets_draw_inside_bounds_and_uniform_lo_ge_hi_is_lo():
    u = run_op("VECTOR_UNIFORM_SET", args=(-2.5, -2.0))
    assert ((u > -2.5) & (u < -2.0)).all() and len(set(u)) == 4
    np.testing.assert_array_equal(run_op("VECTOR_UNIFORM_SET", args=(0.5, 0.5)), [0.5] * 4)
    assert run_op("SCALAR_UNIFORM_SET", args=(0.7, -0.3)) == 0.7
    assert run_op("SCALAR_GAUSSIAN_SET", args=(3.0, 0.0)) == 3.0
    m = run_op("MATRIX_GAUSSIAN_SET", args=(0.0, 0.1))
    assert m.shape == (4, 4) and len(np.unique(m)) == 16


def test_matrix_elementwise_and_nan_rules():
    a, b = STATS_A, MAT_B
    np.testing.assert_array_equal(run_op("MATRIX_SUM", a, b), a + b)
    np.testing.assert_array_equal(run_op("MATRIX_DIFF", a, b), a - b)
    np.testing.assert_array_equal(run_op("MATRIX_PRODUCT", a, b), a * b)
    np.testing.assert_array_equal(run_op("MATRIX_DIVISION", a, b), a / b)
    np.testing.assert_array_equal(run_op("MATRIX_ABS", a), np.abs(a))
    np.testing.assert_array_equal(run_op("SCALAR_MATRIX_PRODUCT", 2.0, b), 2.0 * b)
    np.testing.assert_array_equal(run_op("MATRIX_RECIPROCAL", b), 1.0 / b)
    np.testing.assert_array_equal(run_op("VECTOR_RECIPROCAL", B), 1.0 / B)
    nan_a = a.copy()
    nan_a[0, 0] = np.nan
    assert run_op("MATRIX_MIN", nan_a, b)[0, 0] == b[0, 0]  # (a < b) ? a : b takes b on NaN
    assert run_op("MATRIX_MAX", nan_a, b)[0, 0] == b[0, 0]
