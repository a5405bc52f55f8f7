"""Evaluation stage: fitness arithmetic shared by every backend (docs/semantics.md, section 4)."""

from __future__ import annotations

import math
from collections.abc import Sequence

TWO_OVER_PI = 0.63661977236758138243
MEAN, MEDIAN = "mean", "median"


def flip_and_squash(rms: float) -> float:
    """Regression fitness 1 - (2/pi) atan(rms); NaN or inf give 0."""
    if rms != rms or math.isinf(rms):
        return 0.0
    return 1.0 - TWO_OVER_PI * math.atan(rms)


def combine(fitnesses: Sequence[float], mode: str = MEAN) -> float:
    """Mean, or the reference's upper median (element floor(n/2) after sorting)."""
    if not fitnesses:
        raise ValueError("cannot combine an empty list of task fitnesses")
    if mode == MEAN:
        return sum(fitnesses) / len(fitnesses)
    if mode == MEDIAN:
        return sorted(fitnesses)[len(fitnesses) // 2]
    raise ValueError(f"unknown combination mode {mode!r} (mean or median)")


def raw_metric(fitness: float, eval_type: str) -> tuple[str, float]:
    """The task's own measure behind a fitness: ("rms", error) for regression, inverting flip_and_squash
    (fitness 0, an aborted or NaN evaluation, gives inf), or ("accuracy", fitness) for classification."""
    if eval_type == "rms":
        if fitness <= 0.0 or fitness != fitness:
            return "rms", math.inf
        return "rms", math.tan((1.0 - fitness) / TWO_OVER_PI)
    return "accuracy", fitness
