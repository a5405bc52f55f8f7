"""Benchmark stage: search throughput (individuals/s) on the demo configuration, Python loop vs native loop.

Variants: FEC on/off, hurdles on/off, 1 vs 2 worker processes (and batched sweeps, Python only). The demo
search (P=1000, T=10, 10 linear tasks of 100/100 examples, random initial programs of 10/2/8 instructions)
is run from Init for a fixed number of individuals; select/final evaluation is skipped. Each cell is the
median over `--repeats` runs (the machine is shared and noisy). The native loop is also measured over 10x
more individuals: early sweeps are mostly programs that fail at once, later ones train for real.
`--profile` prints the functions that dominate the time per individual (Python loop, FEC on).

    python benchmarks/bench_search.py [--individuals 20000] [--repeats 3] [--only fec,nofec] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from azlang.search.config import override
from azlang.search.experiment import run_experiment
from azlang.search.presets import demo_config

VARIANTS = {
    "fec": {},
    "nofec": {"fec.enabled": False},
    "fec-hurdles": {"hurdles.enabled": True},
    "nofec-hurdles": {"fec.enabled": False, "hurdles.enabled": True},
    "fec-2workers": {"run.workers": 2},
    "batch100-fec": {"evolution.batch": 100},  # batched sweeps: the Python loop only
}


def config(individuals: int, backend: str, extra: dict):
    return override(
        demo_config(),
        {
            "stop.max_individuals": individuals,
            "stop.max_experiments": 1,
            "tasks.select": (),
            "tasks.final": (),
            "run.random_seed": 1,
            "run.backend": backend,
            "run.progress_every": 10**9,
            **extra,
        },
    )


def measure(individuals: int, backend: str, extra: dict, loop: str) -> float:
    """Individuals per second of one run (wall time of the whole search, Init and process start included)."""
    t = time.perf_counter()
    result = run_experiment(config(individuals, backend, {**extra, "evolution.loop": loop}))
    return result.individuals / (time.perf_counter() - t)


def median_rate(repeats: int, *args) -> int:
    return round(statistics.median(measure(*args) for _ in range(repeats)))


def profile(individuals: int, backend: str, top: int = 25) -> None:
    prof = cProfile.Profile()
    prof.runcall(run_experiment, config(individuals, backend, {"evolution.loop": "python"}))
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--individuals", type=int, default=20000)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated variant names")
    args = ap.parse_args()
    if args.profile:
        profile(args.individuals, args.backend)
        return
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(VARIANTS)
    n, r = args.individuals, args.repeats
    print(f"| variant | python @{n} | native @{n} | native @{10 * n} |")
    print("|---|---|---|---|")
    for name in names:
        extra = VARIANTS[name]
        python = median_rate(r, n, args.backend, extra, "python")
        native = "-" if "evolution.batch" in extra else median_rate(r, n, args.backend, extra, "auto")
        native10 = "-" if "evolution.batch" in extra else median_rate(r, 10 * n, args.backend, extra, "auto")
        print(f"| {name} | {python} | {native} | {native10} |", flush=True)


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    main()
