"""Search stage: an island whose exact-mode loop runs natively (backends/native/search_loop), chunk by chunk.

Python keeps the reference loop (evolution.Island) and everything between chunks: progress, stop checks,
hurdle updates, migration and checkpoints. One native call runs a chunk of children: up to the end of a
sweep, or up to the next hurdle update. The result is identical to the Python loop's: population,
fitnesses, counters, Rng state, hurdle counters and FEC cache contents.

Native: exact-mode evolution (batch 1) and random search with batch 1, any mutation list, budget, FEC,
hurdles, mean or median. Python fallback: batched sweeps (batch > 1), the NumPy backend. Init runs
natively for random initial populations; other initial populations are built by Python first.
"""

from __future__ import annotations

import ctypes
import time
from typing import TYPE_CHECKING

import numpy as np

from azlang.backends.native import pack
from azlang.backends.native import search_abi as abi
from azlang.errors import ConfigError
from azlang.search.backends import NativeAdapter
from azlang.search.config import ExperimentConfig
from azlang.search.evolution import Island, IslandState, stats_of_sums
from azlang.search.interrupt import poll
from azlang.search.native_state import Cache, FitnessView, NativeFecCache, Population, ProgramsView, pick

if TYPE_CHECKING:
    from azlang.search.islands import Report

_CHUNK = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p)
CHUNK_SECONDS = 0.1  # target length of one native call between stop-request polls
MIN_CHUNK, MAX_CHUNK = 16, 1 << 20
REPORT_SECONDS = 0.25  # sweeps without a report end at the first sweep end past this (time stops, timed lines)
# A search of OPS_LANES_MIN_STEPS train steps or more whose programs hold at most OPS_LANES_MAX ops that run in lane
# groups gets a lockstep function built for those ops (NativeLoop._ops_lanes): compiled once (then kept in the object
# cache), it finds an instruction's op by two or three compares instead of a jump table and, for tasks that never
# classify, leaves the classification paths out (README, performance)
OPS_LANES_MIN_STEPS = 5e7
OPS_LANES_MAX = 8
LINE_ROWS = 256  # progress lines one native call takes at most before it returns (one per sweep end at most)


def native_reason(cfg: ExperimentConfig, island: Island) -> str | None:
    """Why this island cannot use the native loop, or None when it can."""
    if not isinstance(island.evaluator.backend, NativeAdapter):
        return "the evaluation backend is not native (run.backend, or llvmlite unavailable)"
    if cfg.evolution.batch > 1:
        return "batched sweeps (evolution.batch > 1) run in Python only"
    if cfg.evolution.algorithm == "random" and any(c.frozen for c in cfg.components()):
        return "random search with frozen components runs in Python only"
    return None


def maybe_native(island: Island, cfg: ExperimentConfig) -> Island:
    """The island itself (Python loop) or a NativeIsland, as evolution.loop and the options allow."""
    mode = getattr(cfg.evolution, "loop", "auto")
    if mode == "python":
        return island
    reason = native_reason(cfg, island)
    if reason is None:
        return NativeIsland(island, cfg)
    if mode == "native":
        raise ConfigError(f"evolution.loop = 'native' is not possible here: {reason}", hint="use loop = 'auto'")
    return island


