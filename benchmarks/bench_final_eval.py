"""Benchmark: the baseline's final evaluation in parts (issue 10): task cache load, evaluator set-up, evaluation.

    python benchmarks/bench_final_eval.py [--runs 5] [--before DIR] [--no-write]

Each run is a fresh process (so the cache load pays what a real run pays: mapping or reading 100 cached CIFAR
tasks of N8000 V1000 F16) that times, in its main thread's CPU seconds: building examples/baseline.toml's
final tasks (from the task cache; a first build fills it), NativeEvaluator set-up for them (after one warm-up
set-up on one task, so LLVM and the native objects are not counted), and the final evaluation of a fixed
program twice: after exact dce (experiment.live_code's rows, recomputed here with passes/dce so an older tree
measures the same thing; first, so it pays the first touches of the task data as a real run does) and as
found. The program is one the baseline's search returns (seed 1000060, 3e8 train steps), dead code and all.
With --before DIR (e.g. `git archive main | tar -x -C DIR`) that tree runs alternated with this one. Needs
the CIFAR data ($AZLANG_DATA). Writes benchmarks/results/final_eval-<UTC time>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import environment, installed_env, machine_load, write_results

PROGRAM = """def Setup():
  s4 = 0.9512023791754962
  s2 = uniform(-0.06045246, -0.8183545)
  m0 = uniform(0.75258017, 0.75949466)
  s3 = gaussian(0.29328442, 0.16423166)
  v6 = gaussian(0.32100403, 0.40726715)

def Predict():
  v7 = dot(m0, v1)
  s3 = dot(v7, v1)
  v7 = maximum(v4, v2)
  s1 = s1 + s2
  v7 = dot(m0, v1)

def Learn():
  v5 = s0 * v4
"""

CHILD = r"""
import json, sys, time
import numpy as np
from azlang.ir.bytecode import Bytecode, to_bytecode
from azlang.ir.nodes import COMPONENTS
from azlang.passes.dce import kept_instructions
from azlang.rng import Rng
from azlang.search import tasksets
from azlang.search.backends import make_evaluator
from azlang.search.config import load_config
from azlang.search.islands import shape_of
from azlang.syntax import parse

cpu = time.thread_time
cfg = load_config("examples/baseline.toml")
prog = parse(sys.argv[1])
bc = to_bytecode(prog)
kept = kept_instructions(prog)
rows = np.array([ok for c in COMPONENTS for ok in kept[c]], dtype=bool)
live = Bytecode(bc.code[rows], bc.data[rows], tuple(sum(kept[c]) for c in COMPONENTS))
out = {}
t = cpu()
tasks = tasksets.build(tasksets.parse_all(cfg.tasks.final), cfg.tasks.data_dir)
out["load"] = cpu() - t
make_evaluator("native", tasks[:1], shape_of(cfg), cfg.tasks.max_abs_error)  # LLVM, native objects: not counted
t = cpu()
ev = make_evaluator("native", tasks, shape_of(cfg), cfg.tasks.max_abs_error)
out["setup"] = cpu() - t
fits = []
for name, code in (("evaluate live", live), ("evaluate as found", bc)):  # live first: it pays first touches
    t = cpu()
    with np.errstate(all="ignore"):
        res = ev.full(code, list(range(len(tasks))), Rng(7), [None] * len(tasks))
    out[name] = cpu() - t
    fits.append([(r.fitness, r.train_steps) for r in res])
assert fits[0] == fits[1], "dce changed a result"
print(json.dumps(out))
"""

PARTS = ("load", "setup", "evaluate live", "evaluate as found")


def one(tree: Path, env: dict) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, PROGRAM], cwd=tree, env={**env, "PYTHONPATH": str(tree)},
                       capture_output=True, text=True, check=False)
    if p.returncode:
        raise RuntimeError(f"run in {tree} failed:\n{(p.stdout + p.stderr)[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", type=Path)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    trees = {"now": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    env = installed_env(dict(os.environ), *trees.values())
    for tree in trees.values():
        one(tree, env)  # fills the task cache and the native objects for this tree
    runs = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, tree in trees.items():
            runs[name].append(one(tree, env))
    med = {name: {k: statistics.median(r[k] for r in rs) for k in PARTS} for name, rs in runs.items()}
    lines = ["| part (CPU s, median) | " + " | ".join(trees) + " |", "|---|" + "---|" * len(trees)]
    lines += [f"| {k} | " + " | ".join(f"{med[n][k]:.4f}" for n in trees) + " |" for k in PARTS]
    md = "\n".join(lines) + f"\n\n{args.runs} runs per tree, alternated; load {machine_load():.1f}\n"
    print(md)
    if not args.no_write:
        write_results("final_eval", {"environment": environment(), "medians": med, "runs": runs}, md)


if __name__ == "__main__":
    main()
