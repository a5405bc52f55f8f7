"""Benchmark: native evaluator (kernel interpreter, batch, program JIT) against the NumPy interpreter.

Run as `python3 benchmarks/bench_native.py [--quick]`. Every row is a median over repeats, with the NumPy
reference timed side by side in the same run (the machine is shared; medians damp the noise). Rows:
  1. demo shape: F=4, 100 train / 100 valid, 10 linear tasks, memory 4/3/1: linear SGD and random programs
     of the demo's sizes (setup 10 / predict 2 / learn 8, the demo's op sets);
  2. baseline shape: F=16, 8000 train / 1000 valid, memory 5/9/2, the two-layer net;
  3. the two-layer net at F=256 and F=3072 (fewer examples: the NumPy side would take minutes).
Then cold (compile) and warm (object cache) start of a fresh process.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from programs import BASELINE_SHAPE, DEMO_SHAPE, demo_random, linear_sgd, nn_2layer

from azlang.backends.native import NativeEvaluator
from azlang.evaluate import evaluate
from azlang.ir.bytecode import to_bytecode
from azlang.ir.nodes import Component
from azlang.rng import Rng
from azlang.tasks import synthetic
from azlang.tasks.task import Task

QUICK = "--quick" in sys.argv


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def numpy_rate(programs, tasks, shape, repeats: int) -> tuple[float, float]:
    """(evaluations/s, train steps/s) of the NumPy reference over `programs` (one Rng through all)."""
    rng = Rng(7)

    def run():
        return sum(evaluate(p, tasks, rng, shape).train_steps for p in programs)

    dt, steps = median_time(run, repeats)
    return len(programs) / dt, steps / dt


def native_rate(call, n_evals: int, repeats: int) -> tuple[float, float]:
    dt, steps = median_time(call, repeats)
    return n_evals / dt, steps / dt


def scaled(task: Task) -> Task:
    """Labels divided by their standard deviation, so the net trains through every step at large F."""
    s = float(task.train_y.std())
    return Task(task.name, task.train_x, task.train_y / s, task.valid_x, task.valid_y / s)


ROWS: list[tuple] = []


def report(name: str, nat: tuple[float, float], ref: tuple[float, float], note: str = "") -> None:
    ROWS.append((name, nat[0], nat[1], nat[0] / ref[0], note))
    print(f"  {name:<46} {nat[0]:>10.1f} ev/s {nat[1]:>12,.0f} steps/s  x{nat[0] / ref[0]:>6.1f}  {note}", flush=True)


def demo_rows() -> None:
    tasks = [synthetic.linear(4, 100, 100, data_seed=i, param_seed=i) for i in range(10)]
    ev = NativeEvaluator(tasks, DEMO_SHAPE)
    g = np.random.default_rng(0)
    randoms = [demo_random(g) for _ in range(2000)]
    rbc = [to_bytecode(p) for p in randoms]
    lin, reps = linear_sgd(), 5
    ref_lin = numpy_rate([lin] * (3 if QUICK else 10), tasks, DEMO_SHAPE, 3)
    ref_rand = numpy_rate(randoms[:3 if QUICK else 20], tasks, DEMO_SHAPE, 3)
    lin_bc, rng = to_bytecode(lin), Rng(1)
    report("1 demo F=4 linear SGD, evaluate() per program",
           native_rate(lambda: sum(ev.evaluate(lin_bc, rng).train_steps for _ in range(200)), 200, reps), ref_lin)
    report("1 demo F=4 linear SGD, batch of 2000",
           native_rate(lambda: int(ev.evaluate_batch([lin_bc] * 2000, rng).train_steps.sum()), 2000, reps), ref_lin)
    report("1 demo F=4 random demo programs, batch of 2000",
           native_rate(lambda: int(ev.evaluate_batch(rbc, rng).train_steps.sum()), 2000, reps), ref_rand,
           f"mean steps/eval {ev.evaluate_batch(rbc, rng).train_steps.sum() / 2000:.0f}")
    report("1 demo F=4 random programs, evaluate() each",
           native_rate(lambda: sum(ev.evaluate(b, rng).train_steps for b in rbc[:500]), 500, reps), ref_rand)


def nn_rows(F: int, n_train: int, n_valid: int, lr: float, ref_repeats: int, tiers=("kernel", "jit")) -> None:
    task = synthetic.teacher(F, n_train, n_valid, data_seed=1, param_seed=1)
    tasks = [task if F == 16 else scaled(task)]
    nn, rng = nn_2layer(lr), Rng(1)
    ev = NativeEvaluator(tasks, BASELINE_SHAPE)
    ref = numpy_rate([nn], tasks, BASELINE_SHAPE, ref_repeats)
    for tier in tiers:
        ev.evaluate(nn, Rng(1), tier=tier)  # compile (JIT) outside the timing
        reps = 5 if F <= 256 else 3
        rate = native_rate(lambda tier=tier: ev.evaluate(nn, rng, tier=tier).train_steps, 1, reps)
        report(f"{2 if F == 16 else 3} NN F={F} {n_train}/{n_valid} lr={lr} [{tier}]", rate, ref)


def breakdown() -> None:
    """Where kernel time goes at F=16 (5/9/2): ns per train step for programs that isolate one cost."""
    from azlang.ir.nodes import Instruction as I
    from azlang.ir.nodes import Program

    ev, rng = NativeEvaluator([synthetic.teacher(16, 8000, 1000, 1, 1)], BASELINE_SHAPE), Rng(1)
    cases = {"empty program (loop, v0 copies, checks)": Program.of(),
             "+ 4 scalar ops s4 = s3 * s4 in learn": Program.of(learn=[I(3, out=4, in1=3, in2=4)] * 4),
             "+ 4 matvec (OP31) in learn": Program.of(learn=[I(31, out=3, in1=0, in2=0)] * 4),
             "+ 4 outer (OP28) in learn": Program.of(learn=[I(28, out=1, in1=7, in2=0)] * 4),
             "+ 4 matrix sums (OP39) in learn": Program.of(learn=[I(39, out=0, in1=0, in2=1)] * 4),
             "two-layer net (16 instructions)": nn_2layer(0.003)}
    for name, prog in cases.items():
        bc = to_bytecode(prog)
        dt, steps = median_time(lambda bc=bc: ev.evaluate(bc, rng, tier="kernel").train_steps, 7)
        print(f"  breakdown F=16 {name:<42} {dt / steps * 1e9:8.1f} ns/step")
    big = [scaled(synthetic.teacher(3072, 4, 2, 1, 1))]
    ev3 = NativeEvaluator(big, BASELINE_SHAPE)
    setup = replace(nn_2layer(3e-5), predict=Component(), learn=Component())  # Setup alone, params kept
    dt_setup, _ = median_time(lambda: ev3.evaluate(setup, rng), 3)
    dt_all, steps = median_time(lambda: ev3.evaluate(nn_2layer(3e-5), rng).train_steps, 3)
    print(f"  breakdown F=3072 setup (9.4 M Gaussian draws, libm log+cos) {dt_setup * 1e3:8.1f} ms; "
          f"per train step {(dt_all - dt_setup) / steps * 1e3:.1f} ms")


def start_times() -> None:
    code = ("import time; t = time.perf_counter(); from azlang.backends.native import NativeEvaluator; "
            "from azlang.tasks import synthetic; from azlang.ir.nodes import MemoryShape; "
            "NativeEvaluator([synthetic.linear(16, 10, 10, 1, 1)], MemoryShape(5, 9, 2)); "
            "print(time.perf_counter() - t)")
    root = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, AZLANG_CACHE_DIR=d, PYTHONPATH=root)
        for label in ("cold (compile kernel + driver)", "warm (load from object cache)"):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            print(f"  start {label:<34} {float(out.stdout) * 1000:8.1f} ms")


def main() -> None:
    print("native evaluator vs NumPy interpreter (medians; speed-up = native ev/s over NumPy ev/s)")
    demo_rows()
    nn_rows(16, 8000, 1000, 0.003, 1)
    nn_rows(256, 200 if QUICK else 800, 100, 0.003, 1)
    nn_rows(3072, 4 if QUICK else 10, 2, 3e-5, 1, tiers=("kernel",))
    breakdown()
    start_times()


if __name__ == "__main__":
    main()
