"""Repeats (sweeps), the paper's statistics, azc report (table matches summaries, PNGs written), the watch
(threshold counts and hall of fame: native loop = Python loop) and the summaries' metadata and raw metrics."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from azlang.cli import app
from azlang.search.experiment import run_experiment
from azlang.search.sweep import fraction_2sigma, mean_2sem, run_sweep, summarize

SMALL = {"stop.max_individuals": 1000, "stop.max_experiments": 1, "evolution.population": 100,
         "acceptance.hall_of_fame": 3, "acceptance.threshold": 0.3, "run.checkpoint_every": 1e9}


def _strip(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in ("seconds", "run_dir", "metadata")}


def test_two_repeats_equal_two_separate_runs(tmp_path):
    sweep = run_sweep("examples/demo.toml", tmp_path / "sweep", 2, [11, 12], jobs=2, overrides=SMALL,
                      thresholds=[0.2, 0.99])
    assert sweep["finished"] == 2 and [o["status"] for o in sweep["outcomes"]] == ["ran", "ran"]
    for i, seed in enumerate((11, 12)):
        alone = run_experiment("examples/demo.toml", tmp_path / f"alone{seed}",
                               overrides={**SMALL, "run.random_seed": seed, "run.workers": 1}).to_json()
        rep = json.loads((tmp_path / "sweep" / f"repeat_{i:03d}" / "summary.json").read_text())
        a, b = _strip(alone), _strip(rep)
        for e in a["experiments"] + b["experiments"]:
            e.pop("seconds")
        assert a == json.loads(json.dumps(b)) or json.loads(json.dumps(a)) == b
    # resumable: nothing left to do (the same config and overrides: another config is refused, issue 13)
    again = run_sweep("examples/demo.toml", tmp_path / "sweep", 2, [11, 12], overrides=SMALL)
    assert [o["status"] for o in again["outcomes"]] == ["done", "done"]


def test_sweep_statistics(tmp_path):
    assert mean_2sem([1.0, 2.0, 3.0]) == (2.0, pytest.approx(2 * 1.0 / math.sqrt(3)))
    assert mean_2sem([0.5]) == (0.5, 0.0)
    assert fraction_2sigma(1, 4) == (0.25, pytest.approx(2 * math.sqrt(0.25 * 0.75 / 4)))
    run_sweep("examples/demo.toml", tmp_path / "s", 3, [1, 2, 3], jobs=1, overrides=SMALL, thresholds=[0.3])
    s = summarize(tmp_path / "s")
    results = [r["result"] for r in s["rows"]]
    assert s["result_mean"] == pytest.approx(sum(results) / 3)
    assert s["success"][0]["fraction"] == sum(r > 0.3 for r in results) / 3
    assert s["compute"]["individuals"] == 3000
    assert s["compute"]["train_steps"] == sum(r["train_steps"] for r in s["rows"])


def test_report_table_matches_summaries_and_writes_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    run_sweep("examples/demo.toml", tmp_path / "sw", 2, [5, 6], jobs=1, overrides=SMALL, thresholds=[0.3])
    run_experiment("examples/demo.toml", tmp_path / "evo", overrides={**SMALL, "run.random_seed": 9})
    run_experiment("examples/demo.toml", tmp_path / "rnd",
                   overrides={**SMALL, "run.random_seed": 9, "evolution.algorithm": "random"})
    runner = CliRunner()
    args = ["report", str(tmp_path / "sw"), str(tmp_path / "evo"), str(tmp_path / "rnd"), "-o", str(tmp_path / "png")]
    res = runner.invoke(app, args + ["--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output.splitlines()[0])
    evo = json.loads((tmp_path / "evo" / "summary.json").read_text())
    row = next(r for r in rows if r["name"] == "evo")
    assert row["result"] == evo["final_fitness"] and row["train_steps"] == evo["train_steps"]
    assert row["passed"] == evo["experiments"][0]["counts"]["passed"]
    sw = next(r for r in rows if r["name"] == "sw")
    assert sw["result"] == pytest.approx(summarize(tmp_path / "sw")["result_mean"]) and sw["repeats"] == 2
    assert next(r for r in rows if r["name"] == "rnd")["kind"] == "random"
    for name in ("fitness_vs_steps", "fitness_vs_time", "evolution_vs_random", "success_vs_compute", "sweep_sw"):
        png = tmp_path / "png" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    res = runner.invoke(app, args[:2] + ["--no-plots", "--hall", "2"])
    assert res.exit_code == 0 and "hall of fame of sw/0" in res.output


def test_report_without_matplotlib_is_a_clear_error(tmp_path, monkeypatch):
    import builtins

    run_experiment("examples/demo.toml", tmp_path / "r", overrides={**SMALL, "run.random_seed": 2})
    real = builtins.__import__
    monkeypatch.setattr(builtins, "__import__",
                        lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name)) if name == "matplotlib"
                        else real(name, *a, **k))
    res = CliRunner().invoke(app, ["report", str(tmp_path / "r"), "-o", str(tmp_path / "png")])
    assert res.exit_code == 1 and "matplotlib" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert res.exit_code == 1 and "neither a run directory" in res.output


@pytest.mark.parametrize("algorithm", ["evolution", "random"])
def test_watch_native_equals_python(tmp_path, algorithm):
    from azlang.search.backends import native_available

    if not native_available():
        pytest.skip("native backend unavailable")
    counts = {}
    # random search has its own stream (docs/semantics.md, section 5.2); with seed 4 its tasks put every random
    # program below the threshold, so it takes seed 5, where some pass
    seed = 4 if algorithm == "evolution" else 5
    for loop in ("native", "python"):
        r = run_experiment("examples/demo.toml", tmp_path / loop, overrides={
            **SMALL, "run.random_seed": seed, "evolution.loop": loop, "evolution.algorithm": algorithm,
            "acceptance.threshold": 0.33})
        counts[loop] = r.experiments[0].counts
    assert counts["native"] == counts["python"]
    c = counts["python"]
    assert c["evaluated"] == 1000 and 0 < c["passed"] < 1000 and c["first_pass"]["fitness"] >= 0.33
    fits = [h["fitness"] for h in c["hall_of_fame"]]
    assert fits == sorted(fits, reverse=True) and len({h["hash"] for h in c["hall_of_fame"]}) == 3


def test_summary_metadata_and_raw_metrics(tmp_path):
    r = run_experiment("examples/demo.toml", tmp_path / "r", overrides={**SMALL, "run.random_seed": 2})
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    md = s["metadata"]
    for key in ("azlang", "git_commit", "command", "python", "numpy", "llvmlite", "cpu", "evaluator", "loop"):
        assert key in md
    assert len(s["final_tasks"]) == 100 and all("rms" in t for t in s["final_tasks"])
    t = s["final_tasks"][0]
    if t["rms"] is not None:
        assert 1 - 2 / math.pi * math.atan(t["rms"]) == pytest.approx(t["fitness"], abs=1e-12)
    assert len(s["experiments"][0]["select_tasks"]) == 100
    assert r.final_fitness == pytest.approx(sum(t["fitness"] for t in s["final_tasks"]) / 100)


def test_acceptance_reference_threshold(tmp_path):
    """The threshold is the reference program's fitness on the same search tasks."""
    from azlang import api

    r = run_experiment("examples/demo.toml", tmp_path / "r", overrides={
        **SMALL, "run.random_seed": 2, "acceptance.reference": "linear_sgd", "tasks.randomize_seeds": False,
        "acceptance.threshold": math.inf})
    want = api.run(api.load("linear_sgd"), ["linear:F4:D10:N100:V100"]).fitness
    assert r.experiments[0].counts["threshold"] == pytest.approx(want)


