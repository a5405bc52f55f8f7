"""Search stage: executors run islands to a stop: in this process (deterministic) or one process per island.

Interface (a Ray executor would implement the same): `run(jobs, coordinator, checkpoint, every)` advances
every island sweep by sweep, hands the islands' Reports to the coordinator (in process: every sweep's, in turn;
worker processes: as they come, see island_worker.py), calls `checkpoint(states)` with a set of island states,
one per island, when `every` (a CheckpointSchedule, or fixed seconds) says so, and returns the final states.

Signals: in-process islands poll the stop flag themselves (interrupt.py); worker processes ignore SIGINT and
SIGTERM (the coordinator sees the request at their next report and stops them, so their states can be
checkpointed) and leave quietly, without a traceback, when the parent is gone.
"""

from __future__ import annotations

import importlib
import os
import selectors
import signal
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from azlang.errors import AzError
from azlang.search.backends import native_available
from azlang.search.evolution import IslandState
from azlang.search.heap import frozen_heap
from azlang.search.interrupt import CheckpointSchedule, at_polls
from azlang.search.island_serving import Outbox, Serving
from azlang.search.island_worker import STOP_SIGNALS, serve_island, worker
from azlang.search.islands import MIGRATION_FRACTION, Coordinator, IslandJob, Reply, build_island, report
from azlang.search.migrants import immigrate_packed, packed_emigrants

Checkpoint = Callable[[list[IslandState]], None]
__all__ = ["Executor", "InProcessExecutor", "ProcessExecutor", "make_executor", "serve_island", "worker"]


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
        with at_polls(self._mid_sweep(islands, checkpoint, schedule)), frozen_heap():
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
                isl.advance_until(*coordinator.horizon())
                st = isl.state
                due = coordinator.migration_due(st.island, st.individuals)
                emigrants = packed_emigrants(isl, MIGRATION_FRACTION) if due else None  # Island.emigrants, packed
                reply = coordinator.receive(report(isl, emigrants))
                if reply.immigrants:
                    immigrate_packed(isl, reply.immigrants)
                if reply.stop:
                    return [i.state for i in islands]
            if schedule.due(time.monotonic()):
                _take(checkpoint, schedule, [i.state for i in islands])


class ProcessExecutor:
    """One process per island (forked, or from a fork server); the coordinator lives here and reads their reports."""

    def __init__(self, start_method: str | None = None):
        self.start_method = start_method

    def context(self):
        """The start method, chosen per run: whether forking is safe depends on the threads running now."""
        import multiprocessing as mp  # here, not at the top: a one-island run never loads it (~3 ms)

        ctx = mp.get_context(self.start_method or default_start_method())
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(PRELOAD)
        return ctx

    def run(self, jobs, coordinator, checkpoint, every):
        pipes, procs, ctx = [], [], self.context()
        if ctx.get_start_method() == "fork":
            warm_up(jobs)
        # Workers start with Ctrl-C / SIGTERM blocked (the mask is inherited), so a signal that arrives while
        # one is still starting up cannot print a traceback there; each ignores them once running.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            for job in jobs:
                parent, child = ctx.Pipe()
                _widen(parent, child)
                args = (child, job, coordinator.n_islands, coordinator.migrate_every)
                p = ctx.Process(target=worker, args=args, daemon=True)
                p.start()
                child.close()
                pipes.append(parent)
                procs.append(p)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        finished, outboxes = False, [Outbox(c) for c in pipes]
        try:
            states = self._serve(pipes, outboxes, coordinator, checkpoint, every)
            finished = True
            return states
        except (EOFError, BrokenPipeError, ConnectionResetError):
            from multiprocessing.connection import wait

            wait([p.sentinel for p in procs], timeout=5)  # its pipe closes a moment before it can be reaped
            dead = [f"island {k} (exit code {p.exitcode})" for k, p in enumerate(procs) if not p.is_alive()]
            raise AzError(f"an island's worker process died: {', '.join(dead) or 'unknown'}",
                          hint="its error is printed above; resume from the last checkpoint with --resume") from None
        finally:
            for p in procs:
                if not finished:  # stopped at once (second Ctrl-C, an error): nobody reads the workers' reports
                    p.terminate()
                p.join(timeout=5)
                if p.is_alive():
                    p.terminate()
            for box in outboxes:
                box.close()

    def _serve(self, pipes, outboxes, coordinator, checkpoint, every):
        """Read reports as they come; answer emigrants with immigrants, foresee the stop, ask for states when a
        checkpoint is due (taken once every island has sent one), and after the stop drain every worker's
        in-flight reports up to its last (its final state)."""
        serving = Serving(outboxes, coordinator)
        n, schedule, asking = len(pipes), schedule_of(every), False
        with selectors.DefaultSelector() as reading:  # registered once: wait() builds one per wake-up
            for k, conn in enumerate(pipes):
                reading.register(conn, selectors.EVENT_READ, k)
            while len(serving.final) < n:
                for key, _ in reading.select():
                    if serving.take(key.data, key.fileobj.recv()):
                        reading.unregister(key.fileobj)
                if serving.stopping:
                    continue
                if asking and len(serving.fresh) == n:
                    _take(checkpoint, schedule, [serving.fresh[k] for k in range(n)])
                    asking = False
                elif not asking and schedule.due(time.monotonic()):
                    asking, serving.fresh = True, {}
                    serving.tell_all(Reply(want_state=True))
        return [serving.final[k] for k in range(n)]


# What every worker imports: loaded once in the fork server, so each island's process starts with them loaded
# (a spawned worker pays Python's start and these imports, ~0.3 CPU s, per island and per run).
PRELOAD = ["numpy", "azlang.search.islands", "azlang.search.native_island", "azlang.search.checkpoint",
           "azlang.backends.native.evaluator", "azlang.backends.native.search_loop"]


def warm_up(jobs: list[IslandJob]) -> None:
    """What every forked island would load and set up alone (~0.4 s each, at the start of the run), done once
    here before the fork: the imports, and LLVM's engine when the native backend may run. This process needs
    both anyway, for the select and final evaluations after the search."""
    for name in PRELOAD:
        importlib.import_module(name)
    if any(j.cfg.run.backend != "numpy" for j in jobs):
        native_available()


PIPE_BYTES = 1 << 22  # a worker's emigrants and its immigrants fit in flight: neither side waits for the other


def _widen(*conns) -> None:
    """Socket buffers that hold a migration's messages whole (emigrants are hundreds of kB; the default ~200 kB
    made a worker's send wait, chunk by chunk, for the coordinator to read). The system may grant less."""
    import socket

    for conn in conns:
        try:
            with socket.socket(fileno=os.dup(conn.fileno())) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_BYTES)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, PIPE_BYTES)
        except OSError:
            pass  # not a socket (a platform's pipe), or the size refused: the default buffers


def default_start_method(threads: int | None = None) -> str:
    """fork when this process runs a single thread (`azc` does: one BLAS thread, no display thread), so the copy
    is consistent and starts at once with everything loaded; else forkserver where the platform has it (a clean
    single-threaded server, forked per island, ~0.25 s to start), else spawn."""
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if (thread_count() if threads is None else threads) == 1 and "fork" in methods:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def thread_count() -> int | None:
    """This process's OS threads, where the system tells (Linux); None where it does not."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def make_executor(workers: int, kind: str = "local", address: str = "") -> Executor:
    if kind == "ray":  # imported here: Ray is an optional extra
        from azlang.search.ray_executor import RayExecutor

        return RayExecutor(address)
    return InProcessExecutor() if workers <= 1 else ProcessExecutor()
