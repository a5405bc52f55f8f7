"""Task stage: tasks from one's own data: `csv:PATH` and `npz:PATH` specs, and `Task.from_arrays`.

Per task (data seed s): the examples are split into train / valid (a fraction `valid=0.2` of them, stratified
for classification, shuffled by an Rng seeded from s) unless the splits are given; then, like the built-in
projected tasks, the features are standardised with the training rows' mean and population std (a constant
column gets std 1), projected to F by the same seeded Gaussian matrix when F is below the file's feature count,
and standardised again. The word `raw` skips both. Several tasks (`D10`) differ by their seeds.
Options: F N V E D S P acc rms raw, label=COLUMN (csv), x=KEY y=KEY (npz), valid=FRACTION or valid=PATH.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from azlang.errors import TaskSpecError
from azlang.rng import Rng, hash_mix
from azlang.tasks import projected  # by module: build.py imports projected and tabular in either order
from azlang.tasks.build import register
from azlang.tasks.spec import TaskSpec
from azlang.tasks.tables import Table, check_array, check_lengths, read_csv, read_npz
from azlang.tasks.task import ACCURACY, RMS_ERROR, Task

DEFAULT_VALID_FRACTION = 0.2
KEYS = {"csv": ("label", "valid", "raw"), "npz": ("x", "y", "valid", "raw")}
KINDS = {"regression": RMS_ERROR, "rms": RMS_ERROR, "classification": ACCURACY, "accuracy": ACCURACY,
         "acc": ACCURACY}


@dataclass
class Transform:
    """What a task did to its features (apply the same to new data before predicting): standardise,
    project, standardise again. Identity parts are None."""

    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    projection: np.ndarray | None = None
    mean2: np.ndarray | None = None
    std2: np.ndarray | None = None

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.mean is not None:
            x = (x - self.mean) / self.std
        if self.projection is not None:
            x = (x @ self.projection - self.mean2) / self.std2
        return x


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    std = np.sqrt(((x - mean) ** 2).mean(axis=0))
    return mean, np.where(std > 0.0, std, 1.0)


def fit_transform(train_x: np.ndarray, F: int, data_seed: int, standardize: bool) -> Transform:
    D = train_x.shape[1]
    if not standardize:
        return Transform()
    t = Transform(*_stats(train_x))
    if F < D:
        t.projection = projected.projection_matrix(D, F, data_seed)
        t.mean2, t.std2 = _stats(((train_x - t.mean) / t.std) @ t.projection)
    return t


def split(y: np.ndarray, n_valid: int, classify: bool, data_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and valid row indices: stratified for classification, a seeded shuffle otherwise."""
    rng = Rng(hash_mix(projected.SPLIT_SALT, data_seed))
    if classify:
        train, valid = projected.stratified_split(y, (len(y) - n_valid, n_valid), rng)
        return train, valid
    perm = rng.permutation(len(y))
    return perm[n_valid:], perm[:n_valid]


def eval_type_of(y: np.ndarray, forced: str | None, where: str) -> str:
    """Forced rms/accuracy, else accuracy when every label is 0 or 1, else rms. Accuracy needs 0/1 labels."""
    binary = bool(np.all((y == 0.0) | (y == 1.0)))
    kind = forced or (ACCURACY if binary else RMS_ERROR)
    if kind == ACCURACY and not binary:
        bad = y[(y != 0.0) & (y != 1.0)][0]
        raise TaskSpecError(f"{where}: a classification label is {bad!r}; labels must be 0 or 1",
                            hint="map the two classes to 0 and 1, or use rms for regression")
    return kind


def valid_count(n: int, fraction: float, where: str) -> int:
    if n < 2:
        raise TaskSpecError(f"{where}: {n} example{'s' if n != 1 else ''}; at least 2 are needed "
                            "(one to train on, one to validate)", hint="add examples")
    if not 0.0 < fraction < 1.0:
        raise TaskSpecError(f"{where}: valid={fraction} must be a fraction between 0 and 1", hint="e.g. valid=0.2")
    return min(n - 1, max(1, round(n * fraction)))


def make_tasks(train: Table, valid: Table | None, spec: TaskSpec, opts: dict[str, str]) -> list[Task]:
    """The spec's D tasks from one table (split per seed) or from given train and valid tables."""
    where = spec.text
    classify_forced = spec.eval_type
    y_all = train.y if valid is None else np.concatenate([train.y, valid.y])
    eval_type = eval_type_of(y_all, classify_forced, where)
    D = train.x.shape[1]
    F = spec.F or D
    standardize = "raw" not in opts
    if F > D:
        raise TaskSpecError(f"task spec {where!r}: F{F} is more than the {D} features of {train.source}",
                            hint=f"F{D} or fewer (F below the feature count projects)")
    if F < D and not standardize:
        raise TaskSpecError(f"task spec {where!r}: raw data cannot be projected to F{F}", hint="drop raw or F")
    if spec.test:
        raise TaskSpecError(f"task spec {where!r}: own data has no official test split",
                            hint="give the validation data with valid=PATH instead")
    fraction = _fraction(opts.get("valid"), where)
    n_valid = None if valid is not None else valid_count(len(train.y), fraction, where)
    tasks = []
    for i, (data_seed, param_seed) in enumerate(spec.seeds()):
        if valid is None:
            tr, va = split(train.y, n_valid, eval_type == ACCURACY, data_seed)
            tx, ty, vx, vy = train.x[tr], train.y[tr], train.x[va], train.y[va]
        else:
            tx, ty, vx, vy = train.x, train.y, valid.x, valid.y
        tx, ty = _take(tx, ty, spec.N, "N", "training", where)
        vx, vy = _take(vx, vy, spec.V, "V", "validation", where)
        t = fit_transform(tx, F, data_seed, standardize)
        name = spec.text if spec.D == 1 else f"{spec.text}#{i}"
        tasks.append(Task(name, t(tx), ty, t(vx), vy, eval_type, spec.E, data_seed, param_seed, transform=t))
    return tasks


