"""Lockstep in struct-of-arrays lane groups (lanes_simd.py): bit-identical to the NumPy reference and to the
lane-by-lane lockstep (lanes.py) for every op, at F in {2, 4, 16}, on task counts that leave padding lanes,
with lanes stopping and validations failing mid-run; the native search loop on groups equals the Python loop."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from native_support import cache_dir, label_task, quiet, same_bits  # noqa: F401  (autouse fixtures)
from strategies import programs as program_strategy
from test_native_lanes import PLAIN_OPS, assert_lockstep_matches, lockstep_programs

from azlang.backends import native
from azlang.backends.native import abi
from azlang.evaluate import EvalOptions
from azlang.ir.nodes import Instruction, MemoryShape, Program
from azlang.ir.ops import NUM_OPS, OPS
from azlang.rng import Rng
from azlang.tasks import synthetic
from azlang.tasks.task import Task

pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
W = abi.SOA_W


def test_every_op_has_a_group_lowering_or_a_declared_fallback():
    from azlang.backends.native.lowering_simd import SOA, SOA_FALLBACK

    assert set(SOA) | set(SOA_FALLBACK) == set(range(NUM_OPS))
    assert not set(SOA) & set(SOA_FALLBACK)
    # a fallback op never reaches the group interpreter: lockstep refuses it in predict and learn, and a
    # setup holding one runs lane by lane on the one-task interpreter
    assert all(OPS[i].is_random for i in SOA_FALLBACK)
    assert W >= 2 and W & (W - 1) == 0  # groups split lanes with shifts and masks


def _mixed_tasks(F: int, D: int, n_train: int = 12, n_valid: int = 6):
    """D tasks of one shape, regression and classification alternating (D not a multiple of W: padding)."""
    return [synthetic.linear(F, n_train, n_valid, k, k + 1) if k % 2 else label_task(F, n_train, n_valid, seed=k)
            for k in range(D)]


@pytest.mark.parametrize("F,shape,D", [(2, MemoryShape(4, 3, 2), W + 1), (4, MemoryShape(4, 3, 1), 2 * W + 1),
                                       (16, MemoryShape(5, 9, 2), W + 2)])
def test_groups_with_padding_lanes_match_reference(F, shape, D):
    assert D % W
    g = np.random.default_rng(100 + F)
    programs = lockstep_programs(g, shape, F, 40)
    tasks = _mixed_tasks(F, D)
    assert_lockstep_matches(programs[:20], tasks, shape, EvalOptions(record=True), soa=True)
    assert_lockstep_matches(programs[20:], tasks, shape, EvalOptions(max_abs_error=1e300, record=True), soa=True)


@pytest.mark.parametrize("F", [2, 4, 16])
def test_groups_equal_lane_by_lane_on_many_programs(F):
    """Cheaper than the reference, so many more programs: both lockstep layouts give the same bits, records
    and final memory, and many lanes stop early."""
    from azlang.backends.native.lockstep import evaluate_lockstep

    shape = MemoryShape(5, 5, 2)
    g = np.random.default_rng(F)
    D = 2 * W + 3
    tasks = _mixed_tasks(F, D, 10, 5)
    ev = native.NativeEvaluator(tasks, shape)
    stopped = 0
    for prog in lockstep_programs(g, shape, F, 150):
        ra, rb = Rng(5), Rng(5)
        a = evaluate_lockstep(ev, prog, ra, EvalOptions(record=True), soa=True)
        b = evaluate_lockstep(ev, prog, rb, EvalOptions(record=True), soa=False)
        assert ra.state == rb.state and a.train_steps.tolist() == b.train_steps.tolist()
        assert same_bits(a.fitness, b.fitness), prog
        for x, y in zip(a.tasks[0], b.tasks[0]):
            assert same_bits(x.train_errors, y.train_errors) and same_bits(x.valid_errors, y.valid_errors)
            for bank in ("s", "v", "m"):
                assert same_bits(x.memory[bank], y.memory[bank]), (bank, prog)
        stopped += int((a.train_steps < 10).sum())
    assert stopped >= 100


@pytest.mark.parametrize("limit", [float("nan"), -1.0, -0.0, 0.0, 5e-324, 0.5, 1.0, 100.0, float("inf")])
def test_groups_stop_where_lane_by_lane_stops_for_any_error_limit(limit):
    """Lane groups test an error against the limit as integer bits (lane_groups.bad); lane by lane compares floats.
    Both stop the same lanes at the same steps for any limit: NaN (only NaN errors fail), negative and zero (every
    error fails, or every nonzero one), the smallest subnormal, 0.5 and 1.0 (classification errors are 0 or 1:
    equal to the limit is not beyond it), and inf. The last task's labels are 0 and the last program predicts 0:
    errors of exactly +0.0, beyond a limit of -0.0 for neither."""
    from azlang.backends.native.lockstep import evaluate_lockstep
    from azlang.syntax import parse

    shape, F = MemoryShape(4, 3, 1), 4
    zero = synthetic.linear(F, 10, 5, 1, 2)
    zero = Task("zeros", zero.train_x, 0.0 * zero.train_y, zero.valid_x, 0.0 * zero.valid_y)
    tasks = _mixed_tasks(F, 2 * W, 10, 5) + [zero]
    ev = native.NativeEvaluator(tasks, shape)
    steps = []
    silent = parse("def Setup():\n  s2 = 0.5\ndef Predict():\ndef Learn():\n")
    for prog in lockstep_programs(np.random.default_rng(7), shape, F, 25) + [silent]:
        opts = EvalOptions(max_abs_error=limit, record=True)
        a = evaluate_lockstep(ev, prog, Rng(5), opts, soa=True)
        b = evaluate_lockstep(ev, prog, Rng(5), opts, soa=False)
        assert a.train_steps.tolist() == b.train_steps.tolist() and same_bits(a.fitness, b.fitness), prog
        for x, y in zip(a.tasks[0], b.tasks[0]):
            assert same_bits(x.train_errors, y.train_errors) and same_bits(x.valid_errors, y.valid_errors)
        steps += a.train_steps.tolist()[0]
    if limit > 0.5:  # errors beyond the limit stop some lanes early, others train to the end
        assert min(steps) < 10
    if math.isnan(limit) or limit > 0.5 or limit == 0:
        assert max(steps) == 10


def test_failed_validation_leaves_the_lane_untouched_until_training_resumes():
    """A lane whose validation fails skips the remaining predictions of that validation (lanes.py never runs
    them); its group runs on, so the lane's memory is kept and put back. Predict counts its runs in s2."""
    F, shape = 4, MemoryShape(4, 3, 1)
    prog = Program.of([Instruction(56, 3, 0, 0, (1.0,))],
                      [Instruction(27, 1, 0, 0), Instruction(1, 2, 2, 3)],  # s1 = dot(v0, v0); s2 = s2 + s3
                      [Instruction(2, 3, 3, 3), Instruction(56, 3, 0, 0, (1.0,))])  # learn rewrites s3
    g = np.random.default_rng(3)
    tasks = []
    for k in range(W + 1):
        x, vx = g.normal(0, 0.1, (8, F)), g.normal(0, 0.1, (6, F))
        if k % 2 == 0:
            vx[k % 5] = 30.0  # dot = 3600 > 100: this lane's validation fails at example k % 5, every epoch
        tasks.append(Task(f"t{k}", x, np.zeros(8), vx, np.zeros(6), "rms", epochs=3))
    assert_lockstep_matches([prog], tasks, shape, EvalOptions(record=True), soa=True)
    from azlang.backends.native.lockstep import evaluate_lockstep

    res = evaluate_lockstep(native.NativeEvaluator(tasks, shape), prog, Rng(1), EvalOptions(record=True), soa=True)
    counts = [t.memory["s"][2] for t in res.tasks[0]]
    assert counts[1] == 3 * (8 + 6) and counts[0] == 3 * (8 + 1)  # every predict counted, and only those


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program_strategy(max_size=6, F=4, shape=MemoryShape(4, 4, 2), with_params=False,
                        ops=[o for o in OPS if o.id in PLAIN_OPS]),
       st.integers(1, 2 * W + 1), st.integers(0, 2**16))
def test_groups_match_reference_on_generated_programs(program, D, seed):
    tasks = [label_task(4, 7, 4, seed + k, epochs=2, classify=bool(k % 3)) for k in range(D)]
    assert_lockstep_matches([program], tasks, MemoryShape(4, 4, 2), EvalOptions(record=True), seed=seed, soa=True)


@pytest.mark.parametrize("fec", [True, False])
def test_search_loop_on_padded_groups_identical(fec):
    from test_search_native_loop import assert_same, rich, run_both

    cfg = rich(**{"tasks.search": ("ones:F4:acc:D2:N20:V10", "linear:F4:D3:N20:V10"), "fec.enabled": fec})
    py, nat = run_both(cfg, 40)
    assert_same(py, nat)
    assert nat.native.ctx["LANE_CALLS"] > 0
