"""Search stage: the coordinator's side of the island worker protocol (island_worker.py has the worker's).

`Serving` takes the reports as they come: it answers emigrants with immigrants, tells every worker to stop once
the coordinator decides to, then keeps reading each one's in-flight reports up to its last; a few reports before
the stop it foresees (SYNC_AHEAD) it asks every worker to report after each sweep, so a stop lands about a sweep
past the counts it was decided on. Messages to a worker go through its `Outbox`.
"""

from __future__ import annotations

import copy
import queue
import threading

from azlang.search.islands import Coordinator, Reply, Report


class Serving:
    """The coordinator's side of the protocol, one report at a time."""

    def __init__(self, outboxes, coordinator: Coordinator):
        self.outboxes, self.coordinator = outboxes, coordinator
        self.final, self.fresh, self.latest, self.before = {}, {}, {}, {}
        self.stopping = self.synced = False

    def tell_all(self, msg: Reply) -> None:
        for box in self.outboxes:
            box.put(msg)

    def take(self, k: int, rep: Report) -> bool:
        """Handle island k's report; True once it was its last."""
        if rep.last:
            self.final[k] = rep.state
            return True
        if rep.state is not None:
            self.fresh[k] = rep.state
        if self.stopping:
            rep.emigrants = None  # nobody left to send immigrants to
        self.before[k], self.latest[k] = self.latest.get(k, rep), rep
        reply = self.coordinator.receive(rep)
        if self.stopping:
            return False
        if reply.stop:
            self.stopping = True
            self.tell_all(Reply(stop=True))
            return False
        if reply.immigrants:
            self.outboxes[k].put(Reply(immigrants=reply.immigrants))
        if not self.synced and stop_ahead(self.coordinator, self.latest, self.before):
            self.synced = True
            self.tell_all(Reply(sync=True))
        return False


SYNC_AHEAD = 3  # reports: how far ahead the coordinator looks for its stop


def stop_ahead(coordinator: Coordinator, latest: dict[int, Report], before: dict[int, Report]) -> bool:
    """Would the coordinator stop if every island went on for SYNC_AHEAD more reports like its last one?"""
    if len(latest) < coordinator.n_islands:
        return False
    ahead = []
    for k, r in latest.items():
        r = copy.copy(r)  # the counts are all a stop decision reads
        r.train_steps += SYNC_AHEAD * (r.train_steps - before[k].train_steps)
        r.individuals += SYNC_AHEAD * (r.individuals - before[k].individuals)
        ahead.append(r)
    return coordinator.should_stop(ahead) is not None


class Outbox:
    """Messages to one worker, sent by a thread of their own: the coordinator never blocks on a worker that is
    sweeping (immigrants are bigger than a pipe's buffer: two sides each sending one to the other would
    deadlock), and the order of messages is kept."""

    def __init__(self, conn):
        self.conn, self.queue = conn, queue.SimpleQueue()
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def put(self, msg: Reply) -> None:
        self.queue.put(msg)

    def _send(self) -> None:
        while (msg := self.queue.get()) is not None:
            try:
                self.conn.send(msg)
            except OSError:
                return  # the worker is gone: reading its end tells the coordinator

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=5)
