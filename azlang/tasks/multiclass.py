"""Task stage: projected 10-class tasks (the paper's Section 4.3, "labels and outputs are now vectors").

Spec `cifar:all:F16` (also `mnist:all`, `fashion:all`). Per task (data seed s):
  1. pool: the first 5000 training images of every class in dataset order (official TRAIN split): 50000
     images on CIFAR-10, 50000 of MNIST's and Fashion-MNIST's 60000 (class-balanced, like the binary pool);
  2. a stratified 90 % / 10 % split into train / valid (45000 / 5000 on the real datasets) by an Rng seeded
     from s, with every class's share kept;
  3. the same Gaussian projection to F features and the same exact standardisation as the binary tasks.
Labels are class indices 0..9 stored as floats; `MulticlassTask.n_classes` says how many. The `test`
option validates on the official TEST split. Different data seeds give different projections (the paper
draws 1000 and gives 80 % to search, 20 % to select: use disjoint S ranges for tasks.search and .select).

Where the vectors live (docs/experiments.md): Predict writes the C logits into v1[0:C]; during training the
evaluator replaces v1 by softmax(v1[0:C]) (zeros beyond C) before Learn; Learn finds the label one-hot in
v2[0:C] (and the class index in s0); v2 and s0 are zeroed before every Predict. Accuracy is the share of
validation examples whose argmax of v1[0:C] (first index on ties) is the label. F must be >= C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from azlang.errors import TaskSpecError
from azlang.rng import Rng, hash_mix
from azlang.tasks import cache, download
from azlang.tasks import datasets as ds
from azlang.tasks.projected import (
    DEFAULT_F,
    PER_CLASS,
    QUANTUM,
    SPLIT_SALT,
    _project,
    _take,
    column_stats,
    projection_matrix,
    stratified_split,
)
from azlang.tasks.spec import TaskSpec
from azlang.tasks.task import Task

MULTICLASS = "multiclass"
N_CLASSES = 10
PREDICTION_VECTOR, LABEL_VECTOR = 1, 2  # v1 holds the logits (then probabilities), v2 the one-hot label
MIN_VECTORS = 3


@dataclass(eq=False)
class MulticlassTask(Task):
    """A Task whose labels are class indices 0..n_classes-1 (as floats); eval_type is MULTICLASS."""

    n_classes: int = N_CLASSES

    def __post_init__(self):
        super().__post_init__()
        if self.F < self.n_classes:
            raise ValueError(f"task {self.name}: F={self.F} < {self.n_classes} classes (the logits live in v1)")


def is_multiclass(task: Task) -> bool:
    return getattr(task, "eval_type", None) == MULTICLASS


def softmax(logits: np.ndarray) -> np.ndarray:
    """exp(z - max z) / sum: stable; NaN in gives NaN out (the evaluator stops on it)."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return e / e.sum()


def predicted_class(logits: np.ndarray) -> int:
    """argmax, first index on ties; -1 when any logit is NaN (never a correct answer)."""
    z = np.asarray(logits, dtype=np.float64)
    if np.isnan(z).any():
        return -1
    return int(np.argmax(z))


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows of `logits` (n, C) whose predicted class equals the label."""
    hits = sum(predicted_class(row) == int(y) for row, y in zip(logits, labels))
    return hits / len(labels)


def one_hot(label: float, F: int) -> np.ndarray:
    out = np.zeros(F)
    k = int(label)
    if not (0 <= k < F and math.isclose(k, label)):
        raise ValueError(f"label {label!r} is not a class index below {F}")
    out[k] = 1.0
    return out


# --- data ---------------------------------------------------------------------------------------------------

def class_pool(y: np.ndarray, per_class: int = PER_CLASS) -> np.ndarray:
    """Rows of the first `per_class` images of every class (all classes take the smallest count, so the
    pool stays balanced), in dataset order."""
    members = [np.flatnonzero(y == c) for c in range(N_CLASSES)]
    k = min(per_class, *(len(m) for m in members))
    if k == 0:
        raise TaskSpecError("a 10-class task needs images of every class in the training split")
    return np.sort(np.concatenate([m[:k] for m in members]))


def multiclass_arrays(data: ds.ImageData, F: int, data_seed: int, n_train: int | None, n_valid: int | None,
                      test: bool) -> dict[str, np.ndarray]:
    rows = class_pool(data.train_y)
    labels = data.train_y[rows].astype(np.float64)
    n_valid_pool = len(rows) // 10
    train, valid = stratified_split(labels, (len(rows) - n_valid_pool, n_valid_pool),
                                    Rng(hash_mix(SPLIT_SALT, data_seed)))
    if test:
        vx_raw, vy = data.test_x, data.test_y.astype(np.float64)
    else:
        vx_raw, vy = data.train_x[rows[valid]], labels[valid]
    n_train = _take(n_train, len(train), "N", "training")
    n_valid = _take(n_valid, len(vy), "V", "test" if test else "validation")
    D = data.train_x.shape[1]
    R = projection_matrix(D, F, data_seed) if F < D else None
    tx = _project(data.train_x[rows[train]], R)
    mean, std = column_stats(tx, QUANTUM if R is not None else 1.0)
    vx = _project(vx_raw[:n_valid], R)
    return {"train_x": (tx[:n_train] - mean) / std, "train_y": labels[train][:n_train],
            "valid_x": (vx - mean) / std, "valid_y": vy[:n_valid]}


def build_multiclass(spec: TaskSpec, data_dir: str | None) -> list[Task]:
    """The D tasks of `DATASET:all[:F..][:N..][:V..][:E..][:D..][:S..]`, one projection per data seed."""
    spec = spec.with_defaults(F=DEFAULT_F)
    info = ds.dataset_info(spec.dataset)
    if spec.eval_type is not None:
        raise TaskSpecError(f"task spec {spec.text!r}: 10-class tasks are evaluated by accuracy of the argmax",
                            hint="drop the acc / rms option")
    if spec.F < N_CLASSES or spec.F > info.D:
        raise TaskSpecError(f"task spec {spec.text!r}: a 10-class task needs {N_CLASSES} <= F <= {info.D}",
                            hint="the 10 logits live in v1[0:10], so use F10 or more (F16 is the paper's)")
    root = ds.data_root(data_dir)
    download.ensure(info, root)
    ident = ds.identity(info, root)
    data, tasks = None, []
    for i, (data_seed, param_seed) in enumerate(spec.seeds()):
        k = cache.key(kind=MULTICLASS, dataset=info.name, identity=ident, F=spec.F, N=spec.N, V=spec.V,
                      test=spec.test, seed=data_seed)
        cacheable = spec.F < info.D
        arrays = cache.load(k) if cacheable else None
        if arrays is None:
            data = data or ds.load(info, root)
            arrays = multiclass_arrays(data, spec.F, data_seed, spec.N, spec.V, spec.test)
            if cacheable:
                cache.store(k, arrays)
        name = spec.text if spec.D == 1 else f"{spec.text}#{i}"
        tasks.append(MulticlassTask(name, arrays["train_x"], arrays["train_y"], arrays["valid_x"],
                                    arrays["valid_y"], MULTICLASS, spec.E, data_seed, param_seed))
    return tasks
