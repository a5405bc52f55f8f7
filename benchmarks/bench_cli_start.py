"""Benchmark: what `azc` pays to dispatch a command: azlang/cli_coerce.py's coercion side by side with typer's own.

typer 0.29 coerces each CLI value through a pydantic TypeAdapter (pydantic imported, one adapter built per
parameter); azlang/cli_coerce.py coerces azc's plain kinds without it. Both modes run the same tree, in fresh
processes, alternated (fast, typer, fast, typer, ...); the only difference is `cli_coerce.SUPPORTED` (False: the
fast coercion is not installed, typer's path runs). Each process reports the CPU of the dispatch alone
(`app(args)` after `import azlang.cli`; a lazily loaded command's own imports are part of it) and whether
pydantic was imported; its whole-process CPU is measured from
outside. The commands stop before any real work: `azc evolve` with the benchmark's flags (bench_vs_cxx.py) and
a config file that does not exist (the config error comes after every value is coerced), `azc --help`,
`azc run --help`, `azc check` of one program; with --demo also the benchmark's whole demo search. The machine is shared: medians of CPU time.

    python benchmarks/bench_cli_start.py [--repeats 9] [--demo] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import environment, installed_env, machine_load, timed_run, write_results

# One process: set the mode, import the CLI, time the dispatch, say what it cost. Exits 0 whatever azc said.
CHILD = """
import json, resource, sys
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
from azlang import cli_coerce
cli_coerce.SUPPORTED = cli_coerce.SUPPORTED and sys.argv[1] == "fast"
from azlang.cli import app
start = cpu()
try:
    app(sys.argv[2:], prog_name="azc", standalone_mode=False)
except BaseException as exc:
    print(f"stopped: {type(exc).__name__}", file=sys.stderr)
dispatch = cpu() - start
print("BENCH " + json.dumps({"dispatch_cpu_s": dispatch, "pydantic": "pydantic" in sys.modules}))
"""


def commands(tmp: Path, demo: bool) -> dict[str, list[str]]:
    missing = str(tmp / "missing.toml")
    real = {}
    if demo:  # the whole benchmark workload of bench_vs_cxx.py (a ~2 s search): the saving in proportion
        from bench_vs_cxx import azlang_cmd

        real["azc evolve: bench_vs_cxx demo workload (whole run)"] = azlang_cmd("demo", tmp / "demo-run")[3:]
    return {**real,
        "azc evolve (bench flags, missing config)": [
            "evolve", "--config", missing, "--random-seed", "1000060", "--max-train-steps", "300000000.0",
            "--max-experiments", "1", "--sufficient-fitness", "2", "--workers", "1", "--run-dir", str(tmp / "run")],
        "azc --help": ["--help"],
        "azc run --help": ["run", "--help"],
        "azc check stdlib/linear_sgd.az": ["check", str(ROOT / "stdlib" / "linear_sgd.az")],
    }


def once(mode: str, args: list[str], env: dict) -> dict:
    _, process_cpu, text = timed_run([sys.executable, "-c", CHILD, mode, *args], env, ROOT)
    line = next(ln for ln in text.splitlines() if ln.startswith("BENCH "))
    return {"process_cpu_s": process_cpu, **json.loads(line.removeprefix("BENCH "))}


def measure(repeats: int, demo: bool) -> dict:
    env = installed_env({**os.environ, "PYTHONPATH": str(ROOT)}, ROOT)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in commands(Path(tmp), demo).items():
            runs = {"fast": [], "typer": []}
            once("fast", args, env)  # warm the file cache for both
            for _ in range(repeats):
                for mode, results in runs.items():  # alternated: load on the machine hits both alike
                    shutil.rmtree(Path(tmp) / "demo-run", ignore_errors=True)
                    results.append(once(mode, args, env))
            rows[name] = {mode: {"process_cpu_s": statistics.median(r["process_cpu_s"] for r in rs),
                                 "dispatch_cpu_s": statistics.median(r["dispatch_cpu_s"] for r in rs),
                                 "imports_pydantic": any(r["pydantic"] for r in rs),
                                 "runs": rs} for mode, rs in runs.items()}
            f, t = rows[name]["fast"], rows[name]["typer"]
            print(f"{name:<42} dispatch {1000 * t['dispatch_cpu_s']:6.1f} -> {1000 * f['dispatch_cpu_s']:5.1f} ms   "
                  f"process {1000 * t['process_cpu_s']:6.1f} -> {1000 * f['process_cpu_s']:6.1f} ms CPU", flush=True)
    return rows


def markdown(data: dict) -> str:
    env = data["environment"]
    title = f"# azc dispatch: coercion without pydantic (azlang/cli_coerce.py) vs typer's own ({env['utc']})"
    setting = (f"commit {env['commit']}, Python {env['python']}, {env['cpu']} ({env['cores']} cores), load "
               f"{env['load_at_start']:.2f} at start, {data['load_at_end']:.2f} at end; medians of {data['repeats']} "
               "alternated fresh processes per mode; CPU time (user+sys), ms.")
    header = ("| command | dispatch, typer's | dispatch, fast | process, typer's | process, fast | saved | "
              "pydantic imported (typer's / fast) |")
    lines = [title, "", setting, "", header, "|---|---:|---:|---:|---:|---:|---|"]
    for name, row in data["commands"].items():
        f, t = row["fast"], row["typer"]
        lines.append(f"| `{name}` | {1000 * t['dispatch_cpu_s']:.1f} | {1000 * f['dispatch_cpu_s']:.1f} | "
                     f"{1000 * t['process_cpu_s']:.1f} | {1000 * f['process_cpu_s']:.1f} | "
                     f"{1000 * (t['process_cpu_s'] - f['process_cpu_s']):.1f} | "
                     f"{'yes' if t['imports_pydantic'] else 'no'} / {'yes' if f['imports_pydantic'] else 'no'} |")
    legend = ("dispatch = CPU of `app(args)` after `import azlang.cli` (a lazily loaded command's module imports "
              "included: evolve's search stage, check's parser); process = the whole process, interpreter start "
              "included, measured from outside.")
    lines += ["", legend, "", f"    python benchmarks/bench_cli_start.py --repeats {data['repeats']}"
              + (" --demo" if data["demo"] else ""), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9, help="processes per command and mode (>= 7 advised)")
    parser.add_argument("--demo", action="store_true",
                        help="also time bench_vs_cxx.py's demo workload, a whole ~2 s search, the same way")
    parser.add_argument("--no-write", action="store_true", help="print only; no results file")
    args = parser.parse_args()
    data = {"environment": environment(), "repeats": args.repeats, "demo": args.demo}
    data["commands"] = measure(args.repeats, args.demo)
    data["load_at_end"] = machine_load()
    if not args.no_write:
        write_results("cli_start", data, markdown(data))


if __name__ == "__main__":
    main()
