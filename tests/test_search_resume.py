"""Checkpoint and resume: a run killed mid-way and resumed ends exactly like the uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from azlang.errors import AzError
from azlang.search import checkpoint
from azlang.search.config import override
from azlang.search.experiment import resume, run_experiment
from azlang.search.presets import demo_config

ROOT = Path(__file__).resolve().parent.parent
CFG = {
    "evolution.population": 20,
    "evolution.tournament": 4,
    "stop.max_individuals": 1200,
    "stop.max_experiments": 2,
    "tasks.search": ("linear:F4:D3:N30:V20",),
    "tasks.select": ("linear:F4:D3:N50:V20",),
    "tasks.final": ("linear:F4:D2:N50:V20:S77:P88",),
    "run.random_seed": 11,
    "run.backend": "numpy",
    "run.progress_every": 20,
    "run.checkpoint_every": 0.0,
}

CHILD = """
import sys
from azlang.search.config import override
from azlang.search.experiment import run_experiment
from azlang.search.presets import demo_config
run_experiment(override(demo_config(), {cfg!r}), sys.argv[1])
"""


def _progress(run_dir):
    lines = (Path(run_dir) / "progress.jsonl").read_text().splitlines()
    records = [json.loads(x) for x in lines]
    drop = ("time", "individuals_per_s", "seconds", "eta")
    return [{k: v for k, v in r.items() if k not in drop} for r in records if not r.get("timed")]


def _kill_mid_way(run_dir: Path, lines: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-W", "ignore", "-c", CHILD.format(cfg=CFG), str(run_dir)], env=env)
    deadline = time.monotonic() + 60
    progress = run_dir / "progress.jsonl"
    while time.monotonic() < deadline and proc.poll() is None:
        if (
            (run_dir / "checkpoint.ckpt").exists()
            and progress.exists()
            and len(progress.read_text().splitlines()) >= lines
        ):
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_resume_after_kill_equals_uninterrupted_run(tmp_path):
    whole = run_experiment(override(demo_config(), CFG), tmp_path / "whole")
    _kill_mid_way(tmp_path / "killed", lines=40)
    state = checkpoint.load(tmp_path / "killed" / "checkpoint.ckpt")
    assert not state.done, "the child finished before it was killed; make the run longer"
    resumed = resume(tmp_path / "killed")
    assert resumed.text == whole.text and resumed.select_fitness == whole.select_fitness
    assert resumed.final_fitness == whole.final_fitness
    assert (resumed.individuals, resumed.train_steps) == (whole.individuals, whole.train_steps)
    assert [e.search_fitness for e in resumed.experiments] == [e.search_fitness for e in whole.experiments]
    assert _progress(tmp_path / "killed") == _progress(tmp_path / "whole")


def test_resuming_a_finished_run_reports_it_again(tmp_path):
    cfg = override(demo_config(), {**CFG, "stop.max_individuals": 40, "stop.max_experiments": 1})
    first = run_experiment(cfg, tmp_path / "r")
    again = resume(tmp_path / "r")
    assert again.text == first.text and again.final_fitness == first.final_fitness


def test_run_dir_contents_and_refusal_to_overwrite(tmp_path):
    cfg = override(demo_config(), {**CFG, "stop.max_individuals": 40, "stop.max_experiments": 1})
    run_experiment(cfg, tmp_path / "r")
    names = {p.name for p in (tmp_path / "r").iterdir()}
    assert {"config.toml", "progress.jsonl", "summary.json", "checkpoint.ckpt", "best.az", "experiment_000.az"} <= names
    from azlang.syntax import load

    assert load(tmp_path / "r" / "best.az").size() == 20
    with pytest.raises(AzError, match="resume"):
        run_experiment(cfg, tmp_path / "r")
    with pytest.raises(AzError):
        resume(tmp_path / "nothing")
