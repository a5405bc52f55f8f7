"""Search stage: the fitness of one candidate on T_search: train budget, FEC, hurdles and the counters.

Per task, in collection order (docs/semantics.md, section 9): probe with the FEC Rng -> 64-bit key -> lookup; on a miss
the task is fully evaluated with the shared search Rng and the result inserted. Misses are evaluated in
one backend call per hurdle stage; a placeholder is inserted at the moment of the miss so LRU eviction
happens exactly when the reference's insert would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from azlang.fitness import combine
from azlang.ir.bytecode import Bytecode
from azlang.rng import Rng
from azlang.search.backends import Evaluator
from azlang.search.budget import TrainBudget
from azlang.search.fec import FecCache, fec_keys
from azlang.search.hurdles import Hurdle


@dataclass
class Counters:
    """What evaluation has cost so far: train steps (FEC probes included) and candidates evaluated."""

    train_steps: int = 0
    evaluations: int = 0


class SearchEvaluator:
    def __init__(
        self,
        backend: Evaluator,
        examples: Sequence[int],
        mode: str = "mean",
        budget: TrainBudget | None = None,
        cache: FecCache | None = None,
        fec_examples: tuple[int, int] = (10, 10),
        hurdle: Hurdle | None = None,
        counters: Counters | None = None,
    ):
        self.backend, self.examples, self.mode = backend, list(examples), mode
        self.counters = counters or Counters()
        self.budget, self.cache, self.fec_examples, self.hurdle = budget, cache, fec_examples, hurdle
        n = len(self.examples)
        k = hurdle.k if hurdle and hurdle.k < n else n
        self.stages = [list(range(k))] + ([list(range(k, n))] if k < n else [])
        self._last: tuple | None = None  # (program bytes, fitness, train steps) of a repeatable evaluation

    def _budgeted(self, bc: Bytecode) -> list[int]:
        if self.budget is None:
            return self.examples
        return [self.budget.allowed(bc, e) for e in self.examples]

    def evaluate(self, bc: Bytecode, rng: Rng) -> float:
        """Combined fitness on the search tasks; stops after the first stage if the hurdle rejects it.
        The same program again right after an evaluation that drew nothing (an initial population of copies of
        one seed): without FEC or hurdles nothing else decides its result, so it is repeated, counters too."""
        if self.cache is not None or len(self.stages) > 1:  # FEC or hurdles decide: no key built per candidate
            return self.evaluate_batch([bc], rng)[0]
        key = (bc.sizes, bc.code.tobytes(), bc.data.tobytes())
        if self._last is not None and self._last[0] == key:
            fit, steps = self._last[1:]
            self.counters.evaluations += 1
            self.counters.train_steps += steps
            return fit
        state, steps = rng.state, self.counters.train_steps
        fit = self.evaluate_batch([bc], rng)[0]
        self._last = (key, fit, self.counters.train_steps - steps) if rng.state == state else None
        return fit

    def evaluate_batch(self, bcs: Sequence[Bytecode], rng: Rng) -> list[float]:
        """Fitness of several candidates, each stage in one backend call. Candidates are evaluated in order
        with the shared Rng, so one candidate gives exactly what `evaluate` gives."""
        self.counters.evaluations += len(bcs)
        budgeted = [self._budgeted(bc) for bc in bcs]
        fits: list[list[float]] = [[] for _ in bcs]
        active = list(range(len(bcs)))
        for s, ids in enumerate(self.stages):
            if not active:
                break
            group = [bcs[c] for c in active]
            probes = self._probe(group, ids) if self.cache is not None else [None] * len(group)
            for c, f in zip(active, self._stage(group, ids, [budgeted[c] for c in active], probes, rng)):
                fits[c].extend(f)
            if s == 0 and len(self.stages) > 1:
                active = [c for c in active if self.hurdle.passes(combine(fits[c], self.mode))]
        return [combine(f, self.mode) for f in fits]

    def _probe(self, bcs: list[Bytecode], ids: list[int]) -> list:
        n_train, n_valid = self.fec_examples
        if len(bcs) == 1:
            probes = [self.backend.probe(bcs[0], ids, n_train, n_valid)]
        else:
            probes = self.backend.probe_batch(bcs, ids, n_train, n_valid)
        self.counters.train_steps += sum(p.train_steps for ps in probes for p in ps)
        return probes

    def _lookup(self, ids: list[int], budgeted: list[int], probes) -> tuple[list, list]:
        """Cached fitness (a float, a pending cell, or None = miss) per task, and each miss's pending cell."""
        fits, cells = [None] * len(ids), [None] * len(ids)
        if probes is None:
            return fits, cells
        cache = self.cache
        keys = fec_keys(
            [p.train_errors or () for p in probes],
            [p.valid_errors or () for p in probes],
            ids,
            [budgeted[i] for i in ids],
        )
        for j, key in enumerate(keys):
            fits[j] = cache.lookup(key)
            if fits[j] is None:
                cells[j] = _Pending(key)
                cache.insert(key, cells[j])  # evict now, as the reference's insert would
        return fits, cells

    def _stage(self, bcs, ids, budgeted, probes, rng: Rng) -> list[list[float]]:
        looked = [self._lookup(ids, b, p) for b, p in zip(budgeted, probes)]
        jobs, where = [], []
        for c, (fits, _) in enumerate(looked):
            miss = [j for j, f in enumerate(fits) if f is None]
            if miss:
                jobs.append((bcs[c], [ids[j] for j in miss], [budgeted[c][ids[j]] for j in miss]))
                where.append((c, miss))
        results = self.backend.full_batch(jobs, rng) if jobs else []
        for (c, miss), res in zip(where, results):
            fits, cells = looked[c]
            for j, r in zip(miss, res):
                fits[j] = r.fitness
                self.counters.train_steps += r.train_steps
                if cells[j] is not None:
                    cells[j].resolve(self.cache, r.fitness)
        return [[f.value if isinstance(f, _Pending) else f for f in fits] for fits, _ in looked]


class _Pending:
    """A cache entry whose full evaluation is under way (a batch may look it up again before it is done)."""

    __slots__ = ("key", "value")

    def __init__(self, key):
        self.key, self.value = key, None

    def resolve(self, cache: FecCache, fitness: float) -> None:
        self.value = fitness
        entry = cache.entries.get(self.key)
        if entry is not None and entry[0] is self:
            entry[0] = fitness
