"""HashMix, the SplitMix64 stream, task specs, seeds and synthetic tasks (docs/semantics.md, sections 5 and 13)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azlang.errors import TaskSpecError
from azlang.rng import Rng, hash_mix
from azlang.tasks import synthetic
from azlang.tasks.build import build_collection, build_tasks
from azlang.tasks.spec import parse_spec


@pytest.mark.parametrize("a,b,expected", [
    (856572777, 0, 2254264047), (856572777, 1, 3162717911), (85652777, 1, 3709988732),
    (38272328, 1, 3417891082), (85652777, 12345, 1071675535), (38272328, 12345, 2571304823),
])
def test_hash_mix_vectors(a, b, expected):
    assert hash_mix(a, b) == expected


def test_hash_mix_chain_is_distinct():
    x, seen = 20, set()
    for _ in range(100):
        x = hash_mix(x, 20)
        seen.add(x)
    assert len(seen) == 100


def test_splitmix64_reference_outputs():
    # SplitMix64 seeded 0: the published first outputs of the algorithm
    r = Rng(0)
    assert [r.next_u64() for _ in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_array_draws_equal_scalar_draws():
    a, b = Rng(42), Rng(42)
    assert list(a.gaussian_array(0.5, 2.0, 7)) == [b.gaussian(0.5, 2.0) for _ in range(7)]
    assert list(a.uniform_array(-1.0, 3.0, 5)) == [b.uniform(-1.0, 3.0) for _ in range(5)]
    assert a.state == b.state


def test_uniform_is_open_and_empty_interval_draws_nothing():
    r = Rng(3)
    xs = r.uniform_array(0.0, 1e-300, 1000)
    assert ((xs > 0.0) & (xs < 1e-300)).all()
    before = r.state
    assert r.uniform(2.0, 1.0) == 2.0 and r.uniform(1.0, 1.0) == 1.0 and r.state == before


def test_gaussian_moments():
    xs = Rng(9).gaussian_array(1.0, 2.0, 200_000)
    assert abs(xs.mean() - 1.0) < 0.02 and abs(xs.std() - 2.0) < 0.02


def test_below_and_permutation():
    r = Rng(5)
    assert all(0 <= r.below(7) < 7 for _ in range(1000))
    p = Rng(5).permutation(50)
    assert sorted(p) == list(range(50)) and list(p) != list(range(50))
    assert list(Rng(5).permutation(50)) == list(p)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**64 - 1), st.lists(st.integers(0, 2**63 - 1) | st.integers(0, 2**32 + 5), max_size=40))
def test_below_array_draws_what_below_draws(seed, bounds):
    """Vectorised draws (32-bit halves of the 128-bit product) equal below() call by call, state included; a
    bound from 2**32 on goes call by call."""
    a, b = Rng(seed), Rng(seed)
    assert a.below_array(np.array(bounds, dtype=np.int64)).tolist() == [b.below(n) for n in bounds]
    assert a.state == b.state
    n = bounds[0] if bounds else 7
    assert a.below_array(n, 25).tolist() == [b.below(n) for _ in range(25)] and a.state == b.state


def test_shuffle_is_fisher_yates_with_below():
    items = np.arange(100) * 3
    r = Rng(11)
    expected = list(items)
    for i in range(99, 0, -1):
        j = r.below(i + 1)
        expected[i], expected[j] = expected[j], expected[i]
    s = Rng(11)
    assert s.shuffle(items).tolist() == expected
    assert s.state == r.state


def test_spec_parsing():
    s = parse_spec("linear:F4:D10:N1000:V50:S7")
    assert (s.dataset, s.F, s.D, s.N, s.V, s.S) == ("linear", 4, 10, 1000, 50, 7)
    c = parse_spec("cifar:3v5:F16")
    assert c.pair == (3, 5) and c.F == 16
    assert parse_spec("mnist:select:F16:D100").part == "select"
    assert parse_spec("cifar:3v5:F16:test").test


@pytest.mark.parametrize("text,message", [
    ("imagenet:F4", "unknown dataset"), ("linear:F4:Q3", "cannot read option"), ("cifar:F16", "needs a part"),
    ("cifar:3v3:F16", "two different classes"), ("linear:F0", "at least 1"), ("teacher:F2", "F >= 4"),
    ("linear:F4.5", "whole number"),
])
def test_bad_specs(text, message):
    with pytest.raises(TaskSpecError, match=message):
        parse_spec(text)


def test_dataset_specs_parse_but_are_not_available_without_a_builder(monkeypatch):
    from azlang.tasks import build

    monkeypatch.delitem(build.BUILDERS, "cifar", raising=False)
    with pytest.raises(TaskSpecError, match="not available"):
        build_tasks("cifar:3v5:F16")


def test_default_seeds_follow_the_reference_with_duplicates():
    seeds = parse_spec("linear:F4:D11").seeds()
    assert seeds[:2] == [(11001, 1001), (11012, 1012)]
    assert seeds[8] == (11004, 1004) and seeds[10] == (11006, 1006) == seeds[4]
    assert parse_spec("linear:F4:D3:S100:P5").seeds() == [(100, 5), (101, 6), (102, 7)]


def test_linear_tasks_are_deterministic_and_linear():
    a, b = build_tasks("linear:F4:D2"), build_tasks("linear:F4:D2")
    assert np.array_equal(a[0].train_x, b[0].train_x) and not np.array_equal(a[0].train_x, a[1].train_x)
    t = a[0]
    w, *_ = np.linalg.lstsq(t.train_x, t.train_y, rcond=None)
    assert np.allclose(t.train_x @ w, t.train_y) and np.allclose(t.valid_x @ w, t.valid_y)
    assert t.n_train == 100 and t.n_valid == 100 and t.F == 4


def test_affine_task_has_a_bias():
    t = build_tasks("affine:F4")[0]
    X = np.hstack([t.train_x, np.ones((t.n_train, 1))])
    coef, *_ = np.linalg.lstsq(X, t.train_y, rcond=None)
    assert np.allclose(X @ coef, t.train_y) and abs(coef[-1]) > 1e-6


def test_teacher_task_zeroes_rows_and_is_relu_net():
    W, u = synthetic.teacher_weights(8, 1001)
    assert (W[[0, 2]] == 0).all() and u[0] == u[2] == 0 and (W[1] != 0).all()
    t = build_tasks("teacher:F8:N50:V5")[0]
    assert np.allclose(np.maximum(t.train_x @ W.T, 0) @ u, t.train_y)


def test_collection_order_and_unit_tasks():
    tasks = build_collection(["zeros:F4", "ones:F4:acc", "increment:F4:N11:V9:I0.5"])
    assert [t.eval_type for t in tasks] == ["rms", "accuracy", "rms"]
    assert tasks[2].train_y[-1] == 5.0 and tasks[2].valid_y[-1] == 4.0
    assert math.isclose(tasks[1].train_x.mean(), 1.0)


def test_epochs_option_builds_shuffled_orders():
    t = build_tasks("linear:F4:E3:N20")[0]
    assert t.orders.shape == (3, 20) and list(t.orders[0]) == list(range(20))
    assert sorted(t.orders[2]) == list(range(20)) and list(t.orders[1]) != list(t.orders[2])


@pytest.mark.parametrize("seed", [1, 2**64 - 5, 939723201])
@pytest.mark.parametrize("mean,sd", [(0.0, 1.0), (-1.5, 0.25), (2.0, -3.0)])
def test_native_gaussian_fill_equals_the_python_draws(monkeypatch, seed, mean, sd):
    """Long fills go through native code; bit for bit (signed zeros too) and the same state after."""
    import azlang.rng as rng_module
    from azlang.backends.native import available

    if not available():
        pytest.skip("no native backend here")
    n = 3001
    fast = Rng(seed)
    x = fast.gaussian_array(mean, sd, n)
    assert not rng_module._NATIVE_BROKEN  # the native path really ran
    monkeypatch.setattr(rng_module, "_NATIVE_MIN", 10**12)
    monkeypatch.setattr(rng_module, "_NATIVE_LOADED", [])
    slow = Rng(seed)
    y = slow.gaussian_array(mean, sd, n)
    assert x.tobytes() == y.tobytes()
    assert fast.state == slow.state
    assert fast.next_u64() == slow.next_u64()
    s = Rng(seed)
    assert x[-1] == [s.gaussian(mean, sd) for _ in range(n)][-1]


@pytest.mark.parametrize("n", [0, 1, 4, 400, 2047])
def test_short_fills_once_the_native_loop_is_loaded_equal_the_python_draws(monkeypatch, n):
    """After a long fill loaded the native loop, task generation's short fills (validation sets, weights) use it
    too: bit for bit the Python draws, and the same state after."""
    import azlang.rng as rng_module
    from azlang.backends.native import available

    if not available():
        pytest.skip("no native backend here")
    Rng(5).gaussian_array(0.0, 1.0, rng_module._NATIVE_MIN)
    assert rng_module._NATIVE_LOADED and not rng_module._NATIVE_BROKEN
    calls = []
    real = rng_module._native_gaussians
    monkeypatch.setattr(rng_module, "_native_gaussians", lambda *a: calls.append(a) or real(*a))
    fast = Rng(17)
    x = fast.gaussian_array(-1.5, 0.25, n, short_native=True)
    assert len(calls) == (1 if n else 0)  # n = 0 draws nothing either way
    slow = Rng(17)
    y = slow.gaussian_array(-1.5, 0.25, n)  # the reference interpreter's fills: Python below _NATIVE_MIN
    assert len(calls) == (1 if n else 0) and x.dtype == y.dtype and x.tobytes() == y.tobytes()
    assert fast.state == slow.state


def test_task_generation_uses_the_loaded_native_loop_for_short_fills(monkeypatch):
    import azlang.rng as rng_module
    from azlang.backends.native import available
    from azlang.tasks import synthetic

    if not available():
        pytest.skip("no native backend here")
    Rng(5).gaussian_array(0.0, 1.0, rng_module._NATIVE_MIN)
    sizes = []
    real = rng_module._native_gaussians
    monkeypatch.setattr(rng_module, "_native_gaussians", lambda r, m, s, n: sizes.append(n) or real(r, m, s, n))
    fast = synthetic.teacher(4, 30, 20, 11, 12)
    assert sorted(sizes) == [4, 16, 80, 120]  # u, W, valid, train
    monkeypatch.setattr(rng_module, "_NATIVE_LOADED", [])
    slow = synthetic.teacher(4, 30, 20, 11, 12)
    assert len(sizes) == 4
    for name in ("train_x", "train_y", "valid_x", "valid_y"):
        assert getattr(fast, name).tobytes() == getattr(slow, name).tobytes()
