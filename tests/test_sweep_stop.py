"""A stop request (Ctrl-C, SIGTERM) stops the whole sweep: the running repeats checkpoint, no other repeat
starts, the CLI exits with the signal's code, and running the sweep again finishes it exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from azlang.search import interrupt
from azlang.search.sweep import run_sweep

ROOT = Path(__file__).parent.parent
SMALL = {"stop.max_individuals": 2000, "stop.max_experiments": 1, "evolution.population": 100,
         "run.checkpoint_every": 1e9}
KEYS = ("text", "select_fitness", "individuals", "train_steps")


def test_a_stop_in_the_first_repeat_stops_the_sweep_and_rerunning_finishes_it_exactly(tmp_path, clean_interrupt_flag):
    whole = run_sweep("examples/demo.toml", tmp_path / "whole", 3, [7, 8, 9], jobs=1, overrides=SMALL)
    assert whole["stopped_by"] is None and whole["finished"] == 3
    interrupt.after(2)  # Ctrl-C inside the first repeat
    stopped = run_sweep("examples/demo.toml", tmp_path / "s", 3, [7, 8, 9], jobs=1, overrides=SMALL)
    assert [o["status"] for o in stopped["outcomes"]] == ["stopped", "not started", "not started"]
    assert stopped["stopped_by"] == "interrupt" and stopped["finished"] == 0
    first = tmp_path / "s" / "repeat_000"
    assert (first / "checkpoint.ckpt").exists() and not (first / "summary.json").exists()
    assert not (tmp_path / "s" / "repeat_001").exists()
    interrupt.FLAG.reset()
    again = run_sweep("examples/demo.toml", tmp_path / "s", 3, [7, 8, 9], jobs=1, overrides=SMALL)
    assert [o["status"] for o in again["outcomes"]] == ["resumed", "ran", "ran"] and again["stopped_by"] is None
    for i in range(3):
        a, b = (json.loads((tmp_path / d / f"repeat_{i:03d}" / "summary.json").read_text()) for d in ("s", "whole"))
        assert [a[k] for k in KEYS] == [b[k] for k in KEYS]


def _sweep(tmp_path: Path, jobs: int, repeats: int):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    sets = [a for k, v in {**SMALL, "stop.max_individuals": 200000, "run.backend": "numpy", "run.progress_every": 100,
                           "run.progress_seconds": 0.0}.items() for a in ("--set", f"{k}={v}")]
    cmd = [sys.executable, "-W", "ignore", "-c", "from azlang.cli import main; main()", "sweep",
           str(ROOT / "examples/demo.toml"), "-d", str(tmp_path / "s"), "--repeats", str(repeats), "--jobs", str(jobs),
           *sets]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


@pytest.mark.parametrize("jobs", [1, 2])
def test_sigterm_to_the_sweep_process_stops_every_repeat_cleanly(tmp_path, jobs):
    proc = _sweep(tmp_path, jobs, repeats=jobs + 1)
    running = [tmp_path / "s" / f"repeat_{i:03d}" / "progress.jsonl" for i in range(jobs)]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if all(p.exists() and len(p.read_text().splitlines()) >= 3 for p in running):
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGTERM)  # the sweep's own process only: it passes the stop on to its repeats
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, out + err
    assert "Traceback" not in err and "run the same command again" in err
    for i in range(jobs):
        assert (tmp_path / "s" / f"repeat_{i:03d}" / "checkpoint.ckpt").exists()
        assert not (tmp_path / "s" / f"repeat_{i:03d}" / "summary.json").exists()
    assert not (tmp_path / "s" / f"repeat_{jobs:03d}").exists()  # never started
    summary = json.loads((tmp_path / "s" / "sweep_summary.json").read_text())
    assert summary["stopped_by"] == "terminate" and summary["finished"] == 0
