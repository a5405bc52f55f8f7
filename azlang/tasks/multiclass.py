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


def is_multiclass_spec(spec) -> bool:
    """Whether a task spec builds 10-class tasks (a dataset's `all` part), known before building any data."""
    return getattr(spec, "part", None) == "all"


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
