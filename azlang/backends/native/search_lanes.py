"""Native stage: the search loop's lockstep step: a stage's probes and full evaluations in one kernel call each.

Before the tasks of a stage go through task_fitness one by one (probe -> cache -> full evaluation), `stage`
computes ahead, in lockstep (lanes.py), what task_fitness will need, and task_fitness takes it from there:
  - the FEC probes of every task not reusing its parent's record (probes are deterministic, and a probe has
    its own fresh Rng(235732282) per task, so computing them first changes nothing);
  - the full evaluations of the tasks whose FEC key is absent from the cache now, when the live program
    holds no random op (nothing is drawn, so the order is free); a full evaluation computed ahead but not
    used (the key was inserted meanwhile) is dropped and never counted, one needed but not computed ahead
    (its entry was evicted meanwhile) runs alone as before;
  - without FEC, every task's full evaluation (setups draw from the search Rng in task order, as before).
Counters (train steps, hits, misses) change only where task_fitness uses a result, so they stay exact.
Lockstep needs tasks of one shape (the LANES flag) and no random op in the live predict and learn. A lone task
to probe or to evaluate runs through its kernel function instead, with the same results (one lane leaves three of
its group idle: per train step the kernel is ~1.1x faster on the demo's shape, ~1.9x on a two-layer net at F=16).
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native import abi as kabi
from azlang.backends.native.irutil import F64, I1, I32, I64, PTR
from azlang.backends.native.search_emit import Fn, Lib, c64
from azlang.backends.native.search_fec import KEY, Cache, combine
from azlang.backends.native.skeleton import prefetch
from azlang.search.fec import FEC_SEED

VOID = ir.VoidType()


def _live_random(lib: Lib) -> None:
    """live_random() -> 1 when the live predict or learn holds a random op, 2 when only setup does, else 0. It also
    sets LV_OPS: whether OPS_LANES_FN runs every row's op (LANE_OPS)."""
    f = Fn(lib.module, "live_random", I64, [])
    code, sizes, allowed = f.cxp("LV_CODE"), f.cxp("LV_SIZES"), f.cxp("LANE_OPS")
    ns = f.ld(sizes, 0)
    total = f.add(f.add(ns, f.ld(sizes, 1)), f.ld(sizes, 2))
    f.cx_set("LV_OPS", 0)
    out, ok = f.var(c64(0)), f.var(f.sel(f.eq(f.cx("OPS_LANES_FN"), 0), 0, 1))
    with f.loop(total) as r:
        op = f.b.sext(f.ld(code, f.mul(r, 4), I32), I64)
        ok.set(f.b.and_(ok.get(), f.ld(allowed, op)))
        with f.if_(f.flag(f.const(lib.op_random, op))):
            with f.if_(f.le(ns, r)):
                f.ret(1)
            out.set(2)
    f.cx_set("LV_OPS", ok.get())
    f.ret(out.get())
    lib.live_random = f.finish()


def _lanes_run(lib: Lib) -> None:
    """lanes_run(n, opts, rng, rng_stride): the live program on tasks LANE_TASK[0:n] in one lockstep call."""
    f = Fn(lib.module, "lanes_run", VOID, [I64, PTR, PTR, I64])
    n, opts, rng, stride = f.args
    b, args = f.b, f.cxp("LANE_ARGS")
    code, data, sizes = f.cxp("LV_CODE"), f.cxp("LV_DATA"), f.cxp("LV_SIZES")
    for name, v in (("CODE", b.ptrtoint(code, I64)), ("DATA", b.ptrtoint(data, I64)), ("NS", f.ld(sizes, 0)),
                    ("NP", f.ld(sizes, 1)), ("NL", f.ld(sizes, 2)), ("N", n), ("OPTS", b.ptrtoint(opts, I64)),
                    ("RNG", b.ptrtoint(rng, I64)), ("RNG_STRIDE", stride)):
        f.st(args, kabi.L[name], v)
    row0 = f.gep(f.cxp("TASKS"), f.mul(f.ld(f.cxp("LANE_TASK"), 0), kabi.TASK_SLOTS), I64)
    # the function built for the search's ops when it runs all of the live program's (live_random said so)
    addr = f.sel(f.flag(f.cx("LV_OPS")), f.cx("OPS_LANES_FN"), f.ld(row0, kabi.TASK_LANES_FN))
    fn = b.inttoptr(addr, kabi.LANES_FN_TYPE.as_pointer())
    b.call(fn, [args])
    f.cx_add("LANE_CALLS", 1)
    f.cx_add("OPS_LANE_CALLS", f.cx("LV_OPS"))
    lib.lanes_run = f.finish()


