"""What counting costs: the demo search (native loop) with and without [acceptance] (threshold + hall of
fame), alternated in one process; prints the median time ratio over the pairs.

    python benchmarks/bench_watch.py [--pairs 5] [--individuals 30000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from azlang.search.experiment import run_experiment


def once(individuals: int, watch: bool) -> float:
    ov = {"stop.max_individuals": individuals, "stop.max_experiments": 1, "run.random_seed": 3, "run.workers": 1,
          "tasks.final": (), "tasks.select": ()}
    if watch:
        ov.update({"acceptance.threshold": 0.3, "acceptance.hall_of_fame": 10})
    t = time.perf_counter()
    run_experiment("examples/demo.toml", None, overrides=ov)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--individuals", type=int, default=30000)
    args = ap.parse_args()
    once(1000, True)  # warm the native caches
    ratios = []
    for _ in range(args.pairs):
        off, on = once(args.individuals, False), once(args.individuals, True)
        ratios.append(on / off)
        print(f"without {off:.3f} s   with {on:.3f} s   ratio {on / off:.3f}")
    print(f"median ratio (with / without) over {args.pairs} pairs: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
