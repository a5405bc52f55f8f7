"""Benchmark: islands on two cores against one: `azc evolve --workers 2` vs `--workers 1`, the same total work.

Each run is a fresh `azc evolve` process (whole process: start-up, search, select and final evaluation) on the
demo config with a fixed train-step budget summed over the islands (default 2e8, seed 1, one experiment).
Runs alternate (1 then 2 in even pairs, 2 then 1 in odd ones); a pair's ratio is the two-worker train-step
throughput over the one-worker throughput (steps / wall s). Also shown per configuration: CPU seconds of the
process tree (what the work costs, whatever else runs on the machine), the start-up until the first progress
line, and the steady rate between 20% and 95% of the budget from progress.jsonl. A zero-work run (1e5 steps)
per configuration gives the fixed cost of spawning the islands. The same islands taking turns in one process
(InProcessExecutor) separate what parallelism costs (processes, pipes, migration between them) from what
having N islands costs the search itself (N populations each going through their own early generations).

The machine is shared: two-core measurements depend on what else runs. Every pair records the 1-minute load
average; compare medians, and the CPU-seconds ratio, which load barely moves.

    python benchmarks/bench_scaling.py [--pairs 5] [--quick] [--steps 2e8] [--workers 2] [--no-write]
        [--baseline-root DIR]   (also DIR's code with the workers, in the same rounds: before/after)
        [--migrate-every N]     (run.migrate_every; 0 separates what migration costs from what the protocol does)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import environment, installed_env, machine_load, timed_run, write_results

# The same experiment as `azc evolve ... --workers N`, with all N islands taking turns in one process.
SERIAL = """import sys
import azlang.cli  # the imports `azc evolve` pays
from azlang.search.executors import InProcessExecutor
from azlang.search.experiment import run_experiment
config, seed, steps, workers, run_dir = sys.argv[1:]
run_experiment(config, run_dir, executor=InProcessExecutor(), overrides={
    "run.random_seed": int(seed), "stop.max_train_steps": float(steps), "stop.max_experiments": 1,
    "stop.sufficient_fitness": 2.0, "run.workers": int(workers)})
