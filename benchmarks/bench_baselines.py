"""Benchmark: the paper's Table S5 baselines (logistic regression, two-layer net) on real projected tasks.

    AZLANG_DATA=/path/to/data python3 benchmarks/bench_baselines.py --tasks cifar:select:F16:D100 \
        --lrs 0.001,0.003,0.01,0.03

For each stdlib baseline and learning rate: mean accuracy over the tasks, and the wall time of the sweep.
"""

from __future__ import annotations

import argparse
import time

from azlang import api

BASELINES = {"logistic_sgd": "lr", "nn_2layer": "lr"}
PAPER = {"logistic_sgd": 0.702, "nn_2layer": 0.729}


def sweep(name: str, spec: str, lrs: list[float], backend: str) -> list[tuple[float, float, float]]:
    program = api.load(name)
    rows = []
    for lr in lrs:
        start = time.perf_counter()
        result = api.run(program, [spec], {BASELINES[name]: lr}, seed=1, backend=backend)
        rows.append((lr, result.fitness, time.perf_counter() - start))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="cifar:select:F16:D100")
    ap.add_argument("--lrs", default="0.001,0.002,0.003,0.005,0.01,0.02,0.03")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--only", default=",".join(BASELINES))
    args = ap.parse_args()
    lrs = [float(x) for x in args.lrs.split(",")]
    print(f"tasks {args.tasks}")
    print(f"{'program':<14}{'lr':>8}{'mean accuracy':>15}{'seconds':>9}")
    for name in args.only.split(","):
        rows = sweep(name, args.tasks, lrs, args.backend)
        for lr, fit, sec in rows:
            print(f"{name:<14}{lr:>8g}{fit:>15.4f}{sec:>9.1f}")
        best = max(rows, key=lambda r: r[1])
        paper = f"; paper's Table S5 (CIFAR-10): {PAPER[name]}" if args.tasks.startswith("cifar") else ""
        print(f"{name:<14}{'best':>8}{best[1]:>15.4f}   (lr {best[0]:g}{paper})")


if __name__ == "__main__":
    main()
