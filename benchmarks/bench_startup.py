"""Start-up of `azc`: whole-process wall time of short commands, side by side with a baseline source tree.

    git archive <commit> | tar -x -C /tmp/base        # the tree to compare against
    python benchmarks/bench_startup.py --baseline /tmp/base --pairs 15

Each command runs in a fresh interpreter (`python -m azlang.cli ...`), current tree and baseline alternated,
so load on the machine hits both alike; reported are the medians over the pairs and their ratio. Without
--baseline only the current tree is timed. Also prints the modules each tree imports for `--help`.

The last command is the fixed cost of `azc evolve`: the demo config for 1e3 train steps (one experiment, its
select and final evaluation, checkpoints and summary), everything the demo run pays besides the search itself.
Each command runs once per tree untimed first (bytecode, the native object cache); `--only evolve` times the
commands containing that word alone, `--steps 2e8` makes that command the whole demo run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = "{run_dir}"  # replaced by a fresh directory on every run
EVOLVE = ["evolve", "--config", "examples/demo.toml", "--random-seed", "1", "--max-train-steps", "1e3",
          "--max-experiments", "1", "--sufficient-fitness", "2", "--workers", "1", "--run-dir", RUN_DIR]
COMMANDS = [["--help"], ["run", "--help"], ["check", "stdlib/linear_sgd.az"], ["opt", "--help"], EVOLVE]


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    return env


def once(tree: Path, args: list[str]) -> float:
    scratch = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    args = [str(scratch / "run") if a == RUN_DIR else a for a in args]
    try:
        start = time.perf_counter()
        # cwd = the tree: `python -m` puts it first on sys.path, ahead of any installed (editable) azlang
        subprocess.run([sys.executable, "-m", "azlang.cli", *args], cwd=tree, env=_env(tree),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def heavy_modules(tree: Path) -> list[str]:
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom azlang.cli import app\n"
            "CliRunner().invoke(app, ['--help'])\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=_env(tree), capture_output=True, text=True,
                         check=False)
    return [m for m in out.stdout.split() if m in ("numpy", "llvmlite", "lark", "rich", "multiprocessing")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="a source tree of azlang to compare against")
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--only", help="time only the commands containing this word (e.g. evolve)")
    parser.add_argument("--steps", default="1e3", help="train steps of the evolve command (2e8: the whole demo)")
    args = parser.parse_args()
    EVOLVE[EVOLVE.index("--max-train-steps") + 1] = args.steps
    trees = {"current": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    for name, tree in trees.items():
        print(f"{name}: `azc --help` imports {', '.join(heavy_modules(tree)) or 'none of numpy/llvmlite/lark/rich'}")
    print(f"{'command':<30}" + "".join(f"{n + ' (ms)':>16}" for n in trees) + ("   ratio" if args.baseline else ""))
    for command in [c for c in COMMANDS if args.only is None or args.only in c]:
        for tree in trees.values():
            once(tree, command)  # untimed: bytecode and native objects in place for both trees
        times: dict[str, list[float]] = {n: [] for n in trees}
        for _ in range(args.pairs):
            for n, tree in trees.items():  # alternated within each pair
                times[n].append(once(tree, command))
        medians = {n: statistics.median(t) * 1000 for n, t in times.items()}
        ratio = f"   {medians['baseline'] / medians['current']:.2f}x" if args.baseline else ""
        label = f"azc evolve (demo, {args.steps} steps)" if command is EVOLVE else "azc " + " ".join(command)
        print(f"{label:<30}" + "".join(f"{m:>16.0f}" for m in medians.values()) + ratio)


if __name__ == "__main__":
    main()
