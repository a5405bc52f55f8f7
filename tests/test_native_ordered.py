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


def test_the_grouped_copy_stays_out_past_the_memory_limit(monkeypatch):
    """Room for the ordered copies only: they are made, the interleaved ones are not (and lanes read rows)."""
    tasks = _tasks(4, W + 1, 2)
    need = sum(len(t.train_sequence()) * (t.F + 1) * 8 for t in tasks)
    monkeypatch.setattr(evaluator, "ORDERED_LIMIT", need)
    ev = native.NativeEvaluator(tasks, MemoryShape(4, 3, 1))
    assert ev.order_train()
    assert ev.table[:, abi.TASK_ORDERED].all() and not ev.table[:, abi.TASK_GROUPED].any()
    monkeypatch.setattr(evaluator, "ORDERED_LIMIT", 4 * need)
    ev = native.NativeEvaluator(tasks, MemoryShape(4, 3, 1))
    assert ev.order_train() and ev.table[:, abi.TASK_GROUPED].all()


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


def test_the_built_in_program_benchmark_gives_the_interpreters_bits(monkeypatch, capsys):
    """benchmarks/bench_specialized.py stays runnable, and its lanes functions with the program built into the code
    (op sequence only, or registers and constants as immediates too) give the interpreter's results bit for bit."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_specialized.py"
    spec = importlib.util.spec_from_file_location("bench_specialized", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(sys, "argv", ["bench_specialized.py", "--rounds", "1", "--no-write"])
    bench.main()
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ") and "(ns)" not in ln]
    assert len(rows) == 2 * len(bench.PROGRAMS)  # printed as measured, then in the table
    assert all(ln.endswith("| yes |") for ln in rows)


def _streams(ev, k: int):
    """Task k's interleaved group copy: train features (n, F, W), train labels (n, W), valid ones alike."""
    t = ev.tasks[k]
    n, nv, F = len(t.train_sequence()), t.n_valid, t.F
    buf = np.ctypeslib.as_array((ctypes.c_double * ((n + nv) * (F + 1) * W)).from_address(
        int(ev.table[k, abi.TASK_GROUPED])))
    cuts = np.cumsum([n * F * W, n * W, nv * F * W])
    tx, ty, vx, vy = np.split(buf, cuts)
    return tx.reshape(n, F, W), ty.reshape(n, W), vx.reshape(nv, F, W), vy.reshape(nv, W)


def test_the_grouped_copy_interleaves_each_group_of_tasks():
    """Runs of W tasks get their train features per step (in sequence order), element e of lane l at e * W + l,
    then the train labels, then the valid features and labels alike; a padding lane repeats the last task; a
    run of mixed shapes gets none."""
    tasks = _tasks(4, 2 * W + 3, epochs=2)
    ev = native.NativeEvaluator(tasks, MemoryShape(4, 3, 1))
    assert ev.order_train()
    assert ev.table[:, abi.TASK_GROUP_LANE].tolist() == [k % W for k in range(len(tasks))]
    for k, t in enumerate(tasks):
        assert ev.table[k, abi.TASK_GROUPED] == ev.table[k - k % W, abi.TASK_GROUPED] != 0
        tx, ty, vx, vy = _streams(ev, k)
        seq, lane = t.train_sequence(), k % W
        assert same_bits(tx[:, :, lane], t.train_x[seq]) and same_bits(ty[:, lane], t.train_y[seq])
        assert same_bits(vx[:, :, lane], t.valid_x) and same_bits(vy[:, lane], t.valid_y)
    last = _streams(ev, len(tasks) - 1)
    for lane in range(len(tasks) % W, W):  # padding lanes of the last group
        for a in last:
            assert same_bits(a[..., lane], a[..., len(tasks) % W - 1])
    mixed = tasks[:W - 1] + [synthetic.linear(4, 9, 6, 99, 100, epochs=2)] + tasks[W:2 * W]
    ev2 = native.NativeEvaluator(mixed, MemoryShape(4, 3, 1))
    assert ev2.order_train()
    assert not ev2.table[:W, abi.TASK_GROUPED].any() and ev2.table[W:, abi.TASK_GROUPED].all()


