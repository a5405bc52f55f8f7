"""show, ablate, tune and the opt/tune/ablate/show commands; evolved examples simplify to their core."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from azlang.evaluate import evaluate
from azlang.passes import run_pipeline
from azlang.rng import Rng
from azlang.syntax import load, parse, print_program
from azlang.tasks.build import build_collection
from azlang.tools.ablate import ablate, parse_group
from azlang.tools.show import analyse, to_dot
from azlang.tools.tune import trial_values, tune, with_values

ROOT = Path(__file__).parent.parent
EVOLVED = ROOT / "examples" / "evolved"
# (file, instructions before, after dce, after dce + fold + dce + canon)
COUNTS = [("sgd_linear.az", 24, 9, 6), ("relu_net.az", 34, 21, 21), ("random_search.az", 24, 3, 3)]


@pytest.mark.parametrize("name,before,after_dce,after_opt", COUNTS)
def test_evolved_programs_simplify_to_their_essential_lines(name, before, after_dce, after_opt):
    program = load(EVOLVED / name)
    dced, _ = run_pipeline(program, "dce")
    opt, _ = run_pipeline(program, "dce,fold,dce,canon")
    assert (program.size(), dced.size(), opt.size()) == (before, after_dce, after_opt)
    tasks = build_collection(["linear:F4:N20:V20", "teacher:F4:N20:V20"])
    fitness = [evaluate(p, tasks, Rng(3)).fitness for p in (program, dced, opt)]
    assert fitness[0] == fitness[1] == fitness[2]


def test_show_marks_dead_lines_and_sources():
    shown = analyse(load(EVOLVED / "sgd_linear.az"))
    by_label = {line.label: line for line in shown.lines}
    assert shown.prediction == ("P2",) and shown.live_count == 9
    assert not by_label["P3"].live and by_label["L6"].live
    assert dict(by_label["L3"].sources) == {"s2": ("S7",), "s3": ("L1",)}
    dot = to_dot(load(EVOLVED / "sgd_linear.az"))
    assert dot.startswith("digraph") and "P2 -> prediction" in dot and "in_features -> P2" in dot


def test_ablation_sorts_most_harmful_first_and_reads_groups():
    program = load(EVOLVED / "sgd_linear.az")
    tasks = build_collection(["linear:F4:N20:V20"])
    report = ablate(program, tasks)
    deltas = [r.delta for r in report.rows]
    assert deltas == sorted(deltas) and deltas[0] < 0
    dead = {r.name for r in report.rows if r.delta == 0}
    assert {"P3", "L2", "L8", "S8"} <= dead
    assert parse_group(program, "L1-2") == (("learn", 0), ("learn", 1))
    assert parse_group(program, "learn:3") == (("learn", 2),)
    assert parse_group(program, "24-25") == (("learn", 0), ("learn", 1))


def test_tune_is_reproducible_and_keeps_the_baseline():
    program = parse("param lr = 0.001\ndef Setup():\n  s2 = lr\ndef Predict():\n  s1 = dot(v0, v1)\n"
                    "def Learn():\n  s3 = s0 - s1\n  s3 = s2 * s3\n  v2 = s3 * v0\n  v1 = v1 + v2\n")
    result = tune(program, ["linear:F4:N30:V20"], trials=12, seed=5, workers=1)
    assert result.baseline.values == {"lr": 0.001} and result.best.fitness >= result.baseline.fitness
    assert all(1e-6 <= t.values["lr"] <= 1.0 for t in result.trials)
    assert trial_values(program.params, 5, 3, 1e-3, 1e3) == result.trials[3].values
    assert "param lr = " in print_program(with_values(program, result.best.values))


def test_tune_in_worker_processes_matches_serial():
    program = load(EVOLVED / "sgd_linear.az")
    program, _ = run_pipeline(program, "dce,decouple")
    serial = tune(program, ["linear:F4:N20:V10"], trials=6, workers=1)
    parallel = tune(program, ["linear:F4:N20:V10"], trials=6, workers=2)
    assert serial.trials == parallel.trials


def _app():
    from azlang.opt_cli import ablate, opt, show, tune

    app = typer.Typer()
    for name, fn in (("opt", opt), ("tune", tune), ("ablate", ablate), ("show", show)):
        app.command(name)(fn)
    return app


def test_opt_command(tmp_path):
    runner, src = CliRunner(), str(EVOLVED / "sgd_linear.az")
    res = runner.invoke(_app(), ["opt", "--passes", "dce,canon", src])
    assert res.exit_code == 0 and res.stdout == print_program(run_pipeline(load(src), "dce,canon")[0])
    out = tmp_path / "o.az"
    res = runner.invoke(_app(), ["opt", "--dce", "--decouple", "--stats", src, "-o", str(out)])
    assert res.exit_code == 0 and "param setup_s2" in out.read_text()
    res = runner.invoke(_app(), ["opt", "--passes", "dce,nope", src])
    assert res.exit_code == 1 and "unknown pass 'nope'" in res.output


def test_show_ablate_tune_commands(tmp_path):
    runner, src = CliRunner(), str(EVOLVED / "random_search.az")
    res = runner.invoke(_app(), ["show", src, "--dot", str(tmp_path / "g.dot")])
    assert res.exit_code == 0 and "prediction s1 <- P3" in res.output and (tmp_path / "g.dot").exists()
    res = runner.invoke(_app(), ["ablate", src, "--task", "linear:F4:N20:V10", "--group", "L3"])
    assert res.exit_code == 0 and "s2 = s2 + s0" in res.output
    res = runner.invoke(_app(), ["tune", src, "--task", "linear:F4"])
    assert res.exit_code == 1 and "no params to tune" in res.output
