"""Islands in worker processes: the asynchronous protocol (worker side scripted, then real processes), packed
migrants, checkpoints and resume, and a dying worker. Nothing here depends on timing: stops are decided on
what the coordinator has seen, not on the clock."""

from __future__ import annotations

import itertools
import math
import multiprocessing as mp
import os
import pickle
import signal
from pathlib import Path

import numpy as np
import pytest
from test_search_native_loop import rich

from azlang.backends import native
from azlang.errors import AzError
from azlang.rng import Rng
from azlang.search.config import override
from azlang.search.island_worker import serve_island
from azlang.search.islands import Coordinator, IslandJob, Reply, new_state
from azlang.search.migrants import Packed, concat, pack, packed_emigrants
from azlang.search.tasksets import build, parse_all

LOOPS = ["python", "native"] if native.available() else ["python"]


def job_of(cfg, k: int, seed: int = 7) -> IslandJob:
    specs = parse_all(cfg.tasks.search)
    return IslandJob(cfg, specs, [], new_state(cfg, k, Rng(seed + k), len(build(specs))))


def cfg_of(loop: str, **extra):
    return override(rich(**{"evolution.population": 20}), {"evolution.loop": loop, **extra})


def key(bc) -> bytes:
    return bytes(np.asarray(bc.code, dtype=np.int32)) + bytes(np.asarray(bc.data)) + bytes(str(bc.sizes), "ascii")


class ScriptedParent:
    """The parent's end of a worker pipe: `script(reports)` says what to send after each report."""

    def __init__(self, script):
        self.sent, self.inbox, self.script = [], [], script

    def send(self, obj) -> None:
        obj = pickle.loads(pickle.dumps(obj))  # what went through a pipe
        self.sent.append(obj)
        if not obj.last:
            self.inbox += self.script([r for r in self.sent if not r.last])

    def poll(self) -> bool:
        return bool(self.inbox)

    def recv(self):
        return self.inbox.pop(0)

    def close(self) -> None:
        pass


@pytest.mark.parametrize("loop", LOOPS)
def test_worker_decides_migration_as_the_coordinator_does_and_stops_with_its_state(loop):
    conn = ScriptedParent(lambda reps: [Reply(stop=True)] if len(reps) == 9 else [])
    serve_island(conn, job_of(cfg_of(loop), 1), 2, 50, seconds=0.0)  # a report after every sweep
    reports = [r for r in conn.sent if not r.last]
    coordinator = Coordinator(2, Rng(1), 50, lambda reports: None)
    for rep in reports:  # emigrants exactly where the coordinator's rule says
        assert (rep.emigrants is not None) == coordinator.migration_due(rep.island, rep.individuals)
        coordinator.receive(rep)
    assert sum(r.emigrants is not None for r in reports) == 3 and len(reports[2].emigrants) == 10
    assert isinstance(reports[2].emigrants, Packed)
    assert len(reports) == 9 and conn.sent[-1].last and conn.sent[-1].state is not None


@pytest.mark.parametrize("loop", LOOPS)
def test_stop_with_immigrants_in_flight_applies_them_first(loop):
    other = job_of(cfg_of("python"), 0, seed=99)
    from azlang.search.islands import build_island

    donor = build_island(other)
    with np.errstate(all="ignore"):
        donor.init_population()
    arrivals = pack(donor.emigrants(0.5))

    def script(reps):  # immigrants and the stop arrive together, after the first migration
        return [Reply(immigrants=arrivals), Reply(stop=True)] if reps[-1].emigrants is not None else []

    conn = ScriptedParent(script)
    serve_island(conn, job_of(cfg_of(loop), 1), 2, 40, seconds=0.0)
    final = conn.sent[-1]
    assert final.last and sum(r.emigrants is not None for r in conn.sent) == 1
    programs = [key(p) for p in final.state.programs]
    assert all(key(bc) in programs for _, bc in arrivals.pairs())  # immigrated before the final state
    fits = dict(zip(programs, final.state.fitnesses))
    assert all(fits[key(bc)] == f for f, bc in arrivals.pairs())