def test_docs_tables_are_generated():
    from pathlib import Path

    from azlang.report.docs import configs_table, keys_table

    doc = (Path(__file__).resolve().parents[1] / "docs" / "experiments.md").read_text()
    assert keys_table() in doc and configs_table() in doc


def test_sweep_resumes_a_repeat(tmp_path):
    run_sweep("examples/demo.toml", tmp_path / "s", 2, [3, 4], jobs=1, overrides=SMALL)
    first = json.loads((tmp_path / "s" / "repeat_001" / "summary.json").read_text())
    (tmp_path / "s" / "repeat_001" / "summary.json").unlink()
    again = run_sweep("examples/demo.toml", tmp_path / "s", 2, [3, 4], jobs=1, overrides=SMALL)  # as planned
    assert [o["status"] for o in again["outcomes"]] == ["done", "resumed"]
    second = json.loads((tmp_path / "s" / "repeat_001" / "summary.json").read_text())
    assert second["select_fitness"] == first["select_fitness"] and second["text"] == first["text"]


def test_watch_chunks_equal_child_by_child():
    """see_many (the native loop's path) has exactly the effect of see on each child in turn."""
    import numpy as np

    from azlang.rng import Rng
    from azlang.search.config import load_config
    from azlang.search.generate import Generator
    from azlang.search.watch import Watch, merge

    gen, rng = Generator(load_config("examples/demo.toml")), Rng(5)
    programs = [gen.random(rng) for _ in range(40)]
    values = np.random.default_rng(0).choice([0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 0.9, float("nan")], 300)
    fits = [float(v) + (k % 7) * 1e-3 if k % 3 else float(v) for k, v in enumerate(values)]
    one, many = Watch(0.6, 4), Watch(0.6, 4)
    for k, f in enumerate(fits):
        one.see(programs[k % 40], f)
    for start in range(0, 300, 37):
        chunk = fits[start:start + 37]
        many.see_many([programs[(start + j) % 40] for j in range(len(chunk))], chunk)
    assert (one.seen, one.passed, one.first[:2]) == (many.seen, many.passed, many.first[:2])
    assert {h: v[:2] for h, v in one.hall.items()} == {h: v[:2] for h, v in many.hall.items()}
    assert len(one.hall) == 8  # the buffer: 2k programs with different fitnesses
    top = merge([one], 4)["hall_of_fame"]
    assert len(top) == 4 and [h["fitness"] for h in top] == sorted({v[0] for v in one.hall.values()})[-1:-5:-1]


