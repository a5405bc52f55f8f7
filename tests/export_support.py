"""Test support: the evaluator's own view of a program on a task (the oracle the exports are compared with)."""

from __future__ import annotations

import math

import numpy as np

from azlang.evaluate import EvalOptions, evaluate_task
from azlang.rng import Rng
from azlang.tasks.task import ACCURACY, Task


def random_task(F: int, n_train: int, n_valid: int, seed: int, classify: bool = False, epochs: int = 1) -> Task:
    g = np.random.default_rng(seed)
    x, xv = g.normal(size=(n_train, F)), g.normal(size=(n_valid, F))
    w = g.normal(size=F)
    y, yv = x @ w, xv @ w
    if classify:
        y, yv = (y > 0).astype(float), (yv > 0).astype(float)
    return Task("t", x, y, xv, yv, ACCURACY if classify else "rms", epochs, data_seed=seed + 7)


def reference(program, task: Task, seed: int, shape=None):
    """TaskResult with recorded errors and final memory, no error limit (only NaN stops training)."""
    return evaluate_task(program, task, Rng(seed), shape, EvalOptions(max_abs_error=math.inf, record=True))


def same_bits(a, b) -> bool:
    """Equal as float64 arrays, NaN equal to NaN (payloads aside)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))
