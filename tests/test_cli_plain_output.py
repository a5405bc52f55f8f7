"""Off a terminal, `azc` writes text that rich would write unchanged straight to the stream (cli_support's lazy
console): byte for byte what the rich console writes, without importing rich's console; anything rich would change
(markup, a known :emoji:, tabs, control codes) and any terminal, forced or real, still goes through rich."""

import io
import subprocess
import sys
from pathlib import Path

import pytest

from azlang.cli_support import _LazyConsole, as_is, make_console, off_terminal

ROOT = Path(__file__).resolve().parents[1]

PLAIN = [
    "",
    "stopped by: max_experiments; 1,116,000 individuals, 200,085,673 train steps, 3.4s; random seed 1",
    "  search tasks: linear:F4:D10:N100:V100",
    "final evaluation of the best candidate on linear:F4:D100:N1000:V100:S1000000:P2000000 ...",
    "def Setup():\n  s3 = -0.3162330228117879\n\ndef Predict():\n  s1 = dot(v0, v2)\n",
    "trailing spaces   \n   leading",
    "run directory: /tmp/x:y1:z/é/日本語",
    "progress exp=0 indivs=1000 indivs_per_sec=10191 fec_hits=41.3% hurdle_pass=- done=0.3%",
    "a colon pair with a space between: here :not an emoji",
]
RICH = ["say :smile: now", "/tmp/a:b:c (b is an emoji name)", "tab\there", "bell\x07", "escape \x1b[31mred", "a\rb"]
MARKUP = ["[bold]bold[/bold] text", r"escaped \[x]", "list [1, 2]"]


def rich_writes(text: str, **options) -> str:
    console = make_console()
    console.file = io.StringIO()
    console.print(text, **options)
    return console.file.getvalue()


@pytest.fixture
def plain_stdout(monkeypatch):
    """sys.stdout as a StringIO (no terminal), set in the test itself: pytest's capture sets it before the test."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    buf = io.StringIO()
    return lambda: monkeypatch.setattr(sys, "stdout", buf) or buf


@pytest.mark.parametrize("options", [{}, {"markup": False, "highlight": False}, {"soft_wrap": True}])
@pytest.mark.parametrize("text", PLAIN + RICH + MARKUP)
def test_lazy_console_writes_what_rich_writes(plain_stdout, text, options):
    buf = plain_stdout()
    lazy = _LazyConsole(stderr=False)
    lazy.print(text, **options)
    assert buf.getvalue() == rich_writes(text, **options)
    direct = text in PLAIN or (text in MARKUP and options.get("markup") is False)
    assert (lazy._console is None) == direct  # written directly exactly when rich would not change it
    assert as_is(text, options.get("markup") is not False) == direct


def test_off_terminal_is_rich_answer(plain_stdout, monkeypatch):
    buf = plain_stdout()
    lazy = _LazyConsole(stderr=False)
    assert off_terminal() and lazy.is_terminal is False and lazy.file is sys.stdout and lazy._console is None
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then takes the stream for a terminal: so must we
    forced = _LazyConsole(stderr=False)
    assert not off_terminal() and forced.is_terminal is True and forced._console is not None
    forced.print("plain words")
    assert "plain words" in buf.getvalue()


def test_a_terminal_goes_through_rich(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdout", Tty())
    lazy = _LazyConsole(stderr=False)
    assert not off_terminal() and lazy.is_terminal is True and lazy._console is not None


EVOLVE = """
import sys
from typer.testing import CliRunner
from azlang.cli import app
args = ["evolve", "--population", "20", "--tournament", "4", "--max-individuals", "100", "--max-experiments", "1",
        "--random-seed", "7", "--backend", "numpy", "-t", "linear:F4:D2:N20:V20", "--run-dir", sys.argv[1]]
res = CliRunner().invoke(app, args)
assert res.exit_code == 0, res.output
assert "progress exp=0" in res.output and "search tasks: linear:F4:D2:N20:V20" in res.output
assert "algorithm found:" in res.output and "stopped by: " in res.output
print("rich.console" in sys.modules)
"""


def test_evolve_off_a_terminal_imports_no_rich_console(tmp_path):
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    out = subprocess.run([sys.executable, "-c", EVOLVE, str(tmp_path / "run")], cwd=ROOT, capture_output=True,
                         text=True, check=True, env=env)
    assert out.stdout.strip() == "False"
