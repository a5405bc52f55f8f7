"""Benchmark: how often the training sigmoid is dead (azlang/backends/native/sigmoid_cuts.py) on a workload.

    AZLANG_DATA=... python benchmarks/sigmoid_share.py [--only baseline] [--steps 3e8]

Runs bench_vs_cxx's workload (same config, seed and train-step budget) in-process on the Python search loop
(bit-identical to the native loop) and, for every full evaluation, adds its train steps to the class of its
live program (dead code removed first, as the native loop evaluates it): sigmoid dead (exp skipped), or live
because Learn reads s1 first, or because Predict reads s1 before writing it, or a chain: neither Predict nor
Learn writes s1, so s1 <- sigmoid(s1) settles on the sigmoid's fixed point within ~26 steps and then skips
exp too. Classification steps only; FEC probes are recorded runs (no dead-sigmoid skip), counted apart.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_vs_cxx import WORKLOADS

from azlang.backends.native.sigmoid_cuts import s1_flow
from azlang.ir.bytecode import from_bytecode, to_bytecode
from azlang.passes.dce import eliminate
from azlang.search import backends
from azlang.tasks.task import ACCURACY


def classify(bc) -> str:
    live = to_bytecode(eliminate(from_bytecode(bc)))
    ns, np_, nl = live.sizes
    p_read, p_writes = s1_flow(live.code[ns:ns + np_])
    l_read, l_writes = s1_flow(live.code[ns + np_:ns + np_ + nl])
    if l_read:
        return "live: learn reads s1 first"
    if l_writes or (p_writes and not p_read):
        return "dead"
    return "live: predict reads s1 first" if p_writes else "chain: settles on the fixed point"


def measure(name: str, steps: float) -> tuple[Counter, float, int]:
    from azlang.search.config_toml import load_config, override
    from azlang.search.experiment import run_experiment

    tally: Counter = Counter()
    cache: dict = {}
    full_batch, probe_batch = backends.NativeAdapter.full_batch, backends.NativeAdapter.probe_batch

    def counted_full(self, jobs, rng):
        out = full_batch(self, jobs, rng)
        for (bc, ids, _), res in zip(jobs, out):
            key = (bc.code.tobytes(), bc.data.tobytes(), bc.sizes)
            kind = cache.get(key) or cache.setdefault(key, classify(bc))
            for i, r in zip(ids, res):
                if self.tasks[i].eval_type == ACCURACY:
                    tally[kind] += r.train_steps
        return out

    def counted_probe(self, bcs, ids, n_train, n_valid):
        out = probe_batch(self, bcs, ids, n_train, n_valid)
        tally["FEC probes (recorded: exact path)"] += sum(r.train_steps for row in out for r in row)
        return out

    backends.NativeAdapter.full_batch, backends.NativeAdapter.probe_batch = counted_full, counted_probe
    w = WORKLOADS[name]
    cfg = override(load_config(str(HERE.parent / w["config"])), {
        "run.random_seed": w["seed"], "stop.max_train_steps": float(steps), "stop.max_experiments": 1,
        "stop.sufficient_fitness": 2.0, "run.workers": 1, "evolution.loop": "python"})
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_experiment(cfg, Path(tmp) / "run")
    return tally, time.perf_counter() - t0, result.individuals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="baseline", help="workloads, comma-separated (demo has no classification)")
    ap.add_argument("--steps", type=float, default=None, help="train-step budget (default: the workload's)")
    args = ap.parse_args()
    for name in args.only.split(","):
        tally, secs, individuals = measure(name, args.steps or WORKLOADS[name]["steps"])
        total = sum(tally.values()) or 1
        print(f"## {name}: {individuals} individuals, {secs:.1f} s (AZLANG_DATA={os.environ.get('AZLANG_DATA')})")
        print("| train steps | count | share |\n|---|---|---|")
        for kind, n in tally.most_common():
            print(f"| {kind} | {n} | {n / total:.1%} |")


if __name__ == "__main__":
    main()
