"""Benchmark: where the whole process's time goes, by phase, for bench_vs_cxx's two azlang workloads.

    python benchmarks/bench_phases.py [--runs 3] [--only demo,baseline] [--perf] [--before DIR] [--no-write]

Each run is bench_vs_cxx's exact `azc evolve` command line, executed through benchmarks/phase_probe.py, which
times azlang's stages with exclusive timers (wall and CPU): interpreter start (fork to the probe's first line),
imports, config, task generation, LLVM set-up, native objects (cache hits or compiles), evaluator and island
set-up, the search loop's native calls, the Python glue between them (per sweep/chunk: progress, stop checks,
migrations), checkpoints, select and final evaluations, results output, and teardown (main's return to the
process's exit: atexit, thread joins, freeing). Medians over the runs; with --before DIR, another tree
(e.g. `git archive main | tar -x -C DIR`) runs alternated with this one, so both columns come from the same
minutes of a shared machine.

--perf adds one run per workload under `perf record` (the probe writes /tmp/perf-PID.map so the JIT's functions
have names) and splits the CPU samples: (a) instruction execution (kernel interpreter, lockstep lanes, program
JIT, batch driver), (b) the search loop's own native work (tournament, mutation, dce, FEC hash and cache,
stage bookkeeping), libm, Python, the OS kernel, other libraries. Seconds are sample shares of that run's CPU.

Writes benchmarks/results/phases-<UTC time>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_common import environment, installed_env, machine_load, write_results
from bench_vs_cxx import azlang_cmd

ORDER = ["interpreter start", "import", "config", "tasks", "llvm init", "native objects", "native compile",
         "evaluator setup", "island setup", "search native", "search glue", "progress", "checkpoints", "select",
         "final", "select/final native", "results output", "other", "teardown"]
PERF = "/usr/bin/perf"


def probe_run(name: str, tree: Path, env: dict, perf: Path | None = None) -> dict:
    """One probed run of the workload on `tree`; phases in [wall, CPU] seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "phases.json"
        evolve = azlang_cmd(name, Path(tmp) / "run", tree)[3:]  # drop python -m azlang.cli
        cmd = [sys.executable, str(HERE / "phase_probe.py"), str(out)] + (["--perf-map"] if perf else [])
        cmd += ["--", *evolve]
        if perf:
            cmd = [PERF, "record", "-q", "-F", "1999", "-o", str(perf), "--", *cmd]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t_fork = time.time()
        p = subprocess.run(cmd, env={**env, "PYTHONPATH": str(tree)}, cwd=tree, capture_output=True, text=True,
                           check=False)
        t_exit = time.time()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{(p.stdout + p.stderr)[-3000:]}")
        d = json.loads(out.read_text())
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    phases = d["phases"]
    phases["interpreter start"] = [d["t_start"] - t_fork, d["cpu_start"]]
    phases["teardown"] = [t_exit - d["t_main_end"], cpu - d["cpu_main_end"]]
    return {"phases": phases, "counts": d["counts"], "native": d["native"], "wall_s": t_exit - t_fork,
            "cpu_s": cpu, "load": machine_load()}


def medians(runs: list[dict]) -> dict:
    names = {k for r in runs for k in r["phases"]}
    med = {k: [statistics.median(r["phases"].get(k, [0.0, 0.0])[i] for r in runs) for i in (0, 1)] for k in names}
    return {"phases": med, "wall_s": statistics.median(r["wall_s"] for r in runs),
            "cpu_s": statistics.median(r["cpu_s"] for r in runs), "counts": runs[-1]["counts"],
            "native": runs[-1]["native"]}


# --- perf split -------------------------------------------------------------------------------------------

def classify(dso: str, sym: str) -> str:
    if sym.startswith(("search:", "search/")):
        return "(b) search loop native (mutate, dce, FEC, bookkeeping)"
    if sym.startswith(("kernel:", "kernel-ops:", "kernel-lanes:", "jit:", "driver:")):
        return "(a) instruction execution (kernel, lanes, JIT)"
    if sym.startswith("gaussian_fill"):
        return "task data fills"
    if "libm" in dso:
        return "libm"
    if "python" in dso.lower():
        return "Python interpreter"
    if dso.startswith("[kernel"):
        return "OS kernel"
    if "JIT" in dso or dso.startswith("perf-"):
        return "unnamed JIT code"
    return "other libraries (libc, numpy, llvmlite)"


