"""Tool stage: hyperparameter tuning (paper S7): random search over a program's params, each scaled by a
log-uniform factor in [low, high], evaluated in parallel worker processes."""

from __future__ import annotations

import math
import multiprocessing as mp
import os
from dataclasses import dataclass, replace

from azlang.errors import ConfigError
from azlang.evaluate import evaluate
from azlang.ir.nodes import Param, Program
from azlang.rng import Rng, hash_mix
from azlang.tasks.build import build_collection


@dataclass(frozen=True)
class Trial:
    index: int  # 0 is the program's own values
    values: dict[str, float]
    fitness: float


@dataclass(frozen=True)
class TuneResult:
    baseline: Trial
    best: Trial
    trials: tuple[Trial, ...]  # in index order


def with_values(program: Program, values: dict[str, float]) -> Program:
    """The program with its params' defaults replaced (what `azc tune -o` writes)."""
    params = tuple(replace(p, value=values.get(p.name, p.value)) for p in program.params)
    return replace(program, params=params)


def trial_values(params: tuple[Param, ...], seed: int, index: int, low: float, high: float) -> dict[str, float]:
    """Trial `index`'s values: each default times exp(U(ln low, ln high)), from its own seeded stream."""
    if index == 0:
        return {p.name: p.value for p in params}
    rng = Rng(hash_mix(seed, index))
    a, b = math.log(low), math.log(high)
    return {p.name: p.value * math.exp(a + (b - a) * rng.unit()) for p in params}


# Worker state: each process parses the program text and builds the tasks once (workers get text + seeds).
_WORKER: dict = {}


def _init_worker(text: str, specs: tuple[str, ...], data_dir, eval_seed: int, low: float, high: float, seed: int):
    from azlang.syntax import parse

    program = parse(text)
    _WORKER.update(program=program, tasks=build_collection(list(specs), data_dir), eval_seed=eval_seed,
                   low=low, high=high, seed=seed, shape=program.required_memory())


def _run_trial(index: int) -> Trial:
    w = _WORKER
    values = trial_values(w["program"].params, w["seed"], index, w["low"], w["high"])
    ev = evaluate(w["program"], w["tasks"], Rng(w["eval_seed"]), w["shape"], params=values)
    return Trial(index, values, ev.fitness)


def tune(program: Program, specs: list[str], trials: int = 100, seed: int = 0, workers: int | None = None,
         eval_seed: int = 1, low: float = 1e-3, high: float = 1e3, data_dir: str | None = None,
         progress=None) -> TuneResult:
    """Evaluate the program's own values and `trials` random ones; every trial sees the same random stream
    (`eval_seed`), so differences come from the values. `progress(done, total)` is called as trials end."""
    from azlang.syntax import print_program

    if not program.params:
        raise ConfigError("the program has no params to tune", hint="decouple it first: azc opt --decouple FILE")
    if trials < 1:
        raise ConfigError("--trials must be at least 1")
    init = (print_program(program), tuple(specs), data_dir, eval_seed, low, high, seed)
    workers = max(1, min(workers or os.cpu_count() or 1, trials + 1))
    results = _map(init, range(trials + 1), workers, progress)
    results.sort(key=lambda t: t.index)
    best = max(results, key=lambda t: (_score(t.fitness), -t.index))
    return TuneResult(results[0], best, tuple(results))


def _score(fitness: float) -> float:
    return -1.0 if math.isnan(fitness) else fitness


def _map(init, indices, workers: int, progress) -> list[Trial]:
    indices = list(indices)
    if workers == 1:
        _init_worker(*init)
        return [_tick(_run_trial(i), n, len(indices), progress) for n, i in enumerate(indices, 1)]
    ctx = mp.get_context("spawn")  # no fork: safe with threads and native code in the parent
    with ctx.Pool(workers, initializer=_init_worker, initargs=init) as pool:
        chunk = max(1, len(indices) // (workers * 8))
        return [_tick(t, n, len(indices), progress)
                for n, t in enumerate(pool.imap_unordered(_run_trial, indices, chunk), 1)]


def _tick(trial: Trial, done: int, total: int, progress) -> Trial:
    if progress is not None:
        progress(done, total)
    return trial
