"""The scikit-learn estimator: sklearn's own checks, pipelines, cross-validation, params, exactness."""

from __future__ import annotations

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import azlang  # noqa: E402
from azlang import export  # noqa: E402


@pytest.mark.parametrize("est", [azlang.Estimator("linear_sgd", lr=0.01),
                                 azlang.Estimator("nn_2layer", task="classification", lr=0.05)],
                         ids=["regressor", "classifier"])
def test_passes_sklearn_estimator_checks(est):
    results = check_estimator(est, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 40


def _data(n=200, seed=0):
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, 4)) * [1, 5, 0.5, 2] + [3, -1, 0, 10]
    return x, x @ np.array([0.5, -0.2, 1.0, 0.1]) - 1.0


def test_pipeline_and_cross_val_score():
    x, y = _data()
    pipe = make_pipeline(StandardScaler(), azlang.Estimator("nn_2layer", lr=0.02, epochs=5))
    scores = cross_val_score(pipe, x, y - y.mean(), cv=3)
    assert scores.min() > 0.8
    labels = np.where(y > np.median(y), "high", "low")
    clf = make_pipeline(StandardScaler(), azlang.Estimator("logistic_sgd", task="classification", epochs=3))
    acc = cross_val_score(clf, x, labels, cv=3)
    assert acc.min() > 0.8
    fitted = clf.fit(x, labels)
    assert set(fitted.predict(x)) <= {"high", "low"} and fitted.predict_proba(x).shape == (200, 2)


def test_multiclass_one_vs_rest():
    x, y = _data(300)
    x = StandardScaler().fit_transform(x)
    classes = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    est = azlang.Estimator("logistic_sgd", task="classification", epochs=3).fit(x, classes)
    assert est.decision_function(x).shape == (300, 3) and np.allclose(est.predict_proba(x).sum(axis=1), 1.0)
    assert est.score(x, classes) > 0.6


def test_program_params_are_estimator_params():
    est = azlang.Estimator("nn_2layer", lr=0.01)
    params = est.get_params()
    assert params["lr"] == 0.01 and params["init_sd_out"] == 0.1 and params["algorithm"] == "nn_2layer"
    est.set_params(lr=0.5, epochs=2)
    assert est.lr == 0.5 and est.epochs == 2 and clone(est).get_params()["lr"] == 0.5
    with pytest.raises(Exception, match="no param named 'eta'"):
        azlang.Estimator("linear_sgd", eta=1.0).fit(*_data(20))
    with pytest.raises(ValueError, match="task="):
        azlang.Estimator(task="ranking").fit(*_data(20))


def test_predictions_equal_the_export_and_ignore_row_order():
    x, y = _data(60)
    x = StandardScaler().fit_transform(x)
    program = azlang.load("linear_sgd")
    est = azlang.Estimator(program, lr=0.05, seed=3).fit(x, y)
    model = export.to_class(program)(lr=0.05, seed=3).fit(x, y)
    assert np.array_equal(est.predict(x), model.decision_function(x))  # linear_sgd's Predict keeps no state
    assert np.array_equal(est.predict(x[::-1]), est.predict(x)[::-1])