def test_counts_survive_a_kill_and_resume(tmp_path):
    """The watch is part of the checkpointed island state: a run killed mid-way and resumed counts exactly
    what the uninterrupted run counts."""
    from tests import test_search_resume as tr

    from azlang.search import checkpoint
    from azlang.search.config import override
    from azlang.search.experiment import resume
    from azlang.search.presets import demo_config

    cfg = {**tr.CFG, "acceptance.threshold": 0.3, "acceptance.hall_of_fame": 3, "stop.max_individuals": 800}
    whole = run_experiment(override(demo_config(), cfg), tmp_path / "whole")
    old = tr.CFG
    tr.CFG = cfg
    try:
        tr._kill_mid_way(tmp_path / "killed", lines=25)
    finally:
        tr.CFG = old
    assert not checkpoint.load(tmp_path / "killed" / "checkpoint.ckpt").done
    resumed = resume(tmp_path / "killed")
    assert [e.counts for e in resumed.experiments] == [e.counts for e in whole.experiments]
    assert whole.experiments[0].counts["passed"] > 0 and len(whole.experiments[1].counts["hall_of_fame"]) == 3


def test_sweep_cli(tmp_path):
    runner = CliRunner()
    args = ["sweep", "examples/demo.toml", "-d", str(tmp_path / "s"), "--seeds", "1,2", "--jobs", "1",
            "--threshold", "0.2", "--set", "stop.max_individuals=500", "--set", "stop.max_experiments=1",
            "--set", "evolution.population=100", "--set", 'tasks.final=["linear:F4:D3"]']
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "2 of 2 repeats finished" in res.output and "success > 0.2" in res.output
    s = summarize(tmp_path / "s")
    assert [r["seed"] for r in s["rows"]] == [1, 2] and s["compute"]["individuals"] == 1000
    bad = runner.invoke(app, ["sweep", "examples/demo.toml", "-d", str(tmp_path / "t"), "--set", "population=3"])
    assert bad.exit_code == 1 and "section.key=VALUE" in bad.output
    bad = runner.invoke(app, ["sweep", "examples/demo.toml", "-d", str(tmp_path / "u"), "--set", "evolution.nope=3"])
    assert bad.exit_code == 1 and "nope" in bad.output and "Traceback" not in bad.output


