"""Run directories: one run per directory (a lock), write failures as messages, an early first checkpoint
and an honest message when a run was killed before it."""

import errno
import itertools
import json
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from azlang.cli import app
from azlang.errors import AzError
from azlang.search import rundir as rundir_module
from azlang.search.config import override
from azlang.search.experiment import resume, run_experiment
from azlang.search.interrupt import CheckpointSchedule
from azlang.search.presets import demo_config
from azlang.search.rundir import RunDir, _json_line, _json_safe

CFG = {
    "evolution.population": 20,
    "evolution.tournament": 4,
    "stop.max_individuals": 40,
    "stop.max_experiments": 1,
    "tasks.search": ("linear:F4:D2:N20:V20",),
    "tasks.select": (),
    "tasks.final": (),
    "run.random_seed": 3,
    "run.backend": "numpy",
}


def _cfg():
    return override(demo_config(), CFG)


def test_two_runs_cannot_share_a_directory(tmp_path):
    held = RunDir(tmp_path / "run")
    held.path.mkdir()
    held.acquire()
    try:
        with pytest.raises(AzError, match="in use by another run") as e:
            run_experiment(_cfg(), tmp_path / "run")
        assert str(os.getpid()) in e.value.message
        with pytest.raises(AzError, match="in use"):
            resume(tmp_path / "run")
    finally:
        held.release()
    run_experiment(_cfg(), tmp_path / "run")  # free again
    assert not list((tmp_path / "run").glob("*.tmp"))


def test_unwritable_run_directory_is_a_message(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(rundir_module.os, "replace", refuse)
    with pytest.raises(AzError, match="cannot write .*Read-only") as e:
        run_experiment(_cfg(), tmp_path / "run")
    assert "read-only" in e.value.hint


def test_run_directory_below_a_file_or_too_long_is_a_message(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(AzError, match="cannot create run directory"):
        run_experiment(_cfg(), tmp_path / "file" / "run")
    with pytest.raises(AzError, match="cannot create run directory") as e:
        run_experiment(_cfg(), tmp_path / ("x" * 300))
    assert "too long" in e.value.hint


def test_cli_read_only_run_dir_is_exit_1_without_traceback(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(rundir_module.os, "replace", refuse)
    res = CliRunner().invoke(app, ["evolve", "--population", "20", "--max-individuals", "40", "--max-experiments", "1",
                                   "--run-dir",
                                   str(tmp_path / "r"), "--backend", "numpy"])
    assert res.exit_code == 1 and "Permission denied" in res.output and "Traceback" not in res.output


def test_killed_before_the_first_checkpoint_is_said_so(tmp_path):
    run = RunDir(tmp_path / "run")
    run.create(_cfg())  # what a run leaves when killed before its first checkpoint
    run.release()
    with pytest.raises(AzError, match="before its first checkpoint") as e:
        resume(tmp_path / "run")
    assert "config.toml" in e.value.hint and "--run-dir" in e.value.hint
    with pytest.raises(AzError, match="before its first checkpoint"):
        run_experiment(_cfg(), tmp_path / "run")
    with pytest.raises(AzError, match="not a run directory"):
        resume(tmp_path / "elsewhere")


def test_checkpoint_schedule_is_early_then_adaptive():
    s = CheckpointSchedule(60.0, now=0.0)
    assert not s.due(1.9) and s.due(2.0)  # the first within a few seconds
    times, now = [], 0.0
    for _ in range(8):
        while not s.due(now):
            now += 0.5
        times.append(now)
        s.done(now, cost=0.001)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == sorted(gaps) and max(gaps) <= 60.0 and times[0] == 2.0
    slow = CheckpointSchedule(60.0, now=0.0)
    slow.done(2.0, cost=1.5)  # a costly checkpoint spaces the next ones to keep the cost near 1 %
    assert not slow.due(2.0 + 149) and slow.due(2.0 + 150)
    every = CheckpointSchedule(0.0, now=0.0)
    assert every.due(0.0) and (every.done(0.0, 5.0) or every.due(0.0))


def test_a_fresh_run_checkpoints_within_its_first_sweep(tmp_path):
    """The first checkpoint comes once the first interval has passed (2 s; 0 here), even in the middle of the
    first sweep."""
    cfg = override(_cfg(), {"run.checkpoint_every": 60.0})
    seen = []

    def probe(event):
        if event["event"] == "progress":
            seen.append((tmp_path / "run" / "checkpoint.ckpt").exists())

    CheckpointSchedule.FIRST, first = 0.0, CheckpointSchedule.FIRST
    try:
        run_experiment(cfg, tmp_path / "run", probe)
    finally:
        CheckpointSchedule.FIRST = first
    assert seen[0], "no checkpoint during the initial population (checkpoints are taken between children too)"


def test_progress_lines_reach_the_file_one_by_one_and_survive_a_truncation(tmp_path):
    """progress.jsonl stays open while a run appends to it: each line is in the file as soon as it is appended
    (a reader such as `azc watch` sees it), a truncation on resume starts from the kept lines, and release
    closes it."""
    rd = RunDir(tmp_path / "run")
    rd.create(_cfg())
    path = tmp_path / "run" / "progress.jsonl"
    for k in range(3):
        rd.append_progress({"n": k, "x": float("nan")})
        assert path.read_text().splitlines()[-1] == f'{{"n": {k}, "x": null}}'
    rd.truncate_progress(1)
    rd.append_progress({"n": 9})
    assert path.read_text() == '{"n": 0, "x": null}\n{"n": 9}\n'
    rd.release()
    assert rd._progress is None
    rd.acquire()
    rd.append_progress({"n": 10})
    rd.release()
    assert path.read_text().splitlines()[-1] == '{"n": 10}'


def _safe_reference(x):
    """Every non-finite float (float subclasses too) as None, containers rebuilt: what progress.jsonl and
    summary.json must hold, whatever shortcut _json_safe takes."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _safe_reference(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_safe_reference(v) for v in x]
    return x


_SCALARS = st.one_of(st.floats(), st.integers(), st.booleans(), st.none(), st.text(max_size=3),
                     st.floats().map(np.float64))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
                       | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=4), _VALUES, max_size=6))
def test_json_safe_writes_what_the_reference_writes(record):
    expected = json.dumps(_safe_reference(record), allow_nan=False)
    assert json.dumps(_json_safe(record), allow_nan=False) == expected
    assert _json_line(record) == expected + "\n"  # a progress line: json's own check first