def _stage(lib: Lib) -> None:
    from azlang.backends.native.search_eval import Slot

    f = Fn(lib.module, "stage", VOID, [I64, I64, I1, I64])
    lo, hi, same, parent = f.args
    b = f.b
    pre_ok, spec_ok, st_ok, lane_task = f.cxp("PRE_OK"), f.cxp("SPEC_OK"), f.cxp("ST_OK"), f.cxp("LANE_TASK")
    with f.loop(hi, lo) as t:
        f.st(pre_ok, t, c64(0))
        f.st(spec_ok, t, c64(0))
        f.st(st_ok, t, c64(0))
    rnd = f.call(lib.live_random)
    with f.if_(b.or_(b.not_(f.flag(f.cx("LANES"))), f.eq(rnd, 1))):
        f.ret()
    n = f.var(c64(0))

    def add(t):
        f.st(lane_task, n.get(), t)
        n.set(f.add(n.get(), 1))

    with f.if_else(f.flag(f.cx("FEC"))) as (fec, plain):
        with fec:
            ps, cache = Slot(f, parent), Cache(f)
            # Cache lines task_fitness will touch, asked for while the lockstep evaluations run (hints only):
            # the LRU entry (an insert evicts it), each present key's entry, the evicted entry's table slot.
            head = f.cx("C_HEAD")
            with f.if_(f.le(0, head)):
                prefetch(b, cache.entry_ptr(head))
            with f.loop(hi, lo) as t, f.if_(b.not_(b.and_(same, f.flag(f.ld(ps.valid, t))))):
                add(t)
            with f.if_(f.lt(0, n.get())):
                _probes(f, lib, n.get())
            with f.if_(f.ne(rnd, 0)):
                f.ret()  # setup draws from the search Rng: full evaluations stay one at a time, in order
            n.set(c64(0))
            budgeted = f.cxp("BUDGETED")
            f.cx_set("ST_GEN", f.cx("C_GEN"))  # task_fitness looks up at these positions while the table stays
            keys = f.cxp("ST_KEY")
            with f.loop(hi, lo) as t:  # every key's table line asked for first: the misses overlap
                part = f.sel(f.flag(f.ld(pre_ok, t)), f.ld(f.cxp("PRE_PART"), t), f.ld(ps.part, t))
                key = combine(b, combine(b, part, t), f.ld(budgeted, t))
                f.st(keys, t, key)
                prefetch(b, cache.slot_ptr(cache.home(key)))
            with f.loop(hi, lo) as t:
                pos = f.call(lib.cache_find, f.ld(keys, t))
                f.st(f.cxp("ST_POS"), t, pos)
                f.st(st_ok, t, c64(1))
                e = cache.slot(pos)
                with f.if_else(f.lt(e, 0)) as (absent, present):
                    with absent:
                        add(t)
                    with present:
                        prefetch(b, cache.entry_ptr(e))
            with f.if_(b.and_(f.lt(0, n.get()), f.le(0, head))):
                prefetch(b, cache.slot_ptr(cache.home(cache.get(head, KEY))))
        with plain, f.loop(hi, lo) as t:
            add(t)
    with f.if_(f.lt(0, n.get())):
        _fulls(f, lib, n.get())
    lib.stage = f.finish()


def probe_alone(f: Fn, lib: Lib, t):
    """Task t's FEC probe through its kernel function, with its own fresh Rng: (errors hash, train steps)."""
    f.cx_set("PROBE_RNG", c64(FEC_SEED))
    f.call(lib.run_task, t, f.cxp("PROBE_OPTS"), f.cx_addr("PROBE_RNG"))
    st = f.cxp("STATS")
    part = f.call(lib.errors_hash, f.cxp("REC_TRAIN"), f.ld(st, kabi.STAT_REC_TRAIN), f.cxp("REC_VALID"),
                  f.ld(st, kabi.STAT_REC_VALID))
    return part, f.ld(st, kabi.STAT_STEPS)


