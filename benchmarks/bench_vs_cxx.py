"""Benchmark: azlang against the original C++ release, side by side, whole process, on the same fixed work.

Workloads (both tools, same budgets, same seeds, one experiment each, then T_select and T_final):
  demo      examples/demo.toml (run_demo.sh): P=1000, T=10, 10 linear tasks F=4 100/100, FEC 10/10,
            random initial programs 10/2/8; fixed work: 2e8 train steps, seed 1 (C++: run-demo.sh --fixed).
  baseline  examples/baseline.toml (run_baseline.sh): P=100, T=10, 10 projected binary CIFAR-10 tasks F=16
            8000/1000, no-op initial programs, 2x neural-net train budget, no FEC; 3e8 train steps, seed 1000060.
Before any run, benchmarks/same_work.py checks that azlang's config and the C++ runner script set the same
memory, op sets, component sizes, population, tournament, mutations, initial population, T_search shape, FEC
and train budget (it stops on a mismatch). Runs alternate (azlang first in even pairs, the C++ first in odd
ones); each pair gives both whole-process wall times and their ratio; the table shows medians over the pairs,
with the CPU seconds of each process tree (the machine is shared: under load wall times stretch, CPU times
much less). Individual counts of the C++ come from its
progress lines (`--progress-every` = the population size: printing draws no random numbers).

What differs unavoidably (facts of the two implementations, not of this script):
- Random streams: azlang draws from SplitMix64, the C++ from MT19937 + Abseil, so the two searches follow
  different trajectories through the same budget: individuals per train step differ (a population that has
  found a working learner trains more steps per individual). Compare train steps/s (the budget is the same
  work unit); individuals/s is shown for each tool but is a property of its trajectory as much as its speed.
- Budget granularity: both tools check the train-step budget only after a whole population sweep (1000
  individuals in the demo, 100 in the baseline), so either runs up to one sweep past it. azlang reports its
  exact train steps; the C++ never prints them, so its rate uses the budget (a lower bound: <= 1 sweep more).
- Data: the C++ reads CIFAR task files made by ../shared/cxx-ref/gen-cifar-tasks.py (upstream's projection);
  azlang projects with its own seeded projection. Same shape (F=16, 8000/1000, 10 pairs); other numbers.
- Start-up: the whole-process times include each tool's start-up (Python imports and the native object
  cache for azlang, task generation/loading for both). azlang runs as installed: its bytecode compiled
  (bench_common.installed_env) and its native object cache filled by one unmeasured run of each tree per
  workload (a changed tree compiles its code once, on its first run), as the C++ runs its compiled binary.

    python benchmarks/bench_vs_cxx.py [--pairs 5] [--quick] [--only demo,baseline] [--no-write] [--before DIR]

--before DIR adds a third process to every round: another azlang tree (e.g. `git archive main | tar -x -C DIR`),
run the same way with PYTHONPATH=DIR, so a change is measured against its base in the same rounds (the order
rotates through the three tools); the table then shows it as `before` with its ratio to this tree.

Needs: the C++ build (../shared/cxx-ref/build.sh; default /tmp/cxx-ref-build, built if absent), its CIFAR files
(/tmp/cxx-ref-cifar, generated if absent) and azlang's data root ($AZLANG_DATA, default ../shared/data, with
cifar-10-batches-py built if absent). Writes benchmarks/results/vs_cxx-<UTC time>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import environment, installed_env, machine_load, timed_run, write_results
from same_work import compare

from azlang.search.config import load_config

SHARED = Path(os.environ.get("AZLANG_BENCH_SHARED", ROOT.parent / "shared"))
WORKLOADS = {
    "demo": {"config": "examples/demo.toml", "steps": 200_000_000, "seed": 1, "population": 1000},
    "baseline": {"config": "examples/baseline.toml", "steps": 300_000_000, "seed": 1000060, "population": 100},
}


def ensure_inputs(build: Path, cifar: Path, data: Path, workloads: list[str]) -> None:
    """Build or generate whatever is missing: the C++ binaries, its CIFAR files, azlang's CIFAR pickles."""
    if not (build / "run_search_experiment_demo").exists() or not (build / "run_search_experiment_baseline").exists():
        print(f"building the C++ yardstick into {build} (3-7 minutes)", flush=True)
        subprocess.run([str(SHARED / "cxx-ref/build.sh"), str(build)], check=True)
    if "baseline" in workloads:
        if not (data / "cifar-10-batches-py").exists():
            print("building the CIFAR-10 pickles", flush=True)
            subprocess.run([sys.executable, str(data / "cifar10/build.py")], check=True)
        if not cifar.exists():
            print(f"generating the C++'s CIFAR task files into {cifar}", flush=True)
            gen = SHARED / "cxx-ref/gen-cifar-tasks.py"
            subprocess.run([sys.executable, str(gen), "--out", str(cifar)], check=True)


