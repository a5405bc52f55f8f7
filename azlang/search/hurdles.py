"""Search stage: hurdles (the paper's early rejection, after So et al. 2019), defined exactly.

A candidate is first evaluated on the first k = ceil(task_fraction * n) search tasks (collection order).
If the combined fitness over those k tasks is below the hurdle, evaluation stops there and that partial
fitness is the candidate's fitness; otherwise the remaining tasks are evaluated and the candidate gets
its full combined fitness. The hurdle is the `percentile`-th percentile (lower nearest rank: sorted unique
values u, element floor(p/100 * (len(u) - 1))) of the unique fitness values in the current population,
recomputed every `update_every` individuals (default: once per sweep of P). Until the first update
(during Init) it is -inf, so every candidate passes. With k = n hurdles have no effect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


class Hurdle:
    __slots__ = ("k", "passed", "percentile", "since_update", "tested", "update_every", "value")

    def __init__(self, n_tasks: int, task_fraction: float, percentile: float, update_every: int):
        self.k = max(1, min(n_tasks, math.ceil(task_fraction * n_tasks - 1e-9)))
        self.percentile, self.update_every = percentile, update_every
        self.value = -math.inf
        self.since_update = 0
        self.tested = self.passed = 0

    def update(self, fitnesses: Sequence[float]) -> None:
        self.value = percentile_of_unique(fitnesses, self.percentile)
        self.since_update = 0

    def tick(self, population_fitnesses) -> None:
        """Count one individual; refresh the hurdle when due (the population is read lazily)."""
        self.since_update += 1
        if self.since_update >= self.update_every:
            self.update(population_fitnesses())

    def passes(self, partial: float) -> bool:
        self.tested += 1
        ok = not partial < self.value
        self.passed += ok
        return ok

    @property
    def pass_rate(self) -> float:
        return self.passed / self.tested if self.tested else 1.0


def percentile_of_unique(values: Sequence[float], p: float) -> float:
    unique = sorted({v for v in values if not math.isnan(v)})
    if not unique:
        return -math.inf
    return unique[math.floor(p / 100.0 * (len(unique) - 1))]
