"""The top-level API: lazy import, load/parse/run, evolve end to end on own data, results, reprs, progress."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import azlang
from azlang.progress_display import _line as progress_line
from azlang.errors import ConfigError

TINY = dict(population=20, tournament=4, max_individuals=400, random_seed=3, progress_every=100)


def test_import_is_lazy():
    code = ("import sys, threading, azlang; heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'llvmlite', 'lark', 'typer', 'rich') or m.startswith('azlang.')]; "
            "print(heavy, threading.active_count()); azlang.load; print('azlang.api' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[] 1" and out[1] == "True"


def test_dir_and_unknown_name():
    assert {"load", "evolve", "Estimator", "Task"} <= set(dir(azlang))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        azlang.nope  # noqa: B018


def test_program_str_is_az_source_and_html():
    program = azlang.load("linear_sgd")
    text = str(program)
    assert text.startswith("# Linear regression") and "def Learn():" in text
    assert azlang.parse(text) == program
    assert "<pre" in program._repr_html_() and "v1 = v1 + v2" in program._repr_html_()


def test_run_accepts_paths_specs_and_tasks():
    g = np.random.default_rng(0)
    x = g.normal(size=(80, 4))
    task = azlang.Task.from_arrays(x, x @ np.array([0.5, -1.0, 0.2, 0.1]), epochs=3)
    result = azlang.run("linear_sgd", ["linear:F4:D2", task], backend="numpy")
    assert len(result.tasks) == 3 and result.tasks[2].name == "arrays" and result.fitness > 0.9
    assert "combined" in result._repr_html_() and result.__rich__().row_count == 4
    assert azlang.run("linear_sgd", "linear:F4", backend="numpy").fitness > 0.99


def test_evolve_on_own_data_end_to_end(tmp_path):
    g = np.random.default_rng(1)
    x = g.normal(size=(60, 4))
    task = azlang.Task.from_arrays(x, x @ np.array([1.0, -0.5, 0.25, 0.0]))
    seen = []
    result = azlang.evolve(tasks=[task], progress=seen.append, max_experiments=2, **TINY)
    assert isinstance(result, azlang.EvolveResult) and result.stopped_by == "max_experiments"
    assert len(result.experiments) == 2 and len(result.hall_of_fame) == 2
    assert result.best == max(result.hall_of_fame, key=lambda e: e.select_fitness).program
    assert result.select_fitness == pytest.approx(azlang.run(result.best, [task]).fitness)
    assert [r["event"] for r in seen] == [r["event"] for r in result.progress] and seen[-1]["event"] == "done"
    first = next(r for r in result.progress if r["event"] == "progress")
    assert {"experiment", "individuals", "best"} <= set(result.summary()[0]) | set(first)
    notices = [r for r in result.progress if r["event"] == "notice"]
    assert notices and all(progress_line(r) for r in result.progress)  # every event renders as a line
    frame = result.progress_frame()
    assert len(frame) == sum(r["event"] == "progress" for r in result.progress)
    html = result._repr_html_()
    assert "select fitness" in html and "def Predict():" in html
    again = azlang.evolve(tasks=[task], max_experiments=2, **TINY)
    assert str(again.best) == str(result.best)  # same seed, same run


def test_evolve_with_config_dict_and_run_dir(tmp_path):
    cfg = {"memory": {"scalars": 4, "vectors": 3, "matrices": 1},
           "tasks": {"search": ["linear:F4:D2"]}, "stop": {"max_individuals": 300}}
    result = azlang.evolve(cfg, run_dir=tmp_path / "run", population=20, tournament=4, random_seed=1, workers=1,
                           initial_population="random", predict_ops=[27], setup_ops=[56], learn_ops=[2, 3, 18, 23])
    assert (tmp_path / "run" / "best.az").exists() and result.run_dir == str(tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["select_fitness"] == result.select_fitness


def test_evolve_setting_errors():
    with pytest.raises(ConfigError, match="unknown setting 'populace'"):
        azlang.evolve(populace=10)
    with pytest.raises(ConfigError, match="ambiguous"):
        azlang.evolve(enabled=True)
    with pytest.raises(ConfigError, match="a task must be a spec string or a Task"):
        azlang.evolve(tasks=[3])
    with pytest.raises(ConfigError, match="progress="):
        azlang.evolve(tasks=["linear:F4"], progress="loud", **TINY)


def test_text_progress_writes_lines(capsys):
    azlang.evolve(tasks=["linear:F4"], progress="text", **TINY)
    err = capsys.readouterr().err
    assert "exp 0:" in err and "experiment 0 done" in err and "done: max_experiments" in err


def test_notebook_progress_updates_one_display(monkeypatch):
    pytest.importorskip("IPython")
    from IPython import display as ipd

    from azlang.progress_display import NotebookProgress

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj.data)

    monkeypatch.setattr(ipd, "display", lambda obj, display_id: shown.append(obj.data) or Handle())
    azlang.evolve(tasks=["linear:F4"], progress=NotebookProgress(), **TINY)
    assert len(shown) >= 2 and "<table>" in shown[-1] and "done: max_experiments" in shown[-1]


def test_export_api_with_param_defaults():
    source = azlang.export_source("linear_sgd", "numpy", params={"lr": 0.05})
    assert "def __init__(self, lr=0.05, seed=0" in source
    cls = azlang.export_class("linear_sgd", params={"lr": 0.05})
    assert cls().lr == 0.05
    with pytest.raises(ConfigError, match="no param named 'eta'"):
        azlang.export_source("linear_sgd", params={"eta": 1.0})
