"""Search stage: executors run islands to a stop: in this process (deterministic) or one process per island.

Interface (a Ray executor would implement the same): `run(jobs, coordinator, checkpoint, every)` advances
every island sweep by sweep, hands each sweep's Report to the coordinator, calls `checkpoint(states)`
with a consistent set of island states when `every` (a CheckpointSchedule, or fixed seconds) says so, and
returns the final states.

Signals: in-process islands poll the stop flag themselves (interrupt.py); worker processes ignore SIGINT and
SIGTERM (the parent stops them at their next report, so their states can be checkpointed) and leave quietly,
without a traceback, when the parent is gone.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Protocol

import numpy as np

from azlang.errors import AzError
from azlang.search.evolution import IslandState
from azlang.search.interrupt import CheckpointSchedule, at_polls
from azlang.search.islands import MIGRATION_FRACTION, Coordinator, IslandJob, Reply, build_island, report

Checkpoint = Callable[[list[IslandState]], None]
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class Executor(Protocol):
    def run(
        self, jobs: list[IslandJob], coordinator: Coordinator, checkpoint: Checkpoint, every: float
    ) -> list[IslandState]: ...


def schedule_of(every) -> CheckpointSchedule:
    if isinstance(every, CheckpointSchedule):
        return every
    return CheckpointSchedule(float(every), time.monotonic(), first=float(every))


def _take(checkpoint: Checkpoint, schedule: CheckpointSchedule, states: list[IslandState]) -> None:
    started = time.monotonic()
    checkpoint(states)
    now = time.monotonic()
    schedule.done(now, now - started)


class InProcessExecutor:
    """Islands take turns, one sweep each, in island order: reproducible for a given seed."""

    def run(self, jobs, coordinator, checkpoint, every):
        with np.errstate(all="ignore"):  # overflow and NaN are part of the semantics, not warnings
            return self._run(jobs, coordinator, checkpoint, every)

    def _run(self, jobs, coordinator, checkpoint, every):
        islands = [build_island(job) for job in jobs]
        schedule = schedule_of(every)
        with at_polls(self._mid_sweep(islands, checkpoint, schedule)):
            return self._sweeps(islands, coordinator, checkpoint, schedule)

    @staticmethod
    def _mid_sweep(islands, checkpoint, schedule):
        """Checkpoints between children / native chunks too, so a long first sweep (a big population on real
        data) is not a long wait for the first checkpoint. One island only: several resume in turn order."""
        def due() -> None:
            if len(islands) == 1 and schedule.most > 0 and schedule.due(time.monotonic()):
                _take(checkpoint, schedule, [islands[0].state])

        return due

    def _sweeps(self, islands, coordinator, checkpoint, schedule):
        while True:
            for isl in islands:
                if len(isl.state.programs) < isl.P:
                    isl.init_population()
                else:
                    isl.sweep()
                st = isl.state
                emigrants = (
                    isl.emigrants(MIGRATION_FRACTION) if coordinator.migration_due(st.island, st.individuals) else None
                )
                reply = coordinator.receive(report(isl, emigrants))
                if reply.immigrants:
                    isl.immigrate(reply.immigrants)
                if reply.stop:
                    return [i.state for i in islands]
            if schedule.due(time.monotonic()):
                _take(checkpoint, schedule, [i.state for i in islands])


def _worker(conn, job: IslandJob, n_islands: int = 1, migrate_every: int = 0) -> None:
    """A worker process: build the island, then sweep / report / obey until told to stop."""
    for s in STOP_SIGNALS:  # the parent handles both and tells us to stop
        signal.signal(s, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked since the start (see ProcessExecutor)
    np.seterr(all="ignore")
    try:
        _serve_island(conn, job, n_islands, migrate_every)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone (killed): nothing to report to, and no traceback to print


def _serve_island(conn, job: IslandJob, n_islands: int, migrate_every: int) -> None:
    isl = build_island(job)
    want_state = False
    due = Coordinator(n_islands, None, migrate_every, lambda reports: None)  # its migration_due, kept here
    while True:
        if len(isl.state.programs) < isl.P:
            isl.init_population()
        else:
            isl.sweep()
        # One message per sweep: the island decides migration as the coordinator would (the same rule on the
        # same counts), instead of asking it first and waiting for the answer.
        emigrants = None
        if due.migration_due(isl.state.island, isl.state.individuals):
            emigrants = isl.emigrants(MIGRATION_FRACTION)
            due.last_migration[isl.state.island] = isl.state.individuals
        conn.send(report(isl, emigrants, with_state=want_state))
        reply: Reply = conn.recv()
        if reply.immigrants:
            isl.immigrate(reply.immigrants)
        if reply.stop:
            conn.send(report(isl, None, with_state=True))
            conn.close()
            return
        want_state = reply.want_state


class ProcessExecutor:
    """One spawned process per island; the coordinator lives here and answers each island's reports."""

    def __init__(self, start_method: str | None = None):
        self.ctx = mp.get_context(start_method or default_start_method())
        if self.ctx.get_start_method() == "forkserver":
            self.ctx.set_forkserver_preload(PRELOAD)

    def run(self, jobs, coordinator, checkpoint, every):
        pipes, procs = [], []
        # Workers start with Ctrl-C / SIGTERM blocked (the mask is inherited), so a signal that arrives while
        # one is still starting up cannot print a traceback there; each ignores them once running.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            for job in jobs:
                parent, child = self.ctx.Pipe()
                args = (child, job, coordinator.n_islands, coordinator.migrate_every)
                p = self.ctx.Process(target=_worker, args=args, daemon=True)
                p.start()
                child.close()
                pipes.append(parent)
                procs.append(p)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        finished = False
        try:
            states = self._serve(pipes, coordinator, checkpoint, every, [j.state for j in jobs])
            finished = True
            return states
        except (EOFError, BrokenPipeError, ConnectionResetError):
            dead = [f"island {k} (exit code {p.exitcode})" for k, p in enumerate(procs) if not p.is_alive()]
            raise AzError(f"an island's worker process died: {', '.join(dead) or 'unknown'}",
                          hint="its error is printed above; resume from the last checkpoint with --resume") from None
        finally:
            for p in procs:
                if not finished:  # stopped at once (second Ctrl-C, an error): the workers wait for a reply
                    p.terminate()
                p.join(timeout=5)
                if p.is_alive():
                    p.terminate()

    def _serve(self, pipes, coordinator, checkpoint, every, states):
        final: dict[int, IslandState] = {}
        fresh: dict[int, IslandState] = {}
        schedule, asking = schedule_of(every), False
        index = {id(c): k for k, c in enumerate(pipes)}
        while len(final) < len(pipes):
            for conn in wait([c for k, c in enumerate(pipes) if k not in final]):
                k = index[id(conn)]
                rep = conn.recv()
                if rep.state is not None:
                    fresh[k] = rep.state
                reply = coordinator.receive(rep)
                reply.want_state = asking
                conn.send(reply)
                if reply.stop:
                    final[k] = conn.recv().state
                    continue
            if asking and len(fresh) == len(pipes):
                _take(checkpoint, schedule, [fresh[k] for k in range(len(pipes))])
                fresh, asking = {}, False
            elif not asking and schedule.due(time.monotonic()):
                asking = True
        return [final[k] for k in range(len(pipes))]


# What every worker imports: loaded once in the fork server, so each island's process starts with them loaded
# (a spawned worker pays Python's start and these imports, ~0.3 CPU s, per island and per run).
PRELOAD = ["numpy", "azlang.search.islands", "azlang.search.native_island", "azlang.search.checkpoint",
           "azlang.backends.native.evaluator", "azlang.backends.native.search_loop"]


def default_start_method() -> str:
    """forkserver where the platform has it (a clean single-threaded server, forked per island), else spawn."""
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def make_executor(workers: int, kind: str = "local", address: str = "") -> Executor:
    if kind == "ray":  # imported here: Ray is an optional extra
        from azlang.search.ray_executor import RayExecutor

        return RayExecutor(address)
    return InProcessExecutor() if workers <= 1 else ProcessExecutor()