def perf_split(data: Path, cpu_s: float) -> dict:
    rep = subprocess.run([PERF, "report", "-i", str(data), "--no-children", "--sort", "dso,sym", "--stdio",
                          "-g", "none", "--percent-limit", "0", "--field-separator", "|"],
                         capture_output=True, text=True, check=True).stdout
    groups: dict[str, float] = {}
    top: list[tuple[float, str]] = []
    for ln in rep.splitlines():
        m = re.match(r"\s*([\d.]+)%\s*\|([^|]*)\|\s*\[.\]\s+(.*)$", ln)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2).strip(), m.group(3).strip()
        g = classify(dso, sym)
        groups[g] = groups.get(g, 0.0) + pct
        top.append((pct, f"{dso} {sym}"))
    top.sort(reverse=True)
    return {"groups_s": {g: cpu_s * p / 100 for g, p in sorted(groups.items(), key=lambda x: -x[1])},
            "top": [(p, s) for p, s in top[:25]], "cpu_s": cpu_s}


# --- output -----------------------------------------------------------------------------------------------

def table(results: dict) -> str:
    lines = []
    for name, trees in results.items():
        cols = list(trees)
        lines.append(f"\n### {name}\n")
        head = " | ".join(f"{c} wall | {c} CPU" for c in cols)
        lines.append(f"| phase | {head} |")
        lines.append("|---|" + "---|" * (2 * len(cols)))
        names = [k for k in ORDER if any(k in t["phases"] for t in trees.values())]
        names += sorted({k for t in trees.values() for k in t["phases"]} - set(names))
        for k in names:
            cells = " | ".join(f"{t['phases'].get(k, [0, 0])[0]:.3f} | {t['phases'].get(k, [0, 0])[1]:.3f}"
                               for t in trees.values())
            lines.append(f"| {k} | {cells} |")
        cells = " | ".join(f"**{t['wall_s']:.3f}** | **{t['cpu_s']:.3f}**" for t in trees.values())
        lines.append(f"| whole process | {cells} |")
        for c, t in trees.items():
            if "perf" in t:
                lines.append(f"\nperf split of one `{c}` run (CPU s, from sample shares of {t['perf']['cpu_s']:.2f} s):\n")
                lines += [f"- {g}: {s:.3f} s" for g, s in t["perf"]["groups_s"].items()]
                lines.append("\ntop symbols (self %): " + "; ".join(f"{s} {p:.1f}%" for p, s in t["perf"]["top"][:12]))
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="demo,baseline")
    ap.add_argument("--perf", action="store_true")
    ap.add_argument("--before", type=Path)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    env = {**os.environ}
    env.setdefault("AZLANG_DATA", str(ROOT.parent / "shared" / "data"))
    trees = {"now": ROOT} | ({"before": args.before.resolve()} if args.before else {})
    env = installed_env(env, *trees.values())
    results: dict = {}
    for name in args.only.split(","):
        runs: dict[str, list] = {t: [] for t in trees}
        for k in range(args.runs):
            order = list(trees) if k % 2 == 0 else list(trees)[::-1]
            for t in order:
                r = probe_run(name, trees[t], env)
                runs[t].append(r)
                print(f"  {name} {t} run {k}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU (load {r['load']:.1f})",
                      flush=True)
        results[name] = {t: medians(rs) | {"runs": rs} for t, rs in runs.items()}
        if args.perf:
            for t in trees:
                with tempfile.TemporaryDirectory() as tmp:
                    data = Path(tmp) / "perf.data"
                    r = probe_run(name, trees[t], env, perf=data)
                    results[name][t]["perf"] = perf_split(data, r["cpu_s"])
    md = table({n: {t: v for t, v in tr.items()} for n, tr in results.items()})
    print(md)
    if not args.no_write:
        write_results("phases", {"environment": environment(), "results": results}, md)


if __name__ == "__main__":
    main()
