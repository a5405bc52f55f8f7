"""`azc` holds the garbage collector off during its start-up only (azlang/cli_gc.py): collections are back on, with
the start-up heap frozen, before a command's work (evolve: once set up, before the run), and after the command;
a library user importing azlang.cli keeps its collector as it is."""

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from azlang import cli_gc

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def collector():
    """The collector as the test found it, afterwards (release freezes the heap: thawed again)."""
    enabled = gc.isenabled()
    yield
    cli_gc.release()
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_hold_and_release(collector):
    gc.enable()
    gc.unfreeze()
    cli_gc.hold()
    assert not gc.isenabled() and cli_gc.held()
    cli_gc.hold()  # twice: still one hold
    cli_gc.release()
    assert gc.isenabled() and not cli_gc.held()
    assert gc.get_freeze_count() > 0  # what start-up built is out of the collections' way
    frozen = gc.get_freeze_count()
    cli_gc.release()  # nothing held: nothing changes
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_collections_off_already_stay_off(collector):
    gc.disable()
    gc.unfreeze()
    cli_gc.hold()
    assert not cli_gc.held()
    cli_gc.release()
    assert not gc.isenabled() and gc.get_freeze_count() == 0  # whoever turned them off turns them on


def test_importing_the_cli_leaves_the_collector_alone():
    code = "import gc\nimport azlang.cli\nfrom azlang import cli_gc\nprint(gc.isenabled(), cli_gc.held())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


SPY = """
import gc, sys
from azlang import cli_gc
from azlang.search import cli_progress, executors
import azlang.api

seen = {}
def spy(where, fn):
    def wrapped(*args, **kwargs):
        seen.setdefault(where, gc.isenabled())
        return fn(*args, **kwargs)
    return wrapped

executors.InProcessExecutor._sweeps = spy("sweeps", executors.InProcessExecutor._sweeps)
cli_progress.Display.__init__ = spy("evolve set-up", cli_progress.Display.__init__)
azlang.api.load = spy("check", azlang.api.load)
from azlang.cli import main
sys.argv = ["azc", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(sorted(seen.items()), "after:", gc.isenabled(), cli_gc.held())
"""


def run_spied(*args) -> str:
    return subprocess.run([sys.executable, "-c", SPY, *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.splitlines()[-1]


def test_evolve_runs_with_the_collector_on(tmp_path):
    args = ["evolve", "--population", "20", "--tournament", "4", "--max-individuals", "60", "--max-experiments",
            "1", "--random-seed", "7", "--backend", "numpy", "-t", "linear:F4:D2:N20:V20", "--run-dir",
            str(tmp_path / "run")]
    line = run_spied(*args)
    assert line == "[('evolve set-up', False), ('sweeps', True)] after: True False"


def test_other_commands_run_with_the_collector_on():
    assert run_spied("check", str(ROOT / "stdlib" / "linear_sgd.az")) == "[('check', True)] after: True False"
