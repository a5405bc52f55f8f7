"""Benchmark: ns per train step of fixed programs, one task at a time (kernel) against all tasks in lockstep
(lane by lane, lanes.py, and in struct-of-arrays groups of SOA_W lanes, lanes_simd.py).

    python benchmarks/bench_kernel.py [--repeats 5] [--quick]

Rows: the demo shape (F=4, 10 linear tasks of 100/100 examples, memory 4/3/1) with linear SGD and an evolved
demo program, and the baseline shape (F=16, 10 classification tasks of 8000/1000 Gaussian examples, memory
5/9/2) with linear SGD (logistic), the evolved CIFAR net, the two-layer net and a candidate that never
reads v0 (as many early baseline candidates). Each figure is the median of
`--repeats` runs (process CPU time: the machine may be shared), the variants alternated in one process; ns per train step counts the validation work
of the evaluation too (it is what an evaluation costs divided by its train steps), as the C++ figures do.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from azlang.api import load
from azlang.backends.native import NativeEvaluator
from azlang.backends.native.lockstep import evaluate_lockstep
from azlang.ir.nodes import MemoryShape
from azlang.rng import Rng
from azlang.syntax import load as load_file
from azlang.syntax import parse
from azlang.tasks import synthetic
from azlang.tasks.task import ACCURACY, Task
from azlang.tools.tune import with_values

ROOT = Path(__file__).resolve().parent.parent
NO_FEATURES = """
def Setup():
  s2 = 0.1
def Predict():
  s1 = s2 * s2
def Learn():
  s3 = s0 - s1
"""  # an early baseline candidate: no instruction reads v0, so lane groups load no feature rows
EVOLVED_DEMO = """
def Setup():
  s3 = 0.7196586122147091
  s2 = -0.695129411685172
def Predict():
  s1 = dot(v0, v2)
  s1 = s2 * s1
def Learn():
  s3 = s0 - s1
  v1 = s3 * v0
  v2 = v2 + v1
  s2 = 0.08480545352211917
"""


def labels(F: int, n_train: int, n_valid: int, seed: int) -> Task:
    """Gaussian features, 0/1 labels from a random hyperplane (learnable, so programs train to the end)."""
    g = np.random.default_rng(seed)
    w = g.normal(size=F)
    x, vx = g.normal(size=(n_train, F)), g.normal(size=(n_valid, F))
    return Task(f"plane{seed}", x, (x @ w > 0).astype(float), vx, (vx @ w > 0).astype(float), ACCURACY)


def timed(fn) -> tuple[float, int]:
    t = time.process_time()
    steps = fn()
    return time.process_time() - t, steps


def row(name: str, prog, tasks, shape, repeats: int) -> None:
    need = prog.required_memory()
    ev = NativeEvaluator(tasks, MemoryShape(max(shape.S, need.S), max(shape.V, need.V), max(shape.M, need.M)))
    one = lambda: int(ev.evaluate_batch([prog], Rng(1), lockstep=False).train_steps.sum())
    aos = lambda: int(evaluate_lockstep(ev, prog, Rng(1), soa=False).train_steps.sum())
    soa = lambda: int(evaluate_lockstep(ev, prog, Rng(1), soa=True).train_steps.sum())
    ns = [[], [], []]
    for _ in range(repeats):
        runs = [timed(fn) for fn in (one, aos, soa)]
        assert len({s for _, s in runs}) == 1, runs
        for col, (t, s) in zip(ns, runs):
            col.append(t / s * 1e9)
    ma, mb, mc = (statistics.median(col) for col in ns)
    print(f"{name:44s} {s:>9d} {ma:10.1f} {mb:10.1f} {mc:10.1f} {ma / mb:6.2f}x {mb / mc:6.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n_train, n_valid = (2000, 250) if args.quick else (8000, 1000)
    print(f"{'program / shape':44s} {'steps':>9s} {'kernel ns':>10s} {'lanes AoS':>10s} {'SoA groups':>10s} "
          f"{'AoS/k':>7s} {'SoA/AoS':>7s}")
    demo = [synthetic.linear(4, 100, 100, i, i, epochs=50) for i in range(10)]  # 50 epochs: long enough to time
    demo_shape, base_shape = MemoryShape(4, 3, 1), MemoryShape(5, 9, 2)
    reps = args.repeats
    row("linear_sgd, demo shape (F=4, 10x100/100, 50 ep.)", with_values(load("linear_sgd"), {"lr": 0.01}), demo,
        demo_shape, reps)
    row("evolved demo program, demo shape", parse(EVOLVED_DEMO), demo, demo_shape, reps)
    base = [labels(16, n_train, n_valid, s) for s in range(10)]
    row(f"linear_sgd, F=16, 10x{n_train}/{n_valid}", with_values(load("linear_sgd"), {"lr": 0.01}), base,
        base_shape, reps)
    row("evolved CIFAR net (examples/evolved)", load_file(ROOT / "examples/evolved/cifar_f16_net.az"),
        base, base_shape, reps)
    row("nn_2layer, same shape", with_values(load("nn_2layer"), {"lr": 0.003}), base, base_shape, reps)
    row("a candidate that never reads v0, same shape", parse(NO_FEATURES), base, base_shape, reps)


if __name__ == "__main__":
    main()
