"""Search stage: progress lines, stop decisions and timing, from the islands' sweep reports.

A progress line is emitted at the first sweep, then every `run.progress_every` individuals or
`run.progress_seconds` seconds, whichever comes first (timed lines carry "timed": true, so tools comparing
runs can skip them). When an experiment stops for good (any stop but an interrupt, which the resumed run
continues) a last line with "final": true records where it stopped, unless the last counted line did.
Random search's lines carry "best_ever", the best fitness evaluated in the experiment so far. Each line says
how far the experiment is toward its stop criteria ("done": the largest fraction over max_individuals,
max_train_steps, max_time) and an ETA in seconds when one can be told.
Notices ("start", "final evaluation") go to the callback only: progress.jsonl stays as reproducible as
the run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict

from azlang.search.config import ExperimentConfig
from azlang.search.interrupt import requested
from azlang.search.islands import Report
from azlang.search.results import ExperimentRecord, RunState, SearchResult


class ProgressTracker:
    def __init__(
        self,
        cfg: ExperimentConfig,
        state: RunState,
        emit: Callable[[dict], None],
        elapsed: Callable[[], float],
        notify: Callable[[dict], None] | None = None,
    ):
        self.cfg, self.state, self.emit, self.elapsed = cfg, state, emit, elapsed
        self.notify = notify or (lambda record: None)
        self.exp_started = time.monotonic()
        self.last_line = time.monotonic()

    def notice(self, what: str, **details) -> None:
        """Tell the caller what is happening (not written to progress.jsonl)."""
        self.notify({"event": "notice", "what": what, "time": round(self.elapsed(), 3), **details})

    # --- timing ------------------------------------------------------------------------------------------

    def start_experiment(self) -> None:
        self.state.experiment_seconds = 0.0
        self.exp_started = time.monotonic()

    def experiment_seconds(self) -> float:
        return self.state.experiment_seconds + time.monotonic() - self.exp_started

    def rebase(self) -> None:
        """Fold the time spent so far into the state (before a checkpoint)."""
        self.state.experiment_seconds, self.exp_started = self.experiment_seconds(), time.monotonic()

    # --- decisions ---------------------------------------------------------------------------------------

    def should_stop(self, reports: list[Report]) -> str | None:
        """Checked after every sweep, over all islands: train steps (FEC probes included), individuals, time."""
        stop = self.cfg.stop
        if sum(r.train_steps for r in reports) >= stop.max_train_steps:
            return "max_train_steps"
        if stop.max_individuals and sum(r.individuals for r in reports) >= stop.max_individuals:
            return "max_individuals"
        if stop.max_time and self.elapsed() >= stop.max_time:
            return "max_time"
        if requested() is not None:  # after the criteria: a run that ends here anyway just ends
            return "interrupt"
        return None

    def horizon(self) -> tuple[int | None, int | None, tuple[int, int] | None]:
        """(individuals, train steps, lines): the next stop should_stop could decide from a report comes at the
        first sweep end with at least that many individuals (max_individuals; None: no bound) or, earlier, with
        at least that many train steps (the budget, checked at sweep ends). The counted progress lines on the way
        are taken where the reports would have written them: `lines` is (the next one's individuals,
        individuals between them), and on_report writes them from the report's `lines`. (None, None, None)
        before the first line. Time (timed lines, max_time) and stop requests are checked when the report
        comes."""
        st, stop = self.state, self.cfg.stop
        if st.last_progress is None or not 0 < stop.max_train_steps < 2**62:
            return None, None, None
        every = self.cfg.run.progress_every
        return stop.max_individuals or None, math.ceil(stop.max_train_steps), (st.last_progress + every, every)

    def fraction_done(self, individuals: int, train_steps: int) -> float | None:
        """How far the current experiment is toward its nearest stop criterion (None: no criterion bounds it)."""
        stop = self.cfg.stop
        parts = [train_steps / stop.max_train_steps]
        if stop.max_individuals:
            parts.append(individuals / stop.max_individuals)
        if stop.max_time:
            parts.append(self.elapsed() / stop.max_time)
        return min(1.0, max(parts))

    def on_report(self, reports: list[Report]) -> None:
        """A progress line when individuals >= last + progress_every (the first one always)."""
        st = self.state
        for line in reports[0].lines if len(reports) == 1 else ():  # taken on the way (horizon), in order
            self._write(self.record([line], line.individuals, line.at), line.individuals, line.at)
        individuals = sum(r.individuals for r in reports)
        by_count = st.last_progress is None or individuals >= st.last_progress + self.cfg.run.progress_every
        every_s = self.cfg.run.progress_seconds
        by_time = every_s > 0 and time.monotonic() - self.last_line >= every_s
        if not (by_count or by_time):
            return
        record = self.record(reports, individuals)
        if not by_count:
            record["timed"] = True
        self._write(record, individuals if by_count else None)

    def final(self, reports: list[Report]) -> None:
        """The line at the stop ("final": true), so that curves end where the search did; none when the last
        counted line already fell on it (timed lines do not count: the counted and final lines are as
        reproducible as the run). Emitted once: before the checkpoint that ends the experiment."""
        st = self.state
        individuals = sum(r.individuals for r in reports)
        if st.last_progress == individuals:
            return
        record = self.record(reports, individuals)
        record["final"] = True
        self._write(record, individuals)

    def _write(self, record: dict, counted: int | None, at: float | None = None) -> None:
        """Emit a line taken at `at` (time.monotonic; None: now); a counted one (not timed) moves the count the
        next is due from to `counted` individuals."""
        if counted is not None:
            self.state.last_progress = counted
        self.last_line = time.monotonic() if at is None else at
        self.emit(record)

    def record(self, reports: list[Report], individuals: int, at: float | None = None) -> dict:
        """The line for these reports, as of `at` (time.monotonic) when given, else now."""
        lag = time.monotonic() - at if at is not None else 0.0
        means = [r.fitnesses_stats[0] for r in reports]
        second = [r.fitnesses_stats[1] ** 2 + r.fitnesses_stats[0] ** 2 for r in reports]
        mean = sum(means) / len(means)
        hits, misses = sum(r.fec[0] for r in reports), sum(r.fec[1] for r in reports)
        passed, tested = sum(r.hurdle[0] for r in reports), sum(r.hurdle[1] for r in reports)
        seconds = self.experiment_seconds() - lag
        steps = sum(r.train_steps for r in reports)
        done = self.fraction_done(individuals, steps)
        out = {
            "event": "progress",
            "time": round(self.elapsed() - lag, 3),
            "experiment": self.state.experiment,
            "individuals": individuals,
            "individuals_per_s": individuals / seconds if seconds > 0 else 0.0,
            "train_steps": sum(r.train_steps for r in reports),
            "best": max(r.fitnesses_stats[2] for r in reports),
            "mean": mean,
            "stdev": math.sqrt(max(0.0, sum(second) / len(second) - mean * mean)),
            "fec_hit_rate": hits / (hits + misses) if hits + misses else None,
            "hurdle_pass_rate": passed / tested if tested else None,
            "islands": len(reports),
            "done": done,
            "eta": seconds * (1 - done) / done if done and seconds > 0 else None,
        }
        if self.cfg.evolution.algorithm == "random":  # its population is a window: curves want the best so far
            out["best_ever"] = max((r.best_ever for r in reports if r.best_ever is not None), default=None)
        if len(reports) > 1:  # single-island lines stay as they were
            out["per_island"] = [_island(r) for r in sorted(reports, key=lambda r: r.island)]
        return out

    # --- events ------------------------------------------------------------------------------------------

    def experiment_done(self, rec: ExperimentRecord) -> None:
        self.emit({"event": "experiment", "time": round(self.elapsed(), 3), **asdict(rec)})

    def finished(self, result: SearchResult) -> None:
        self.emit(
            {
                "event": "done",
                "time": round(self.elapsed(), 3),
                "stopped_by": result.stopped_by,
                "select_fitness": result.select_fitness,
                "final_fitness": result.final_fitness,
                "individuals": result.individuals,
                "train_steps": result.train_steps,
                "program": result.text,
            }
        )


def _island(r: Report) -> dict:
    mean, _, best = r.fitnesses_stats
    return {"island": r.island, "individuals": r.individuals, "train_steps": r.train_steps, "best": best, "mean": mean}