def test_workers_ask_nothing_and_report_on_time_or_budget_share():
    """Without a deadline (seconds = inf) a worker reports on its budget share, emigrants and requests only."""
    cfg = cfg_of("python", **{"stop.max_individuals": 64 * 2 * 20 * 3})  # a report every 3 sweeps of 20
    conn = ScriptedParent(lambda reps: [Reply(stop=True)] if len(reps) == 4 else [])
    serve_island(conn, job_of(cfg, 0), 2, 0, seconds=math.inf)
    assert [r.individuals for r in conn.sent[:-1]] == [20, 80, 140, 200]  # the first report at once
    conn = ScriptedParent(lambda reps: [Reply(want_state=True)] if len(reps) == 1 else
                          [Reply(sync=True)] if len(reps) == 2 else [Reply(stop=True)] if len(reps) == 4 else [])
    serve_island(conn, job_of(cfg, 0), 2, 0, seconds=math.inf)
    assert [(r.individuals, r.state is not None) for r in conn.sent] == [
        (20, False), (40, True), (60, False), (80, False), (100, True)]  # state asked; then every sweep


def test_packed_migrants_sample_the_same_members_as_lists():
    rng = np.random.default_rng(3)
    from azlang.ir.bytecode import Bytecode

    def program(k):
        sizes = tuple(int(x) for x in rng.integers(0, 4, 3))
        n = sum(sizes)
        return (float(rng.normal()), Bytecode(rng.integers(0, 60, (n, 4)).astype(np.int32), rng.normal(size=(n, 3)),
                                              sizes))

    pools = {i: [program(k) for k in range(int(rng.integers(1, 9)))] for i in range(3)}
    lists = Coordinator(3, Rng(5), 1, lambda r: None, pool=dict(pools))
    packed = Coordinator(3, Rng(5), 1, lambda r: None, pool={i: pack(v) for i, v in pools.items()})
    for island in (0, 1, 2, 1):
        a, b = lists._sample(island, 7), packed._sample(island, 7)
        assert isinstance(b, Packed) and len(b) == 7
        assert [(f, key(bc)) for f, bc in a] == [(f, key(bc)) for f, bc in b.pairs()]
    both = concat([pack(pools[0]), pack(pools[2])])
    assert [key(bc) for _, bc in both.pairs()] == [key(bc) for _, bc in pools[0] + pools[2]]
    back = pickle.loads(pickle.dumps(both))
    assert np.array_equal(back.code, both.code) and back.fitness.tobytes() == both.fitness.tobytes()


@pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
def test_packed_immigrants_write_the_native_population_as_bytecode_ones():
    from test_search_native_loop import run_both

    from azlang.backends.native.pack import BytecodeError
    from azlang.ir.bytecode import Bytecode

    _, a = run_both(rich(), 1)
    _, b = run_both(rich(), 1)
    sent = pack(a.emigrants(0.5))
    assert_same_group(packed_emigrants(b, 0.5), sent)  # the same draw, read from the native arrays
    assert a.state.rng.next_u64() == b.state.rng.next_u64()
    arrivals = [(0.5 - k / 10, a.state.programs[3 * k + 1]) for k in range(5)]
    a.immigrate(arrivals)
    b.immigrate_packed(pack(arrivals))
    assert a.state.cursor == b.state.cursor and a.state.fitnesses == b.state.fitnesses
    assert [key(p) for p in a.state.programs] == [key(p) for p in b.state.programs]
    code = np.array(arrivals[1][1].code)
    code[0, 3] = 999  # an output address outside memory
    with pytest.raises(BytecodeError, match="outside memory"):
        b.immigrate_packed(pack([arrivals[0], (0.25, Bytecode(code, np.array(arrivals[1][1].data),
                                                               arrivals[1][1].sizes))]))


@pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
@pytest.mark.parametrize("cursor,count", [(0, 40), (37, 9), (25, 15), (39, 1), (3, 0)])
def test_packed_immigrants_wrapping_past_the_last_slot_match_bytecode_ones(cursor, count):
    """Arrivals from the cursor on, around the end of the population (two slices) or filling it, with programs
    of several lengths in one padded group (rows past each program's length are zeros on the way)."""
    from test_search_native_loop import run_both

    _, a = run_both(rich(), 1)
    _, b = run_both(rich(), 1)
    assert a.P == 40
    a.state.cursor = b.state.cursor = cursor
    arrivals = [(k / 7 - 1, a.state.programs[(5 * k) % 40]) for k in range(count)]
    group = pack(arrivals)
    if count:
        assert group.width == max(sum(bc.sizes) for _, bc in arrivals)
        past = np.arange(group.width) >= group.rows()[:, None]
        assert (count < 9 or past.any()) and not group.code[past].any() and not group.data[past].any()
    a.immigrate(arrivals)
    b.immigrate_packed(group)
    assert a.state.cursor == b.state.cursor == (cursor + count) % 40
    assert a.state.fitnesses == b.state.fitnesses
    assert [key(p) for p in a.state.programs] == [key(p) for p in b.state.programs]


