"""Lockstep evaluation (lanes.py): all tasks in one call give bit-identical results to the NumPy reference,
and the native search loop that uses it stays identical to the Python loop."""

import numpy as np
import pytest
from native_support import cache_dir, diff_task, label_task, quiet, random_program, reference_batch, same_bits  # noqa: F401  (autouse fixtures)

from azlang.backends import native
from azlang.evaluate import EvalOptions
from azlang.ir.bytecode import to_bytecode
from azlang.ir.nodes import MemoryShape
from azlang.ir.ops import OPS
from azlang.rng import Rng
from azlang.tasks import synthetic

pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
RANDOM_OPS = {o.id for o in OPS if o.is_random}
PLAIN_OPS = [o.id for o in OPS if not o.is_random]
COUNTS = {"programs": 0, "lanes died": 0}


def lockstep_programs(g, shape, F, n, sizes=(5, 4, 5)):
    """Random programs whose predict and learn hold no random op; every other setup draws (fills first)."""
    out = []
    while len(out) < n:
        if len(out) % 2:
            p = random_program(g, shape, sizes=sizes, F_min=F, seed_fills=0, ops=PLAIN_OPS)
        else:
            p = random_program(g, shape, sizes=sizes, F_min=F)
        if not any(ins.op in RANDOM_OPS for comp, _, ins in p.instructions() if comp != "setup"):
            out.append(p)
    return out


def assert_lockstep_matches(programs, tasks, shape, opts, seed=11, soa=True):
    """Each program on all tasks in lockstep against the reference, one random stream through all (soa: in
    lane groups, as the search runs it, or lane by lane)."""
    from azlang.backends.native.lockstep import evaluate_lockstep

    ref, ref_state = reference_batch(programs, tasks, shape, seed, opts)
    ev, rng = native.NativeEvaluator(tasks, shape), Rng(seed)
    for p, (prog, r) in enumerate(zip(programs, ref)):
        res = evaluate_lockstep(ev, prog, rng, opts, soa=soa)
        assert res.train_steps[0].tolist() == [t.train_steps for t in r.tasks]
        assert same_bits([t.fitness for t in r.tasks], res.fitness[0])
        for k, (a, b) in enumerate(zip(r.tasks, res.tasks[0] if opts.record else [])):
            d = diff_task(a, b)
            assert d is None, f"program {p} task {k}: {d}\n{prog}"
        full = [t.n_train * t.epochs if opts.max_train is None else min(opts.max_train, t.n_train * t.epochs)
                for t in tasks]
        COUNTS["lanes died"] += sum(t.train_steps < n for t, n in zip(r.tasks, full))
    COUNTS["programs"] += len(programs)
    assert rng.state == ref_state


@pytest.mark.parametrize("F,shape", [(4, MemoryShape(4, 3, 1)), (16, MemoryShape(5, 9, 2)), (3, MemoryShape(5, 5, 3))])
@pytest.mark.parametrize("soa", [True, False])
def test_random_programs_in_lockstep_match_reference(F, shape, soa):
    """Regression and classification lanes side by side; many lanes stop early (NaN, errors over the limit)."""
    g = np.random.default_rng(F)
    tasks = [synthetic.linear(F, 12, 6, 1, 2), label_task(F, 12, 6, seed=F), synthetic.linear(F, 12, 6, 3, 4),
             label_task(F, 12, 6, seed=F + 1, classify=False)]
    programs = lockstep_programs(g, shape, F, 80)
    assert_lockstep_matches(programs[:40], tasks, shape, EvalOptions(record=True), soa=soa)
    assert_lockstep_matches(programs[40:], tasks, shape, EvalOptions(max_abs_error=1e300, record=True), soa=soa)


@pytest.mark.parametrize("opts", [EvalOptions(max_train=5, max_valid=3, record=True),
                                  EvalOptions(max_train=0, record=True), EvalOptions(max_valid=0, record=True),
                                  EvalOptions(max_train=25, record=True), EvalOptions(max_abs_error=0.5)])
def test_probe_budgets_and_epochs_in_lockstep(opts):
    shape, g = MemoryShape(4, 3, 1), np.random.default_rng(4)
    tasks = [synthetic.linear(4, 10, 10, s, s, epochs=3) for s in (1, 2)] + [label_task(4, 10, 10, 3, epochs=3)]
    assert_lockstep_matches(lockstep_programs(g, shape, 4, 40), tasks, shape, opts)


def test_learning_programs_in_lockstep():
    from azlang.api import load
    from azlang.tools.tune import with_values

    shape = MemoryShape(5, 9, 2)
    progs = [with_values(load("linear_sgd"), {"lr": 0.01}), with_values(load("nn_2layer"), {"lr": 0.003})]
    tasks = [synthetic.teacher(16, 200, 50, s, s) for s in (1, 2, 3)]
    assert_lockstep_matches(progs, tasks, shape, EvalOptions(record=True))


