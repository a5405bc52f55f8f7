"""Search stage: islands: building one from plain data, and the coordinator deciding migration and stops.

An island is rebuilt anywhere (in this process or a worker) from an `IslandJob`: the config, the task
specs with their seeds, seed programs as bytecode and the island's picklable state. Never compiled code.

Migration (the paper's): every `migrate_every` individuals an island sends a random half of its
population to the coordinator, which keeps the latest emigrants of every island, and receives as many
individuals sampled uniformly (with replacement) from the other islands' latest emigrants; they replace
its oldest members.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from azlang.ir.bytecode import Bytecode
from azlang.ir.nodes import MemoryShape
from azlang.rng import Rng
from azlang.search.backends import make_evaluator
from azlang.search.budget import TrainBudget
from azlang.search.config import ExperimentConfig
from azlang.search.engine import SearchEvaluator
from azlang.search.evolution import Island, IslandState, population_stats
from azlang.search.fec import FecCache
from azlang.search.generate import Generator
from azlang.search.hurdles import Hurdle
from azlang.search.migrants import Packed, concat
from azlang.search.mutate import Mutator
from azlang.search.native_island import maybe_native
from azlang.search.tasksets import build
from azlang.search.watch import Watch
from azlang.tasks.spec import TaskSpec

MIGRATION_FRACTION = 0.5


@dataclass
class IslandJob:
    cfg: ExperimentConfig
    specs: list[TaskSpec]
    seeds: list[Bytecode]
    state: IslandState


def island_config(cfg: ExperimentConfig, k: int) -> ExperimentConfig:
    """The config island k runs: its [[islands]] entry's population and tournament, when set, replace
    evolution's (entries apply round-robin, like their tasks)."""
    if not cfg.islands:
        return cfg
    entry = cfg.islands[k % len(cfg.islands)]
    if not (entry.population or entry.tournament):
        return cfg
    ev = replace(cfg.evolution, population=entry.population or cfg.evolution.population,
                 tournament=entry.tournament or cfg.evolution.tournament)
    return replace(cfg, evolution=ev)


def new_state(cfg: ExperimentConfig, island: int, rng: Rng, n_tasks: int) -> IslandState:
    fec, h = cfg.fec, cfg.hurdles
    cache = FecCache(fec.cache_size, fec.forget_every) if fec.enabled else None
    hurdle = (
        Hurdle(n_tasks, h.task_fraction, h.percentile, h.update_every or cfg.evolution.population)
        if h.enabled
        else None
    )
    acc = cfg.acceptance
    counting = acc.reference or acc.threshold < math.inf or acc.hall_of_fame
    watch = Watch(acc.threshold, acc.hall_of_fame) if counting else None
    return IslandState(island, rng, cache=cache, hurdle=hurdle, watch=watch)


def shape_of(cfg: ExperimentConfig) -> MemoryShape:
    m = cfg.memory
    return MemoryShape(m.scalars, m.vectors, m.matrices)


def build_island(job: IslandJob, tasks=None) -> Island:
    cfg, st = job.cfg, job.state
    tasks = tasks if tasks is not None else build(job.specs, cfg.tasks.data_dir)
    gen = Generator(cfg)
    backend = make_evaluator(cfg.run.backend, tasks, shape_of(cfg), cfg.tasks.max_abs_error)
    if any(gen.frozen):
        gen.freeze_from(job.seeds[0] if job.seeds else gen.model(cfg.evolution.initial_population, Rng(0)))
    if st.watch is not None and cfg.acceptance.reference and not st.watch.reference_done:
        st.watch.threshold = reference_fitness(cfg, backend, tasks)
        st.watch.reference_done = True
    budget = None
    if cfg.budget.enabled:
        budget = TrainBudget(gen.model(cfg.budget.baseline, Rng(0)), cfg.budget.threshold_factor)
    evaluator = SearchEvaluator(
        backend,
        [t.n_train * t.epochs for t in tasks],
        cfg.tasks.combination,
        budget,
        st.cache,
        (cfg.fec.num_train_examples, cfg.fec.num_valid_examples),
        st.hurdle,
        st.counters,
    )
    ev = cfg.evolution
    island = Island(
        st,
        ev.population,
        ev.tournament,
        ev.algorithm,
        ev.batch,
        gen,
        Mutator(cfg, gen),
        evaluator,
        "random_frozen" if ev.initial_population == "random" and any(gen.frozen) else ev.initial_population,
        job.seeds,
    )
    return maybe_native(island, cfg)  # the native exact-mode loop when evolution.loop and the options allow


def reference_fitness(cfg: ExperimentConfig, backend, tasks) -> float:
    """The acceptance reference program's combined fitness on these search tasks (full training, fixed Rng)."""
    from azlang.api import find_program
    from azlang.fitness import combine
    from azlang.ir.bytecode import to_bytecode
    from azlang.search.seeds import _find
    from azlang.syntax import load

    bc = to_bytecode(load(find_program(_find(cfg.acceptance.reference, cfg.source))))
    Generator(cfg).check_fits(bc, f"acceptance.reference {cfg.acceptance.reference}")
    results = backend.full(bc, list(range(len(tasks))), Rng(1), [t.n_train * t.epochs for t in tasks])
    return combine([r.fitness for r in results], cfg.tasks.combination)