def test_population_runs_are_slices_only_for_consecutive_slots():
    from azlang.search.native_state import Population

    def pieces(at):
        return [(p if isinstance(p, slice) else p.tolist(), r) for p, r in Population._runs(np.array(at))]

    assert pieces([3, 4, 5]) == [(slice(3, 6), slice(0, 3))]
    assert pieces([8, 9, 0, 1]) == [(slice(8, 10), slice(0, 2)), (slice(0, 2), slice(2, 4))]
    assert pieces([9, 0]) == [(slice(9, 10), slice(0, 1)), (slice(0, 1), slice(1, 2))]
    assert pieces([1, 3]) == [([1, 3], slice(0, 2))]
    assert pieces([0, 1, 2, 9]) == [([0, 1, 2, 9], slice(0, 4))]
    assert pieces([8, 9, 1, 2]) == [([8, 9, 1, 2], slice(0, 4))]  # wraps to 1, not 0


def test_packed_group_padding_is_not_checked():
    """A group's rows past a program's length (padding) may hold anything: only the used rows are checked."""
    from azlang.backends.native import pack as native_pack
    from azlang.ir.nodes import MemoryShape

    shape = MemoryShape(4, 3, 1)
    code = np.zeros((2, 3, 4), dtype=np.int32)
    code[:, :, 0] = 2  # s-s, every field a scalar
    code[0, 2] = (999, -5, 77, 1 << 20)  # padding: program 0 has 2 rows
    used = (np.arange(3) < np.array([2, 3])[:, None]).reshape(-1)
    native_pack.check_rows(code.reshape(-1, 4), np.zeros((6, 3)), shape, (4,), str, used)
    code[1, 2, 3] = 4  # an output address outside the 4 scalars, in a used row
    with pytest.raises(native_pack.BytecodeError, match="outside memory"):
        native_pack.check_rows(code.reshape(-1, 4), np.zeros((6, 3)), shape, (4,), str, used)
    assert native_pack.FIELD_KINDS[0].tolist() == [0, 0, 0]  # NO_OP, what unused rows are checked as


def test_worker_poller_sees_messages_and_a_closed_pipe():
    from azlang.search.island_worker import _poller

    parent, child = mp.Pipe()
    waiting = _poller(child)
    assert not waiting()
    parent.send(Reply(stop=True))
    assert waiting() and child.recv().stop and not waiting()
    parent.close()
    assert waiting()  # EOF: recv then raises, and the worker ends
    with pytest.raises(EOFError):
        child.recv()
    fake = type("Fake", (), {"poll": lambda self: True})()
    assert _poller(fake)()  # a connection without a descriptor: its own poll


def assert_same_group(x: Packed, y: Packed) -> None:
    for f in ("fitness", "sizes", "code", "data"):
        u, v = getattr(x, f), getattr(y, f)
        assert u.shape == v.shape and u.tobytes() == v.astype(u.dtype).tobytes(), f


class Watching(Coordinator):
    """A coordinator that stops once island 1 has sent on a program it got from island 0, or gives up after 200
    deliveries of immigrants to island 1 (not after a number of island 1's own sweeps: a worker that starts late
    or runs slower would otherwise decide the outcome; the cap on island 1's emigrations only guards a hang)."""

    def __init__(self, **kw):
        super().__init__(2, Rng(1), 20, self.decide, **kw)
        self.sent_to_1, self.seen, self.from_1, self.deliveries = set(), False, 0, 0

    def receive(self, rep):
        reply = super().receive(rep)
        if rep.island == 1 and rep.emigrants is not None:
            self.from_1 += 1
            self.seen |= any(key(bc) in self.sent_to_1 for _, bc in rep.emigrants.pairs())
        if rep.island == 1 and reply.immigrants:
            self.deliveries += 1
            self.sent_to_1 |= {key(bc) for _, bc in reply.immigrants.pairs()}
        return reply

    def decide(self, reports):
        return "seen" if self.seen else "gave up" if self.deliveries > 200 or self.from_1 > 200_000 else None