"""


CONFIG = ROOT / "examples/demo.toml"


def run(workers: int, steps: float, env: dict, root: Path = ROOT, seed: int = 1, serial: bool = False) -> dict:
    """One `azc evolve` process of the code under `root` (this tree, or --baseline-root's); with `serial`,
    the same islands in one process (InProcessExecutor)."""
    env = {**env, "PYTHONPATH": str(root)}
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        config = str(CONFIG)
        cmd = [sys.executable, "-m", "azlang.cli", "evolve", "--config", config,
               "--random-seed", str(seed), "--max-train-steps", str(steps), "--max-experiments", "1",
               "--sufficient-fitness", "2", "--workers", str(workers), "--run-dir", str(run_dir)]
        if serial:
            cmd = [sys.executable, "-c", SERIAL, config, str(seed), str(steps), str(workers), str(run_dir)]
        wall, cpu, _ = timed_run(cmd, env, root)
        summary = json.loads((run_dir / "summary.json").read_text())
        progress = [json.loads(ln) for ln in (run_dir / "progress.jsonl").read_text().splitlines()]
    lines = [r for r in progress if r["event"] == "progress"]
    return {"workers": workers, "wall_s": wall, "cpu_s": cpu, "train_steps": summary["train_steps"],
            "individuals": summary["individuals"], "run_s": summary["seconds"],
            "first_progress_s": lines[0]["time"] if lines else None, "steady": steady_rate(lines, steps)}


def steady_rate(lines: list[dict], budget: float) -> float | None:
    """Train steps per second between the progress lines nearest 20% and 95% of the budget (all islands)."""
    a = next((r for r in lines if r["train_steps"] >= 0.2 * budget), None)
    b = next((r for r in reversed(lines) if r["train_steps"] <= 0.95 * budget), None)
    if a is None or b is None or b["time"] <= a["time"]:
        return None
    return (b["train_steps"] - a["train_steps"]) / (b["time"] - a["time"])


def pairs(n: int, workers: int, steps: float, env: dict, base: Path | None) -> list[dict]:
    """n rounds of 1 worker, `workers` workers (and `workers` on the baseline code), in rotating order."""
    out = []
    sides = {"one": (1, ROOT, False), "many": (workers, ROOT, False), "serial": (workers, ROOT, True)}
    if base:
        sides["base"] = (workers, base, False)
    names = list(sides)
    for k in range(n):
        order = names[k % len(names):] + names[:k % len(names)]
        runs = {name: run(sides[name][0], steps, env, sides[name][1], serial=sides[name][2]) for name in order}
        row = {"pair": k, "order": order, "load": machine_load(), **runs}
        msg = f"  round {k}: 1 worker {runs['one']['wall_s']:.2f} s ({runs['one']['cpu_s']:.2f} CPU s)"
        for name in names[1:]:
            row[f"ratio_{name}"] = rate(runs[name]) / rate(runs["one"])
            row[f"cpu_ratio_{name}"] = runs[name]["cpu_s"] / runs["one"]["cpu_s"]
            msg += (f"; {name} {runs[name]['wall_s']:.2f} s ({runs[name]['cpu_s']:.2f} CPU s) "
                    f"{row[f'ratio_{name}']:.2f}x")
        out.append(row)
        print(msg + f" (load {row['load']:.1f})", flush=True)
    return out


def rate(r: dict) -> float:
    return r["train_steps"] / r["wall_s"]


def med(rows, side, key):
    vals = [r[side][key] for r in rows if r[side][key] is not None]
    return statistics.median(vals) if vals else float("nan")


def markdown(rows: list[dict], fixed: dict, workers: int, steps: float) -> str:
    sides = [s for s in ("one", "many", "base", "serial") if s in rows[0]]
    label = {"one": "1", "many": f"{workers}", "base": f"{workers} (baseline code)",
             "serial": f"{workers} islands in 1 process"}
    mig = "" if MIGRATE_EVERY is None else f", migrate_every {MIGRATE_EVERY}"
    out = [f"Demo config{mig}, {steps:.0e} train steps in all, seed 1, {len(rows)} rounds in rotating order (medians):",
           "", ("| workers | wall s | CPU s | ratio to 1 worker (median, range) | CPU s ratio | start-up to first "
                "progress s | steady train steps/s | zero-work run wall s / CPU s | train steps over the budget |"),
           "|---|---|---|---|---|---|---|---|---|"]
    for side in sides:
        ratio, cpu = "1", "1"
        if side != "one":
            rs = [r[f"ratio_{side}"] for r in rows]
            ratio = f"{statistics.median(rs):.2f}x ({min(rs):.2f}-{max(rs):.2f})"
            cpu = f"{statistics.median(r[f'cpu_ratio_{side}'] for r in rows):.2f}"
        zero = fixed[side]
        out.append(f"| {label[side]} | {med(rows, side, 'wall_s'):.2f} | {med(rows, side, 'cpu_s'):.2f} | {ratio} "
                   f"| {cpu} | {med(rows, side, 'first_progress_s'):.2f} | {med(rows, side, 'steady') / 1e6:.1f} M "
                   f"| {zero['wall_s']:.2f} / {zero['cpu_s']:.2f} | {med(rows, side, 'train_steps') / steps - 1:+.3%} |")
    if "serial" in rows[0]:
        for side in [s for s in ("many", "base") if s in rows[0]]:
            par = [rate(r[side]) / rate(r["serial"]) for r in rows]
            out += ["", (f"Parallel speed-up, {label[side]} processes over the same {workers} islands in one process: "
                         f"median {statistics.median(par):.2f}x ({min(par):.2f}-{max(par):.2f}).")]
    out += ["", f"Load averages (1 min) per round: {', '.join(format(r['load'], '.1f') for r in rows)}."]
    return "\n".join(out) + "\n"


MIGRATE_EVERY = None


def with_migration(every: int) -> None:
    """Run a copy of the demo config with [run] migrate_every set (its [run] table is its last)."""
    global CONFIG, MIGRATE_EVERY
    MIGRATE_EVERY = every
    text = CONFIG.read_text()
    assert text.rstrip().splitlines()[-1].startswith(("progress_every", "workers", "random_seed")), "[run] last"
    path = Path(tempfile.mkdtemp()) / "demo.toml"
    path.write_text(text.rstrip() + f"\nmigrate_every = {every}\n")
    CONFIG = path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3 pairs of 1e8 steps")
    ap.add_argument("--steps", type=float, default=2e8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--baseline-root", type=Path, default=None,
                    help="also run the workers on the code of this tree (e.g. an unpacked `git archive main`)")
    ap.add_argument("--migrate-every", type=int, default=None,
                    help="run.migrate_every for the demo config (0: no migration; default: the config's)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if args.migrate_every is not None:
        with_migration(args.migrate_every)
    n, steps = (3, 1e8) if args.quick else (args.pairs, args.steps)
    base = args.baseline_root.resolve() if args.baseline_root else None
    env = installed_env(dict(os.environ), ROOT, *([base] if base else []))
    fixed = {"one": run(1, 1e5, env), "many": run(args.workers, 1e5, env),
             "serial": run(args.workers, 1e5, env, serial=True)}
    if base:
        fixed["base"] = run(args.workers, 1e5, env, base)
    print("  zero-work runs: " + ", ".join(f"{k} {v['wall_s']:.2f} s" for k, v in fixed.items()), flush=True)
    rows = pairs(n, args.workers, steps, env, base)
    md = markdown(rows, fixed, args.workers, steps)
    print(md)
    if not args.no_write:
        write_results("scaling", {"environment": environment(), "steps": steps, "fixed": fixed, "pairs": rows}, md)


if __name__ == "__main__":
    main()