def _fraction(text: str | None, where: str) -> float:
    if text is None:
        return DEFAULT_VALID_FRACTION
    try:
        return float(text)
    except ValueError:
        raise TaskSpecError(f"task spec {where!r}: cannot read valid={text!r}") from None


def _take(x, y, asked, letter, what, where):
    if asked is None:
        return x, y
    if asked > len(y):
        raise TaskSpecError(f"task spec {where!r}: {letter}{asked} asks for more {what} examples than there are "
                            f"({len(y)})", hint=f"use {letter}{len(y)} or fewer")
    return x[:asked], y[:asked]


def _options(spec: TaskSpec) -> dict[str, str]:
    opts = dict(spec.extra)
    for key in opts:
        if key not in KEYS[spec.dataset]:
            raise TaskSpecError(f"task spec {spec.text!r}: unknown option {key!r}",
                                hint=f"{spec.dataset} options: F N V E D S P acc rms, "
                                     + ", ".join(f"{k}=..." if k != "raw" else k for k in KEYS[spec.dataset]))
    return opts


def _is_path(text: str | None) -> bool:
    return text is not None and _fraction_or_none(text) is None


def _fraction_or_none(text: str):
    try:
        return float(text)
    except ValueError:
        return None


@register("csv")
def build_csv(spec: TaskSpec, data_dir: str | None) -> list[Task]:
    opts = _options(spec)
    train = read_csv(spec.path, opts.get("label"))
    valid = None
    if _is_path(opts.get("valid")):
        valid = read_csv(opts.pop("valid"), opts.get("label"))
        _same_width(train, valid, spec)
    return make_tasks(train, valid, spec, opts)


@register("npz")
def build_npz(spec: TaskSpec, data_dir: str | None) -> list[Task]:
    opts = _options(spec)
    parts = read_npz(spec.path, opts.get("x"), opts.get("y"))
    train, valid = parts.get("all") or parts["train"], parts.get("valid")
    if _is_path(opts.get("valid")):
        valid = read_npz(opts.pop("valid"), opts.get("x"), opts.get("y"))
        valid = valid.get("all") or valid["valid"]
    if valid is not None:
        _same_width(train, valid, spec)
    return make_tasks(train, valid, spec, opts)


def _same_width(train: Table, valid: Table, spec: TaskSpec) -> None:
    if train.x.shape[1] != valid.x.shape[1]:
        raise TaskSpecError(f"task spec {spec.text!r}: {train.source} has {train.x.shape[1]} features but "
                            f"{valid.source} has {valid.x.shape[1]}", hint="both splits need the same columns")


def from_arrays(X_train, y_train, X_valid=None, y_valid=None, kind: str | None = None, *, name: str = "arrays",
                epochs: int = 1, valid_fraction: float = DEFAULT_VALID_FRACTION, seed: int = 11001,
                F: int | None = None, standardize: bool = False) -> Task:
    """One Task from arrays (see Task.from_arrays). Without X_valid the rows are split by `seed`."""
    x = check_array(X_train, "X_train", 2)
    y = check_array(y_train, "y_train", 1)
    check_lengths(x, y, "X_train", "y_train")
    if (X_valid is None) != (y_valid is None):
        raise TaskSpecError("give both X_valid and y_valid, or neither (then the rows are split)")
    forced = None
    if kind is not None:
        if kind not in KINDS:
            raise TaskSpecError(f"kind={kind!r} is not a task kind", hint="regression or classification")
        forced = KINDS[kind]
    valid = None
    if X_valid is not None:
        vx, vy = check_array(X_valid, "X_valid", 2), check_array(y_valid, "y_valid", 1)
        check_lengths(vx, vy, "X_valid", "y_valid")
        valid = Table(vx, vy, "X_valid")
        if vx.shape[1] != x.shape[1]:
            raise TaskSpecError(f"X_train has {x.shape[1]} features but X_valid has {vx.shape[1]}")
    if epochs < 1:
        raise TaskSpecError(f"epochs={epochs}: at least 1")
    extra = (("valid", repr(valid_fraction)),) + ((("raw", ""),) if not standardize else ())
    spec = TaskSpec(text=name, dataset="arrays", F=F, E=epochs, S=seed, eval_type=forced, extra=extra)
    return make_tasks(Table(x, y, "X_train"), valid, spec, dict(extra))[0]
