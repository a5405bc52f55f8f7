"""Search stage: Ctrl-C and SIGTERM as a stop request, honoured where the run state is consistent.

While a run is in `stop_requests()`, SIGINT and SIGTERM only set a flag; the islands `poll()` it between
children (Python loop) and between native chunks, the coordinator at sweep boundaries, the driver between
experiments. `poll()` raises `StopRequested` at such a point, so a checkpoint taken then continues exactly
like the uninterrupted run. A second signal stops at once (KeyboardInterrupt): no new checkpoint.

A signal is never turned into an exception inside a native call, a cache update or a half-written
population slot: that (and a stop reason saved into the checkpoint) is why resumed runs used to diverge.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal number, as shells report it
REASONS = {signal.SIGINT: "interrupt", signal.SIGTERM: "terminate"}


class StopRequested(Exception):
    def __init__(self, signum: int):
        super().__init__(REASONS.get(signum, "interrupt"))
        self.signum = signum


class _Flag:
    """The pending request; `after` is a test hook: request SIGINT at the k-th poll from now."""

    def __init__(self):
        self.signum: int | None = None
        self.countdown: int | None = None
        self.polls = 0
        self.on_poll: Callable[[], None] | None = None  # e.g. a checkpoint that is due (executors.py)

    def reset(self) -> None:
        self.signum, self.countdown, self.polls, self.on_poll = None, None, 0, None


FLAG = _Flag()


def request(signum: int = signal.SIGINT) -> None:
    FLAG.signum = signum


def requested() -> int | None:
    return FLAG.signum


def after(k: int | None) -> None:
    """Test hook: behave as if Ctrl-C arrived just before the k-th poll (k >= 1); None disarms."""
    FLAG.countdown = k


def poll() -> None:
    """Raise StopRequested if a stop was asked for. Call only where the state is consistent."""
    FLAG.polls += 1
    if FLAG.countdown is not None:
        FLAG.countdown -= 1
        if FLAG.countdown <= 0:
            FLAG.countdown, FLAG.signum = None, signal.SIGINT
    if FLAG.signum is not None:
        raise StopRequested(FLAG.signum)
    if FLAG.on_poll is not None:
        FLAG.on_poll()


@contextlib.contextmanager
def at_polls(hook: Callable[[], None]):
    """Call `hook` at every poll point inside the block (where the state is whole, so it may checkpoint)."""
    previous, FLAG.on_poll = FLAG.on_poll, hook
    try:
        yield
    finally:
        FLAG.on_poll = previous


def _handler(signum, frame) -> None:
    if FLAG.signum is not None:  # the second one: stop now
        raise KeyboardInterrupt
    FLAG.signum = signum


@contextlib.contextmanager
def stop_requests():
    """Handle SIGINT/SIGTERM as stop requests inside the block (main thread only; elsewhere a no-op)."""
    FLAG.signum = None
    if threading.current_thread() is not threading.main_thread():
        yield FLAG
        return
    previous = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield FLAG
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


class CheckpointSchedule:
    """When to checkpoint: the first after `first` seconds, then at doubling intervals up to `most`, but
    never more often than 100x the last checkpoint's cost (so checkpoints take under ~1% of the run).
    `most` = 0 checkpoints at every sweep boundary (tests)."""

    FIRST = 2.0
    SHARE = 0.01

    def __init__(self, most: float, now: float, first: float | None = None):
        self.most = most
        self.interval = min(self.FIRST if first is None else first, most)
        self.last = now

    def due(self, now: float) -> bool:
        return now - self.last >= self.interval

    def done(self, now: float, cost: float) -> None:
        self.last = now
        self.interval = min(max(2 * self.interval, self.FIRST), self.most) if self.most > 0 else 0.0
        self.interval = max(self.interval, cost / self.SHARE) if self.most > 0 else 0.0
