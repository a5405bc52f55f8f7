"""Search stage: the bodies of the Ray executor's actors: an island, and the coordinator islands migrate through.

Plain classes: ray_executor.py wraps them with `ray.remote`, so this module imports (and its coordinator can be
tested) without Ray; only a running island touches Ray, to call its coordinator.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, replace

import numpy as np

from azlang.rng import Rng
from azlang.search.evolution import IslandState
from azlang.search.heap import frozen_heap
from azlang.search.islands import MIGRATION_FRACTION, Coordinator, IslandJob, Reply, Report, build_island, report


def _never(reports: list[Report]) -> None:
    return None  # stops are the driver's decision, passed in with `stop`


@dataclass
class Mail:
    """What the driver collects from the coordinator at each poll."""

    reports: list[Report]  # the latest report of each island heard from since the last poll
    states: list[IslandState] | None  # a complete set for a checkpoint, once every island has sent one
    migrations: int  # emigrant batches received so far
    rng: Rng  # the migration Rng, so the driver's checkpoint holds its current state


class CoordinatorActor:
    """Migration as in the paper (islands.Coordinator: a random half up, as many sampled from the other islands
    down) plus the mailbox between islands and driver: reports, states asked for a checkpoint, the stop."""

    def __init__(self, n_islands: int, rng: Rng, migrate_every: int):
        self.inner = Coordinator(n_islands, rng, migrate_every, _never)
        self.latest: dict[int, Report] = {}
        self.fresh: dict[int, IslandState] = {}
        self.asking = False
        self.migrations = 0

    def migration_due(self, island: int, individuals: int) -> bool:
        return self.inner.migration_due(island, individuals)

    def receive(self, rep: Report) -> Reply:
        if rep.state is not None and self.asking:
            self.fresh[rep.island] = rep.state
        self.migrations += rep.emigrants is not None
        reply = self.inner.receive(rep)
        reply.want_state = self.asking and rep.island not in self.fresh
        self.latest[rep.island] = replace(rep, emigrants=None, state=None)  # the driver needs only the numbers
        return reply

    def poll(self) -> Mail:
        reports, self.latest = list(self.latest.values()), {}
        states = None
        if self.asking and len(self.fresh) == self.inner.n_islands:
            states = [self.fresh[k] for k in range(self.inner.n_islands)]
            self.fresh, self.asking = {}, False
        return Mail(reports, states, self.migrations, self.inner.rng)

    def ask_states(self) -> None:
        self.asking, self.fresh = True, {}

    def stop(self, reason: str) -> None:
        self.inner.stopped = reason

    def rejoin(self, island: int, individuals: int) -> None:
        """An island restored from a checkpoint: its migration clock restarts at the restored count and a state
        it sent before dying no longer stands for it."""
        self.inner.last_migration[island] = individuals
        self.fresh.pop(island, None)


class IslandActor:
    """One island: regularized evolution sweep by sweep, reporting to (and migrating through) the coordinator.
    `last_migration`: the individuals count the coordinator's migration clock for this island starts from."""

    def __init__(self, job: IslandJob, coordinator, last_migration: int = 0):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's: it stops and kills us
        np.seterr(all="ignore")  # overflow and NaN are part of the semantics, not warnings
        self.island = build_island(job)
        self.coordinator = coordinator
        self.every, self.last = job.cfg.run.migrate_every, last_migration

    def _may_migrate(self, individuals: int) -> bool:
        """False when the coordinator would certainly say no (its rule, on our own clock): most sweeps then
        cost one round trip instead of two, which matters when a sweep takes milliseconds."""
        return self.every > 0 and individuals - self.last >= self.every

    def run(self) -> IslandState:
        """Evolve until the coordinator says stop; return the final state."""
        with frozen_heap():
            return self._sweeps()

    def _sweeps(self) -> IslandState:
        import ray

        isl, coord, want_state = self.island, self.coordinator, False
        while True:
            isl.advance()
            st = isl.state
            migrate = False
            if self._may_migrate(st.individuals):
                migrate = ray.get(coord.migration_due.remote(st.island, st.individuals))
                self.last = st.individuals  # a "no" here means one island: no migrations, ask no more
            emigrants = isl.emigrants(MIGRATION_FRACTION) if migrate else None
            reply: Reply = ray.get(coord.receive.remote(report(isl, emigrants, with_state=want_state)))
            if reply.immigrants:
                isl.immigrate(reply.immigrants)
            if reply.stop:
                return st
            want_state = reply.want_state