@pytest.mark.parametrize("F,epochs", [(2, 2), (4, 1), (16, 2)])
def test_grouped_examples_change_no_bit(F, epochs):
    """Lanes reading the interleaved copy compute the same bits as lanes reading each task's ordered copy, for
    lane sets that hold whole groups in order (all tasks; from the second group on; a last group of fewer
    lanes) and for sets that do not (which read the ordered copies). Labels doubled in the grouped copy change
    the results of exactly the lane sets that hold whole groups: those (and only those) read it."""
    shape = MemoryShape(5, 5, 2)
    tasks = _tasks(F, 2 * W + 3, epochs)
    grouped, ordered = native.NativeEvaluator(tasks, shape), native.NativeEvaluator(tasks, shape)
    assert grouped.order_train() and ordered.order_train()
    ordered.table[:, abi.TASK_GROUPED] = 0
    n = len(tasks)
    aligned = [None, list(range(W, n)), list(range(W + 1)), list(range(2 * W, n))]
    others = [list(range(1, n)), [0, 2, 1, 3], list(range(n - 1, -1, -1))]
    g = np.random.default_rng(F + 7 * epochs)
    for prog in lockstep_programs(g, shape, F, 40):
        for lanes in aligned + others:
            ra, rb = Rng(5), Rng(5)
            a = evaluate_lockstep(grouped, prog, ra, EvalOptions(record=True), lane_tasks=lanes)
            b = evaluate_lockstep(ordered, prog, rb, EvalOptions(record=True), lane_tasks=lanes)
            assert_same(a, b, ra, rb, (prog, lanes))
    seen = {}
    for k in range(0, n, W):
        _streams(grouped, k)[1][...] *= 2  # the train labels
    for prog in lockstep_programs(np.random.default_rng(1), shape, F, 40):
        for lanes in aligned + others:
            a = evaluate_lockstep(grouped, prog, Rng(5), EvalOptions(record=True), lane_tasks=lanes)
            b = evaluate_lockstep(ordered, prog, Rng(5), EvalOptions(record=True), lane_tasks=lanes)
            same = all(same_bits(x.train_errors, y.train_errors) for x, y in zip(a.tasks[0], b.tasks[0]))
            seen.setdefault(lanes is None or lanes in aligned, set()).add(same)
    assert seen == {True: {True, False}, False: {True}}


def _reads(prog, comps, kind: str) -> bool:
    """Whether an instruction of `comps` reads register 0 of `kind` ("v": v0, "s": s0)."""
    return any(k == kind and reg == 0 for comp, _, ins in prog.instructions() if comp in comps for k, reg in ins.reads())


@pytest.mark.parametrize("F", [2, 4])
def test_steps_without_a_load_read_their_labels_in_place(F):
    """Grouped lanes whose step needs no load (no v0 read, predict not reading s0, no final memory kept) skip
    load_group: they read the labels from the interleaved stream and leave s0 as learn left it, which only predict
    could tell. Their fitness (full evaluations) and recorded errors (probes) equal those of lanes reading each
    task's ordered copy (which load every step), and so do those of programs whose predict reads s0."""
    shape = MemoryShape(5, 5, 2)
    tasks = _tasks(F, 2 * W + 3, 2)
    grouped, ordered = native.NativeEvaluator(tasks, shape), native.NativeEvaluator(tasks, shape)
    assert grouped.order_train() and ordered.order_train()
    ordered.table[:, abi.TASK_GROUPED] = 0
    g = np.random.default_rng(40 + F)
    kinds = {"no load": 0, "predict reads s0": 0}
    for prog in lockstep_programs(g, shape, F, 400, sizes=(3, 2, 3)):
        v0 = _reads(prog, ("predict", "learn"), "v")
        if not v0:
            kinds["predict reads s0" if _reads(prog, ("predict",), "s") else "no load"] += 1
        for opts, probe in ((EvalOptions(), False), (EvalOptions(max_abs_error=1e300), False),
                            (EvalOptions(record=True), True)):
            ra, rb = Rng(5), Rng(5)
            a = evaluate_lockstep(grouped, prog, ra, opts, probe=probe)
            b = evaluate_lockstep(ordered, prog, rb, opts, probe=probe)
            assert ra.state == rb.state and a.train_steps.tolist() == b.train_steps.tolist(), prog
            assert same_bits(a.fitness, b.fitness), prog
            if opts.record:
                assert_same(a, b, ra, rb, prog, probe=True)
    assert min(kinds.values()) >= 20, kinds
