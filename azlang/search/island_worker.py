"""Search stage: an island's worker process: sweep, report now and then, read the coordinator's messages between sweeps.

The protocol is asynchronous (the asynchronous island model): a worker never waits for an answer. After each
sweep it reads whatever the coordinator has sent meanwhile without blocking (immigrants, "send your state" for
a checkpoint, "report every sweep", "stop"), applies immigrants at once, and sends a report when it has
something to say: emigrants (it decides migration itself, with the coordinator's rule on its own counts), a
requested state, or progress, at most every REPORT_SECONDS unless a stop is near. Reports carry everything
the coordinator's decisions read (counts and stats), so coalescing them changes only how late it sees them.

How far a stop may overshoot: the coordinator stops on the sum of the latest reports, so the islands' unreported
work adds to the sum it saw. A report is due after REPORT_SECONDS or 1/QUOTA of the island's share of a
train-step or individual budget, whichever comes first; once the coordinator foresees its stop within a few
reports it tells every island to report after every sweep (`Reply.sync`), so near the end each island is at
most about a sweep ahead of what was counted, as with a reply per sweep.

Signals: workers ignore SIGINT and SIGTERM (the parent stops them, so their states can be checkpointed) and
leave quietly, without a traceback, when the parent is gone.
"""

from __future__ import annotations

import math
import select
import signal
import time

import numpy as np

from azlang.search.heap import frozen_heap
from azlang.search.islands import MIGRATION_FRACTION, Coordinator, IslandJob, Reply, build_island, report
from azlang.search.migrants import immigrate_packed, packed_emigrants

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
REPORT_SECONDS = 0.05  # 20 reports per second and island: the coordinator's wake-ups cost next to nothing
QUOTA = 64  # or a report every 1/64 of the island's share of the train-step / individual budget


def worker(conn, job: IslandJob, n_islands: int = 1, migrate_every: int = 0) -> None:
    """A worker process's entry: build the island, then sweep / report / obey until told to stop."""
    for s in STOP_SIGNALS:  # the parent handles both and tells us to stop
        signal.signal(s, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked since the start (see ProcessExecutor)
    np.seterr(all="ignore")
    try:
        serve_island(conn, job, n_islands, migrate_every)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone (killed): nothing to report to, and no traceback to print


def quotas(job: IslandJob, n_islands: int) -> tuple[float, float]:
    """Train steps and individuals after which an island reports even before REPORT_SECONDS have passed."""
    stop = job.cfg.stop
    steps = stop.max_train_steps / n_islands / QUOTA
    individuals = stop.max_individuals / n_islands / QUOTA if stop.max_individuals else math.inf
    return steps, individuals


def serve_island(conn, job: IslandJob, n_islands: int, migrate_every: int,
                 seconds: float = REPORT_SECONDS) -> None:
    isl = build_island(job)
    with frozen_heap():
        _serve(conn, isl, n_islands, migrate_every, quotas(job, n_islands), seconds)


def _serve(conn, isl, n_islands: int, migrate_every: int, quota: tuple[float, float], seconds: float) -> None:
    due = Coordinator(n_islands, None, migrate_every, lambda reports: None)  # its migration_due, kept here
    sync, sent_at, sent = False, -math.inf, (0, 0)  # (train steps, individuals) at the last report
    waiting = _poller(conn)
    while True:
        isl.advance()
        st = isl.state
        emigrants = None
        if due.migration_due(st.island, st.individuals):
            emigrants = packed_emigrants(isl, MIGRATION_FRACTION)
            due.last_migration[st.island] = st.individuals
        stop = want = False
        while waiting():  # what came meanwhile, in order; nothing waits for it
            msg: Reply = conn.recv()
            if msg.immigrants:
                immigrate_packed(isl, msg.immigrants)
            stop, want, sync = stop or msg.stop, want or msg.want_state, sync or msg.sync
        if stop:
            final = report(isl, None, with_state=True)
            final.last = True
            conn.send(final)
            conn.close()
            return
        now, steps, individuals = time.monotonic(), st.counters.train_steps, st.individuals
        if (emigrants is not None or want or sync or now - sent_at >= seconds
                or steps - sent[0] >= quota[0] or individuals - sent[1] >= quota[1]):
            conn.send(report(isl, emigrants, with_state=want))
            sent_at, sent = now, (steps, individuals)


def _poller(conn):
    """conn.poll() at the cost of one system call: multiprocessing's builds and registers a selector on every call
    (once a sweep here). A pipe end holds no buffered message, so its descriptor being readable (or closed: recv
    then raises EOFError) is what poll() answers."""
    try:
        fd = conn.fileno()
    except (AttributeError, OSError):
        return conn.poll
    ready = select.poll()
    ready.register(fd, select.POLLIN)
    return lambda: bool(ready.poll(0))
