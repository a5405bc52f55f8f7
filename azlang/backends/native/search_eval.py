"""Native stage: one candidate on one task in the search loop: budget, kernel call, FEC probe and cache.

Tasks run through the kernel interpreter's task functions (the task table's TASK_FN slots) on the child's
live program (dead code removed). A probe runs with a fresh Rng(235732282) and records its errors, which
are hashed into the FEC key; a miss runs the full evaluation with the island's search Rng.
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native import abi as kabi
from azlang.backends.native.irutil import F64, I1, I32, I64, PTR
from azlang.backends.native.search_emit import Fn, Lib, c64, cf
from azlang.backends.native.search_fec import combine
from azlang.backends.native.search_lanes import build_stage, evaluate_alone, probe_alone

VOID = ir.VoidType()


class Slot:
    """Pointers to one population slot's rows, sizes and probe records."""

    def __init__(self, f: Fn, i):
        cap, nt = f.cx("CAP"), f.cx("NT")
        self.code = f.gep(f.cxp("POP_CODE"), f.mul(f.mul(i, cap), 4), I32)
        self.data = f.gep(f.cxp("POP_DATA"), f.mul(f.mul(i, cap), 3), F64)
        self.sizes = f.gep(f.cxp("POP_SIZES"), f.mul(i, 3), I64)
        self.part = f.gep(f.cxp("PPART"), f.mul(i, nt), I64)
        self.steps = f.gep(f.cxp("PSTEPS"), f.mul(i, nt), I64)
        self.valid = f.gep(f.cxp("PVALID"), f.mul(i, nt), I64)
        # the slot's live program (dead code removed), valid when PL_OK[i]: rows laid out like the program's
        self.live = (f.gep(f.cxp("PL_CODE"), f.mul(f.mul(i, cap), 4), I32),
                     f.gep(f.cxp("PL_DATA"), f.mul(f.mul(i, cap), 3), F64), f.gep(f.cxp("PL_SIZES"), f.mul(i, 3), I64))


BLOCK = ir.VectorType(I32, 8)  # copies move 32 bytes a step


