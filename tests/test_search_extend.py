"""Continuing a finished run with larger stop limits (`azc evolve --resume DIR --max-train-steps N`): the run goes
back to where its last search stopped and ends exactly as a run given those limits from the start."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from azlang.cli import app
from azlang.errors import AzError
from azlang.search import checkpoint
from azlang.search.config import override
from azlang.search.experiment import resume, run_experiment
from azlang.search.presets import demo_config

CFG = {
    "evolution.population": 20,
    "evolution.tournament": 4,
    "stop.max_individuals": 400,
    "stop.max_experiments": 1,
    "tasks.search": ("linear:F4:D3:N30:V20",),
    "tasks.select": ("linear:F4:D3:N50:V20",),
    "tasks.final": ("linear:F4:D2:N50:V20:S77:P88",),
    "run.random_seed": 11,
    "run.progress_every": 20,
    "run.checkpoint_every": 0.0,
}
TIMED = ("time", "individuals_per_s", "seconds", "eta")


def _cfg(**changes):
    return override(demo_config(), {**CFG, **changes})


def _progress(run_dir: Path) -> list[dict]:
    """Progress lines without clock times; "done" (the fraction of the stop limit) was written under the old limit."""
    records = [json.loads(x) for x in (run_dir / "progress.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIMED and k not in ("resumed", "done")} for r in records if not r.get("timed")]


def _summary(run_dir: Path) -> dict:
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in TIMED and k not in ("metadata", "run_dir")}
        return [strip(v) for v in x] if isinstance(x, list) else x

    return strip(json.loads((run_dir / "summary.json").read_text()))


def _same_run(a: Path, b: Path) -> None:
    assert _summary(a) == _summary(b)
    assert _progress(a) == _progress(b)
    for name in ("best.az", "experiment_000.az"):
        assert (a / name).read_text() == (b / name).read_text()


@pytest.mark.parametrize("backend", ["numpy", "native"])
@pytest.mark.parametrize(
    "short, long",
    [
        ({"stop.max_individuals": 200}, {"stop.max_individuals": 400}),
        ({"stop.max_train_steps": 3e4, "stop.max_individuals": 0}, {"stop.max_train_steps": 9e4, "stop.max_individuals": 0}),
        ({"stop.max_experiments": 1}, {"stop.max_experiments": 2}),
    ],
    ids=["individuals", "train_steps", "experiments"],
)
def test_extended_run_equals_the_longer_run(tmp_path, backend, short, long):
    if backend == "native":
        pytest.importorskip("llvmlite")
    whole = run_experiment(_cfg(**long, **{"run.backend": backend}), tmp_path / "whole")
    first = run_experiment(_cfg(**short, **{"run.backend": backend}), tmp_path / "ext")
    assert first.individuals < whole.individuals or len(first.experiments) < len(whole.experiments)
    extended = resume(tmp_path / "ext", overrides=long)
    assert extended.text == whole.text and extended.final_fitness == whole.final_fitness
    assert (extended.individuals, extended.train_steps) == (whole.individuals, whole.train_steps)
    assert [(e.search_fitness, e.select_fitness, e.individuals) for e in extended.experiments] == [
        (e.search_fitness, e.select_fitness, e.individuals) for e in whole.experiments]
    _same_run(tmp_path / "ext", tmp_path / "whole")
    # the extended run is finished again and keeps its own stop point: it can be extended once more
    assert checkpoint.load(tmp_path / "ext" / "checkpoint.ckpt").stop_point is not None


def test_extending_twice_equals_one_long_run(tmp_path):
    run_experiment(_cfg(**{"stop.max_individuals": 600}), tmp_path / "whole")
    run_experiment(_cfg(**{"stop.max_individuals": 200}), tmp_path / "ext")
    resume(tmp_path / "ext", overrides={"stop.max_individuals": 400})
    resume(tmp_path / "ext", overrides={"stop.max_individuals": 600})
    _same_run(tmp_path / "ext", tmp_path / "whole")


def test_resuming_with_the_same_limits_only_reports_again(tmp_path):
    first = run_experiment(_cfg(), tmp_path / "r")
    before = (tmp_path / "r" / "progress.jsonl").read_text()
    again = resume(tmp_path / "r", overrides={"stop.max_individuals": 400, "run.progress_every": 50})
    assert again.text == first.text and again.final_fitness == first.final_fitness
    assert (tmp_path / "r" / "progress.jsonl").read_text() == before  # nothing ran


def test_stop_point_is_dropped_once_the_next_experiment_starts(tmp_path, monkeypatch):
    """Mid-run checkpoints of a later experiment do not carry the earlier experiment's population."""
    cfg = _cfg(**{"stop.max_experiments": 2, "stop.max_individuals": 200})
    states = []
    real_save = checkpoint.save

    def spy(path, state):
        states.append((state.experiment, state.done, state.stop_point is not None))
        return real_save(path, state)

    monkeypatch.setattr(checkpoint, "save", spy)
    run_experiment(cfg, tmp_path / "r")
    assert states[-1] == (2, True, True)
    second = [kept for exp, done, kept in states if not done and exp == 1]
    assert second and not any(second)


def test_a_finished_run_without_a_stop_point_is_refused_with_a_hint(tmp_path):
    run_experiment(_cfg(), tmp_path / "r")
    path = tmp_path / "r" / "checkpoint.ckpt"
    state = checkpoint.load(path)
    state.stop_point = None  # as an older azlang wrote it
    checkpoint.save(path, state)
    with pytest.raises(AzError, match="cannot be continued") as err:
        resume(tmp_path / "r", overrides={"stop.max_individuals": 800})
    assert "new run" in err.value.hint
    result = CliRunner().invoke(app, ["evolve", "--resume", str(tmp_path / "r"), "--max-individuals", "800"])
    assert result.exit_code == 1 and "cannot be continued" in result.output and "Traceback" not in result.output


def test_cli_resume_with_a_larger_budget_continues_the_search(tmp_path):
    run_experiment(_cfg(**{"stop.max_individuals": 800}), tmp_path / "whole")
    run_experiment(_cfg(), tmp_path / "ext")
    result = CliRunner().invoke(app, ["evolve", "--resume", str(tmp_path / "ext"), "--max-individuals", "800"])
    assert result.exit_code == 0, result.output
    _same_run(tmp_path / "ext", tmp_path / "whole")
