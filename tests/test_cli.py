"""CLI through typer's runner: run, check, fmt; errors are messages with exit code 1, never tracebacks."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from azlang.cli import app

ROOT = Path(__file__).resolve().parent.parent
STDLIB = ROOT / "stdlib"
runner = CliRunner()


def azc(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_run_linear_sgd_fits_linear_tasks():
    res = azc("run", STDLIB / "linear_sgd.az", "--task", "linear:F4:D10", "--json", "--backend", "numpy")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["fitness"] > 0.999 and len(data["tasks"]) == 10
    assert data["tasks"][0]["spec"] == "linear:F4:D10"


def test_run_prints_a_table_with_combined_fitness():
    res = azc("run", STDLIB / "linear_sgd.az", "-t", "linear:F4:D2", "-t", "zeros:F4", "--backend", "numpy")
    assert res.exit_code == 0 and "combined" in res.output and "zeros:F4" in res.output


def test_param_override_changes_fitness():
    base = json.loads(azc("run", STDLIB / "linear_sgd.az", "-t", "linear:F4:D2", "--json", "--backend", "numpy").output)
    slow = json.loads(azc("run", STDLIB / "linear_sgd.az", "-t", "linear:F4:D2", "--json", "--backend", "numpy",
                          "--param", "lr=0.001").output)
    assert slow["fitness"] < base["fitness"] - 0.05


def test_nn_learns_teacher_better_than_empty():
    def fit(name):
        res = azc("run", STDLIB / name, "-t", "teacher:F8:D2:N1000", "--json", "--backend", "numpy")
        return json.loads(res.output)["fitness"]

    assert fit("nn_2layer.az") > fit("empty.az") + 0.3


@pytest.mark.parametrize("args,needle", [
    (["--param", "nope=1"], "no param named 'nope'"),
    (["--param", "lr"], "NAME=VALUE"),
])
def test_bad_run_options(args, needle):
    res = azc("run", STDLIB / "linear_sgd.az", "-t", "linear:F4", *args)
    assert res.exit_code == 1 and needle in res.output and "Traceback" not in res.output


def test_bad_choice_is_a_usage_error_naming_the_choices():
    res = azc("run", STDLIB / "linear_sgd.az", "-t", "linear:F4", "--backend", "gpu")
    assert res.exit_code == 2 and "'auto', 'native', 'numpy'" in res.output and "Traceback" not in res.output


def test_bad_task_spec_and_missing_file():
    res = azc("run", STDLIB / "linear_sgd.az", "-t", "linear:F4:Q9")
    assert res.exit_code == 1 and "cannot read option" in res.output
    res = azc("run", "no/such.az", "-t", "linear:F4")
    assert res.exit_code == 1 and "no such file" in res.output


BAD_FILES = [
    ("def Setup():\n  v7 = s4 + v11\ndef Predict():\ndef Learn():\n", 2, 8, "use bcast(s4)"),
    ("def Setup():\ndef Predict():\n  v1 = mean(m2, axis=0)\ndef Learn():\n", 3, 8, "mean(m2, axis=1)"),
    ("def Setup():\ndef Predict():\n  s1 = dott(v1, v0)\ndef Learn():\n", 3, 8, "dot"),
    ("def Setup():\ndef Learn():\n", 2, 5, "Predict"),
    ("def Setup():\n  s1 = inf\ndef Predict():\ndef Learn():\n", 2, 8, "inf"),
    ("def Setup():\n  s1 = lr\ndef Predict():\ndef Learn():\n", 2, 8, "lr"),
]


@pytest.mark.parametrize("text,line,col,needle", BAD_FILES)
def test_check_reports_file_line_col_caret_and_exit_1(tmp_path, text, line, col, needle):
    path = tmp_path / "bad.az"
    path.write_text(text)
    res = azc("check", path)
    assert res.exit_code == 1, res.output
    assert f"{path}:{line}:{col}: error:" in res.output and needle in res.output
    assert "^" in res.output and "Traceback" not in res.output


def test_check_ok_lists_memory():
    # one unwrapped line whatever the terminal width and the checkout's path length (issue 11, item 10)
    res = runner.invoke(app, ["check", str(STDLIB / "nn_2layer.az")], env={"COLUMNS": "20"})
    assert res.exit_code == 0 and res.output.count("\n") == 1 and "memory S/V/M 5/9/2" in res.output


MESSY = "param lr=0.5\ndef Setup():\n    s2=lr   # rate\ndef Predict():\n s1 = dot(v1,v0)\ndef Learn():\n  v1 = v1 * s2\n"


def test_fmt_stdout_check_and_in_place(tmp_path):
    path = tmp_path / "messy.az"
    path.write_text(MESSY)
    res = azc("fmt", path)
    assert res.exit_code == 0 and "  s2 = lr  # rate" in res.output and "v1 = s2 * v1" in res.output
    assert azc("fmt", "--check", path).exit_code == 1 and path.read_text() == MESSY
    assert azc("fmt", "--in-place", path).exit_code == 0
    assert path.read_text() == res.output and azc("fmt", "--check", path).exit_code == 0


def test_stdlib_is_canonically_formatted():
    res = azc("fmt", "--check", *sorted(STDLIB.glob("*.az")))
    assert res.exit_code == 0, res.output


def test_evolve_from_an_empty_seed_grows_programs(tmp_path):
    run = tmp_path / "run"
    res = azc("evolve", "--seed", STDLIB / "empty.az", "--population", 50, "--max-individuals", 2000,
              "--max-experiments", 1, "--random-seed", 5, "--run-dir", run)
    assert res.exit_code == 0, res.output
    config = (run / "config.toml").read_text()
    assert 'initial_population = "seeds"' in config and "insert_instruction" in config
    summary = json.loads((run / "summary.json").read_text())
    assert summary["individuals"] >= 2000 and summary["text"].count("\n  ") > 0  # no longer empty


def test_evolve_bad_config_is_a_message(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[evolution]\npopulation = -3\n")
    res = azc("evolve", "--config", bad, "--run-dir", tmp_path / "run")
    assert res.exit_code == 1 and "evolution.population" in res.output and "Traceback" not in res.output
