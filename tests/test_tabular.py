"""Own data: csv/npz task specs and Task.from_arrays, through the API and the CLI, every error case."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import azlang
from azlang.cli import app
from azlang.errors import TaskSpecError
from azlang.tasks.build import build_tasks
from azlang.tasks.spec import parse_spec
from azlang.tasks.task import Task

runner = CliRunner()


def write_csv(path, n=60, F=3, header=True, classify=False, seed=0):
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, F)) * 10 + 5
    y = (x - 5) @ np.arange(1.0, F + 1) / 10  # labels are used as given: keep them near zero
    if classify:
        y = (y > np.median(y)).astype(float)
    head = ",".join([f"f{i}" for i in range(F)] + ["target"]) if header else ""
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=head, comments="")
    return x, y


def test_csv_spec_parses_path_and_options():
    spec = parse_spec("csv:data/my.csv:F2:D3:label=price:valid=0.3:raw")
    assert spec.path == "data/my.csv" and spec.F == 2 and spec.D == 3
    assert dict(spec.extra) == {"label": "price", "valid": "0.3", "raw": ""}


def test_csv_split_standardise_and_seeds(tmp_path):
    write_csv(tmp_path / "d.csv")
    t, = build_tasks(f"csv:{tmp_path}/d.csv")
    assert (t.F, t.n_train, t.n_valid, t.eval_type) == (3, 48, 12, "rms")
    assert np.allclose(t.train_x.mean(axis=0), 0.0) and np.allclose(t.train_x.std(axis=0), 1.0)
    a, b = build_tasks(f"csv:{tmp_path}/d.csv:D2")
    assert not np.array_equal(a.train_y, b.train_y)  # different seeds, different splits
    again, = build_tasks(f"csv:{tmp_path}/d.csv:S{a.data_seed}")
    assert np.array_equal(again.train_x, a.train_x)  # same seed, same task
    raw, = build_tasks(f"csv:{tmp_path}/d.csv:raw")
    assert raw.train_x.mean() > 3  # untouched


def test_csv_projection_and_transform_for_new_data(tmp_path):
    x, _ = write_csv(tmp_path / "d.csv", F=5)
    t, = build_tasks(f"csv:{tmp_path}/d.csv:F2:N30:V10")
    assert (t.F, t.n_train, t.n_valid) == (2, 30, 10)
    assert np.allclose(t.train_x.mean(axis=0), 0.0, atol=0.3)
    assert t.transform(x).shape == (60, 2)


def test_csv_label_column_and_classification(tmp_path):
    write_csv(tmp_path / "c.csv", classify=True)
    t, = build_tasks(f"csv:{tmp_path}/c.csv")
    assert t.eval_type == "accuracy" and set(np.unique(t.train_y)) == {0.0, 1.0}
    assert abs(t.train_y.mean() - t.valid_y.mean()) < 0.1  # stratified
    t2, = build_tasks(f"csv:{tmp_path}/c.csv:label=f0:rms")
    assert t2.eval_type == "rms" and t2.F == 3
    t3, = build_tasks(f"csv:{tmp_path}/c.csv:label=0")
    assert np.array_equal(t3.train_y, t2.train_y)


def test_csv_given_valid_file(tmp_path):
    write_csv(tmp_path / "tr.csv", n=40)
    write_csv(tmp_path / "va.csv", n=15, seed=1)
    t, = build_tasks(f"csv:{tmp_path}/tr.csv:valid={tmp_path}/va.csv:E3")
    assert (t.n_train, t.n_valid, t.epochs) == (40, 15, 3)


def test_npz_all_and_given_splits(tmp_path):
    g = np.random.default_rng(1)
    x, y = g.normal(size=(50, 4)), g.normal(size=50)
    np.savez(tmp_path / "a.npz", x=x, y=y)
    np.savez(tmp_path / "b.npz", train_x=x[:40], train_y=y[:40], valid_x=x[40:], valid_y=y[40:])
    np.savez(tmp_path / "c.npz", feats=x, lab=y)
    assert build_tasks(f"npz:{tmp_path}/a.npz")[0].n_valid == 10
    t, = build_tasks(f"npz:{tmp_path}/b.npz:raw")
    assert np.array_equal(t.valid_x, x[40:]) and t.n_train == 40
    assert build_tasks(f"npz:{tmp_path}/c.npz:x=feats:y=lab")[0].F == 4


def _bad_csv(tmp_path, text):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    return f"csv:{p}"


@pytest.mark.parametrize("text,needle,where", [
    ("a,b,y\n1,2,3\n4,x,6\n", "column 'b' holds 'x', not a number", ":3:3"),
    ("a,b,y\n1,2,3\n4,nan,6\n", "column 'b' holds 'nan'", ":3:3"),
    ("a,b,y\n1,2,3\n4,,6\n", "column 'b' holds ''", ":3:3"),
    ("1,2,3\n4,5\n", "row has 2 columns", ":2:1"),
    ("a,b,y\n1,2,3\n", "1 example; at least 2", ""),
    ("", "has no rows", ""),
    ("y\n1\n2\n", "at least two columns", ""),
    ("a,b,y\n1,2,3\n4,5,6\n7,8,9\n", "a classification label is", "acc"),
])
def test_csv_errors_name_file_line_and_value(tmp_path, text, needle, where):
    spec = _bad_csv(tmp_path, text) + (":acc" if where == "acc" else "")
    with pytest.raises(TaskSpecError) as exc:
        build_tasks(spec)
    msg = str(exc.value)
    assert needle in msg and "bad.csv" in msg + spec
    if where.startswith(":"):
        assert f"bad.csv{where}" in msg


@pytest.mark.parametrize("suffix,needle", [
    (":label=nope", "no column named 'nope'"),
    (":label=7", "out of range"),
    (":F9", "F9 is more than the 2 features"),
    (":raw:F1", "raw data cannot be projected"),
    (":N99", "N99 asks for more training examples"),
    (":valid=1.5", "must be a fraction"),
    (":colour=red", "unknown option 'colour'"),
    (":test", "no official test split"),
])
def test_csv_option_errors(tmp_path, suffix, needle):
    spec = _bad_csv(tmp_path, "a,b,y\n" + "".join(f"{i},{i * 2},{i % 3}\n" for i in range(10))) + suffix
    with pytest.raises(TaskSpecError, match=needle.replace("(", r"\(")):
        build_tasks(spec)


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "k.npz", a=np.zeros((3, 2)))
    np.savez(tmp_path / "s.npz", x=np.zeros(3), y=np.zeros(3))
    np.savez(tmp_path / "n.npz", x=np.array([[1.0, np.nan], [0, 0]]), y=np.zeros(2))
    np.savez(tmp_path / "l.npz", x=np.zeros((3, 2)), y=np.zeros(4))
    np.savez(tmp_path / "t.npz", x=np.array([["a", "b"]]), y=np.zeros(1))
    (tmp_path / "bad.npz").write_text("not a zip")
    cases = {"k": "no array named 'X' (it holds a)", "s": "shape (3,) where (examples, features)", "n": "is nan",
             "l": "has 3 examples but", "t": "is not numeric", "bad": "cannot read", "missing": "no such data file"}
    for name, needle in cases.items():
        with pytest.raises(TaskSpecError, match=re.escape(needle)):
            build_tasks(f"npz:{tmp_path}/{name}.npz")


def test_from_arrays():
    g = np.random.default_rng(2)
    x, y = g.normal(size=(30, 3)), g.normal(size=30)
    t = Task.from_arrays(x, y)
    assert (t.n_train, t.n_valid, t.eval_type) == (24, 6, "rms")
    assert np.array_equal(np.sort(np.concatenate([t.train_y, t.valid_y])), np.sort(y))
    t2 = Task.from_arrays(x[:20], y[:20] > 0, x[20:], y[20:] > 0, kind="classification", epochs=2)
    assert t2.eval_type == "accuracy" and t2.epochs == 2 and np.array_equal(t2.valid_x, x[20:])
    assert Task.from_arrays(x, y, F=2, standardize=True).F == 2
    for args, kwargs, needle in [
        ((x, y[:5]), {}, "X_train has 30 examples but y_train has 5"),
        ((x, y, x), {}, "give both X_valid and y_valid"),
        ((x, y, x[:, :2], y), {}, "3 features but X_valid has 2"),
        ((x, y), {"kind": "ranking"}, "not a task kind"),
        ((x, y), {"kind": "classification"}, "labels must be 0 or 1"),
        ((x[:1], y[:1]), {}, "at least 2 are needed"),
        ((np.where(x > 1, np.inf, x), y), {}, "the value at (1, 1) is inf"),
    ]:
        with pytest.raises(TaskSpecError, match=re.escape(needle)):
            Task.from_arrays(*args, **kwargs)


def test_cli_run_on_csv_and_errors(tmp_path):
    write_csv(tmp_path / "d.csv", n=200)
    res = runner.invoke(app, ["run", "linear_sgd", "-t", f"csv:{tmp_path}/d.csv:E5", "--json", "--backend", "numpy"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["fitness"] > 0.9
    (tmp_path / "bad.csv").write_text("a,b\n1,2\nthree,4\n")
    res = runner.invoke(app, ["run", "linear_sgd", "-t", f"csv:{tmp_path}/bad.csv"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "bad.csv:3:1: error: column 'a' holds 'three'" in res.output and "three,4" in res.output
    assert "hint:" in res.output


def test_api_run_on_csv_spec_and_task_agree(tmp_path):
    write_csv(tmp_path / "d.csv", n=100)
    task, = build_tasks(f"csv:{tmp_path}/d.csv")
    by_spec = azlang.run("linear_sgd", [f"csv:{tmp_path}/d.csv"], backend="numpy")
    by_task = azlang.run("linear_sgd", [task], backend="numpy")
    assert by_spec.fitness == by_task.fitness > 0.5


def test_cli_evolve_and_config_on_csv(tmp_path):
    write_csv(tmp_path / "d.csv", n=80)
    res = runner.invoke(app, ["evolve", "-t", f"csv:{tmp_path}/d.csv:D2", "--population", "20", "--tournament", "4",
                              "--max-individuals", "200", "--max-experiments", "1", "--random-seed", "1",
                              "--workers", "1", "--run-dir", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    assert "csv:" in (tmp_path / "run" / "config.toml").read_text()
    cfg = tmp_path / "own.toml"
    cfg.write_text(f'[tasks]\nsearch = ["csv:{tmp_path}/d.csv:D2"]\nselect = ["csv:{tmp_path}/d.csv:S5"]\n'
                   '[evolution]\npopulation = 20\ntournament = 4\ninitial_population = "random"\n'
                   '[stop]\nmax_individuals = 200\n[run]\nworkers = 1\nrandom_seed = 2\n'
                   '[memory]\nscalars = 4\nvectors = 3\nmatrices = 1\n'
                   '[setup]\nops = [56, 2, 3]\n[predict]\nops = [27]\n[learn]\nops = [2, 3, 18, 23]\n')
    result = azlang.evolve(cfg)
    assert result.select_fitness is not None and len(result.experiments) == 1
    bad = runner.invoke(app, ["evolve", "-t", f"csv:{tmp_path}/missing.csv", "--max-individuals", "10"])
    assert bad.exit_code == 1 and "no such data file" in bad.output and "Traceback" not in bad.output


@pytest.mark.parametrize("text,needle", [("csv:", "needs a file after csv:"), ("npz", "needs a file after npz:"),
                                         ("csv:d.csv:F0", "F must be at least 1"),
                                         ("tsv:d.tsv", "known: linear")])
def test_file_spec_syntax_errors(text, needle):
    with pytest.raises(TaskSpecError, match=re.escape(needle)):
        parse_spec(text)
