"""Train data in sequence order (NativeEvaluator.order_train, TASK_ORDERED) and FEC probe runs (OPT_PROBE):
the lockstep lanes read the copies instead of indexing through each task's sequence, and compute exactly the
same bits (fitness, train steps, errors, final memory, Rng) as without them; a probe run records the same
errors, steps and Rng and skips what no probe reads (fitness, final memory)."""

import ctypes

import numpy as np
import pytest
from native_support import cache_dir, label_task, quiet, same_bits  # noqa: F401  (autouse fixtures)
from test_native_lanes import lockstep_programs

from azlang.backends import native
from azlang.backends.native import abi, evaluator
from azlang.backends.native.lockstep import evaluate_lockstep
from azlang.evaluate import EvalOptions
from azlang.ir.nodes import MemoryShape
from azlang.rng import Rng
from azlang.tasks import synthetic

pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
W = abi.SOA_W


def _tasks(F: int, D: int, epochs: int):
    """D tasks of one shape over several epochs (later epochs reshuffled), regression and classification."""
    return [synthetic.linear(F, 9, 5, k, k + 1, epochs=epochs) if k % 2 else
            label_task(F, 9, 5, seed=k, epochs=epochs) for k in range(D)]


def assert_same(a, b, ra: Rng, rb: Rng, prog, probe: bool = False) -> None:
    assert ra.state == rb.state and a.train_steps.tolist() == b.train_steps.tolist(), prog
    if not probe:
        assert same_bits(a.fitness, b.fitness), prog
    for x, y in zip(a.tasks[0], b.tasks[0]):
        assert same_bits(x.train_errors, y.train_errors) and same_bits(x.valid_errors, y.valid_errors), prog
        for bank in () if probe else ("s", "v", "m"):
            assert same_bits(x.memory[bank], y.memory[bank]), (bank, prog)


def test_the_ordered_copy_holds_each_step_example_and_label():
    tasks = _tasks(4, 3, epochs=3)
    ev = native.NativeEvaluator(tasks, MemoryShape(4, 3, 1))
    assert not ev.table[:, abi.TASK_ORDERED].any()
    assert ev.order_train()
    made = ev.table[:, abi.TASK_ORDERED].copy()
    assert made.all() and ev.order_train() and (ev.table[:, abi.TASK_ORDERED] == made).all()  # made once
    for t, row in zip(tasks, ev.table):
        seq = t.train_sequence()
        n = len(seq)
        assert n == 3 * t.n_train and len(set(seq[:t.n_train])) == t.n_train
        buf = np.ctypeslib.as_array((ctypes.c_double * (n * (t.F + 1))).from_address(
            int(row[abi.TASK_ORDERED])))
        assert same_bits(buf[:n * t.F].reshape(n, t.F), t.train_x[seq])
        assert same_bits(buf[n * t.F:], t.train_y[seq])


@pytest.mark.parametrize("F,epochs", [(2, 3), (4, 1), (4, 2), (16, 2)])
def test_ordered_train_data_changes_no_bit(F, epochs):
    """Many random programs (many lanes stop early, some validations fail), padding lanes included."""
    shape = MemoryShape(5, 5, 2)
    tasks = _tasks(F, 2 * W + 3, epochs)
    plain, ordered = native.NativeEvaluator(tasks, shape), native.NativeEvaluator(tasks, shape)
    assert ordered.order_train()
    g = np.random.default_rng(F + 10 * epochs)
    stopped = 0
    for prog in lockstep_programs(g, shape, F, 120):
        for opts in (EvalOptions(record=True), EvalOptions(max_abs_error=1e300, max_train=7)):
            ra, rb = Rng(3), Rng(3)
            a = evaluate_lockstep(plain, prog, ra, opts)
            b = evaluate_lockstep(ordered, prog, rb, opts)
            if opts.record:
                assert_same(a, b, ra, rb, prog)
                stopped += int((a.train_steps < 9 * epochs).sum())  # lanes that stopped before the last step
            else:
                assert ra.state == rb.state and same_bits(a.fitness, b.fitness), prog
                assert a.train_steps.tolist() == b.train_steps.tolist()
    assert stopped >= 50


def test_order_train_stays_off_past_its_memory_limit(monkeypatch):
    monkeypatch.setattr(evaluator, "ORDERED_LIMIT", 100)
    ev = native.NativeEvaluator(_tasks(4, 3, 2), MemoryShape(4, 3, 1))
    assert not ev.order_train()
    assert not ev.table[:, abi.TASK_ORDERED].any()


@pytest.mark.parametrize("soa", [True, False])
def test_probe_runs_record_the_same_errors(soa):
    """OPT_PROBE (the FEC probes' option) leaves every recorded error, step count and the Rng as they were and
    only skips the fitness, which stays 0, and the lane groups' final memory."""
    shape = MemoryShape(5, 5, 2)
    tasks = _tasks(4, W + 2, 1)
    ev = native.NativeEvaluator(tasks, shape)
    g = np.random.default_rng(7)
    scored = 0
    for prog in lockstep_programs(g, shape, 4, 60):
        ra, rb = Rng(9), Rng(9)
        a = evaluate_lockstep(ev, prog, ra, EvalOptions(record=True), soa=soa)
        b = evaluate_lockstep(ev, prog, rb, EvalOptions(record=True), soa=soa, probe=True)
        assert_same(a, b, ra, rb, prog, probe=True)
        assert not b.fitness.any() and all((r.memory is None) == soa for r in b.tasks[0])
        scored += int((a.fitness > 0).sum())
    assert scored > 0


def test_the_lane_call_benchmark_runs(monkeypatch, capsys):
    """benchmarks/bench_lanes_call.py (probe and full calls through lockstep.lane_call) stays runnable."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_lanes_call.py"
    spec = importlib.util.spec_from_file_location("bench_lanes_call", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(sys, "argv", ["bench_lanes_call.py", "--calls", "16", "--repeats", "1"])
    bench.main()
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("|") and "ns/call" not in ln]
    assert len(rows) == len(bench.PROGRAMS) + 1  # the separator and one row per program
    assert all(float(x) > 0 for ln in rows[1:] for x in ln.strip("| ").split(" | ")[1:])