@dataclass
class Report:
    """What an island tells the coordinator at a sweep boundary. The population's (mean, stdev, best) is worked
    out from its fitnesses when a progress line asks for it (most sweeps print none); a report that crosses to
    another process carries the three numbers instead of the population."""

    island: int
    individuals: int
    train_steps: int
    fitnesses: list[float] | None = field(repr=False)  # a copy taken at the boundary (an array: native population)
    fec: tuple[int, int]  # hits, misses
    hurdle: tuple[int, int]  # passed, tested
    emigrants: list | None = None
    state: IslandState | None = None
    best_ever: float | None = None  # the best fitness evaluated in this experiment (random search's answer)
    last: bool = False  # a worker process's final report (its state after a stop)
    # a field, not a cached_property: pickled reports (pipes, Ray actors) must carry it without the fitnesses
    stats: tuple[float, float, float] | None = field(default=None, repr=False)
    at: float | None = None  # when its numbers were taken (time.monotonic), if before it was made
    # counted progress lines a lone native island took at earlier sweep ends (stats and `at` set), oldest first
    lines: list[Report] = field(default_factory=list, repr=False)

    @property
    def fitnesses_stats(self) -> tuple[float, float, float]:
        if self.stats is None:
            self.stats = population_stats(self.fitnesses)
        return self.stats

    def __getstate__(self) -> dict:
        return {**self.__dict__, "stats": self.fitnesses_stats, "fitnesses": None}


def report(island: Island, emigrants=None, with_state: bool = False) -> Report:
    """The island's report, with the progress lines it took since its last one (Report.lines)."""
    rep = state_report(island.state, emigrants, with_state)
    rep.lines = island.take_lines()
    return rep


def state_report(st: IslandState, emigrants=None, with_state: bool = False) -> Report:
    """The report of an island's state as it stands (also the driver's final progress point)."""
    fec = (st.cache.hits, st.cache.misses) if st.cache else (0, 0)
    hurdle = (st.hurdle.passed, st.hurdle.tested) if st.hurdle else (0, 0)
    return Report(
        st.island,
        st.individuals,
        st.counters.train_steps,
        _snapshot(st.fitnesses),
        fec,
        hurdle,
        emigrants,
        st if with_state else None,
        st.best[0] if st.best is not None else None,
    )


def _snapshot(fitnesses):
    """The population's fitnesses at the boundary: a list copy, or an array copy of a native population's
    (FitnessView.snapshot: no floats built; population_stats reads either alike)."""
    snapshot = getattr(fitnesses, "snapshot", None)
    return snapshot() if snapshot is not None else list(fitnesses)


@dataclass
class Reply:
    stop: bool = False
    immigrants: list | None = None
    want_state: bool = False
    sync: bool = False  # a worker process reports after every sweep from now on (a stop is near)


@dataclass
class Coordinator:
    """Aggregates island reports; decides stops and migration; asks for states when a checkpoint is due."""

    n_islands: int
    rng: Rng
    migrate_every: int
    should_stop: Callable[[list[Report]], str | None]
    on_report: Callable[[list[Report]], None] = lambda reports: None
    reports: dict[int, Report] = field(default_factory=dict)
    pool: dict[int, list] = field(default_factory=dict)
    last_migration: dict[int, int] = field(default_factory=dict)
    stopped: str | None = None
    started: float = field(default_factory=time.monotonic)
    # (individuals, train steps) before which no report brings a decision, and where the counted progress lines
    # fall on the way (ProgressTracker.horizon)
    quiet_until: Callable[[], tuple[int | None, int | None, tuple[int, int] | None]] | None = None

    def horizon(self) -> tuple[int | None, int | None, tuple[int, int] | None]:
        """How far a lone island may sweep before it reports: until the individuals count (at a sweep end), or an
        earlier sweep end with the train steps (the budget), taking the counted progress lines on the way
        (next line's individuals, then one every so many: ProgressTracker.horizon). (None, None, None): report
        after every sweep (several islands: migration and turns; no tracker; a stop decided)."""
        if self.n_islands != 1 or self.quiet_until is None or self.stopped is not None:
            return None, None, None
        return self.quiet_until()

    def migration_due(self, island: int, individuals: int) -> bool:
        if self.n_islands < 2 or self.migrate_every <= 0:
            return False
        return individuals - self.last_migration.get(island, 0) >= self.migrate_every

    def receive(self, rep: Report) -> Reply:
        self.reports[rep.island] = rep
        reply = Reply()
        if rep.emigrants is not None:
            self.last_migration[rep.island] = rep.individuals
            self.pool[rep.island] = rep.emigrants
            reply.immigrants = self._sample(rep.island, len(rep.emigrants))
        if len(self.reports) == self.n_islands:  # decide on the whole picture only
            reports = list(self.reports.values())
            if self.stopped is None:
                self.stopped = self.should_stop(reports)
            self.on_report(reports)
        reply.stop = self.stopped is not None
        return reply

    def _sample(self, island: int, k: int) -> list | Packed:
        """k draws, uniform with replacement, from the other islands' latest emigrants: lists of (fitness,
        Bytecode) in one process, migrants.Packed groups from worker processes (the same draws, taken by index)."""
        groups = [ms for i, ms in sorted(self.pool.items()) if i != island]
        total = sum(len(g) for g in groups)
        if not total:
            return []
        draws = self.rng.below_array(total, k)
        if isinstance(groups[0], Packed):
            return concat([g for g in groups if len(g)]).take(draws)
        others = [m for ms in groups for m in ms]
        return [others[d] for d in draws.tolist()]
