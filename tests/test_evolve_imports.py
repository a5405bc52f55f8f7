"""What `azc evolve` leaves unloaded: the display (cli_progress.py) imports rich's live display and tables only on
a terminal (off one, a pipe, a log, the benchmark, it runs without them; on one the live table is shown as
before), and a one-island run never loads multiprocessing (executors.py imports it for worker processes)."""

import io
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from azlang.search.cli_progress import Display

ROOT = Path(__file__).resolve().parents[1]
EVENT = {"event": "progress", "experiment": 0, "individuals": 1200, "individuals_per_s": 3000.0,
         "train_steps": 123456, "best": 0.5, "mean": 0.25, "stdev": 0.1, "fec_hit_rate": 0.5,
         "hurdle_pass_rate": None, "time": 1.0, "done": 0.5, "eta": 1.0}

OFF_TERMINAL = """
import sys
from typer.testing import CliRunner
from azlang.cli import app
args = ["evolve", "--population", "20", "--tournament", "4", "--max-individuals", "100", "--max-experiments", "1",
        "--random-seed", "7", "--backend", "numpy", "-t", "linear:F4:D2:N20:V20", "--run-dir", sys.argv[1]]
res = CliRunner().invoke(app, args)
assert res.exit_code == 0, res.output
assert "progress exp=0" in res.output
print(" ".join(m for m in ("rich.live", "rich.table", "multiprocessing") if m in sys.modules))
"""


def test_evolve_off_a_terminal_on_one_island_imports_no_live_display_nor_multiprocessing(tmp_path):
    out = subprocess.run([sys.executable, "-c", OFF_TERMINAL, str(tmp_path / "run")], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == ""


def test_off_a_terminal_there_is_no_live_table():
    buf = io.StringIO()
    d = Display(Console(file=buf, highlight=False))
    with d:
        d(EVENT)
    assert d.live is None and not d.terminal
    assert buf.getvalue().startswith("progress exp=0 indivs=1200 ") and "┏" not in buf.getvalue()


def test_on_a_terminal_the_live_table_shows_progress():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120, highlight=False)
    d = Display(console)
    assert d.terminal and d.live is not None
    with d:
        d(EVENT)
    text = buf.getvalue()
    assert "evolution" in text and "1.2k" in text and "0.500000" in text and "progress exp=" not in text