def azlang_cmd(name: str, run_dir: Path, root: Path = ROOT) -> list[str]:
    w = WORKLOADS[name]
    return [sys.executable, "-m", "azlang.cli", "evolve", "--config", str(root / w["config"]),
            "--random-seed", str(w["seed"]), "--max-train-steps", str(float(w["steps"])),
            "--max-experiments", "1", "--sufficient-fitness", "2", "--workers", "1", "--run-dir", str(run_dir)]


def cxx_cmd(name: str, build: Path, cifar: Path) -> list[str]:
    w = WORKLOADS[name]
    if name == "demo":
        return [str(SHARED / "cxx-ref/run-demo.sh"), "--build", str(build), "--fixed", str(w["steps"]),
                "--seed", str(w["seed"]), "--progress-every", str(w["population"])]
    return [str(SHARED / "cxx-ref/run-baseline.sh"), "--build", str(build), "--data", str(cifar),
            "--steps", str(w["steps"]), "--seed", str(w["seed"]), "--progress-every", str(w["population"])]


def run_azlang(name: str, env: dict, root: Path = ROOT) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        wall, cpu, _ = timed_run(azlang_cmd(name, run_dir, root), {**env, "PYTHONPATH": str(root)}, root)
        summary = json.loads((run_dir / "summary.json").read_text())
    exp = summary["experiments"][0]
    return {"wall_s": wall, "cpu_s": cpu, "individuals": summary["individuals"], "train_steps": summary["train_steps"],
            "experiment_s": exp["seconds"], "select_fitness": summary["select_fitness"]}


def run_cxx(name: str, build: Path, cifar: Path, env: dict) -> dict:
    wall, cpu, out = timed_run(cxx_cmd(name, build, cifar), env, Path(tempfile.gettempdir()))
    lines = re.findall(r"indivs=(\d+), elapsed_secs=(\d+)", out)
    select = re.search(r"Select fitness for candidate algorithm = ([-\d.e+]+)", out)
    if not lines or not select:
        raise RuntimeError(f"unexpected C++ output:\n{out[-2000:]}")
    return {"wall_s": wall, "cpu_s": cpu, "individuals": int(lines[-1][0]),
            "train_steps": WORKLOADS[name]["steps"], "experiment_s": float(lines[-1][1]),
            "select_fitness": float(select.group(1))}


def check_same_work(name: str) -> dict:
    """Both sides' experiment fields, compared; a mismatch stops the benchmark (it would compare other work)."""
    script = SHARED / ("cxx-ref/run-demo.sh" if name == "demo" else "cxx-ref/run-baseline.sh")
    fields, bad = compare(load_config(ROOT / WORKLOADS[name]["config"]), script)
    if bad:
        sys.exit(f"{name}: azlang's config and {script.name} differ: " + "; ".join(bad))
    print(f"  {name}: same experiment on both sides ({', '.join(fields)} compared)", flush=True)
    return {"compared": fields}


def pairs(name: str, n: int, build: Path, cifar: Path, env: dict, before: Path | None = None) -> list[dict]:
    out = []
    tools = ["azlang", "cxx"] + (["before"] if before else [])
    for root in [ROOT] + ([before] if before else []):  # unmeasured: compiles what a changed tree's first run would
        run_azlang(name, env, root)  # (its native object cache for this workload's shapes), as an installed copy has
    for k in range(n):
        order = tools[k % len(tools):] + tools[: k % len(tools)]  # rotate who runs first
        runs = {}
        for tool in order:
            if tool == "cxx":
                runs[tool] = run_cxx(name, build, cifar, env)
            else:
                runs[tool] = run_azlang(name, env, before if tool == "before" else ROOT)
        pair = {"pair": k, "first": order[0], "load": machine_load(), **runs,
                "ratio": runs["cxx"]["wall_s"] / runs["azlang"]["wall_s"]}
        extra = ""
        if before:
            pair["before_ratio"] = runs["before"]["wall_s"] / runs["azlang"]["wall_s"]
            extra = f", before {runs['before']['wall_s']:.2f} s ({pair['before_ratio']:.2f}x)"
        out.append(pair)
        print(f"  {name} pair {k}: azlang {runs['azlang']['wall_s']:.2f} s, C++ {runs['cxx']['wall_s']:.2f} s, "
              f"ratio {pair['ratio']:.2f}x{extra} (load {pair['load']:.1f})", flush=True)
    return out


