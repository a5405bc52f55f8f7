"""Search stage: a sweep's repeats run: one after the other or in parallel processes, and stopped as a whole.

Ctrl-C or SIGTERM stops the whole sweep: the running repeats checkpoint and stop (as `azc evolve` does) and
no further repeat starts; running the sweep again resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import active_children, get_context
from pathlib import Path

from azlang.errors import AzError
from azlang.search.config import ExperimentConfig, from_dict

SWEEP = "sweep.json"

@dataclass
class RepeatOutcome:
    index: int
    seed: int
    run_dir: str
    status: str  # "done" (already finished), "ran", "resumed", "stopped" (a signal), "not started" or "failed: ..."


STOPPED = ("interrupt", "terminate")  # a run's stopped_by after Ctrl-C / SIGTERM: checkpointed, not finished
_STOP = None  # in a repeat's worker process: the sweep's stop event (see _worker_init)


def repeat_dir(sweep_dir: Path, index: int) -> Path:
    return sweep_dir / f"repeat_{index:03d}"


def _in_turn(args, flag) -> list[RepeatOutcome]:
    """The repeats one after the other in this process; a stop ends the sweep after the running repeat's checkpoint."""
    outcomes = []
    for a in args:
        if flag.signum is not None or (outcomes and outcomes[-1].status == "stopped"):
            outcomes.append(RepeatOutcome(a[1], a[2], str(repeat_dir(Path(a[0]), a[1])), "not started"))
            continue
        outcomes.append(_repeat(*a))
    return outcomes


def _in_parallel(args, jobs: int, flag) -> list[RepeatOutcome]:
    """`jobs` repeats at a time, one spawned process each. A stop here is passed on to the running repeats (which
    checkpoint and stop) and keeps the queued ones from starting."""
    ctx = get_context("spawn")
    stop = ctx.Event()
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init, initargs=(stop,)) as pool:
        futures = [pool.submit(_repeat, *a) for a in args]
        pending, told = set(futures), False
        while pending:
            _, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            if flag.signum is not None and not told:
                told = True
                stop.set()
                for f in pending:
                    f.cancel()
                for child in active_children():  # the pool's workers: the only processes this one started
                    os.kill(child.pid, flag.signum)
        return [f.result() if not f.cancelled() else
                RepeatOutcome(a[1], a[2], str(repeat_dir(Path(a[0]), a[1])), "not started")
                for f, a in zip(futures, args)]


def _worker_init(stop) -> None:
    """A repeat's worker process: between runs a stop signal only marks the sweep stopped (a run in progress
    handles it itself: checkpoint and stop, see interrupt.py)."""
    global _STOP
    _STOP = stop
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda signum, frame: stop.set())


def _repeat(sweep_dir: str, index: int, seed: int) -> RepeatOutcome:
    """One repeat in this process: finished -> nothing, checkpoint -> resume, else a fresh run."""
    from azlang.search.experiment import resume, run_experiment
    from azlang.search.rundir import CHECKPOINT, SUMMARY, RunDir

    path = repeat_dir(Path(sweep_dir), index)
    try:
        if (path / SUMMARY).exists():
            return RepeatOutcome(index, seed, str(path), "done")
        if _STOP is not None and _STOP.is_set():
            return RepeatOutcome(index, seed, str(path), "not started")
        if (path / CHECKPOINT).exists():
            result = resume(path)
            if result.stopped_by in STOPPED:
                return RepeatOutcome(index, seed, str(path), "stopped")
            if not (path / SUMMARY).exists():  # a finished run resumed reports again without rewriting it
                RunDir(path).write_summary(result.to_json())
            return RepeatOutcome(index, seed, str(path), "resumed")
        if path.exists():
            shutil.rmtree(path)  # started but never checkpointed: nothing to keep
        cfg = _config(Path(sweep_dir))
        result = run_experiment(cfg, path, overrides={"run.random_seed": seed})
        return RepeatOutcome(index, seed, str(path), "stopped" if result.stopped_by in STOPPED else "ran")
    except AzError as e:
        return RepeatOutcome(index, seed, str(path), f"failed: {e}")


def _config(sweep_dir: Path) -> ExperimentConfig:
    data = json.loads((sweep_dir / SWEEP).read_text())
    return from_dict(_toml_ready(data["config"]), data["source"])


def _toml_ready(d):
    """JSON turned tuples into lists and cannot hold inf; put back what from_dict expects."""
    if isinstance(d, dict):
        return {k: _toml_ready(v) for k, v in d.items() if v is not None}
    if isinstance(d, list):
        return [_toml_ready(v) for v in d]
    return d