class NativeIsland(Island):
    def __init__(self, isl: Island, cfg: ExperimentConfig):
        super().__init__(
            isl.state,
            isl.P,
            isl.T,
            isl.algorithm,
            isl.batch,
            isl.gen,
            isl.mutator,
            isl.evaluator,
            isl.initial,
            isl.seeds,
        )
        self.cfg = cfg
        self.native: NativeLoop | None = None
        self.chunk = MIN_CHUNK
        self._lines: list[Report] = []

    def init_population(self) -> None:
        st = self.state
        if self.initial != "random" or len(st.programs):
            super().init_population()
            return
        self._attach()
        self._run(abi.SOURCE_INIT_RANDOM, self.P)
        if st.hurdle is not None:
            st.hurdle.update(st.fitnesses)

    def sweep(self) -> None:
        """One sweep from the cursor."""
        self._attach()
        self._chunks(self.P - self.state.cursor, 0)

    def advance_until(self, individuals: int | None, stop_steps: int | None,
                      lines: tuple[int, int] | None = None) -> None:
        """Whole sweeps until `individuals` are counted (None: no bound), or until an earlier sweep's end finds
        `stop_steps` train steps or more: what the reports after each sweep would decide (the stops on
        individuals and train steps), decided in the native loop, so that many sweeps take one call and no
        report. `lines` = (individuals of the next counted progress line, individuals between lines): the loop
        takes each line's numbers at the sweep end where a report would have written it (take_lines hands them
        over), and returns when LINE_ROWS are waiting. Within REPORT_SECONDS (time-based decisions). One sweep
        (advance) from a mid-sweep cursor, before the population is whole, with a watch (it is shown each
        sweep's slots in order), or without a horizon."""
        st = self.state
        if individuals is None:
            sweeps = 0 if lines is None else 1 << 40
        else:
            sweeps = -(-(individuals - st.individuals) // self.P)
        if sweeps <= 1 or st.cursor != 0 or len(st.programs) < self.P or st.watch is not None:
            self.advance()
            return
        self._attach()
        if lines is not None:
            self.native.lines_from(*lines)
        try:
            self._chunks(sweeps * self.P, stop_steps or 0, time.monotonic() + REPORT_SECONDS)
        finally:
            if lines is not None:
                self._lines += self._line_reports(self.native.lines_off())

    def take_lines(self) -> list[Report]:
        lines, self._lines = self._lines, []
        return lines

    def _line_reports(self, rows: np.ndarray) -> list[Report]:
        """The reports the lines' numbers stand for (population stats worked out, the time they were taken)."""
        from azlang.search.islands import Report  # islands imports this module
        st, n, F = self.state, self.P, abi.LINE
        clock_id = self.native.clock_id
        lag_base = time.clock_gettime(clock_id) if clock_id is not None else None
        now, out = time.monotonic(), []
        for row, bits in zip(rows.tolist(), rows.view(np.float64).tolist()):
            at = None if lag_base is None else now - (lag_base - (row[F["clock_s"]] + row[F["clock_ns"]] * 1e-9))
            out.append(Report(
                st.island, row[F["individuals"]], row[F["train_steps"]], None,
                (row[F["fec_hits"]], row[F["fec_misses"]]) if st.cache is not None else (0, 0),
                (row[F["hurdle_passed"]], row[F["hurdle_tested"]]) if st.hurdle is not None else (0, 0),
                best_ever=bits[F["best_fit"]] if row[F["has_best"]] else None,
                stats=stats_of_sums(bits[F["fit_sum"]], bits[F["fit_squares"]], bits[F["fit_max"]], n),
                at=at))
        return out

    def _chunks(self, total: int, stop_steps: int, report_by: float | None = None) -> None:
        """`total` children from the cursor, in chunks that end where the Python loop would update the hurdle,
        and early at the first sweep end with `stop_steps` train steps (when > 0), or at the first sweep end
        after `report_by` (time.monotonic), so that time-based decisions wait one sweep at most past it."""
        st, h = self.state, self.state.hurdle
        source = abi.SOURCE_RANDOM if self.algorithm == "random" else abi.SOURCE_EVOLVE
        while True:
            n = min(total, self.chunk)  # bounded chunks: a stop request waits one chunk at most
            ticking = h is not None and st.individuals >= self.P  # Island._count ticks past Init only
            if ticking:
                n = min(n, max(1, h.update_every - h.since_update))
            started = time.perf_counter()
            done, stopped = self._run(source, n, stop_steps)
            self._tune_chunk(n, time.perf_counter() - started)
            if ticking:
                h.since_update += done
                if h.since_update >= h.update_every:
                    h.update(st.fitnesses)
            total -= done
            if report_by is not None and time.monotonic() > report_by:
                total, report_by = min(total, (self.P - st.cursor) % self.P), None  # to this sweep's end
            if total == 0 or stopped:
                return
            if self.native.lines_waiting():  # their report comes before any poll (it may checkpoint or stop the
                total = min(total, (self.P - st.cursor) % self.P)  # run, and would lose them): to this sweep's end
                if total == 0:
                    return
                continue
            poll()  # between chunks the state is whole (pulled, hurdle counted)

    def emigrants(self, fraction: float) -> list:
        """Island.emigrants (the same draws, the same members), read from the native population in one go."""
        if self.native is None:
            return super().emigrants(fraction)
        st = self.state
        k = int(len(st.programs) * fraction)
        order = st.rng.permutation(len(st.programs))[:k].tolist()
        return list(zip(pick(st.fitnesses, order), self.native.pop.get_many(order)))

    def immigrate(self, arrivals: list) -> None:
        """Island.immigrate: arrivals replace the oldest members in cursor order, written and checked in bulk."""
        if self.native is None:
            super().immigrate(arrivals)
            return
        st = self.state
        arrivals = arrivals[: self.P]
        slots = [(st.cursor + k) % self.P for k in range(len(arrivals))]
        self.native.pop.put_many(slots, [bc for _, bc in arrivals], self.native.shape, self.native.Fs)
        for i, (fit, _) in zip(slots, arrivals):
            st.fitnesses[i] = self.native.pop.fit[i] = fit
        st.cursor = (st.cursor + len(arrivals)) % self.P

    def immigrate_packed(self, arrivals) -> None:
        """immigrate() of a migrants.Packed group (from another process): its rows written and checked in bulk."""
        st = self.state
        if len(arrivals) > self.P:
            arrivals = arrivals.take(range(self.P))
        slots = (st.cursor + np.arange(len(arrivals))) % self.P
        pop = self.native.pop
        pop.put_packed(slots, arrivals, self.native.shape, self.native.Fs)
        pop.fit[slots] = arrivals.fitness
        if not (isinstance(st.fitnesses, FitnessView) and st.fitnesses.fit is pop.fit):
            for i, fit in zip(slots.tolist(), arrivals.fitness.tolist()):
                st.fitnesses[i] = fit
        st.cursor = (st.cursor + len(arrivals)) % self.P

    def _tune_chunk(self, n: int, seconds: float) -> None:
        """Chunks of about CHUNK_SECONDS: short enough for a prompt stop, long enough to cost nothing."""
        if n == self.chunk and seconds < CHUNK_SECONDS / 2:
            self.chunk = min(MAX_CHUNK, 2 * self.chunk)
        elif seconds > 2 * CHUNK_SECONDS and self.chunk > MIN_CHUNK:
            self.chunk = max(MIN_CHUNK, self.chunk // 2)

    def _attach(self) -> None:
        if self.native is None:
            self.native = NativeLoop(self, self.cfg)

    def _run(self, source: int, n: int, stop_steps: int = 0) -> tuple[int, bool]:
        """Up to n children; (how many were made, whether a sweep end found stop_steps train steps)."""
        start = self.state.cursor
        self.native.push(self.state)
        left, stopped = self.native.run(source, n, stop_steps)
        self.native.pull(self.state)
        self.observe_slots(start, n - left)  # the chunk's children, in order, for the watch (search/watch.py)
        return n - left, stopped


class NativeLoop:
    """The context array of one island and the calls into the generated chunk function."""

    def __init__(self, isl: Island, cfg: ExperimentConfig):
        from azlang.backends.native import search_dce, search_loop  # llvmlite: only when a native loop is built

        ev = isl.evaluator
        self.whole = ev.backend.whole  # the NativeEvaluator: task table, kernels, checked tasks
        self.shape, self.Fs = self.whole.shape, self.whole.Fs
        fns = search_loop.addresses(self.shape)
        self._chunk = _CHUNK(fns[search_loop.CHUNK])
        self.ctx = abi.Ctx()
        # The context's slots as int64 / uint64 / float64 words, read and written in place by push, pull and run
        # (once per chunk: Ctx's by-name accessors build a NumPy view per value); the array is never replaced.
        self._i64 = self.ctx.a
        self._u64, self._f64 = self._i64.view(np.uint64), self._i64.view(np.float64)
        self._address = self._i64.ctypes.data
        self._params(isl, cfg)
        self._evaluation(isl, cfg)
        self.clock_id = self._lines_setup()
        st = isl.state
        sizes = [sum(isl.gen.size_init)] + [len(bc.code) for bc in list(st.programs) + list(isl.seeds)]
        self.pop = Population(self.ctx, isl.P, len(ev.examples), max(sizes) + 8, search_dce.width(self.shape) // 64)
        for i, bc in enumerate(st.programs):
            self.pop.put(i, bc, self.shape, self.Fs)
        self._ops_lanes(isl, cfg)
        if st.best is not None:
            self.pop.set_best(*st.best)
        self._best_seen = st.best[0] if st.best is not None else None
        self.fitnesses = FitnessView(self.pop.fit)  # state.fitnesses from the first pull on (push copies any other in)
        self.cache = None
        if st.cache is not None:
            self.cache = Cache(self.ctx, st.cache.capacity, st.cache.forget_every, fns)
            self.cache.load(st.cache)
            st.cache = ev.cache = NativeFecCache(self.cache)
        st.programs = ProgramsView(self.pop, self.shape, self.Fs)

    def _lines_setup(self) -> int | None:
        """The progress lines' buffer, and clock_gettime for their times (the clock time.clock_gettime reads
        with the id returned; None where the C library has no clock_gettime: the lines then take the time they
        are handed over)."""
        c = self.ctx
        c.array("LINE_BUF", np.zeros((LINE_ROWS, abi.LINE_WORDS), dtype=np.int64))
        c["LINE_CAP"] = LINE_ROWS
        try:
            clock, clock_id = ctypes.CDLL(None).clock_gettime, time.CLOCK_MONOTONIC
        except (AttributeError, OSError):
            return None
        c["CLOCK"], c["CLOCK_ID"] = ctypes.cast(clock, ctypes.c_void_p).value, clock_id
        return clock_id

    def lines_from(self, next_line: int, every: int) -> None:
        """Take progress lines from `next_line` individuals on, one every `every` (at sweep ends)."""
        w, slot = self._i64, abi.SLOT
        w[slot["LINE_NEXT"]], w[slot["LINE_EVERY"]], w[slot["LINE_COUNT"]] = next_line, max(1, every), 0

    def lines_waiting(self) -> bool:
        return self._i64.item(abi.SLOT["LINE_COUNT"]) > 0

    def lines_off(self) -> np.ndarray:
        """The rows of the lines taken (a copy), and no more lines taken."""
        w, slot = self._i64, abi.SLOT
        rows = self.ctx.keep["LINE_BUF"][: w[slot["LINE_COUNT"]]].copy()
        w[slot["LINE_EVERY"]], w[slot["LINE_COUNT"]] = 0, 0
        return rows

    def _params(self, isl: Island, cfg: ExperimentConfig) -> None:
        c, mut, gen = self.ctx, isl.mutator, isl.gen
        c["P"], c["T"] = isl.P, isl.T
        c.set_f("PROB", mut.prob)
        c["PROB_LT1"] = int(mut.prob < 1.0)
        c["N_ACTIONS"] = len(mut.actions)
        c.array("ACTIONS", np.array(mut.actions, dtype=np.int64))
        c["N_MUTABLE"] = len(mut.mutable)
        c.array("MUTABLE", np.array(list(mut.mutable) or [0], dtype=np.int64))
        ops = [c.array(f"ops{k}", np.array(list(gen.ops[k]) or [0], dtype=np.int64)) for k in range(3)]
        c.array("OPS", np.array([a.ctypes.data for a in ops], dtype=np.int64))
        c.array("NOPS", np.array([len(o) for o in gen.ops], dtype=np.int64))
        c.array("SMIN", np.array(mut.size_min, dtype=np.int64))
        c.array("SMAX", np.array(mut.size_max, dtype=np.int64))
        c.array("SINIT", np.array(gen.size_init, dtype=np.int64))

    def _evaluation(self, isl: Island, cfg: ExperimentConfig) -> None:
        from azlang.backends.native import abi as kabi

        c, ev, w = self.ctx, isl.evaluator, self.whole
        nt = len(ev.examples)
        c["NT"] = nt
        c.array("EXAMPLES", np.array(ev.examples, dtype=np.int64))
        c.array("BUDGETED", np.zeros(nt, dtype=np.int64))
        if ev.budget is not None:
            c["BUDGET"], c["BASE_SETUP"], c["BASE_TRAIN"] = 1, ev.budget.base_setup, ev.budget.base_train
            c.set_f("FACTOR", ev.budget.factor)
        c["HURDLE"] = int(len(ev.stages) > 1)
        c["HURDLE_K"] = len(ev.stages[0])
        c["MEDIAN"] = int(ev.mode == "median")
        c["FEC"] = int(ev.cache is not None)
        fec_train, fec_valid = ev.fec_examples
        w.order_train()  # before the table goes into the context: the lanes read train data in sequence order
        c.array("TASKS", w.table)
        c.array("MEM", pack.aligned(max(lay.size for lay in w.layouts)))
        c.array("SCRATCH", pack.aligned(max(lay.scratch for lay in w.layouts)))
        c.array("PROBE_OPTS", self._opts(fec_train, fec_valid, True))
        c.array("FULL_OPTS", self._opts(-1, -1, False))
        c.array("STATS", np.zeros(kabi.STAT_SLOTS, dtype=np.int64))
        valid = max(t.epochs * min(fec_valid, t.n_valid) for t in w.tasks)
        c.array("REC_TRAIN", pack.aligned(fec_train + 8))
        c.array("REC_VALID", pack.aligned(valid + 8))
        c.array("TASKFITS", np.zeros(nt))
        self._lanes(w, fec_train, valid + 8)

    def _lanes(self, w, n_train: int, n_valid: int) -> None:
        """Work space of the lockstep evaluations; LANES only when every task has one shape (lanes.py). A lane's
        probe records are one row: its n_train train errors, then its valid errors, so a lane that recorded every
        train step has its errors in one run that errors_hash reads in one go (it checks the addresses)."""
        from azlang.backends.native import abi as kabi

        c, nt = self.ctx, len(w.tasks)
        c["LANES"] = int(len({(t.F, t.n_train, t.epochs, t.n_valid) for t in w.tasks}) == 1)
        stride = -(-max(lay.size for lay in w.layouts) // 8) * 8
        args = c.array("LANE_ARGS", np.zeros(len(kabi.LANE_ARGS), dtype=np.int64))
        fixed = {"TASKS": w.table, "LANE_TASK": np.zeros(nt, dtype=np.int64),
                 "MEM": pack.aligned(kabi.lane_mem_doubles(nt, stride)),
                 "SCRATCH": pack.aligned(max(lay.scratch for lay in w.layouts)),
                 "STATS": np.zeros(nt * kabi.STAT_SLOTS, dtype=np.int64),
                 "REC_TRAIN": (rec := pack.aligned(kabi.lane_rec_doubles(nt, n_train + n_valid))),
                 "REC_VALID": rec[n_train:], "FIT": np.zeros(nt),
                 "WORK": np.zeros(nt * kabi.LANE_WORK, dtype=np.int64)}
        for name, arr in fixed.items():
            args[kabi.L[name]] = c.array(name if name.startswith("LANE_") else f"LANE_{name}", arr).ctypes.data
        rts = rvs = n_train + n_valid
        args[kabi.L["MEM_STRIDE"]], args[kabi.L["RT_STRIDE"]], args[kabi.L["RV_STRIDE"]] = stride, rts, rvs
        c["LANE_RTS"], c["LANE_RVS"] = rts, rvs
        c.array("LANE_RNG", np.zeros(nt, dtype=np.uint64))
        for name, dtype in (("PRE_OK", np.int64), ("PRE_PART", np.int64), ("PRE_STEPS", np.int64),
                            ("SPEC_OK", np.int64), ("SPEC_FIT", np.float64), ("SPEC_STEPS", np.int64),
                            ("ST_OK", np.int64), ("ST_KEY", np.int64), ("ST_POS", np.int64)):
            c.array(name, np.zeros(nt, dtype=dtype))

    def _ops_lanes(self, isl: Island, cfg: ExperimentConfig) -> None:
        """A lockstep function built for the ops this search's programs can hold (the components' op lists, the
        ops of the programs it starts from and of its seeds) when few of them run in lane groups and the run is
        long (OPS_LANES_MAX, OPS_LANES_MIN_STEPS), and without the classification paths when no search task
        classifies. The loop checks every live program against LANE_OPS first: one
        with another op (an immigrant from an island of other ops) runs through the tasks' own lockstep function."""
        from azlang.backends.native import abi as kabi
        from azlang.backends.native import kernel
        from azlang.ir.ops import NUM_OPS, OPS

        c, allowed = self.ctx, np.zeros(NUM_OPS, dtype=np.int64)
        c.array("LANE_OPS", allowed)
        c["OPS_LANES_FN"] = 0
        ops = {0, *(op for component in isl.gen.ops for op in component), *np.unique(self.pop.code[:, :, 0]).tolist()}
        for bc in isl.seeds:
            ops.update(np.asarray(bc.code).reshape(-1, 4)[:, 0].tolist())
        in_groups = {k for k in ops if k and not OPS[k].is_random}  # what a group runs (not the no-op; random ops
        # run in setup, lane by lane)
        if not c["LANES"] or len(in_groups) > OPS_LANES_MAX or cfg.stop.max_train_steps < OPS_LANES_MIN_STEPS:
            return
        allowed[sorted(ops)] = 1
        regression = not self.whole.table[:, kabi.TASK_CLASSIFY].any()  # no classification paths then: one task
        # table for all of this island's lockstep calls (TASKS)
        c["OPS_LANES_FN"] = kernel.ops_lanes_address(self.whole.tasks[0].F, self.shape, frozenset(ops), regression)

    def _opts(self, max_train: int, max_valid: int, probe: bool) -> np.ndarray:
        from azlang.backends.native import abi as kabi

        o = np.zeros(kabi.OPT_SLOTS, dtype=np.int64)
        o[kabi.OPT_MAX_TRAIN], o[kabi.OPT_MAX_VALID] = max_train, max_valid
        # a probe records its errors (hashed into the FEC key); its fitness and final memory are never read
        o[kabi.OPT_RECORD] = o[kabi.OPT_PROBE] = int(probe)
        o[kabi.OPT_MAX_ABS_ERROR] = np.float64(self.whole.max_abs_error).view(np.int64)
        return o

    # --- state in and out ------------------------------------------------------------------------------

    def push(self, st: IslandState) -> None:
        """Python's view of the island (it may have changed between chunks) into the context."""
        w, slot = self._i64, abi.SLOT
        self._u64[slot["RNG"]] = st.rng.state
        w[slot["CURSOR"]], w[slot["INDIVIDUALS"]] = st.cursor, st.individuals
        w[slot["TRAIN_STEPS"]], w[slot["EVALUATIONS"]] = st.counters.train_steps, st.counters.evaluations
        if len(st.fitnesses) == self.pop.P and st.fitnesses is not self.fitnesses:  # else the array holds it
            self.pop.fit[:] = st.fitnesses
        if st.hurdle is not None:
            self._f64[slot["HURDLE_VALUE"]] = st.hurdle.value
            w[slot["H_TESTED"]], w[slot["H_PASSED"]] = st.hurdle.tested, st.hurdle.passed

    def pull(self, st: IslandState) -> None:
        word, slot = self._i64.item, abi.SLOT
        st.rng.state = self._u64.item(slot["RNG"])
        st.cursor, st.individuals = word(slot["CURSOR"]), word(slot["INDIVIDUALS"])
        st.counters.train_steps, st.counters.evaluations = word(slot["TRAIN_STEPS"]), word(slot["EVALUATIONS"])
        st.fitnesses = self.fitnesses  # the array itself: nothing to convert between chunks
        if st.hurdle is not None:
            st.hurdle.tested, st.hurdle.passed = word(slot["H_TESTED"]), word(slot["H_PASSED"])
        if word(slot["HAS_BEST"]) and self._f64.item(slot["BEST_FIT"]) != self._best_seen:
            self._best_seen = self._f64.item(slot["BEST_FIT"])
            st.best = (self._best_seen, self.pop.best())

    def run(self, source: int, n: int, stop_steps: int = 0) -> tuple[int, bool]:
        """n children from `source`, growing the program capacity whenever the loop asks for it; with
        stop_steps > 0, up to the first sweep end with that many train steps. Returns (children not made,
        whether that stop ended the call)."""
        w, slot = self._i64, abi.SLOT
        w[slot["STOP_STEPS"]] = stop_steps
        while n > 0:
            w[slot["SOURCE"]], w[slot["COUNT"]] = source, n
            status = self._chunk(self._address)
            n -= w.item(slot["DONE"])
            if status == abi.STATUS_GROW:
                self.pop.resize(2 * self.pop.cap)
            elif status in (abi.STATUS_STOPPED, abi.STATUS_LINES):  # at a sweep end: the report decides
                return n, True
        return n, False
