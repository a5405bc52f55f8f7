"""Benchmark (task stage): build time of projected dataset tasks, first (empty cache) and second (cached).

    AZLANG_DATA=/path/to/data python3 benchmarks/bench_tasks.py [--spec cifar:select:F16:D100] [--list]

Needs the real datasets (see `azc data list`); uses a fresh temporary cache unless --cache-dir is given.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from azlang.tasks import datasets as ds
from azlang.tasks import download
from azlang.tasks.build import build_tasks


def timed_build(spec: str, data_dir: str | None) -> tuple[str, list]:
    """'wall s (cpu s)': CPU time too, because wall time on a shared machine swings with the load."""
    wall, cpu = time.perf_counter(), time.process_time()
    tasks = build_tasks(spec, data_dir)
    return f"{time.perf_counter() - wall:.2f} s ({time.process_time() - cpu:.2f} s cpu)", tasks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", action="append", help="task spec (repeatable); default cifar:select:F16:D100")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--cache-dir", default=None, help="default: a fresh temporary folder")
    ap.add_argument("--list", action="store_true", help="also verify and list the datasets present")
    args = ap.parse_args()
    if args.list:
        for st in download.inventory(args.data_dir):
            print(f"{st.name:8} {st.state:10} {st.path}  {st.detail}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AZLANG_CACHE_DIR"] = args.cache_dir or tmp
        for spec in args.spec or ["cifar:select:F16:D100"]:
            ds._load_memo.cache_clear()  # the first build includes reading the dataset files
            first, tasks = timed_build(spec, args.data_dir)
            second, _ = timed_build(spec, args.data_dir)  # every task from the cache: no dataset is read
            print(f"{spec}: {len(tasks)} tasks, F={tasks[0].F}, train {tasks[0].n_train}, valid {tasks[0].n_valid}: "
                  f"first build {first}, second (cached) {second}")


if __name__ == "__main__":
    main()
