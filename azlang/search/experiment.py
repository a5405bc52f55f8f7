"""Search stage: the experiment driver (docs/semantics.md, section 12): search, select, final; checkpoints; resume.

Per experiment: (optionally) fresh T_search seeds, a fresh FEC cache, islands run to a stop; the candidate
is the fittest member of the final population(s); it is evaluated on T_select with a select Rng drawn
from the experiment Rng and kept if its select fitness is >= the best so far. After the last experiment
the best candidate is evaluated on the final tasks with a final Rng drawn the same way.
The library never prints: progress goes to the callback and to progress.jsonl.

Ctrl-C / SIGTERM (interrupt.py) stop the run where its state is whole: the run is checkpointed and the
result says `stopped_by` "interrupt" / "terminate" with the true counts so far. The stop reason is never
saved into the checkpoint, so `resume` carries on to the end the uninterrupted run would have reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from azlang.errors import AzError, ConfigError
from azlang.fitness import combine
from azlang.ir.bytecode import Bytecode, from_bytecode, to_bytecode
from azlang.passes.dce import live_bytecode
from azlang.rng import Rng
from azlang.search import checkpoint, tasksets
from azlang.search.backends import make_evaluator
from azlang.search.config import ExperimentConfig, load_config, override
from azlang.search.evolution import IslandState
from azlang.search.executors import Executor, make_executor
from azlang.search.generate import Generator, freeze
from azlang.search.interrupt import CheckpointSchedule, StopRequested, poll, requested, stop_requests
from azlang.search.islands import Coordinator, IslandJob, island_config, new_state, shape_of, state_report
from azlang.search.metadata import collect as collect_metadata
from azlang.search.progress import ProgressTracker
from azlang.search.results import ExperimentRecord, RunState, SearchResult
from azlang.search.rundir import RunDir, program_text
from azlang.search.seeds import experiment_rng, load_seeds, resolve_seed
from azlang.search.watch import merge as merge_watches
from azlang.search.watch import task_metrics
from azlang.tasks.multiclass import is_multiclass, is_multiclass_spec

Progress = Callable[[dict], None]


def run_experiment(
    config: ExperimentConfig | str | Path,
    run_dir: str | Path | None = None,
    progress: Progress | None = None,
    overrides: dict | None = None,
    executor: Executor | None = None,
) -> SearchResult:
    """Run the experiments of `config` (a config or a TOML path), writing `run_dir` if given."""
    cfg = load_config(config) if isinstance(config, str | Path) else config
    cfg = override(cfg, overrides or {})
    seed = resolve_seed(cfg.run.random_seed)
    cfg = override(cfg, {"run.random_seed": seed})
    rundir = RunDir(run_dir) if run_dir is not None else None
    try:
        if rundir:
            rundir.create(cfg)
        state = RunState(seed, experiment_rng(seed, cfg.evolution.algorithm))  # random search: its own stream
        return Driver(cfg, rundir, state, progress, executor).run()
    finally:
        if rundir:
            rundir.release()


RESUMABLE = (
    "stop.", "run.progress_every", "run.progress_seconds", "run.checkpoint_every", "run.backend", "run.executor",
    "run.address", "tasks.data_dir",
)


def resume(
    run_dir: str | Path,
    progress: Progress | None = None,
    executor: Executor | None = None,
    overrides: dict | None = None,
) -> SearchResult:
    """Continue a run from its latest checkpoint (a finished run just reports its result again, unless
    `overrides` change its stop conditions: then it continues from where its last search stopped, see _reopen).
    `overrides` may change stop conditions, progress/checkpoint intervals, the backend and the executor
    (a local run may continue on Ray and back), nothing else."""
    rundir = RunDir(run_dir)
    rundir.acquire()
    try:
        return _resume(rundir, rundir.config(), progress, executor, overrides)
    finally:
        rundir.release()


def _resume(rundir: RunDir, cfg: ExperimentConfig, progress, executor, overrides) -> SearchResult:
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    for key in given:
        if not key.startswith(RESUMABLE):
            raise ConfigError(
                f"cannot change {key} when resuming a run",
                hint="only stop conditions, progress and checkpoint intervals, backend, executor and data_dir may change",
            )
    state: RunState = rundir.load_checkpoint()
    reopened = False
    if given:
        changed = override(cfg, given)
        if state.done and changed.stop != cfg.stop:
            state, reopened = _reopen(state, rundir), True
        cfg = changed
        rundir.write_config(cfg)
    if state.islands and _workers(cfg) == 1:
        state.rng = state.islands[0].rng  # one shared stream (checkpoints keep values, not object identity)
    rundir.truncate_progress(state.progress_lines)
    return Driver(cfg, rundir, state, progress, executor, at_stop_point=reopened).run()


def _reopen(state: RunState, rundir: RunDir) -> RunState:
    """A finished run given other stop limits goes back to where its last search stopped (before that
    experiment's select and final evaluations): it then ends as a run given those limits from the start would
    have (exactly with one island; with several, the stop may have come mid-round and the rounds restart)."""
    if state.stop_point is None:
        raise AzError(
            f"the run in {rundir.path} finished without keeping the state where its search stopped (it was written "
            "by an older azlang): it cannot be continued with other stop limits",
            hint="start a new run with the limits you want (--run-dir <new directory>)",
        )
    return checkpoint.decode_state(state.stop_point, f"{rundir.path}: the finished run's stop point")


class Driver:
    def __init__(
        self,
        cfg: ExperimentConfig,
        rundir: RunDir | None,
        state: RunState,
        progress: Progress | None,
        executor: Executor | None,
        at_stop_point: bool = False,
    ):
        self.cfg, self.rundir, self.state = cfg, rundir, state
        self.at_stop_point = at_stop_point  # the state is a reopened stop point (_reopen)
        self.workers = _workers(cfg)
        self.executor = executor or make_executor(self.workers, cfg.run.executor, cfg.run.address)
        self.seeds = [freeze(to_bytecode(p)) for p in load_seeds(cfg, Generator(cfg))]
        self.started = time.monotonic()
        self.tracker = ProgressTracker(cfg, state, self._emit, self.elapsed, self._notify)
        self.progress = progress
        self.last_tasks: list = []  # raw metric per task of the latest select / final evaluation
        self.schedule = CheckpointSchedule(cfg.run.checkpoint_every, time.monotonic())
        self._metadata: dict | None = None

    def elapsed(self) -> float:
        return self.state.seconds + time.monotonic() - self.started

    def _emit(self, record: dict) -> None:
        if self.rundir:
            self.rundir.append_progress(record)
        self.state.progress_lines += 1
        if self.progress is not None:
            self.progress(record)

    def _notify(self, record: dict) -> None:
        if self.progress is not None:
            self.progress(record)

    def run(self) -> SearchResult:
        with stop_requests():
            try:
                self._emit_start()
                while not self.state.done:
                    poll()  # between experiments: the state is whole
                    if self.state.islands is None:
                        self._start_experiment()
                    states, reason = self._stopped_already() or self._search()
                    if reason != "interrupt":  # a stop for good: the curve ends where the search did
                        self._keep_stop_point(states)
                        self.tracker.final([state_report(s) for s in states])
                    else:
                        self.state.islands = states
                        raise StopRequested(requested())
                    self._finish_experiment(states, reason)
            except StopRequested as stop:
                self.checkpoint(self.state.islands)
                return self._result(str(stop))
        self.checkpoint(None)
        return self._result()

    # --- one experiment ----------------------------------------------------------------------------------

    def _start_experiment(self) -> None:
        st, cfg = self.state, self.cfg
        specs = tasksets.parse_all(cfg.tasks.search)
        st.search_specs = tasksets.randomize_seeds(specs, st.rng) if cfg.tasks.randomize_seeds else specs
        st.island_specs = tasksets.per_island(
            cfg.islands, self.workers, st.search_specs, st.rng, cfg.tasks.randomize_seeds
        )
        rngs = [st.rng] if self.workers == 1 else [Rng(st.rng.seed32()) for _ in range(self.workers)]
        st.migration_rng = Rng(st.rng.seed32()) if self.workers > 1 else Rng(0)
        n_tasks = {id(s): len(tasksets.build(s, cfg.tasks.data_dir)) for s in st.island_specs}  # once per set
        st.islands = [
            new_state(island_config(cfg, k), k, r, n_tasks[id(st.island_specs[k])]) for k, r in enumerate(rngs)
        ]
        st.last_progress, st.stop_point = None, None  # the stop point's population is obsolete now
        self.tracker.start_experiment()

    def _stopped_already(self) -> tuple[list[IslandState], str] | None:
        """A reopened stop point that the new limits stop at once (e.g. only max_experiments grew): the search
        does not run another sweep, as the longer run did not."""
        if not self.at_stop_point:
            return None
        self.at_stop_point = False
        islands = self.state.islands
        reason = self.tracker.should_stop([state_report(s) for s in islands])
        return (islands, reason) if reason not in (None, "interrupt") else None

    def _search(self) -> tuple[list[IslandState], str]:
        st = self.state
        coordinator = Coordinator(
            len(st.islands),
            st.migration_rng,
            self.cfg.run.migrate_every,
            self.tracker.should_stop,
            self.tracker.on_report,
            quiet_until=self.tracker.horizon,
        )
        specs = st.island_specs or [st.search_specs] * len(st.islands)  # checkpoints from before [[islands]]
        jobs = [IslandJob(island_config(self.cfg, k), specs[k], self.seeds, s) for k, s in enumerate(st.islands)]
        states = self.executor.run(jobs, coordinator, self.checkpoint, self.schedule)
        if self.workers == 1:
            st.rng = states[0].rng  # one shared stream, as in the reference (the same object in-process)
        return states, coordinator.stopped or "done"

    def _keep_stop_point(self, states: list[IslandState]) -> None:
        """The state as a checkpoint here would hold it, kept in the run's last checkpoint (see _reopen)."""
        if self.rundir is None:
            return
        st = self.state
        st.islands, st.stop_point = states, None
        self._fold_time()
        st.stop_point = checkpoint.encode_state(st)

    def _finish_experiment(self, states: list[IslandState], reason: str) -> None:
        st, cfg = self.state, self.cfg
        search_fit, bc = _candidate(states, cfg.evolution.algorithm)
        select_fit = self._select(bc, search_fit)
        kept = st.best is None or select_fit >= st.best[0]
        if kept:
            st.best = (select_fit, search_fit, bc, st.experiment)
        individuals = sum(s.individuals for s in states)
        steps = sum(s.counters.train_steps for s in states)
        record = ExperimentRecord(
            st.experiment, search_fit, select_fit, individuals, steps, self.tracker.experiment_seconds(), reason, kept
        )
        multiclass = any(is_multiclass_spec(sp) for sp in tasksets.parse_all(cfg.tasks.search))
        record.counts = merge_watches([s.watch for s in states], cfg.acceptance.hall_of_fame, multiclass)
        record.select_tasks = self.last_tasks
        st.experiments.append(record)
        st.individuals += individuals
        st.train_steps += steps
        self._write_experiment(record, bc)
        st.islands, st.experiment = None, st.experiment + 1
        self._maybe_done(reason)

    def _select(self, bc: Bytecode, search_fit: float) -> float:
        cfg, st = self.cfg, self.state
        self.last_tasks = []
        if not cfg.tasks.select:
            return search_fit
        specs = tasksets.parse_all(cfg.tasks.select)
        if cfg.tasks.randomize_seeds:
            specs = tasksets.randomize_seeds(specs, st.rng)
        return self._evaluate(bc, specs, Rng(st.rng.seed32()))

    def _evaluate(self, bc: Bytecode, specs, rng: Rng) -> float:
        cfg = self.cfg
        tasks = tasksets.build(specs, cfg.tasks.data_dir)
        ev = make_evaluator(cfg.run.backend, tasks, shape_of(cfg), cfg.tasks.max_abs_error)
        with np.errstate(all="ignore"):
            results = ev.full(live_code(bc, tasks), list(range(len(tasks))), rng, [None] * len(tasks))
        self.last_tasks = task_metrics(tasks, results)
        return combine([r.fitness for r in results], "mean")  # select and final always use the mean

    def _maybe_done(self, reason: str) -> None:
        st, stop = self.state, self.cfg.stop
        if reason in ("max_time", "interrupt"):
            st.stopped_by = reason
        elif st.best[0] > stop.sufficient_fitness:
            st.stopped_by = "sufficient_fitness"
        elif stop.max_experiments and st.experiment >= stop.max_experiments:
            st.stopped_by = "max_experiments"
        if st.stopped_by is None:
            return
        if self.cfg.tasks.final:
            self.tracker.notice("final evaluation", tasks=list(self.cfg.tasks.final))
            final_rng = Rng(st.rng.seed32())
            st.final_fitness = self._evaluate(st.best[2], tasksets.parse_all(self.cfg.tasks.final), final_rng)
            st.final_tasks = self.last_tasks
        st.done = True
        self._write_summary()

    # --- output ------------------------------------------------------------------------------------------

    def checkpoint(self, islands: list[IslandState] | None) -> None:
        if self.rundir is None:
            return
        st = self.state
        if islands is not None:
            st.islands = islands
        self._fold_time()
        self.rundir.save_checkpoint(st)

    def _fold_time(self) -> None:
        """The run's and the experiment's time so far into the state, as a checkpoint holds it."""
        self.state.seconds, self.started = self.elapsed(), time.monotonic()
        self.tracker.rebase()

    def _write_experiment(self, rec: ExperimentRecord, bc: Bytecode) -> None:
        self.tracker.experiment_done(rec)
        if self.rundir:
            header = (
                f"experiment {rec.index}: search fitness {rec.search_fitness:.6f}, "
                f"select fitness {rec.select_fitness:.6f}"
            )
            self.rundir.write_program(f"experiment_{rec.index:03d}.az", bc, header)
            if rec.best_so_far:
                self.rundir.write_program("best.az", bc, header)

    def _write_summary(self) -> None:
        result = self._result()
        self.tracker.finished(result)
        if self.rundir:
            self.rundir.write_summary(result.to_json())

    def _emit_start(self) -> None:
        t = self.cfg.tasks
        self.tracker.notice(
            "start",
            run_dir=str(self.rundir.path) if self.rundir else None,
            seed=self.state.seed,
            resumed=self.state.progress_lines > 0,
            search=list(t.search),
            select=list(t.select),
            final=list(t.final),
        )

    def _result(self, stopped_by: str | None = None) -> SearchResult:
        st = self.state
        best = st.best
        islands = st.islands or []
        if best is None and islands and all(len(s.programs) for s in islands):
            fit, bc = _candidate(islands, self.cfg.evolution.algorithm)
            best = (None, fit, bc, st.experiment)  # interrupted in the first experiment: best so far
        return SearchResult(
            st.seed,
            from_bytecode(best[2]) if best else None,
            program_text(best[2]) if best else None,
            best[0] if best else None,
            best[1] if best else None,
            st.final_fitness,
            list(st.experiments),
            st.individuals + sum(s.individuals for s in islands),  # the current experiment's count too
            st.train_steps + sum(s.counters.train_steps for s in islands),
            self.elapsed(),
            stopped_by or st.stopped_by or "done",
            str(self.rundir.path) if self.rundir else None,
            list(st.final_tasks),
            self.metadata(),
        )

    def metadata(self) -> dict:
        """Computed once per run (the summary and the returned result both carry it: git, tasks, versions)."""
        if self._metadata is None:
            specs = self.state.search_specs or tasksets.parse_all(self.cfg.tasks.search)
            self._metadata = collect_metadata(self.cfg, specs)
        return dict(self._metadata)


def live_code(bc: Bytecode, tasks) -> Bytecode:
    """What select and final evaluations run: `bc` less its dead code (passes/dce.live_bytecode: the same fitness,
    train steps and metrics on every task, for a fraction of the work on many tasks). 10-class tasks predict v1,
    not s1 (dce's multiclass flag); a set mixing both kinds is evaluated as it is."""
    kinds = {is_multiclass(t) for t in tasks}
    return live_bytecode(bc, multiclass=kinds.pop()) if len(kinds) == 1 else bc


def _candidate(states: list[IslandState], algorithm: str) -> tuple[float, Bytecode]:
    """The fittest member over all final populations (first island, then first index, wins ties)."""
    best = None
    for s in states:
        if algorithm == "random" and s.best is not None:
            cand = s.best
        else:
            i = max(range(len(s.fitnesses)), key=lambda k: (s.fitnesses[k], -k))
            cand = (s.fitnesses[i], s.programs[i])
        if best is None or cand[0] > best[0]:
            best = cand
    return best


def _workers(cfg: ExperimentConfig) -> int:
    import os

    return cfg.run.workers or os.cpu_count() or 1
