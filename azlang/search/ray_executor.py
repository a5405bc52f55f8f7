"""Search stage: the Ray executor: islands as Ray actors across a cluster, migrating through a coordinator actor.

The same interface as executors.py. Each island actor sweeps on its own and exchanges reports and migrants
with the coordinator actor (ray_actors.py). This process, the driver, polls the coordinator: it feeds the
reports to the experiment's Coordinator (progress lines, stop decisions), asks for a consistent set of states
when a checkpoint is due, and re-creates an island whose actor died (process or node lost) from that
island's last checkpointed state. On Ctrl-C it stops the islands, checkpoints what they hand back within a
grace period, and kills every actor.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from pathlib import Path

from azlang.errors import AzError
from azlang.search.evolution import IslandState
from azlang.search.ray_actors import CoordinatorActor, IslandActor, Mail

POLL_SECONDS = 0.1  # how often the driver collects reports; also the latency of stop and checkpoint requests
MAX_RESTARTS = 3  # per island and experiment: an island that keeps dying is a bug, not bad luck
GRACE_SECONDS = 10.0  # after Ctrl-C, how long islands get to hand back their states


def import_ray():
    try:
        import ray
    except ImportError:
        raise AzError("Ray is not installed: pip install azlang[ray]") from None
    return ray


class RayExecutor:
    """`address`: "" starts a private Ray on this machine; "auto" or HOST:PORT joins a running cluster.
    If Ray is already initialised in this process (a test's cluster, a notebook), that connection is used.
    Counters over its runs: `migrations` (emigrant batches), `restarts` (islands re-created, with `restored`:
    (island, individuals of the state it resumed from) for each), `checkpoints` (taken)."""

    def __init__(self, address: str = "", poll: float = POLL_SECONDS, max_restarts: int = MAX_RESTARTS):
        self.ray = import_ray()
        self.address, self.poll, self.max_restarts = address, poll, max_restarts
        self.islands: list = []  # the live island actors, in island order (a test kills one)
        self.migrations = self.restarts = self.checkpoints = 0
        self.restored: list[tuple[int, int]] = []

    def run(self, jobs, coordinator, checkpoint, every) -> list[IslandState]:
        self.connect()
        run = _Run(self, jobs, coordinator, checkpoint, every)
        try:
            return run.serve()
        except KeyboardInterrupt:
            run.wind_down()
            raise
        finally:
            run.kill()

    def connect(self) -> None:
        """Join or start Ray (once per process; `run` calls it)."""
        ray = self.ray
        if ray.is_initialized():
            return
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no telemetry prompt or upload from a library
        options = {"log_to_driver": False, "logging_level": logging.WARNING}  # the library never prints
        if not self.address:
            root = str(Path(__file__).resolve().parents[2])  # workers of a private Ray import azlang from here
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            options.update(include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
        try:
            ray.init(address=self.address or None, **options)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise AzError(
                f"cannot connect to the Ray cluster at {self.address!r}: {e}",
                hint="start one with `ray start --head`, or leave the address empty for a Ray on this machine",
            ) from None


class _Run:
    """One executor run (one experiment's search): the actors, their restore points and the polling loop."""

    def __init__(self, ex: RayExecutor, jobs, coordinator, checkpoint, every):
        self.ex, self.ray, self.jobs, self.coordinator = ex, ex.ray, jobs, coordinator
        # a fixed interval: the adaptive CheckpointSchedule of the local executors gives its upper bound here
        self.checkpoint, self.every = checkpoint, getattr(every, "most", every)
        self.restore = [j.state for j in jobs]  # each island's last checkpointed state
        self.restarts = [0] * len(jobs)
        self.base_migrations, self.told_stop, self.asking = ex.migrations, False, False
        self.last_checkpoint = time.monotonic()
        cpus = min(1.0, self.ray.cluster_resources().get("CPU", 1.0) / len(jobs))  # never wait for free CPUs
        self.island_cls = self.ray.remote(IslandActor).options(
            num_cpus=cpus, max_restarts=0, scheduling_strategy="SPREAD"
        )
        self.hub = (
            self.ray.remote(CoordinatorActor)
            .options(num_cpus=0)
            .remote(len(jobs), coordinator.rng, coordinator.migrate_every)
        )
        ex.islands = [None] * len(jobs)
        self.running = {}  # ObjectRef of an island's run() -> island index
        self.final: dict[int, IslandState] = {}
        for k in range(len(jobs)):
            self._start(k)

    def _start(self, k: int, last_migration: int = 0) -> None:
        actor = self.island_cls.remote(replace(self.jobs[k], state=self.restore[k]), self.hub, last_migration)
        self.ex.islands[k] = actor
        self.running[actor.run.remote()] = k

    def serve(self) -> list[IslandState]:
        final = self.final
        while len(final) < len(self.jobs):
            done, _ = self.ray.wait(list(self.running), num_returns=len(self.running), timeout=self.ex.poll)
            for ref in done:
                k = self.running.pop(ref)
                state = self._result(ref, k)
                if state is not None:
                    final[k] = state
            self._deliver(self.ray.get(self.hub.poll.remote()))
        self._deliver(self.ray.get(self.hub.poll.remote()))  # the islands' last reports
        return [final[k] for k in range(len(self.jobs))]

    def _result(self, ref, k: int) -> IslandState | None:
        """The island's final state, or None after re-creating an island whose actor died."""
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayActorError as e:
            self.restarts[k] += 1
            if self.restarts[k] > self.ex.max_restarts:
                raise AzError(f"island {k} died {self.restarts[k]} times; giving up: {e}") from None
            n = self.restore[k].individuals
            self.ex.restarts += 1
            self.ex.restored.append((k, n))
            self.ray.get(self.hub.rejoin.remote(k, n))  # before the new actor's first report
            self._start(k, n)
            return None

    def _deliver(self, mail: Mail) -> None:
        """Reports to the experiment's Coordinator (progress, stop); checkpoints when a full set of states is in."""
        self.coordinator.rng.state = mail.rng.state  # a checkpoint saves the migration Rng as it is now
        self.ex.migrations = self.base_migrations + mail.migrations
        for rep in mail.reports:
            self.coordinator.receive(rep)
        if self.coordinator.stopped is not None and not self.told_stop:
            self.hub.stop.remote(self.coordinator.stopped)
            self.told_stop = True
        if mail.states is not None:
            self._checkpoint(mail.states)
        elif not self.asking and time.monotonic() - self.last_checkpoint >= self.every:
            self.hub.ask_states.remote()
            self.asking = True

    def _checkpoint(self, states: list[IslandState]) -> None:
        self.restore = states
        self.checkpoint(states)
        self.ex.checkpoints += 1
        self.asking, self.last_checkpoint = False, time.monotonic()

    def wind_down(self) -> None:
        """After Ctrl-C: stop the islands and checkpoint the states they return within the grace period."""
        self.hub.stop.remote("interrupt")
        refs = list(self.running)
        done, _ = self.ray.wait(refs, num_returns=len(refs), timeout=GRACE_SECONDS)
        if len(done) < len(refs):
            return  # the last periodic checkpoint stands
        try:
            self.final.update(zip([self.running[r] for r in refs], self.ray.get(refs)))
        except self.ray.exceptions.RayError:
            return
        self._checkpoint([self.final[k] for k in range(len(self.jobs))])

    def kill(self) -> None:
        for actor in [*self.ex.islands, self.hub]:
            if actor is not None:
                self.ray.kill(actor)
