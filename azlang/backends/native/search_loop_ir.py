"""Native stage: the exact regularized-evolution loop's IR (search_loop.py says what a chunk does).

Imported on an object-cache miss only (search_loop.addresses builds through it), so running a cached loop does
not load llvmlite.ir and the IR builders.
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native import search_abi as abi
from azlang.backends.native.irutil import F64, I1, I32, I64, PTR
from azlang.backends.native.search_dce_ir import build_dce
from azlang.backends.native.search_emit import Fn, Lib, c64, cf
from azlang.backends.native.search_eval import Slot, build_eval, child, copy, copy_program, live
from azlang.backends.native.search_fec import build_cache, build_hash
from azlang.backends.native.search_gen import build_instructions, build_log_scale, build_random_program, build_rng
from azlang.backends.native.search_loop import CHUNK
from azlang.backends.native.search_mutate import EDIT_NONE, build_mutate
from azlang.backends.native.skeleton import prefetch
from azlang.ir.nodes import MemoryShape

VOID = ir.VoidType()


def build_module(shape: MemoryShape) -> ir.Module:
    module = ir.Module(name=f"azlang_search_s{shape.S}v{shape.V}m{shape.M}")
    lib = Lib(module, shape)
    for build in (build_rng, build_instructions, build_log_scale, build_random_program, build_mutate, build_dce):
        build(lib)
    build_hash(lib)
    build_cache(lib)
    build_eval(lib)
    for build in (_tournament, _evaluate, _write_child, _take_line, _chunk):
        build(lib)
    for fn in module.functions:
        if fn.blocks:
            fn.attributes.add("optsize")
    return module


def _tournament(lib: Lib) -> None:
    """Index of the fittest of T draws below(P); the first drawn wins ties (evolution.tournament).

    Each fitness x is compared as an integer key, monotone in x (-0.0 taken as +0.0, which `>` holds equal): a
    draw is taken when its key is greater, so the chain from draw to draw is one integer compare and two selects
    (a float compare's result crossed the mask registers into the select), and the draws overlap. A NaN is never
    greater than anything (key INT64_MIN) unless it is the first draw, which then stays (key INT64_MAX)."""
    f = Fn(lib.module, "tournament", I64, [])
    b, fit, P = f.b, f.cxp("FIT"), f.cx("P")
    lo, hi = c64(-(1 << 63)), c64((1 << 63) - 1)

    def draw():
        i = f.call(lib.below, P)
        x = f.ld(fit, i, F64)
        bits = b.bitcast(b.fadd(x, cf(0.0)), I64)
        key = b.xor(bits, b.and_(b.ashr(bits, c64(63)), hi))  # sign-magnitude -> two's complement order
        return i, key, b.fcmp_unordered("uno", x, x)

    with f.if_(f.le(f.cx("T"), 0)):
        f.ret(-1)
    i0, key0, nan0 = draw()
    best, best_key = f.var(i0), f.var(f.sel(nan0, hi, key0))
    with f.loop(f.cx("T"), 1):
        i, key, nan = draw()
        take = b.icmp_signed(">", f.sel(nan, lo, key), best_key.get())
        best.set(f.sel(take, i, best.get()))
        best_key.set(f.sel(take, key, best_key.get()))
    f.ret(best.get())
    lib.tournament = f.finish()


def _evaluate(lib: Lib) -> None:
    """SearchEvaluator.evaluate for the child: budget, live program, tasks by stage, hurdle."""
    f = Fn(lib.module, "evaluate", F64, [I1, I64])
    has_parent, parent = f.args
    b = f.b
    f.cx_add("EVALUATIONS", 1)
    f.call(lib.budget)
    same, src = f.var(ir.Constant(I1, 0)), f.var(parent)  # src: the slot whose probe records the child reuses
    fec = f.flag(f.cx("FEC"))
    with f.if_else(b.and_(has_parent, fec)) as (kin, alone):
        with kin:
            ps, ok = Slot(f, parent), f.cxp("PL_OK")
            with f.if_(f.eq(f.ld(ok, parent), 0)):  # written from Python since (or resized): dce it once here
                f.call(lib.dce, ps.code, ps.data, ps.sizes, *ps.live)
                _copy_after(f, lib, _after(f, lib, parent), f.cxp("DCE_AFTER"), ps.sizes)
                f.st(ok, parent, c64(1))
                f.st(f.cxp("PHASH"), parent, f.call(lib.live_hash, *ps.live))
            with f.if_else(_dead_edit(f, lib, parent)) as (quick, full):
                with quick:  # the parent's live program is the child's
                    copy_program(f, *live(f), *ps.live)
                    _copy_after(f, lib, f.cxp("DCE_AFTER"), _after(f, lib, parent), ps.sizes)
                    same.set(ir.Constant(I1, 1))
                    f.cx_add("DEAD_EDITS", 1)
                    with f.if_(f.flag(f.cx("DEAD_CHECK"))):
                        _check_dead_edit(f, lib)
                with full:
                    f.call(lib.dce, *child(f), *live(f))
                    same.set(f.call(lib.same_program, *live(f), *ps.live))
        with alone:
            f.call(lib.dce, *child(f), *live(f))
    with f.if_(fec):
        _memo(f, lib, same, src, parent)
    nt, valid, fits = f.cx("NT"), f.cxp("CH_VALID"), f.cxp("TASKFITS")
    with f.loop(nt) as t:
        f.st(valid, t, c64(0))
    hurdle = f.flag(f.cx("HURDLE"))
    k = f.sel(hurdle, f.cx("HURDLE_K"), nt)
    f.call(lib.stage, c64(0), k, same.get(), src.get())
    with f.loop(k) as t:
        f.st(fits, t, f.call(lib.task_fitness, t, same.get(), src.get()), F64)
    with f.if_(hurdle):
        partial = f.call(lib.combine, k)
        f.cx_add("H_TESTED", 1)
        with f.if_(b.fcmp_ordered("<", partial, f.cxf("HURDLE_VALUE"))):
            f.ret(partial)
        f.cx_add("H_PASSED", 1)
        f.call(lib.stage, k, nt, same.get(), src.get())
        with f.loop(nt, k) as t:
            f.st(fits, t, f.call(lib.task_fitness, t, same.get(), src.get()), F64)
    f.ret(f.call(lib.combine, nt))
    lib.evaluate = f.finish()


def _after(f: Fn, lib: Lib, slot):
    return f.gep(f.cxp("PL_AFTER"), f.mul(slot, f.cx("CAP")), lib.bits)


def _copy_after(f: Fn, lib: Lib, dst, src, sizes) -> None:
    """A program's DCE_AFTER sets, one per row."""
    copy(f, dst, src, f.add(f.add(f.ld(sizes, 0), f.ld(sizes, 1)), f.ld(sizes, 2)), lib.bits)


def _dead_edit(f: Fn, lib: Lib, parent):
    """Whether the child's live program is its parent's without dce: Mutate changed nothing (EDIT_NONE) or
    rewrote in place a row dead in the parent into one that is dead as well (search_dce.stays_dead)."""
    edit = f.cx("CH_EDIT")
    out = f.var(f.eq(edit, EDIT_NONE))
    with f.if_(f.le(0, edit)):
        out.set(f.call(lib.stays_dead, f.gep(f.cxp("CH_CODE"), f.mul(edit, 4), I32), _after(f, lib, parent), edit))
    return out.get()


def _check_dead_edit(f: Fn, lib: Lib) -> None:
    """DEAD_CHECK (tests): dce the child anyway; DEAD_BAD counts children whose live program or sets differ."""
    b = f.b
    sets = f.var(c64(0))
    scratch = f.cxp("LP_CODE"), f.cxp("LP_DATA"), f.cxp("LP_SIZES")
    kept, now, sizes = f.cxp("LP_AFTER"), f.cxp("DCE_AFTER"), f.cxp("CH_SIZES")
    _copy_after(f, lib, kept, now, sizes)  # the parent's, which the shortcut took
    f.call(lib.dce, *child(f), *scratch)
    rows = f.add(f.add(f.ld(sizes, 0), f.ld(sizes, 1)), f.ld(sizes, 2))
    with f.loop(rows) as r, f.if_(f.ne(f.ld(kept, r, lib.bits), f.ld(now, r, lib.bits))):
        sets.set(c64(1))
    bad = b.or_(b.not_(f.call(lib.same_program, *live(f), *scratch)), f.ne(sets.get(), 0))
    f.cx_add("DEAD_BAD", b.zext(bad, I64))


def _memo(f: Fn, lib: Lib, same, src, parent) -> None:
    """CH_HASH = the child's live-program hash; a child whose live program is not its parent's but equals the
    live program of the slot the table names for its hash (compared in full) reuses that slot's probe records,
    as a child like its parent reuses the parent's: a probe depends on the live program alone."""
    b = f.b
    with f.if_else(same.get()) as (parents, other):
        with parents:
            f.cx_set("CH_HASH", f.ld(f.cxp("PHASH"), parent))
        with other:
            h = f.call(lib.live_hash, *live(f))
            f.cx_set("CH_HASH", h)
            s = f.ld(f.cxp("PM_TABLE"), b.and_(h, f.cx("PM_MASK")))
            with f.if_(f.le(0, s)), f.if_(f.ne(f.ld(f.cxp("PL_OK"), s), 0)), f.if_(f.eq(f.ld(f.cxp("PHASH"), s), h)), \
                    f.if_(f.call(lib.same_program, *live(f), *Slot(f, s).live)):
                same.set(ir.Constant(I1, 1))
                src.set(s)
                f.cx_add("MEMO_HITS", 1)


def _write_child(lib: Lib) -> None:
    """The child and its fitness replace the slot at the cursor; best-ever, counters, cursor."""
    f = Fn(lib.module, "write_child", VOID, [F64])
    (fit,) = f.args
    b = f.b
    cur = f.cx("CURSOR")
    s = Slot(f, cur)
    total = copy_program(f, s.code, s.data, s.sizes, *child(f))
    with f.if_(f.flag(f.cx("FEC"))):  # kept for its use as a parent (only FEC compares live programs)
        copy_program(f, *s.live, *live(f))  # evaluate left the child's live program in LV
        _copy_after(f, lib, _after(f, lib, cur), f.cxp("DCE_AFTER"), f.cxp("CH_SIZES"))  # and its sets
        f.st(f.cxp("PL_OK"), cur, c64(1))
        h = f.cx("CH_HASH")
        f.st(f.cxp("PHASH"), cur, h)
        f.st(f.cxp("PM_TABLE"), b.and_(h, f.cx("PM_MASK")), cur)
    f.st(f.cxp("FIT"), cur, fit, F64)
    nt = f.cx("NT")
    for dst, name in ((s.part, "CH_PART"), (s.steps, "CH_STEPS"), (s.valid, "CH_VALID")):
        copy(f, dst, f.cxp(name), nt, I64)
    f.cx_set("MAX_TOTAL", f.sel(f.lt(f.cx("MAX_TOTAL"), total), total, f.cx("MAX_TOTAL")))
    with f.if_(b.or_(b.not_(f.flag(f.cx("HAS_BEST"))), b.fcmp_ordered(">", fit, f.cxf("BEST_FIT")))):
        copy_program(f, f.cxp("BEST_CODE"), f.cxp("BEST_DATA"), f.cxp("BEST_SIZES"), *child(f))
        f.cx_set("BEST_FIT", fit)
        f.cx_set("HAS_BEST", 1)
    nxt = f.add(cur, 1)
    f.cx_set("CURSOR", f.sel(f.eq(nxt, f.cx("P")), 0, nxt))
    f.cx_add("INDIVIDUALS", 1)
    lib.write_child = f.finish()


def _take_line(lib: Lib) -> None:
    """take_line(ctx) -> 1 when LINE_BUF is then full: at a sweep end with LINE_NEXT individuals or more, what the
    progress line Python would write here reads, as row LINE_COUNT (search_abi.LINE_FIELDS): the counters, and
    the population's fitness sum, sum of squares (added in slot order from -0.0: NumPy's cumulative sum, as
    evolution.population_stats adds them) and maximum as Python's max takes it (the first of the largest; a
    NaN never replaces). The next line is due LINE_EVERY individuals later (ProgressTracker.on_report's rule)."""
    f = Fn(lib.module, "take_line", I64, [])
    b = f.b
    row = f.gep(f.cxp("LINE_BUF"), f.mul(f.cx("LINE_COUNT"), abi.LINE_WORDS), I64)
    for field, slot in (("individuals", "INDIVIDUALS"), ("train_steps", "TRAIN_STEPS"), ("fec_hits", "C_HITS"),
                        ("fec_misses", "C_MISSES"), ("hurdle_tested", "H_TESTED"), ("hurdle_passed", "H_PASSED"),
                        ("best_fit", "BEST_FIT"), ("has_best", "HAS_BEST")):
        f.st(row, abi.LINE[field], f.cx(slot))
    fits = f.cxp("FIT")
    total, squares, top = f.var(cf(-0.0)), f.var(cf(-0.0)), f.var(f.ld(fits, 0, F64))
    with f.loop(f.cx("P")) as i:
        x = f.ld(fits, i, F64)
        total.set(b.fadd(total.get(), x))
        squares.set(b.fadd(squares.get(), b.fmul(x, x)))
        top.set(b.select(b.fcmp_ordered(">", x, top.get()), x, top.get()))
    for field, v in (("fit_sum", total), ("fit_squares", squares), ("fit_max", top)):
        f.st(row, abi.LINE[field], b.bitcast(v.get(), I64))
    clock = f.cx("CLOCK")
    with f.if_(f.flag(clock)):  # clock_gettime(CLOCK_ID, &timespec) into the row's last two words
        proto = ir.FunctionType(I32, [I64, PTR])
        b.call(b.inttoptr(clock, proto.as_pointer()), [f.cx("CLOCK_ID"), f.gep(row, abi.LINE["clock_s"], I64)])
    f.cx_set("LINE_NEXT", f.add(f.cx("INDIVIDUALS"), f.cx("LINE_EVERY")))
    f.cx_add("LINE_COUNT", 1)
    f.ret(b.zext(b.icmp_signed(">=", f.cx("LINE_COUNT"), f.cx("LINE_CAP")), I64))
    lib.take_line = f.finish()


def _ask_parent(f: Fn, lib: Lib, parent, ps: Slot) -> None:
    """Hints: the parent's lines that evaluate reads after the copy and the mutation (its live program, dce sets,
    live hash and probe records, each a row of its own array at a random slot), asked for at once so their
    misses overlap each other and the copy instead of coming one by one."""
    b, last = f.b, f.sub(f.cx("NT"), 1)
    for p in (ps.part, ps.steps, ps.valid):
        prefetch(b, p)
        prefetch(b, f.gep(p, last, I64))
    for p in ps.live:
        prefetch(b, p)
    prefetch(b, _after(f, lib, parent))
    prefetch(b, f.gep(f.cxp("PL_OK"), parent, I64))
    prefetch(b, f.gep(f.cxp("PHASH"), parent, I64))


def _chunk(lib: Lib) -> None:
    """chunk(ctx) -> status: COUNT children from SOURCE; DONE counts them; GROW asks for more capacity; STOPPED:
    a sweep ended with STOP_STEPS train steps or more (0: no such stop)."""
    f = Fn(lib.module, CHUNK, I64, [], export=True)
    f.cx_set("DONE", 0)
    src = f.cx("SOURCE")
    with f.loop(f.cx("COUNT")):
        fit = f.var(cf(0.0))
        with f.if_else(f.eq(src, abi.SOURCE_EVOLVE)) as (evolve, fresh):
            with evolve:
                with f.if_(f.lt(f.cx("CAP"), f.add(f.cx("MAX_TOTAL"), 1))):
                    f.ret(abi.STATUS_GROW)
                parent = f.call(lib.tournament)
                ps = Slot(f, parent)
                _ask_parent(f, lib, parent, ps)
                copy_program(f, *child(f), ps.code, ps.data, ps.sizes)
                f.call(lib.mutate, c64(0))
                fit.set(f.call(lib.evaluate, ir.Constant(I1, 1), parent))
            with fresh:
                f.call(lib.random_program)
                with f.if_(f.eq(src, abi.SOURCE_INIT_RANDOM)):
                    f.call(lib.mutate, c64(1))
                fit.set(f.call(lib.evaluate, ir.Constant(I1, 0), c64(0)))
        f.call(lib.write_child, fit.get())
        f.cx_add("DONE", 1)
        # at sweep ends: the progress line Python would write (before the stop: a report makes both decisions;
        # a full line buffer ends the chunk), then Python's stop check on the train-step budget (so a chunk may
        # span many sweeps and lines)
        sweep_end = f.eq(f.cx("CURSOR"), 0)
        line_due = f.b.and_(f.lt(0, f.cx("LINE_EVERY")), f.le(f.cx("LINE_NEXT"), f.cx("INDIVIDUALS")))
        with f.if_(f.b.and_(sweep_end, line_due)), f.if_(f.flag(f.call(lib.take_line))):
            f.ret(abi.STATUS_LINES)  # the report that follows decides the stop too
        stop = f.cx("STOP_STEPS")
        with f.if_(f.b.and_(f.b.and_(sweep_end, f.lt(0, stop)), f.le(stop, f.cx("TRAIN_STEPS")))):
            f.ret(abi.STATUS_STOPPED)
    f.ret(abi.STATUS_DONE)
    f.finish()
