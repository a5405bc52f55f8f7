"""API stage: a scikit-learn estimator for any azlang algorithm: `azlang.Estimator("nn_2layer", lr=0.01)`.

It fits with the NumPy export of the program (bit-identical to azlang's evaluator): Setup once, then Predict
and Learn per example, `epochs` times (later epochs seeded shuffles). Predictions restart from the fitted memory
for every example, so they do not depend on the order or batching of the rows. task="classification" handles
any labels: two classes train one program on 0/1 (sigmoid(s1) is the probability of the second class), more
classes one program per class (one-vs-rest). The program's params are estimator params (get_params/set_params).
"""

from __future__ import annotations

import functools

import numpy as np

try:
    from sklearn.base import BaseEstimator
    from sklearn.utils._available_if import available_if
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError("azlang.Estimator needs scikit-learn: pip install 'azlang[sklearn]'") from exc

from azlang.ir.nodes import Program

TASKS = ("regression", "classification")


@functools.lru_cache(maxsize=64)
def _program(algorithm) -> Program:
    from azlang.api import load

    return algorithm if isinstance(algorithm, Program) else load(algorithm)


@functools.lru_cache(maxsize=64)
def _model_class(program: Program):
    from azlang.export import to_class

    return to_class(program, "numpy")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


class Estimator(BaseEstimator):
    """An azlang algorithm (stdlib name, .az path or Program) as a scikit-learn regressor or classifier."""

    def __init__(self, algorithm="linear_sgd", task="regression", epochs=1, seed=0, **params):
        self.algorithm = algorithm
        self.task = task
        self.epochs = epochs
        self.seed = seed
        self._params = dict(params)  # the program's params given here (the rest keep their defaults)

    def __getattr__(self, name):
        """A program param reads as an attribute: `Estimator("nn_2layer").lr`."""
        if name.startswith("_"):
            raise AttributeError(name)
        params = self.__dict__.get("_params", {})
        if name in params:
            return params[name]
        declared = self._declared()
        if name in declared:
            return declared[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # --- params: the constructor's and the program's ---------------------------------------------------

    def _declared(self) -> dict[str, float]:
        """The program's params and defaults; {} while `algorithm` cannot be loaded (fit reports why)."""
        try:
            return {p.name: p.value for p in _program(self.algorithm).params}
        except Exception:  # noqa: BLE001 - sklearn wants get_params/set_params never to fail; fit validates
            return {}

    def get_params(self, deep=True):
        out = super().get_params(deep)
        out.update({**self._declared(), **self._params})
        return out

    def set_params(self, **params):
        own = {k: v for k, v in params.items() if k not in self._get_param_names()}
        self._params.update(own)
        rest = {k: v for k, v in params.items() if k not in own}
        return super().set_params(**rest) if rest else self

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, RegressorTags

        tags = super().__sklearn_tags__()
        if self.task == "classification":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(poor_score=True)
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags(poor_score=True)
        return tags

    # --- fit -----------------------------------------------------------------------------------------------

    def _check_settings(self):
        from azlang.api import check_params

        if self.task not in TASKS:
            raise ValueError(f"task={self.task!r}: use 'regression' or 'classification'")
        if not isinstance(self.epochs, int | np.integer) or self.epochs < 1:
            raise ValueError(f"epochs={self.epochs!r}: a whole number >= 1")
        program = _program(self.algorithm)
        check_params(program, self._params)
        return program, {**self._declared(), **{k: float(v) for k, v in self._params.items()}}

    def fit(self, X, y):
        program, values = self._check_settings()
        classify = self.task == "classification"
        X, y = validate_data(self, X, y, y_numeric=not classify, dtype=np.float64)
        if classify:
            check_classification_targets(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError("classification needs at least two classes; y has one class")
            chosen = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
            targets = [y == c for c in chosen]
        else:
            targets = [y]
        self.memories_ = []  # per model: the registers and the random stream's state after training
        cls = _model_class(program)
        for t in targets:
            model = cls(**values, seed=self.seed, classification=classify)
            model.fit(X, np.asarray(t, dtype=np.float64), epochs=int(self.epochs), data_seed=self.seed)
            self.memories_.append((model.memory(), model.rng.state))
        self.params_ = values
        return self

    # --- predict -------------------------------------------------------------------------------------------

    def _scores(self, X) -> np.ndarray:
        """s1 per example and model, (n, models), each example predicted from the fitted memory."""
        check_is_fitted(self, "memories_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        model = _model_class(_program(self.algorithm))(**self.params_, seed=self.seed,
                                                       classification=self.task == "classification")
        model._reset(X.shape[1])
        out = np.empty((len(X), len(self.memories_)))
        for j, (memory, rng_state) in enumerate(self.memories_):
            for i, x in enumerate(X):
                model.set_memory(memory)
                model.rng.state = rng_state
                out[i, j] = model.decision_function(x[None, :])[0]
        return out

    def _is_classifier(self):
        return self.task == "classification"

    @available_if(_is_classifier)
    def decision_function(self, X):
        """s1 per example: (n,) for two classes, (n, classes) one-vs-rest."""
        scores = self._scores(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    @available_if(_is_classifier)
    def predict_proba(self, X):
        """Binary: [1 - p, p] with p = sigmoid(s1). More classes: the one-vs-rest sigmoids, normalised."""
        p = _sigmoid(self.decision_function(X))
        if p.ndim == 1:
            return np.column_stack([1.0 - p, p])
        total = p.sum(axis=1, keepdims=True)
        return np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / p.shape[1])

    def predict(self, X):
        if self.task != "classification":
            return self._scores(X)[:, 0]
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(_sigmoid(scores) > 0.5).astype(int)]
        return self.classes_[np.argmax(np.nan_to_num(scores, nan=-np.inf), axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy (classification) or R^2 (regression)."""
        from sklearn.metrics import accuracy_score, r2_score

        metric = accuracy_score if self.task == "classification" else r2_score
        return metric(y, self.predict(X), sample_weight=sample_weight)