def evaluate_alone(f: Fn, lib: Lib, t):
    """Task t's full evaluation (FULL_OPTS, training on BUDGETED[t]) through its kernel function, drawing from the
    search Rng: (fitness, train steps)."""
    opts = f.cxp("FULL_OPTS")
    f.st(opts, kabi.OPT_MAX_TRAIN, f.ld(f.cxp("BUDGETED"), t))
    fit = f.call(lib.run_task, t, opts, f.cx_addr("RNG"))
    return fit, f.ld(f.cxp("STATS"), kabi.STAT_STEPS)


def _probes(f: Fn, lib: Lib, n) -> None:
    with f.if_else(f.eq(n, 1)) as (one, many):
        with one:  # one task: its kernel function (a lane group would run three idle lanes beside it)
            t = f.ld(f.cxp("LANE_TASK"), 0)
            _probed(f, t, *probe_alone(f, lib, t))
        with many:
            _probes_lanes(f, lib, n)


def _probed(f: Fn, t, part, steps) -> None:
    f.st(f.cxp("PRE_PART"), t, part)
    f.st(f.cxp("PRE_STEPS"), t, steps)
    f.st(f.cxp("PRE_OK"), t, c64(1))


def _probes_lanes(f: Fn, lib: Lib, n) -> None:
    rng, stats, lane_task = f.cxp("LANE_RNG"), f.cxp("LANE_STATS"), f.cxp("LANE_TASK")
    with f.loop(n) as a:
        f.st(rng, a, c64(FEC_SEED))
    f.call(lib.lanes_run, n, f.cxp("PROBE_OPTS"), rng, c64(1))
    rt, rv, rts, rvs = f.cxp("LANE_REC_TRAIN"), f.cxp("LANE_REC_VALID"), f.cx("LANE_RTS"), f.cx("LANE_RVS")
    with f.loop(n) as a:
        t = f.ld(lane_task, a)
        st = f.gep(stats, f.mul(a, kabi.STAT_SLOTS), I64)
        part = f.call(lib.errors_hash, f.gep(rt, f.mul(a, rts), F64), f.ld(st, kabi.STAT_REC_TRAIN),
                      f.gep(rv, f.mul(a, rvs), F64), f.ld(st, kabi.STAT_REC_VALID))
        _probed(f, t, part, f.ld(st, kabi.STAT_STEPS))


def _fulls(f: Fn, lib: Lib, n) -> None:
    lane_task, stats = f.cxp("LANE_TASK"), f.cxp("LANE_STATS")
    with f.if_else(f.eq(n, 1)) as (one, many):
        with one:  # one task: its kernel function, drawing from the search Rng as its lane would
            t = f.ld(lane_task, 0)
            _evaluated(f, t, *evaluate_alone(f, lib, t))
        with many:
            opts = f.cxp("FULL_OPTS")
            # tasks of one shape have one budget: every lane trains on BUDGETED of its first task
            f.st(opts, kabi.OPT_MAX_TRAIN, f.ld(f.cxp("BUDGETED"), f.ld(lane_task, 0)))
            f.call(lib.lanes_run, n, opts, f.cx_addr("RNG"), c64(0))
            with f.loop(n) as a:
                _evaluated(f, f.ld(lane_task, a), f.ld(f.cxp("LANE_FIT"), a, F64),
                           f.ld(stats, f.mul(a, kabi.STAT_SLOTS)))


def _evaluated(f: Fn, t, fit, steps) -> None:
    f.st(f.cxp("SPEC_FIT"), t, fit, F64)
    f.st(f.cxp("SPEC_STEPS"), t, steps)
    f.st(f.cxp("SPEC_OK"), t, c64(1))


def build_stage(lib: Lib) -> None:
    _live_random(lib)
    _lanes_run(lib)
    _stage(lib)