def copy(f: Fn, dst, src, n, ty) -> None:
    """n elements of type ty (buffers apart), in 32-byte blocks then 4-byte words: a loop the optimiser keeps
    short (the module is compiled for size) and no call for the few hundred bytes a program or record holds."""
    b = f.b
    size = ty.width // 8 if isinstance(ty, ir.IntType) else 8  # integers of any width, or doubles
    words = f.mul(n, size // 4)
    blocks = b.lshr(words, c64(3))
    with f.loop(blocks) as k:
        at = [f.mul(k, 8)]
        v = b.load(b.gep(src, at, source_etype=I32), typ=BLOCK, align=4)
        b.store(v, b.gep(dst, at, source_etype=I32), align=4)
    with f.loop(words, f.mul(blocks, 8)) as k:
        f.st(dst, k, f.ld(src, k, I32), I32)


def copy_program(f: Fn, dcode, ddata, dsizes, scode, sdata, ssizes) -> ir.Value:
    total = c64(0)
    for c in range(3):
        s = f.ld(ssizes, c)
        f.st(dsizes, c, s)
        total = f.add(total, s)
    copy(f, dcode, scode, f.mul(total, 4), I32)
    copy(f, ddata, sdata, f.mul(total, 3), F64)
    return total


def child(f: Fn):
    return f.cxp("CH_CODE"), f.cxp("CH_DATA"), f.cxp("CH_SIZES")


def live(f: Fn, prefix: str = "LV"):
    return f.cxp(f"{prefix}_CODE"), f.cxp(f"{prefix}_DATA"), f.cxp(f"{prefix}_SIZES")


def _budget(lib: Lib) -> None:
    """BUDGETED[t] = examples, or 0 when C_s + B C_t > factor (C_s_base + B C_t_base) (TrainBudget)."""
    f = Fn(lib.module, "budget", VOID, [])
    b = f.b
    examples, out = f.cxp("EXAMPLES"), f.cxp("BUDGETED")
    with f.if_(b.not_(f.flag(f.cx("BUDGET")))):
        copy(f, out, examples, f.cx("NT"), I64)
        f.ret()
    code, _, sizes = child(f)
    ns = f.ld(sizes, 0)
    total = f.add(f.add(ns, f.ld(sizes, 1)), f.ld(sizes, 2))
    cs, ct = f.var(c64(0)), f.var(c64(0))
    with f.loop(total) as r:
        cost = f.const(lib.op_cost, b.sext(f.ld(code, f.mul(r, 4), I32), I64))
        with f.if_else(f.lt(r, ns)) as (setup, train):
            with setup:
                cs.set(f.add(cs.get(), cost))
            with train:
                ct.set(f.add(ct.get(), cost))
    with f.loop(f.cx("NT")) as t:
        ex = f.ld(examples, t)
        limit = b.fmul(f.cxf("FACTOR"), b.sitofp(f.add(f.cx("BASE_SETUP"), f.mul(ex, f.cx("BASE_TRAIN"))), F64))
        ok = b.fcmp_ordered("<=", b.sitofp(f.add(cs.get(), f.mul(ex, ct.get())), F64), limit)
        f.st(out, t, f.sel(ok, ex, 0))
    lib.budget = f.finish()


def _run_task(lib: Lib) -> None:
    """run_task(t, opts, rng) -> fitness: the live child on task t through the kernel's task function."""
    f = Fn(lib.module, "run_task", F64, [I64, PTR, PTR])
    t, opts, rng = f.args
    b = f.b
    row = f.gep(f.cxp("TASKS"), f.mul(t, kabi.TASK_SLOTS), I64)
    fn = b.inttoptr(f.ld(row, kabi.TASK_FN), kabi.TASK_FN_TYPE.as_pointer())
    stats = f.cxp("STATS")
    for k in range(kabi.STAT_SLOTS):
        f.st(stats, k, c64(0))
    code, data, sizes = live(f)
    args = [
        code,
        data,
        f.ld(sizes, 0),
        f.ld(sizes, 1),
        f.ld(sizes, 2),
        row,
        opts,
        rng,
        f.cxp("MEM"),
        f.cxp("SCRATCH"),
        stats,
        f.cxp("REC_TRAIN"),
        f.cxp("REC_VALID"),
    ]
    f.ret(b.call(fn, args))
    lib.run_task = f.finish()


def _combine(lib: Lib) -> None:
    """fitness.combine over TASKFITS[0:n]: the mean (summed in order) or the upper median."""
    f = Fn(lib.module, "combine", F64, [I64])
    (n,) = f.args
    b, fits = f.b, f.cxp("TASKFITS")
    with f.if_(f.flag(f.cx("MEDIAN"))):
        with f.loop(n, 1) as i:  # insertion sort (stable, by <) of a handful of values
            j = f.var(i)
            with f.forever():
                jj = j.get()
                with f.if_(f.le(jj, 0)):
                    f.brk()
                x, y = f.ld(fits, f.sub(jj, 1), F64), f.ld(fits, jj, F64)
                with f.if_(b.not_(b.fcmp_ordered("<", y, x))):
                    f.brk()
                f.st(fits, f.sub(jj, 1), y, F64)
                f.st(fits, jj, x, F64)
                j.set(f.sub(jj, 1))
        f.ret(f.ld(fits, b.sdiv(n, c64(2)), F64))
    s = f.var(cf(0.0))
    with f.loop(n) as i:
        s.set(b.fadd(s.get(), f.ld(fits, i, F64)))
    f.ret(b.fdiv(s.get(), b.sitofp(n, F64)))
    lib.combine = f.finish()


def _task_fitness(lib: Lib) -> None:
    """One task's fitness: FEC probe (or the parent's record) -> cache -> full evaluation on a miss."""
    f = Fn(lib.module, "task_fitness", F64, [I64, I1, I64])
    t, same, parent = f.args
    b = f.b
    budgeted = f.ld(f.cxp("BUDGETED"), t)

    def full():
        fit = f.var(cf(0.0))
        spec = f.cxp("SPEC_OK")
        with f.if_else(f.flag(f.ld(spec, t))) as (ahead, now):
            with ahead:  # computed in lockstep by `stage`; only now does it count
                f.st(spec, t, c64(0))
                fit.set(f.ld(f.cxp("SPEC_FIT"), t, F64))
                f.cx_add("TRAIN_STEPS", f.ld(f.cxp("SPEC_STEPS"), t))
            with now:
                now_fit, now_steps = evaluate_alone(f, lib, t)
                fit.set(now_fit)
                f.cx_add("TRAIN_STEPS", now_steps)
        return fit.get()

    with f.if_(b.not_(f.flag(f.cx("FEC")))):
        f.ret(full())
    part, steps = f.var(c64(0)), f.var(c64(0))
    pslot = Slot(f, parent)
    reuse = b.and_(same, f.flag(f.ld(pslot.valid, t)))
    with f.if_else(reuse) as (old, new):
        with old:
            part.set(f.ld(pslot.part, t))
            steps.set(f.ld(pslot.steps, t))
            f.cx_add("PROBES_SKIPPED", 1)
        with new:
            pre = f.cxp("PRE_OK")
            with f.if_else(f.flag(f.ld(pre, t))) as (ahead, now):
                with ahead:  # probed in lockstep by `stage`
                    f.st(pre, t, c64(0))
                    part.set(f.ld(f.cxp("PRE_PART"), t))
                    steps.set(f.ld(f.cxp("PRE_STEPS"), t))
                with now:
                    now_part, now_steps = probe_alone(f, lib, t)
                    part.set(now_part)
                    steps.set(now_steps)
    f.st(f.cxp("CH_PART"), t, part.get())
    f.st(f.cxp("CH_STEPS"), t, steps.get())
    f.st(f.cxp("CH_VALID"), t, c64(1))
    f.cx_add("TRAIN_STEPS", steps.get())
    # the key `stage` computed, and the position it found for it unless an insert or a deletion has changed the
    # table since
    staged = f.flag(f.ld(f.cxp("ST_OK"), t))
    key_var = f.var(c64(0))
    with f.if_else(staged) as (kept, fresh):
        with kept:
            key_var.set(f.ld(f.cxp("ST_KEY"), t))
        with fresh:
            key_var.set(combine(b, combine(b, part.get(), t), budgeted))
    key = key_var.get()
    known = b.and_(staged, f.eq(f.cx("ST_GEN"), f.cx("C_GEN")))
    pos = f.var(c64(0))
    with f.if_else(known) as (found, anew):
        with found:
            pos.set(f.ld(f.cxp("ST_POS"), t))
        with anew:
            pos.set(f.call(lib.cache_find, key))
    cell = f.var(cf(0.0)).p
    with f.if_(f.call(lib.cache_lookup_at, key, pos.get(), cell)):
        f.ret(b.load(cell, typ=F64))
    fit = full()
    f.call(lib.cache_insert_at, key, fit, pos.get())  # a miss changes nothing in the table: `pos` stays where key goes
    f.ret(fit)
    lib.task_fitness = f.finish()


def build_eval(lib: Lib) -> None:
    for build in (_budget, _run_task, _combine, _task_fitness):
        build(lib)
    build_stage(lib)