def summarise(name: str, rows: list[dict]) -> dict:
    def med(tool, key):
        return statistics.median(r[tool][key] for r in rows)

    out = {"workload": name, "pairs": len(rows), "ratio_median": statistics.median(r["ratio"] for r in rows),
           "ratio_min": min(r["ratio"] for r in rows), "ratio_max": max(r["ratio"] for r in rows),
           "cpu_ratio_median": statistics.median(r["cxx"]["cpu_s"] / r["azlang"]["cpu_s"] for r in rows)}
    if "before" in rows[0]:
        out["before_ratio_median"] = statistics.median(r["before_ratio"] for r in rows)
        out["before_cpu_ratio_median"] = statistics.median(r["before"]["cpu_s"] / r["azlang"]["cpu_s"] for r in rows)
    for tool in [t for t in ("azlang", "cxx", "before") if t in rows[0]]:
        rates = [r[tool]["train_steps"] / r[tool]["wall_s"] for r in rows]
        indivs = [r[tool]["individuals"] / r[tool]["wall_s"] for r in rows]
        out[tool] = {"wall_s": med(tool, "wall_s"), "cpu_s": med(tool, "cpu_s"),
                     "train_steps": med(tool, "train_steps"), "individuals": med(tool, "individuals"),
                     "train_steps_per_s": statistics.median(rates), "individuals_per_s": statistics.median(indivs)}
    return out


def markdown(summaries: list[dict], raw: dict) -> str:
    lines = [("| workload | azlang wall | C++ wall | ratio (median, range) | azlang train steps/s | C++ train steps/s "
              "| azlang individuals/s | C++ individuals/s | CPU s azlang / C++ (ratio) |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for s in summaries:
        a, c = s["azlang"], s["cxx"]
        lines.append(f"| {s['workload']} ({s['pairs']} pairs) | {a['wall_s']:.2f} s | {c['wall_s']:.2f} s "
                     f"| {s['ratio_median']:.2f}x ({s['ratio_min']:.2f}-{s['ratio_max']:.2f}) "
                     f"| {a['train_steps_per_s'] / 1e6:.1f} M | {c['train_steps_per_s'] / 1e6:.1f} M "
                     f"| {a['individuals_per_s']:,.0f} | {c['individuals_per_s']:,.0f} "
                     f"| {a['cpu_s']:.2f} / {c['cpu_s']:.2f} ({s['cpu_ratio_median']:.2f}x) |")
    if any("before" in s for s in summaries):
        head = ("| workload | C++ wall / CPU | azlang before wall / CPU | azlang now wall / CPU "
                "| now vs C++ (wall, CPU) | now vs before (wall, CPU) |")
        lines += ["", head, "|---|---|---|---|---|---|"]
        for s in summaries:
            a, c, o = s["azlang"], s["cxx"], s["before"]
            lines.append(f"| {s['workload']} | {c['wall_s']:.2f} / {c['cpu_s']:.2f} s "
                         f"| {o['wall_s']:.2f} / {o['cpu_s']:.2f} s | {a['wall_s']:.2f} / {a['cpu_s']:.2f} s "
                         f"| {s['ratio_median']:.2f}x, {s['cpu_ratio_median']:.2f}x "
                         f"| {s['before_ratio_median']:.2f}x, {s['before_cpu_ratio_median']:.2f}x |")
    lines += ["", "Per pair (wall s, azlang / C++, ratio):", ""]
    for name, rows in raw.items():
        lines.append(f"- {name}: " + "; ".join(
            f"{r['azlang']['wall_s']:.2f} / {r['cxx']['wall_s']:.2f} = {r['ratio']:.2f}x" for r in rows))
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2 pairs")
    ap.add_argument("--only", default="demo,baseline")
    ap.add_argument("--cxx-build", type=Path, default=Path("/tmp/cxx-ref-build"))
    ap.add_argument("--cxx-cifar", type=Path, default=Path("/tmp/cxx-ref-cifar"))
    ap.add_argument("--no-write", action="store_true", help="print only; no file under benchmarks/results/")
    ap.add_argument("--before", type=Path, default=None, help="another azlang tree run in the same rounds")
    args = ap.parse_args()
    n = 2 if args.quick else args.pairs
    names = [s.strip() for s in args.only.split(",") if s.strip()]
    data = Path(os.environ.get("AZLANG_DATA") or SHARED / "data")
    ensure_inputs(args.cxx_build, args.cxx_cifar, data, names)
    env = installed_env({**os.environ, "AZLANG_DATA": str(data), "PYTHONPATH": str(ROOT)},
                        ROOT, *([args.before] if args.before else []))
    checks = {name: check_same_work(name) for name in names}
    raw = {name: pairs(name, n, args.cxx_build, args.cxx_cifar, env, args.before) for name in names}
    summaries = [summarise(name, rows) for name, rows in raw.items()]
    md = markdown(summaries, raw)
    print(md)
    if not args.no_write:
        write_results("vs_cxx", {"environment": environment(), "same_work": checks, "summaries": summaries,
                                 "pairs": raw}, md)


if __name__ == "__main__":
    main()
