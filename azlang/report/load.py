"""Report stage: read run and sweep directories into plain rows and curves (no printing, no plotting)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from azlang.errors import AzError


@dataclass
class Curve:
    """Progress of one run: cumulative train steps, seconds, individuals, best and mean population fitness."""

    steps: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    individuals: list[float] = field(default_factory=list)
    best: list[float] = field(default_factory=list)
    mean: list[float] = field(default_factory=list)


@dataclass
class Run:
    name: str
    path: Path
    summary: dict
    algorithm: str
    curve: Curve


@dataclass
class Sweep:
    name: str
    path: Path
    summary: dict  # search/sweep.summarize
    runs: list[Run]
    thresholds: list[float]


def load_any(path: str | Path) -> Run | Sweep:
    """A sweep directory (sweep.json) or a run directory (summary.json), else a clear error."""
    path = Path(path)
    if (path / "sweep.json").is_file():
        return load_sweep(path)
    if (path / "summary.json").is_file():
        return load_run(path)
    if (path / "progress.jsonl").is_file():
        raise AzError(f"{path}: the run has not finished (no summary.json)",
                      hint=f"finish it: azc evolve --resume {path}")
    raise AzError(f"{path} is neither a run directory (summary.json) nor a sweep directory (sweep.json)")


def load_run(path: Path, name: str | None = None) -> Run:
    try:
        summary = json.loads((path / "summary.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise AzError(f"cannot read {path / 'summary.json'}: {e}") from None
    algorithm = _algorithm(path)
    return Run(name or path.name, path, summary, algorithm, read_curve(path / "progress.jsonl", algorithm))


def load_sweep(path: Path) -> Sweep:
    from azlang.search.sweep import repeat_dir, summarize

    summary = summarize(path)
    runs = [load_run(repeat_dir(path, r["repeat"]), f"{path.name}/{r['repeat']}") for r in summary["rows"]
            if r["result"] is not None]
    plan = json.loads((path / "sweep.json").read_text())
    return Sweep(path.name, path, summary, runs, list(plan.get("thresholds", [])))


def _algorithm(path: Path) -> str:
    try:
        return tomllib.loads((path / "config.toml").read_text())["evolution"]["algorithm"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "evolution"


def read_curve(path: Path, algorithm: str = "evolution") -> Curve:
    """Progress lines in order; train steps and time run on over experiments (each experiment restarts its
    own step count, so finished experiments' steps are added).

    "best" is the population's best, except for random search, whose population is only a window of its
    latest programs: there it is the best found so far in the experiment (the lines' "best_ever", or for
    runs written before lines carried it, the running maximum of the windows' bests). Two lines at one point
    (a timed line and the final line at the stop) give one point, the later."""
    curve, done_steps, done_individuals, so_far = Curve(), 0.0, 0.0, -math.inf
    if not path.is_file():
        return curve
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("event") == "progress" and rec.get("best") is not None:
            best = rec["best"]
            if algorithm == "random":
                so_far = max(so_far, best, rec.get("best_ever") if rec.get("best_ever") is not None else best)
                best = so_far
            point = (done_steps + rec["train_steps"], rec["time"], done_individuals + rec.get("individuals", 0),
                     best, rec["mean"] if rec.get("mean") is not None else float("nan"))
            _add_point(curve, point)
        elif rec.get("event") == "experiment":
            done_steps += rec.get("train_steps", 0)
            done_individuals += rec.get("individuals", 0)
            so_far = -math.inf  # each experiment is a search of its own
    return curve


def _add_point(curve: Curve, point: tuple) -> None:
    columns = (curve.steps, curve.seconds, curve.individuals, curve.best, curve.mean)
    if curve.steps and (curve.steps[-1], curve.individuals[-1]) == (point[0], point[2]):
        for col in columns:
            col.pop()
    for col, value in zip(columns, point):
        col.append(value)


def run_row(run: Run) -> dict:
    """The table row of one run, straight from its summary."""
    s = run.summary
    counts = [e.get("counts") or {} for e in s.get("experiments", [])]
    passed = [c["passed"] for c in counts if "passed" in c]
    return {
        "name": run.name,
        "kind": run.algorithm,
        "repeats": 1,
        "result": s.get("final_fitness") if s.get("final_fitness") is not None else s.get("select_fitness"),
        "result_2sem": None,
        "select_fitness": s.get("select_fitness"),
        "final_fitness": s.get("final_fitness"),
        "individuals": s.get("individuals", 0),
        "train_steps": s.get("train_steps", 0),
        "core_seconds": s.get("seconds", 0.0),
        "passed": sum(passed) if passed else None,
        "stopped_by": s.get("stopped_by"),
    }


def sweep_row(sweep: Sweep) -> dict:
    s = sweep.summary
    kinds = sorted({r.algorithm for r in sweep.runs}) or ["?"]
    passed = [r["passed"] for r in s["rows"] if r["passed"] is not None]
    return {
        "name": sweep.name,
        "kind": "/".join(kinds) + " sweep",
        "repeats": s["finished"],
        "result": s.get("result_mean"),
        "result_2sem": s.get("result_2sem"),
        "select_fitness": None,
        "final_fitness": None,
        "individuals": s["compute"]["individuals"],
        "train_steps": s["compute"]["train_steps"],
        "core_seconds": s["compute"]["core_seconds"],
        "passed": sum(passed) if passed else None,
        "stopped_by": None,
    }


def hall_of_fame(run: Run) -> list[tuple[int, dict]]:
    """(experiment, entry) for every hall-of-fame entry the run recorded."""
    return [(e["index"], h) for e in run.summary.get("experiments", [])
            for h in (e.get("counts") or {}).get("hall_of_fame", [])]
