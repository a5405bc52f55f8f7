"""`azc evolve` holds the collector off through the run's set-up too (azlang/cli_gc.py): the hold ends where the
sweeps begin (search/heap.py), or, in the parent of island processes, at the first progress line; a library run
leaves the collector as it was (frozen_heap releases only azc's own hold)."""

import gc
import subprocess
import sys
from pathlib import Path

from azlang import cli_gc
from azlang.search.heap import frozen_heap

ROOT = Path(__file__).resolve().parents[1]

SPY = """
import gc, sys
from azlang import cli_gc
from azlang.search import cli_progress, executors

seen = []
def spy(where, fn, when=lambda *a: True):
    def wrapped(*args, **kwargs):
        if when(*args) and where not in dict(seen):
            seen.append((where, gc.isenabled()))
        return fn(*args, **kwargs)
    return wrapped

executors.build_island = spy("island set-up", executors.build_island)
executors.InProcessExecutor._sweeps = spy("sweeps", executors.InProcessExecutor._sweeps)
cli_progress.Display.__call__ = spy("start notice", cli_progress.Display.__call__,
                                    lambda self, rec: rec.get("event") == "notice")
cli_progress.Display.__call__ = spy("first progress line", cli_progress.Display.__call__,
                                    lambda self, rec: rec.get("event") == "progress")
from azlang.cli import main
sys.argv = ["azc", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(seen, "after:", gc.isenabled(), cli_gc.held())
"""

ARGS = ["evolve", "--population", "20", "--tournament", "4", "--max-individuals", "400", "--max-experiments", "1",
        "--random-seed", "7", "-t", "linear:F4:D2:N20:V20", "--no-fec"]


def run_spied(*args) -> str:
    return subprocess.run([sys.executable, "-c", SPY, *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.splitlines()[-1]


def test_in_process_islands_are_set_up_with_the_collector_held_and_sweep_with_it_on(tmp_path):
    line = run_spied(*ARGS, "--workers", "1", "--run-dir", str(tmp_path / "run"))
    assert line == ("[('start notice', False), ('island set-up', False), ('sweeps', True), "
                    "('first progress line', True)] after: True False")


def test_with_island_processes_the_parent_releases_at_the_first_progress_line(tmp_path):
    line = run_spied(*ARGS, "--workers", "2", "--run-dir", str(tmp_path / "run"))
    assert line == "[('start notice', False), ('first progress line', True)] after: True False"


def test_frozen_heap_leaves_a_library_callers_collector_as_it_is():
    enabled = gc.isenabled()
    try:
        for state in (gc.disable, gc.enable):
            state()
            with frozen_heap():
                assert gc.isenabled() == (state is gc.enable) and not cli_gc.held()
            assert gc.isenabled() == (state is gc.enable)
    finally:
        (gc.enable if enabled else gc.disable)()
