"""Benchmark: launch costs: `import azlang`, the CLI's imports, `azc --help`, and a zero-work `azc evolve` on one
and on two workers (the cost of spawning an island). bench_startup.py compares CLI commands against a baseline.

Each row is the median wall time (and CPU time) of fresh processes, run in turn `--repeats` times; the
imports that `python -X importtime` finds slowest for `azc --help` are listed after the table. The machine
is shared: medians, and the CPU column, which load barely moves.

    python benchmarks/bench_launch.py [--repeats 7] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import environment, timed_run, write_results


def commands(tmp: Path) -> dict[str, list[str]]:
    py = sys.executable
    azc = shutil.which("azc") or ""
    evolve = [py, "-m", "azlang.cli", "evolve", "--max-train-steps", "1e5", "--max-experiments", "1",
              "--sufficient-fitness", "2", "--random-seed", "1", "--run-dir"]
    cmds = {
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import azlang'": [py, "-c", "import azlang"],
        "python -c 'import azlang.cli'": [py, "-c", "import azlang.cli"],
        "python -m azlang.cli --help": [py, "-m", "azlang.cli", "--help"],
        "azc evolve, 1e5 steps, 1 worker": [*evolve, str(tmp / "w1"), "--workers", "1"],
        "azc evolve, 1e5 steps, 2 workers": [*evolve, str(tmp / "w2"), "--workers", "2"],
    }
    if azc:
        cmds["azc --help"] = [azc, "--help"]
    return cmds


def slowest_imports(env: dict, top: int = 12) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of the slowest imports under `azc --help`."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "azlang.cli", "--help"], env=env,
                         capture_output=True, text=True, check=False).stderr
    rows = []
    for line in out.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) <= 3:  # top-level and first-level imports only
            rows.append((int(m.group(1)), m.group(3)))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    times: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(Path(tmp))
        for _ in range(args.repeats):  # round robin: every command sees the same machine state
            for name, cmd in cmds.items():
                for d in ("w1", "w2"):
                    shutil.rmtree(Path(tmp) / d, ignore_errors=True)
                wall, cpu, _ = timed_run(cmd, env, ROOT)
                times.setdefault(name, []).append((wall, cpu))
    rows = {name: {"wall_s": statistics.median(w for w, _ in v), "cpu_s": statistics.median(c for _, c in v)}
            for name, v in times.items()}
    md = [f"| command ({args.repeats} runs each, medians) | wall ms | CPU ms |", "|---|---|---|"]
    md += [f"| {name} | {r['wall_s'] * 1e3:.0f} | {r['cpu_s'] * 1e3:.0f} |" for name, r in rows.items()]
    md += ["", "Slowest imports under `azc --help` (cumulative ms, python -X importtime, one run):", ""]
    md += [f"- {mod}: {us / 1e3:.0f} ms" for us, mod in slowest_imports(env)]
    text = "\n".join(md) + "\n"
    print(text)
    if not args.no_write:
        write_results("launch", {"environment": environment(), "rows": rows}, text)


if __name__ == "__main__":
    main()
