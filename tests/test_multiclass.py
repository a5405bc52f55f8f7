"""10-class projected tasks: shapes, standardisation, label balance, softmax accuracy by hand, the vector
prediction/label memory contract, routing to the NumPy evaluator, and the baselines on real data if present."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from azlang import api
from azlang.evaluate import evaluate_task
from azlang.fitness import raw_metric
from azlang.rng import Rng
from azlang.tasks.build import build_tasks
from azlang.tasks.multiclass import MULTICLASS, MulticlassTask, accuracy, predicted_class, softmax
from tests import datasets_fakes as fk


@pytest.fixture(autouse=True)
def _task_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AZLANG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AZLANG_VERIFY_DATA", "0")  # fakes have other checksums (test_datasets_verify checks them)


@pytest.fixture
def cifar(tmp_path):
    fk.write_cifar(tmp_path, per_class=50, brightness=True)
    return str(tmp_path)


def test_shapes_standardisation_and_balance(cifar):
    (t,) = build_tasks("cifar:all:F12", cifar)
    assert isinstance(t, MulticlassTask) and t.eval_type == MULTICLASS and t.n_classes == 10
    assert t.train_x.shape == (450, 12) and t.valid_x.shape == (50, 12)  # 90 / 10 % of 10 x 50
    np.testing.assert_allclose(t.train_x.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(t.train_x.std(axis=0), 1.0, atol=1e-9)
    assert np.bincount(t.train_y.astype(int), minlength=10).tolist() == [45] * 10
    assert np.bincount(t.valid_y.astype(int), minlength=10).tolist() == [5] * 10
    (small,) = build_tasks("cifar:all:F16:N40:V20:S5", cifar)
    assert small.train_x.shape == (40, 16) and small.valid_y.shape == (20,)
    a, b = build_tasks("cifar:all:F16:D2", cifar)
    assert not np.array_equal(a.train_x, b.train_x)  # one projection per data seed
    (test,) = build_tasks("cifar:all:F16:test", cifar)
    assert test.n_valid == 100


def test_bad_specs(cifar):
    from azlang.errors import TaskSpecError

    with pytest.raises(TaskSpecError, match="10 <= F"):
        build_tasks("cifar:all:F8", cifar)
    with pytest.raises(TaskSpecError, match="accuracy of the argmax"):
        build_tasks("cifar:all:F16:acc", cifar)


def test_softmax_and_accuracy_by_hand():
    z = np.array([1.0, 2.0, 3.0])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(z), e / e.sum())
    np.testing.assert_allclose(softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])  # stable
    assert predicted_class(np.array([0.2, 0.7, 0.7])) == 1  # first index on ties
    assert predicted_class(np.array([0.2, math.nan])) == -1
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.1, 0.2], [5.0, 5.0, 1.0], [0.0, 0.0, 9.0]])
    assert accuracy(logits, np.array([0, 2, 1, 2])) == 0.75  # rows 0, 1, 3 right; row 2 ties to class 0
    assert raw_metric(0.75, MULTICLASS) == ("accuracy", 0.75)


def _toy(n_train=3, F=10, C=10) -> MulticlassTask:
    x = np.eye(F)[:n_train]
    y = np.arange(n_train, dtype=float)
    return MulticlassTask("toy", x, y, x, y, MULTICLASS, 1, 0, 0, n_classes=C)


def test_memory_contract_by_hand():
    """Predict sees features in v0 and v2 zeroed; Learn sees softmax(logits) in v1 and the one-hot label in v2,
    the class index in s0. The program copies v2 (the label) into v3 in Learn and outputs v3 as logits:
    after one epoch, validation predicts the previous example's label."""
    prog = api.parse("def Setup():\n  s3 = 0.0\n\ndef Predict():\n  v1 = v3 + v2\n\n"
                     "def Learn():\n  v3 = v2 + v4\n  s2 = s0 + s3\n")
    task = _toy(n_train=3)
    r = evaluate_task(prog, task, Rng(1), api._memory(prog, None), opts=None)
    # validation examples 0, 1, 2 all see v3 = one-hot(2) (the last label), v2 zeroed: only example 2 is right
    assert r.fitness == pytest.approx(1 / 3)
    from azlang.evaluate import EvalOptions

    rec = evaluate_task(prog, task, Rng(1), api._memory(prog, None), EvalOptions(record=True))
    # training error = sum |one-hot(y) - softmax(logits)|; logits = v3 (label of the previous step), v2 = 0
    p0 = np.full(10, 0.1)
    assert rec.train_errors[0] == pytest.approx(np.abs(np.eye(10)[0] - p0).sum())
    assert rec.memory["s"][2] == 2.0  # s0 held the class index during the last Learn


def test_nan_logits_give_fitness_zero():
    prog = api.parse("def Setup():\n  s3 = 0.0\n\ndef Predict():\n  v1 = v0 / v4\n\ndef Learn():\n  s3 = 0.0\n")
    assert evaluate_task(prog, _toy(), Rng(1), api._memory(prog, None)).fitness == 0.0


def test_run_routes_multiclass_to_numpy(cifar):
    res = api.run(api.load("softmax_regression"), ["cifar:all:F16:N200:V50"], data_dir=cifar)
    assert res.backend == "numpy" and res.tasks[0].metric == "accuracy" and res.tasks[0].value == res.fitness
    from azlang.errors import ConfigError

    with pytest.raises(ConfigError, match="NumPy backend only"):
        api.run(api.load("softmax_regression"), ["cifar:all:F16:N20:V10"], data_dir=cifar, backend="native")


def test_baselines_learn_the_fake_classes(cifar):
    """The fake images of class c have brightness 20 c: both baselines separate them far above chance."""
    for name in ("softmax_regression", "nn_2layer_softmax"):
        res = api.run(api.load(name), ["cifar:all:F16:E3"], data_dir=cifar, params={"lr": 0.05})
        assert res.fitness > 0.5, name


REAL = os.environ.get("AZLANG_DATA") or "/work/shared/data"


@pytest.mark.slow
@pytest.mark.skipif(not (Path(REAL) / "mnist").is_dir(), reason="real MNIST not present")
def test_baselines_beat_chance_on_real_mnist():
    for name in ("softmax_regression", "nn_2layer_softmax"):
        res = api.run(api.load(name), ["mnist:all:F16:N3000:V1000"], data_dir=REAL)
        assert res.fitness > 0.4, (name, res.fitness)  # chance is 0.1
