"""Native stage: exact dead-code removal before evaluation, and live-program comparison (a search speed-up).

An instruction is dead when nothing it writes can reach s1 as read after Predict (the only value the
evaluation looks at) along any execution: Setup, then Predict/Learn steps and validation Predicts in any
order. The harness overwrites v0 and s0 in full before every Predict and Learn, so they are never live
into a component. Random ops are always kept (they draw from the stream). OP57/58 write one element, so
they never end a register's liveness. Removing dead instructions changes no fitness, error, train-step
count or random draw, only the time spent; the train budget is still charged on the whole program.

Liveness is a fixed point over bit sets of registers (scalars, then vectors, then matrices).
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native.irutil import F64, I1, I32, I64, PTR
from azlang.backends.native.search_emit import Fn, Lib, c64


def width(shape) -> int:
    return 64 * max(1, -(-(shape.S + shape.V + shape.M) // 64))


def build_dce(lib: Lib) -> None:
    W = ir.IntType(width(lib.shape))
    lib.bits = W
    _build_sweep(lib, W)
    f = Fn(lib.module, "dce", ir.VoidType(), [PTR, PTR, PTR, PTR, PTR, PTR])  # src code/data/sizes -> dst
    _dce(f, lib, W, *f.args)
    lib.dce = f.finish()
    f = Fn(lib.module, "same_program", I1, [PTR, PTR, PTR, PTR, PTR, PTR])
    _same(f, *f.args)
    lib.same_program = f.finish()


def _bit(f: Fn, lib: Lib, W, kind, addr):
    b = f.b
    index = b.add(f.const(lib.reg_base, kind), addr)
    one = b.shl(ir.Constant(W, 1), b.zext(index, W) if W.width > 64 else index)
    return b.select(f.eq(kind, 0), ir.Constant(W, 0), one)


def _build_sweep(lib: Lib, W) -> None:
    """sweep(code, n, live_out, mark, do_mark) -> live_in: one backward pass over a component."""
    f = Fn(lib.module, "live_sweep", W, [PTR, I64, W, PTR, I64])
    code, n, live_out, mark, do_mark = f.args
    b = f.b
    live = f.var(live_out)
    zero = ir.Constant(W, 0)
    with f.loop_down(n) as r:
        op = b.sext(f.ld(code, f.mul(r, 4), I32), I64)
        keep = f.var(c64(0))
        with f.if_(f.ne(op, 0)):
            out = b.sext(f.ld(code, f.add(f.mul(r, 4), 3), I32), I64)
            outb = _bit(f, lib, W, f.const(lib.op_out, op), out)
            cur = live.get()
            hit = b.icmp_unsigned("!=", b.and_(cur, outb), zero)
            with f.if_else(f.flag(f.const(lib.op_random, op))) as (rand, other):
                with rand:
                    keep.set(1)
                    live.set(b.and_(cur, b.not_(outb)))
                with other, f.if_(hit):
                    keep.set(1)
                    with f.if_(b.not_(f.flag(f.const(lib.op_partial, op)))):
                        in1 = b.sext(f.ld(code, f.add(f.mul(r, 4), 1), I32), I64)
                        in2 = b.sext(f.ld(code, f.add(f.mul(r, 4), 2), I32), I64)
                        ins = b.or_(
                            _bit(f, lib, W, f.const(lib.op_in1, op), in1), _bit(f, lib, W, f.const(lib.op_in2, op), in2)
                        )
                        live.set(b.or_(b.and_(cur, b.not_(outb)), ins))
        with f.if_(f.flag(do_mark)):
            f.st(mark, r, keep.get(), I64)
    f.ret(live.get())
    lib.live_sweep = f.finish()


def _dce(f: Fn, lib: Lib, W, code, data, sizes, dcode, ddata, dsizes) -> None:
    b = f.b
    ns, np_, nl = (f.ld(sizes, k) for k in range(3))
    pcode, lcode = f.gep(code, f.mul(ns, 4), I32), f.gep(code, f.mul(f.add(ns, np_), 4), I32)
    one = ir.Constant(W, 1)
    kill = b.not_(b.or_(one, b.shl(one, ir.Constant(W, lib.shape.S))))  # ~(s0 | v0)
    s1 = ir.Constant(W, 2)
    lip, lil = f.var(ir.Constant(W, 0)), f.var(ir.Constant(W, 0))
    mark = f.cxp("MARK")

    def outs():
        lop = b.or_(b.and_(b.or_(lip.get(), lil.get()), kill), s1)
        return lop, b.and_(lip.get(), kill)

    pmark, lmark = f.gep(mark, ns, I64), f.gep(mark, f.add(ns, np_), I64)
    with f.forever():
        # every round marks: the round that finds the fixed point swept with its live-outs, so its marks stand
        lop, lol = outs()
        new_p = f.call(lib.live_sweep, pcode, np_, lop, pmark, 1)
        new_l = f.call(lib.live_sweep, lcode, nl, lol, lmark, 1)
        same = b.and_(b.icmp_unsigned("==", new_p, lip.get()), b.icmp_unsigned("==", new_l, lil.get()))
        with f.if_(same):
            f.brk()
        lip.set(new_p)
        lil.set(new_l)
    f.call(lib.live_sweep, code, ns, b.and_(lip.get(), kill), mark, 1)
    _compact(f, code, data, sizes, dcode, ddata, dsizes, mark)


def _compact(f: Fn, code, data, sizes, dcode, ddata, dsizes, mark) -> None:
    src, dst = f.var(c64(0)), f.var(c64(0))
    for c in range(3):
        kept = f.var(c64(0))
        with f.loop(f.ld(sizes, c)):
            r = src.get()
            with f.if_(f.flag(f.ld(mark, r))):
                d = dst.get()
                for k in range(4):
                    f.st(dcode, f.add(f.mul(d, 4), k), f.ld(code, f.add(f.mul(r, 4), k), I32), I32)
                for k in range(3):
                    f.st(ddata, f.add(f.mul(d, 3), k), f.ld(data, f.add(f.mul(r, 3), k), F64), F64)
                dst.set(f.add(d, 1))
                kept.set(f.add(kept.get(), 1))
            src.set(f.add(r, 1))
        f.st(dsizes, c, kept.get(), I64)


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