@pytest.mark.parametrize("loop", LOOPS)
def test_migration_between_processes_reaches_the_other_island(loop):
    from azlang.search.executors import ProcessExecutor

    cfg = cfg_of(loop, **{"run.migrate_every": 20})
    coordinator = Watching()
    states = ProcessExecutor().run([job_of(cfg, 0), job_of(cfg, 1)], coordinator, lambda s: None, math.inf)
    assert coordinator.stopped == "seen"
    assert [s.island for s in states] == [0, 1] and all(len(s.programs) == 20 for s in states)


def test_checkpoints_are_whole_sets_and_resume_in_worker_processes():
    from azlang.search.executors import ProcessExecutor

    cfg = cfg_of("native" if native.available() else "python")
    taken = []

    def stop_after_checkpoints(reports):
        return "enough" if len(taken) >= 3 else None

    coordinator = Coordinator(2, Rng(1), 40, stop_after_checkpoints)
    jobs = [job_of(cfg, 0), job_of(cfg, 1)]
    ProcessExecutor().run(jobs, coordinator, lambda states: taken.append(pickle.dumps(states)), 0.0)
    sets = [pickle.loads(t) for t in taken]
    assert all([s.island for s in states] == [0, 1] for states in sets)
    counts = [[s.individuals for s in states] for states in sets]
    assert all(b[k] > a[k] for a, b in itertools.pairwise(counts) for k in range(2))  # each set after the last
    resumed = [IslandJob(cfg, j.specs, [], s) for j, s in zip(jobs, sets[-1])]
    again = Coordinator(2, Rng(2), 40, lambda reports: "done" if min(r.individuals for r in reports) > 200 else None)
    final = ProcessExecutor().run(resumed, again, lambda states: None, math.inf)
    assert [s.island for s in final] == [0, 1]
    assert all(f.individuals > max(200, c) for f, c in zip(final, counts[-1]))


def test_a_dying_worker_is_a_clear_error():
    from azlang.search.executors import ProcessExecutor

    killed = []

    def kill_one(reports):
        if not killed:
            killed.append(mp.active_children()[0].pid)
            os.kill(killed[0], signal.SIGKILL)

    coordinator = Coordinator(2, Rng(1), 0, lambda reports: None, on_report=kill_one)
    cfg = cfg_of("python")
    with pytest.raises(AzError, match=r"worker process died: island \d \(exit code -9\)"):
        ProcessExecutor().run([job_of(cfg, 0), job_of(cfg, 1)], coordinator, lambda s: None, math.inf)


def test_the_coordinator_foresees_its_stop_from_each_islands_pace():
    from azlang.search.island_serving import stop_ahead
    from azlang.search.islands import Report

    def rep(k, steps):
        return Report(k, steps // 10, steps, (0.0, 0.0, 0.0), (0, 0), (0, 0))

    coordinator = Coordinator(2, Rng(1), 0, lambda reports: "budget" if sum(r.train_steps for r in reports) >= 1000
                              else None)
    before, latest = {0: rep(0, 100), 1: rep(1, 100)}, {0: rep(0, 200), 1: rep(1, 150)}
    assert not stop_ahead(coordinator, {0: latest[0]}, before)  # not every island has reported yet
    assert not stop_ahead(coordinator, latest, before)  # 200 + 3 * 100 + 150 + 3 * 50 = 800
    latest[1] = rep(1, 250)
    assert stop_ahead(coordinator, latest, before)  # 500 + 700 = 1200


def test_worker_pipes_hold_a_migration_in_flight():
    """The island pipes' socket buffers are widened (as far as the system allows) so that a worker's emigrants
    do not wait, chunk by chunk, for the coordinator to read them."""
    import socket

    from azlang.search.executors import PIPE_BYTES, _widen

    parent, child = mp.Pipe()
    with socket.socket(fileno=os.dup(child.fileno())) as s:
        before = s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        _widen(parent, child)
        after = s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    try:
        allowed = int(Path("/proc/sys/net/core/wmem_max").read_text())
    except OSError:
        allowed = 0
    if allowed >= PIPE_BYTES:
        assert after >= PIPE_BYTES > before
    else:
        assert after >= before
    payload = np.zeros(PIPE_BYTES // 40)  # a large emigrant group, sent with nobody reading yet
    if after >= 2 * payload.nbytes:
        child.send(payload)
        assert parent.poll(5) and parent.recv().nbytes == payload.nbytes
