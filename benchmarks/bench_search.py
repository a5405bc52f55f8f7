"""Benchmark stage: search throughput (individuals/s) on the demo configuration.

Variants: FEC on/off, hurdles on/off, exact vs batched sweeps, 1 vs 2 worker processes. The demo search
(P=1000, T=10, 10 linear tasks of 100/100 examples, random initial programs of 10/2/8 instructions)
is run for a fixed number of individuals; select/final evaluation is skipped. `--profile` prints the
functions that dominate the time per individual (exact mode, FEC on).

    python benchmarks/bench_search.py [--individuals 20000] [--backend auto] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from azlang.search.config import override
from azlang.search.experiment import run_experiment
from azlang.search.presets import demo_config

VARIANTS = {  # exact = the reference's sequential loop; batch100 = 100 children per backend call
    "exact-fec": {},
    "exact-nofec": {"fec.enabled": False},
    "exact-fec-hurdles": {"hurdles.enabled": True},
    "exact-nofec-hurdles": {"fec.enabled": False, "hurdles.enabled": True},
    "batch100-fec": {"evolution.batch": 100},
    "batch100-nofec": {"evolution.batch": 100, "fec.enabled": False},
    "exact-fec-2workers": {"run.workers": 2},
    "batch100-fec-2workers": {"evolution.batch": 100, "run.workers": 2},
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


def measure(individuals: int, backend: str, extra: dict) -> dict:
    t = time.perf_counter()
    result = run_experiment(config(individuals, backend, extra))
    seconds = time.perf_counter() - t
    return {
        "individuals": result.individuals,
        "seconds": round(seconds, 2),
        "individuals_per_s": round(result.individuals / seconds),
        "train_steps": result.train_steps,
        "search_fitness": round(result.search_fitness, 6),
    }


def profile(individuals: int, backend: str, top: int = 25) -> None:
    prof = cProfile.Profile()
    prof.runcall(run_experiment, config(individuals, backend, {}))
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--individuals", type=int, default=20000)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated variant names")
    args = ap.parse_args()
    if args.profile:
        profile(args.individuals, args.backend)
        return
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(VARIANTS)
    for name in names:
        row = measure(args.individuals, args.backend, VARIANTS[name])
        print(json.dumps({"variant": name, **row}), flush=True)


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    main()
