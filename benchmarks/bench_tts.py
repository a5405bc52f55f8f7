"""Benchmark stage: time to success of the demo (run_demo.sh): `azc evolve` per seed until select > 0.9999.

Each seed runs the CLI in a fresh process (`python -m azlang.cli evolve --config examples/demo.toml`) with a
wall-clock cap; the table gives the process wall time, the run's own time and individuals/s, whether it
succeeded, and the found program after dead-code removal (it should be SGD linear regression).

    python benchmarks/bench_tts.py [--seeds 1,2,3,4,5] [--max-time 300] [--loop auto]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from azlang.passes import run_pipeline
from azlang.syntax import parse
from azlang.syntax.printer import print_program


def run_seed(seed: int, max_time: float, loop: str, workdir: Path) -> dict:
    run_dir = workdir / f"seed{seed}"
    cmd = [
        sys.executable,
        "-m",
        "azlang.cli",
        "evolve",
        "--config",
        str(_config(loop, workdir)),
        "--random-seed",
        str(seed),
        "--run-dir",
        str(run_dir),
        "--max-time",
        str(max_time),
    ]
    t = time.perf_counter()
    subprocess.run(
        cmd,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        check=False,
        timeout=max_time + 120,
    )
    wall = time.perf_counter() - t
    summary = json.loads((run_dir / "summary.json").read_text())
    done = [json.loads(line) for line in (run_dir / "progress.jsonl").read_text().splitlines()]
    experiments = [r for r in done if r["event"] == "experiment"]
    ok = summary.get("stopped_by") == "sufficient_fitness"
    program = summary.get("text") or summary.get("program") or ""
    return {
        "seed": seed,
        "success": ok,
        "wall_s": round(wall, 1),
        "run_s": round(summary.get("seconds", 0.0), 1),
        "experiments": len(experiments),
        "individuals": summary.get("individuals"),
        "individuals_per_s": round(summary.get("individuals", 0) / max(summary.get("seconds", 1e-9), 1e-9)),
        "select": summary.get("select_fitness"),
        "program": _dce(program) if program else "",
    }


def _config(loop: str, workdir: Path) -> Path:
    """examples/demo.toml, with evolution.loop set when it is not the default."""
    demo = ROOT / "examples/demo.toml"
    if loop == "auto":
        return demo
    path = workdir / f"demo-{loop}.toml"
    path.write_text(demo.read_text().replace("[evolution]\n", f'[evolution]\nloop = "{loop}"\n'))
    return path


def _dce(text: str) -> str:
    prog, _ = run_pipeline(parse(text), ["dce"])
    return print_program(prog)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--max-time", type=float, default=300.0)
    ap.add_argument("--loop", default="auto", help="evolution.loop: auto, native or python")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (int(s) for s in args.seeds.split(",")):
            row = run_seed(seed, args.max_time, args.loop, Path(tmp))
            rows.append(row)
            print(json.dumps(row), flush=True)
    times = [r["wall_s"] if r["success"] else float("inf") for r in rows]
    print(
        json.dumps(
            {
                "median_wall_s_to_success": statistics.median(times),
                "succeeded": sum(r["success"] for r in rows),
                "seeds": len(rows),
            }
        )
    )


if __name__ == "__main__":
    main()
