"""Native stage: the IR of exact dead-code removal and live-program comparison (search_dce.py says what they do).

Imported on an object-cache miss only (the search loop's IR, search_loop_ir.py), so running a cached loop does not
load llvmlite.ir.
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native.irutil import F64, I1, I32, I64, PTR
from azlang.backends.native.search_dce import width
from azlang.backends.native.search_emit import Fn, Lib, c64
from azlang.backends.native.search_fec import combine
from azlang.backends.native.search_gen import mix
from azlang.rng import GAMMA


def build_dce(lib: Lib) -> None:
    W = ir.IntType(width(lib.shape))
    lib.bits = W
    _build_decode(lib, W)
    _build_sweep(lib, W)
    f = Fn(lib.module, "dce", ir.VoidType(), [PTR, PTR, PTR, PTR, PTR, PTR])  # src code/data/sizes -> dst
    _dce(f, lib, W, *f.args)
    lib.dce = f.finish()
    f = Fn(lib.module, "same_program", I1, [PTR, PTR, PTR, PTR, PTR, PTR])
    _same(f, *f.args)
    lib.same_program = f.finish()
    f = Fn(lib.module, "live_hash", I64, [PTR, PTR, PTR])
    _hash(f, *f.args)
    lib.live_hash = f.finish()
    f = Fn(lib.module, "stays_dead", I1, [PTR, PTR, I64])
    _stays_dead(f, lib, W, *f.args)
    lib.stays_dead = f.finish()


def _bit(f: Fn, lib: Lib, W, kind, addr):
    b = f.b
    index = b.add(f.const(lib.reg_base, kind), addr)
    one = b.shl(ir.Constant(W, 1), b.zext(index, W) if W.width > 64 else index)
    return b.select(f.eq(kind, 0), ir.Constant(W, 0), one)


def _build_decode(lib: Lib, W) -> None:
    """decode(code, n, masks): per row r of code, the sweep's four masks at masks[4r:4r+4]: `always` (all
    ones for a random op, which is kept whatever is live), `out` (the registers whose liveness makes the row
    live) and, for a row that runs, `kill` (what it overwrites) and `gen` (what it reads) folded into
    `keep` = ~kill and `gen`. NO_OP: nothing. OP57/58 write one element: kill and gen are empty."""
    f = Fn(lib.module, "dce_decode", ir.VoidType(), [PTR, I64, PTR])
    code, n, masks = f.args
    b = f.b
    zero, ones = ir.Constant(W, 0), ir.Constant(W, -1)
    with f.loop(n) as r:
        op = b.sext(f.ld(code, f.mul(r, 4), I32), I64)
        outb = _bit(f, lib, W, f.const(lib.op_out, op), b.sext(f.ld(code, f.add(f.mul(r, 4), 3), I32), I64))
        in1 = _bit(f, lib, W, f.const(lib.op_in1, op), b.sext(f.ld(code, f.add(f.mul(r, 4), 1), I32), I64))
        in2 = _bit(f, lib, W, f.const(lib.op_in2, op), b.sext(f.ld(code, f.add(f.mul(r, 4), 2), I32), I64))
        rand, partial = f.flag(f.const(lib.op_random, op)), f.flag(f.const(lib.op_partial, op))
        plain = b.not_(b.or_(rand, partial))
        row = f.mul(r, 4)
        f.st(masks, row, b.select(rand, ones, zero), W)
        f.st(masks, f.add(row, 1), outb, W)
        f.st(masks, f.add(row, 2), b.not_(b.select(partial, zero, outb)), W)
        f.st(masks, f.add(row, 3), b.select(plain, b.or_(in1, in2), zero), W)
    lib.dce_decode = f.finish()


def _build_sweep(lib: Lib, W) -> None:
    """sweep(masks, n, live_out, mark, after) -> live_in: one backward pass over a decoded component, without
    a branch per row: a row runs (and is marked) when it is random or writes a live register; then its
    registers die (`keep`) and its inputs become live (`gen`). after[r]: the set live just after row r when
    it does not run, else all ones."""
    f = Fn(lib.module, "live_sweep", W, [PTR, I64, W, PTR, PTR])
    masks, n, live_out, mark, after_out = f.args
    b = f.b
    live = f.var(live_out)
    zero = ir.Constant(W, 0)
    with f.loop_down(n) as r:
        row = f.mul(r, 4)
        cur = live.get()
        hit = b.icmp_unsigned("!=", b.or_(f.ld(masks, row, W), b.and_(cur, f.ld(masks, f.add(row, 1), W))), zero)
        after = b.or_(b.and_(cur, f.ld(masks, f.add(row, 2), W)), f.ld(masks, f.add(row, 3), W))
        live.set(b.select(hit, after, cur))
        f.st(mark, r, b.zext(hit, I64), I64)
        f.st(after_out, r, b.select(hit, ir.Constant(W, -1), cur), W)
    f.ret(live.get())
    lib.live_sweep = f.finish()


def _dce(f: Fn, lib: Lib, W, code, data, sizes, dcode, ddata, dsizes) -> None:
    b = f.b
    ns, np_, nl = (f.ld(sizes, k) for k in range(3))
    masks = f.cxp("DCE_MASKS")
    f.call(lib.dce_decode, code, f.add(f.add(ns, np_), nl), masks)
    pmasks, lmasks = f.gep(masks, f.mul(ns, 4), W), f.gep(masks, f.mul(f.add(ns, np_), 4), W)
    one = ir.Constant(W, 1)
    kill = b.not_(b.or_(one, b.shl(one, ir.Constant(W, lib.shape.S))))  # ~(s0 | v0)
    s1 = ir.Constant(W, 2)
    lip, lil = f.var(ir.Constant(W, 0)), f.var(ir.Constant(W, 0))
    mark, after = f.cxp("MARK"), f.cxp("DCE_AFTER")

    def outs():
        lop = b.or_(b.and_(b.or_(lip.get(), lil.get()), kill), s1)
        return lop, b.and_(lip.get(), kill)

    pmark, lmark = f.gep(mark, ns, I64), f.gep(mark, f.add(ns, np_), I64)
    pafter, lafter = f.gep(after, ns, W), f.gep(after, f.add(ns, np_), W)
    with f.forever():
        # every round marks: the round that finds the fixed point swept with its live-outs, so its marks stand
        lop, lol = outs()
        new_p = f.call(lib.live_sweep, pmasks, np_, lop, pmark, pafter)
        new_l = f.call(lib.live_sweep, lmasks, nl, lol, lmark, lafter)
        same = b.and_(b.icmp_unsigned("==", new_p, lip.get()), b.icmp_unsigned("==", new_l, lil.get()))
        with f.if_(same):
            f.brk()
        lip.set(new_p)
        lil.set(new_l)
    f.call(lib.live_sweep, masks, ns, b.and_(lip.get(), kill), mark, after)
    _compact(f, code, data, sizes, dcode, ddata, dsizes, mark)


def _stays_dead(f: Fn, lib: Lib, W, crow, after, r) -> None:
    """Whether row r, rewritten in place to `crow`, is dead in a program whose other rows are those of the one
    `after` (its DCE_AFTER sets) was computed for, where row r was dead: a row that runs nowhere leaves every
    live set as it was, so the fixed point, the marks of the other rows and the live program stay the same."""
    b = f.b
    op = b.sext(f.ld(crow, 0, I32), I64)
    outb = _bit(f, lib, W, f.const(lib.op_out, op), b.sext(f.ld(crow, 3, I32), I64))
    a = f.ld(after, r, W)
    was_dead = b.icmp_unsigned("==", b.lshr(a, ir.Constant(W, W.width - 1)), ir.Constant(W, 0))
    quiet = b.icmp_unsigned("==", b.and_(a, outb), ir.Constant(W, 0))
    f.ret(b.and_(b.and_(was_dead, quiet), b.not_(f.flag(f.const(lib.op_random, op)))))


def _compact(f: Fn, code, data, sizes, dcode, ddata, dsizes, mark) -> None:
    """The marked rows, in order. Without a branch per row (whether a row runs is as good as random): every row
    is copied to the next free place, which moves on only past a marked row; the row after the last kept one may
    be overwritten (the destinations have room for every row, and nothing reads past their sizes)."""
    src, dst = f.var(c64(0)), f.var(c64(0))
    for c in range(3):
        start = dst.get()
        with f.loop(f.ld(sizes, c)):
            r, d = src.get(), dst.get()
            for k in range(4):
                f.st(dcode, f.add(f.mul(d, 4), k), f.ld(code, f.add(f.mul(r, 4), k), I32), I32)
            for k in range(3):
                f.st(ddata, f.add(f.mul(d, 3), k), f.ld(data, f.add(f.mul(r, 3), k), F64), F64)
            dst.set(f.add(d, f.ld(mark, r)))
            src.set(f.add(r, 1))
        f.st(dsizes, c, f.sub(dst.get(), start), I64)


def _same(f: Fn, acode, adata, asizes, bcode, bdata, bsizes) -> None:
    """Identical programs: sizes, every code field and every constant's bits."""
    b = f.b
    total = c64(0)
    for c in range(3):
        with f.if_(f.ne(f.ld(asizes, c), f.ld(bsizes, c))):
            f.ret(ir.Constant(I1, 0))
        total = f.add(total, f.ld(asizes, c))
    with f.loop(f.mul(total, 4)) as k, f.if_(b.icmp_signed("!=", f.ld(acode, k, I32), f.ld(bcode, k, I32))):
        f.ret(ir.Constant(I1, 0))
    with f.loop(f.mul(total, 3)) as k, f.if_(f.ne(f.ld(adata, k, I64), f.ld(bdata, k, I64))):
        f.ret(ir.Constant(I1, 0))
    f.ret(ir.Constant(I1, 1))


def _hash(f: Fn, code, data, sizes) -> None:
    """A 64-bit hash of a program (sizes, code fields, constants' bits) that only picks the population slot to
    compare with (same_program decides): position-keyed mixes summed, a loop LLVM vectorises."""
    b = f.b
    total = c64(0)
    h = c64(0)
    for c in range(3):
        s = f.ld(sizes, c)
        total = f.add(total, s)
        h = combine(b, h, s)
    acc = f.var(h)

    def words(p, n, salt: int):
        with f.loop(n) as k:
            key = b.mul(f.add(k, salt), c64(GAMMA))
            acc.set(b.add(acc.get(), mix(b, b.xor(f.ld(p, k), key))))

    words(code, f.mul(total, 2), 1)  # a row's four int32 fields as two int64 words
    words(data, f.mul(total, 3), 1 << 40)
    f.ret(acc.get())