def test_lockstep_refuses_random_predict_and_mixed_tasks():
    from azlang.backends.native.lockstep import evaluate_lockstep
    from azlang.ir.nodes import Instruction, Program

    shape = MemoryShape(4, 3, 1)
    rand = Program.of([], [Instruction(59, 1, 0, 0, (-1.0, 1.0))], [])
    ev = native.NativeEvaluator([synthetic.linear(4, 5, 5, 1, 1)] * 2, shape)
    with pytest.raises(ValueError, match="random op"):
        evaluate_lockstep(ev, rand, Rng(1))
    mixed = native.NativeEvaluator([synthetic.linear(4, 5, 5, 1, 1), synthetic.linear(4, 6, 5, 1, 1)], shape)
    with pytest.raises(ValueError, match="differ"):
        evaluate_lockstep(mixed, to_bytecode(Program.of([], [], [])), Rng(1))


def test_count_of_compared_programs():
    """Runs last in this file: the tests above compared hundreds of programs, many with lanes stopping early."""
    assert COUNTS["programs"] >= 300 and COUNTS["lanes died"] >= 100, COUNTS


# --- the native search loop with lockstep evaluation against the Python loop ------------------------------

UNIFORM_TASKS = ("linear:F4:D3:N20:V10", "teacher:F4:D1:N20:V10")


def _lane_calls(nat) -> int:
    return nat.native.ctx["LANE_CALLS"]


@pytest.mark.parametrize("fec", [True, False])
@pytest.mark.parametrize("budget", [True, False])
def test_search_loop_in_lockstep_identical(fec, budget):
    from test_search_native_loop import assert_same, rich, run_both

    cfg = rich(**{"tasks.search": UNIFORM_TASKS, "fec.enabled": fec, "budget.enabled": budget,
                  "budget.baseline": "linear", "budget.threshold_factor": 3.0})
    py, nat = run_both(cfg, 60)
    assert_same(py, nat)
    assert _lane_calls(nat) > 0


@pytest.mark.parametrize("fec", [True, False])
def test_search_loop_on_one_task_identical(fec):
    """One search task: every probe and full evaluation a stage computes ahead runs through the task's kernel
    function (no lockstep call), with the Python loop's results; random setups draw from the search Rng."""
    from test_search_native_loop import assert_same, rich, run_both

    cfg = rich(**{"tasks.search": ("linear:F4:D1:N20:V10",), "fec.enabled": fec})
    py, nat = run_both(cfg, 60)
    assert_same(py, nat)
    assert _lane_calls(nat) == 0 and nat.native.ctx["LANES"] == 1


def test_search_loop_hurdle_stages_of_one_task_identical():
    """Two tasks behind a hurdle after the first: each stage probes and evaluates one task alone."""
    from test_search_native_loop import assert_same, rich, run_both

    cfg = rich(**{"tasks.search": ("linear:F4:D2:N20:V10",), "hurdles.enabled": True, "hurdles.task_fraction": 0.5,
                  "hurdles.update_every": 7})
    py, nat = run_both(cfg, 30)
    assert_same(py, nat)
    assert 0 < py.state.hurdle.passed < py.state.hurdle.tested
    assert _lane_calls(nat) == 0


def test_search_loop_in_lockstep_hurdles_median_classification_identical():
    from test_search_native_loop import assert_same, rich, run_both

    cfg = rich(**{"tasks.search": ("ones:F4:acc:D2:N20:V10", "linear:F4:D2:N20:V10"), "hurdles.enabled": True,
                  "hurdles.task_fraction": 0.5, "hurdles.update_every": 7, "tasks.combination": "median",
                  "fec.forget_every": 0})
    py, nat = run_both(cfg, 20)
    assert_same(py, nat)
    assert 0 < py.state.hurdle.passed < py.state.hurdle.tested
    assert _lane_calls(nat) > 0


def test_search_loop_mixed_shapes_runs_one_task_at_a_time():
    from test_search_native_loop import assert_same, rich, run_both

    py, nat = run_both(rich(), 2)  # tasks of two sizes: no lockstep
    assert_same(py, nat)
    assert nat.native.ctx["LANES"] == 0 and _lane_calls(nat) == 0


def test_long_batches_run_in_lockstep_and_match_reference(monkeypatch):
    """evaluate_batch takes the lockstep path for long evaluations on tasks of one shape: same results."""
    from azlang.backends.native import lockstep

    monkeypatch.setattr(lockstep, "LONG", 300)  # keep the reference side short
    calls = []
    real = lockstep.evaluate_lockstep
    monkeypatch.setattr(lockstep, "evaluate_lockstep", lambda *a, **k: calls.append(1) or real(*a, **k))
    shape, g = MemoryShape(4, 3, 1), np.random.default_rng(8)
    tasks = [synthetic.linear(4, 60, 20, s, s, epochs=2) for s in (1, 2, 3)]
    programs = lockstep_programs(g, shape, 4, 30)
    ref, ref_state = reference_batch(programs, tasks, shape, 3, EvalOptions())
    rng = Rng(3)
    res = native.NativeEvaluator(tasks, shape).evaluate_batch(programs, rng)
    assert len(calls) == len(programs)
    assert same_bits([[t.fitness for t in r.tasks] for r in ref], res.fitness)
    assert res.train_steps.tolist() == [[t.train_steps for t in r.tasks] for r in ref]
    assert rng.state == ref_state
