"""Search stage: progress lines, stop decisions and timing, from the islands' sweep reports."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict

from azlang.search.config import ExperimentConfig
from azlang.search.islands import Report
from azlang.search.results import ExperimentRecord, RunState, SearchResult


class ProgressTracker:
    def __init__(
        self, cfg: ExperimentConfig, state: RunState, emit: Callable[[dict], None], elapsed: Callable[[], float]
    ):
        self.cfg, self.state, self.emit, self.elapsed = cfg, state, emit, elapsed
        self.exp_started = time.monotonic()

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
        return None

    def on_report(self, reports: list[Report]) -> None:
        """A progress line when individuals >= last + progress_every (the first one always)."""
        st = self.state
        individuals = sum(r.individuals for r in reports)
        if st.last_progress is not None and individuals < st.last_progress + self.cfg.run.progress_every:
            return
        st.last_progress = individuals
        self.emit(self.record(reports, individuals))

    def record(self, reports: list[Report], individuals: int) -> dict:
        means = [r.fitnesses_stats[0] for r in reports]
        second = [r.fitnesses_stats[1] ** 2 + r.fitnesses_stats[0] ** 2 for r in reports]
        mean = sum(means) / len(means)
        hits, misses = sum(r.fec[0] for r in reports), sum(r.fec[1] for r in reports)
        passed, tested = sum(r.hurdle[0] for r in reports), sum(r.hurdle[1] for r in reports)
        seconds = self.experiment_seconds()
        out = {
            "event": "progress",
            "time": round(self.elapsed(), 3),
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
        }
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