def test_sweep_refuses_several_island_groups(tmp_path):
    """A sweep runs one island per repeat: a config with several [[islands]] groups would lose all but the first."""
    from azlang.errors import ConfigError

    with pytest.raises(ConfigError, match=r"4 \[\[islands\]\] entries"):
        run_sweep("examples/paper/fig5_two_layer_net.toml", tmp_path / "f5", 1, [1], jobs=1)
    assert not (tmp_path / "f5").exists()
    result = CliRunner().invoke(app, ["sweep", "examples/paper/fig5_two_layer_net.toml", "-d", str(tmp_path / "f5")])
    assert result.exit_code == 1 and "fig5_one_process.toml" in result.output and "Traceback" not in result.output


def test_plots_cap_the_legend_and_show_one_point_runs(tmp_path, monkeypatch):
    """A sweep of many repeats gets a legend of LEGEND_MAX names and a count; a run with one progress line (a short
    repeat) is drawn as a point in the evolution-against-random plot, not as an invisible zero-length line."""
    pytest.importorskip("matplotlib")
    from azlang.report import plots
    from azlang.report.load import Curve, Run, Sweep

    seen = {}

    def keep(plt, fig, path):
        seen[path.name] = [([t.get_text() for t in (ax.get_legend().get_texts() if ax.get_legend() else [])],
                            [line.get_marker() for line in ax.get_lines()]) for ax in fig.axes]
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    one = Curve(steps=[10.0], seconds=[1.0], individuals=[100.0], best=[0.5], mean=[0.4])
    runs = [Run(f"evo/{i}", tmp_path, {}, "evolution", one) for i in range(25)]
    rnd = Run("rnd", tmp_path, {}, "random", Curve([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0],
                                                   [0.1, 0.2, 0.3], [0.1, 0.1, 0.1]))
    plots.write_plots([Sweep("evo", tmp_path, {}, runs, []), rnd], tmp_path)
    legend, _ = seen["sweep_evo.png"][0]
    assert legend[:plots.LEGEND_MAX] == [f"evo/{i}" for i in range(plots.LEGEND_MAX)]
    assert f"... and {25 - plots.LEGEND_MAX} more" in legend and "evo/10" not in legend
    legend, markers = seen["evolution_vs_random.png"][0]
    assert legend == ["evolution", "random"] and markers.count("o") == 25 and markers.count("None") == 1


