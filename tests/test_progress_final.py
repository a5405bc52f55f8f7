"""Progress curves end where the search did (issue 13): a final progress line at every stop, exactly once,
also when the run was interrupted and resumed, and none added when a counted line already fell on the stop."""

import json
from pathlib import Path

import pytest

from azlang.report.load import read_curve
from azlang.search import interrupt
from azlang.search.config import override
from azlang.search.experiment import resume, run_experiment
from azlang.search.presets import demo_config

BASE = {
    "evolution.population": 20,
    "evolution.tournament": 4,
    "stop.max_individuals": 200,
    "stop.max_experiments": 2,
    "tasks.search": ("linear:F4:D3:N30:V20",),
    "tasks.select": ("linear:F4:D3:N50:V20",),
    "run.random_seed": 3,
    "run.backend": "numpy",
    "run.progress_every": 30,  # lines at 20, 50?, ...: never on the stop at 200 (sweeps of 20)
    "run.progress_seconds": 0.0,
    "run.checkpoint_every": 0.0,
}


pytestmark = pytest.mark.usefixtures("clean_interrupt_flag")


def _records(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "progress.jsonl").read_text().splitlines()]


def _per_experiment(records: list[dict]) -> list[list[dict]]:
    """Progress lines of each experiment, closed by its "experiment" record."""
    out, cur = [], []
    for r in records:
        if r["event"] == "progress":
            cur.append(r)
        elif r["event"] == "experiment":
            out.append((cur, r))
            cur = []
    return out


def _comparable(records: list[dict]) -> list[dict]:
    drop = ("time", "individuals_per_s", "seconds", "eta")
    return [{k: v for k, v in r.items() if k not in drop} for r in records]


@pytest.mark.parametrize("algorithm", ["evolution", "random"])
def test_every_experiment_ends_with_one_final_line_at_its_stop(tmp_path, algorithm):
    r = run_experiment(override(demo_config(), {**BASE, "evolution.algorithm": algorithm}), tmp_path / "r")
    experiments = _per_experiment(_records(tmp_path / "r"))
    assert len(experiments) == 2
    for lines, done in experiments:
        assert [x.get("final", False) for x in lines] == [False] * (len(lines) - 1) + [True]
        assert lines[-1]["individuals"] == done["individuals"] == 200
        assert lines[-1]["train_steps"] == done["train_steps"] and lines[-1]["done"] == 1.0
        counts = [x["individuals"] for x in lines]
        assert counts == sorted(set(counts))  # no point twice
    curve = read_curve(tmp_path / "r" / "progress.jsonl")
    assert curve.steps[-1] == r.train_steps and curve.individuals[-1] == r.individuals == 400


def test_no_final_line_when_a_counted_line_falls_on_the_stop(tmp_path):
    run_experiment(override(demo_config(), {**BASE, "run.progress_every": 20}), tmp_path / "r")
    for lines, done in _per_experiment(_records(tmp_path / "r")):
        assert not any(x.get("final") for x in lines)
        assert [x["individuals"] for x in lines] == list(range(20, 201, 20))


@pytest.mark.parametrize("backend", ["numpy", "native"])
def test_final_line_once_when_interrupted_and_resumed(tmp_path, backend):
    from azlang.search.backends import native_available

    if backend == "native" and not native_available():
        pytest.skip("native backend unavailable")
    cfg = override(demo_config(), {**BASE, "run.backend": backend})
    run_experiment(cfg, tmp_path / "whole")
    polls = interrupt.FLAG.polls
    whole = _comparable(_records(tmp_path / "whole"))
    assert sum(bool(r.get("final")) for r in whole) == 2
    for k in sorted({1, polls // 3, polls // 2 - 1, polls // 2, polls // 2 + 1, polls - 2, polls - 1}):
        interrupt.after(k)
        stopped = run_experiment(cfg, tmp_path / f"k{k}")
        interrupt.after(None)
        assert stopped.stopped_by == "interrupt"
        resume(tmp_path / f"k{k}")
        assert _comparable(_records(tmp_path / f"k{k}")) == whole, f"interrupt at poll {k}"