def test_report_curves_of_random_search_are_best_so_far_and_end_at_the_stop(tmp_path, monkeypatch):
    """Random search's population is a window of its latest programs: `azc report` plots the best found so far
    (monotone, ending at the run's search fitness, its best ever), and every curve ends where the run stopped."""
    pytest.importorskip("matplotlib")
    from azlang.report import plots

    # sweeps of 50; counted lines at 50, 150, ..., 950: the stop at 1000 is not on one
    over = {**SMALL, "run.random_seed": 5, "evolution.population": 50, "run.progress_every": 60}
    evo = run_experiment("examples/demo.toml", tmp_path / "evo", overrides=over)
    rnd = run_experiment("examples/demo.toml", tmp_path / "rnd", overrides={**over, "evolution.algorithm": "random"})
    seen = {}

    def keep(plt, fig, path):
        seen[path.name] = [[(list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()
                            if len(line.get_xdata())] for ax in fig.axes]
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    res = CliRunner().invoke(app, ["report", str(tmp_path / "evo"), str(tmp_path / "rnd"), "-o", str(tmp_path / "png")])
    assert res.exit_code == 0, res.output
    by_individuals, by_steps = seen["evolution_vs_random.png"]  # lines in argument order: evolution, random
    for (xs, ys), run in zip(by_individuals, (evo, rnd)):
        assert xs[-1] == run.individuals == 1000  # the final point at the stop
    for (xs, ys), run in zip(by_steps, (evo, rnd)):
        assert xs[-1] == run.train_steps
    rnd_best = by_individuals[1][1]
    assert rnd_best == sorted(rnd_best) and rnd_best[-1] == rnd.search_fitness == rnd.experiments[0].search_fitness
    windows = [json.loads(x)["best"] for x in (tmp_path / "rnd" / "progress.jsonl").read_text().splitlines()
               if json.loads(x)["event"] == "progress"]
    assert windows != sorted(windows)  # the windows' bests alone would not be monotone: the test can fail
    steps_lines = seen["fitness_vs_steps.png"][0]  # best and mean per run: random's best is the 3rd line
    assert steps_lines[2][1] == rnd_best


def test_report_reads_old_random_search_progress_as_running_maximum(tmp_path):
    """Progress lines written before they carried best_ever: the running maximum of the windows' bests, per
    experiment."""
    from azlang.report.load import read_curve

    lines = [{"event": "progress", "train_steps": s, "time": s, "individuals": s, "best": b, "mean": 0.0}
             for s, b in ((1, 0.3), (2, 0.5), (3, 0.4))]
    lines += [{"event": "experiment", "train_steps": 3, "individuals": 3},
              {"event": "progress", "train_steps": 1, "time": 4, "individuals": 1, "best": 0.2, "mean": 0.0},
              {"event": "progress", "train_steps": 1, "time": 5, "individuals": 1, "best": 0.1, "mean": 0.0,
               "final": True}]
    path = tmp_path / "progress.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert read_curve(path, "random").best == [0.3, 0.5, 0.5, 0.2]  # the equal last two points give one
    assert read_curve(path, "evolution").best == [0.3, 0.5, 0.4, 0.1]
    assert read_curve(path, "random").steps == [1, 2, 3, 4]


def test_sweep_rerun_with_more_repeats_extends_the_plan_and_refuses_another(tmp_path):
    """Rerunning `azc sweep` into its directory: more repeats are added (the planned ones kept), no --repeats
    resumes the plan, and another config, base seed or a plan that is not extended is refused (exit 1)."""
    runner = CliRunner()
    d = tmp_path / "s"
    sets = ["--set", "stop.max_individuals=200", "--set", "stop.max_experiments=1", "--set", "evolution.population=100",
            "--jobs", "1"]
    base = ["sweep", "examples/demo.toml", "-d", str(d), *sets]
    res = runner.invoke(app, base + ["--repeats", "2", "--threshold", "0.2"])
    assert res.exit_code == 0 and "2 of 2 repeats finished" in res.output, res.output
    first = (d / "repeat_000" / "summary.json").read_text()
    res = runner.invoke(app, base + ["--repeats", "4"])
    assert res.exit_code == 0 and "4 of 4 repeats finished" in res.output, res.output
    s = json.loads((d / "sweep_summary.json").read_text())
    assert [o["status"] for o in s["outcomes"]] == ["done", "done", "ran", "ran"]
    assert [r["seed"] for r in s["rows"]] == [1, 2, 3, 4] and s["success"][0]["threshold"] == 0.2  # kept
    assert (d / "repeat_000" / "summary.json").read_text() == first
    res = runner.invoke(app, base)  # no --repeats: the plan's four
    assert res.exit_code == 0 and "4 of 4 repeats finished" in res.output, res.output
    res = runner.invoke(app, base + ["--seeds", "1,2,3,4,9"])  # explicit seeds extending the plan
    assert res.exit_code == 0 and "5 of 5 repeats finished" in res.output, res.output
    res = runner.invoke(app, base + ["--repeats", "6"])  # more repeats: seeds after the plan's largest
    assert res.exit_code == 0 and "6 of 6 repeats finished" in res.output, res.output
    for extra, words in (
        (["--repeats", "2"], ["planned with 6 repeats", "seeds 1,2,3,4,9,10", "asks for 2 repeats, seeds 1,2"]),
        (["--seeds", "2,1,3,4,9,10,11"], ["do not extend"]),
        (["--set", "run.random_seed=100"], ["another config", "run.random_seed: planned 0, now 100"]),
        (["--set", "evolution.population=50"], ["evolution.population: planned 100, now 50"]),
    ):
        res = runner.invoke(app, base + extra)
        assert res.exit_code == 1, (extra, res.output)
        text = " ".join(res.output.split())  # rich may wrap a long error line
        assert str(d.name) in text and "another --dir" in text and "Traceback" not in text, text
        for w in words:
            assert w in text, (w, text)
    assert [r["seed"] for r in summarize(d)["rows"]] == [1, 2, 3, 4, 9, 10]  # refused commands changed nothing
