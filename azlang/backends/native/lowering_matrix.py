"""Native stage: lowerings of the matrix-shaped ops (products, broadcasts, row and column statistics).

Sums run in the reference's order per output (over j for a matrix-vector product, over k for matmul);
vector instructions work across independent outputs only. Results that read other elements of a possibly
aliased input are built in scratch first and copied out.
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native.context import Cx, Operands
from azlang.backends.native.irutil import (
    add,
    at,
    for_chunks,
    for_range,
    load,
    load1,
    mul,
    row_reduce,
    splat,
    store,
    vec,
)
from azlang.backends.native.lowering import lowering


def _copy(cx: Cx, src, dst, n: int) -> None:
    b = cx.b
    for_chunks(b, n, lambda off, w: store(b, load(b, src, off, w), dst, off))


def _rows(cx: Cx, row_fn) -> None:
    """row_fn(i, row_offset) for every matrix row (a loop for large F)."""
    F = cx.F
    for_range(cx.b, F, lambda i: row_fn(i, mul(cx.b, i, F)) and None, unroll=4)


@lowering(28)
def _l_outer(cx: Cx, o: Operands):
    b = cx.b
    a, v, dst = o.ptr("in1"), o.ptr("in2"), o.ptr("out")

    def row(i, roff):
        ai = load1(b, a, i)
        for_chunks(b, cx.F, lambda off, w: store(b, b.fmul(splat(b, ai, w), load(b, v, off, w)), dst, add(b, roff, off)))

    _rows(cx, row)


@lowering(32, 33)
def _l_bcast_rows(cx: Cx, o: Operands):
    b = cx.b
    v, dst, column = o.ptr("in1"), o.ptr("out"), o.opdef.axis == 0

    def row(i, roff):
        vi = load1(b, v, i) if column else None
        for_chunks(b, cx.F, lambda off, w: store(b, splat(b, vi, w) if column else load(b, v, off, w),
                                                  dst, add(b, roff, off)))

    _rows(cx, row)


@lowering(31)
def _l_matvec(cx: Cx, o: Operands):
    b, F = cx.b, cx.F
    m, x, tmp = o.ptr("in1"), o.ptr("in2"), cx.scratch
    row_reduce(b, F, F, lambda i, off, w: [b.fmul(load(b, m, add(b, mul(b, i, F), off), w), load(b, x, off, w))],
               lambda r0, nr, accs: store(b, accs[0], tmp, r0))
    _copy(cx, tmp, o.ptr("out"), F)  # out may be the input vector


@lowering(36, 52, 53)
def _l_row_stats(cx: Cx, o: Operands):
    b, F, op = cx.b, cx.F, o.opdef.id
    m, dst = o.ptr("in1"), o.ptr("out")
    n = lambda w: ir.Constant(vec(w), [float(F)] * w)

    def terms(i, off, w):
        x = load(b, m, add(b, mul(b, i, F), off), w)
        return [b.fmul(x, x)] if op == 36 else [x] if op == 52 else [x, b.fmul(x, x)]

    def finish(r0, nr, accs):
        if op == 36:
            r = cx.sqrt(accs[0])
        elif op == 52:
            r = b.fdiv(accs[0], n(nr))
        else:
            mean = b.fdiv(accs[0], n(nr))
            r = cx.sqrt(b.fsub(b.fdiv(accs[1], n(nr)), b.fmul(mean, mean)))
        store(b, r, dst, r0)

    row_reduce(b, F, F, terms, finish)


@lowering(35)
def _l_col_norm(cx: Cx, o: Operands):
    b, F = cx.b, cx.F
    m, dst = o.ptr("in1"), o.ptr("out")

    def chunk(off, w):
        x0 = load(b, m, off, w)

        def body(i, acc):
            x = load(b, m, add(b, mul(b, i, F), off), w)
            return [b.fadd(acc, b.fmul(x, x))]

        (acc,) = for_range(b, F, body, [b.fmul(x0, x0)], unroll=16, start=1)
        store(b, cx.sqrt(acc), dst, off)

    for_chunks(b, F, chunk)


@lowering(37)
def _l_transpose(cx: Cx, o: Operands):
    b, F = cx.b, cx.F
    a, tmp = o.ptr("in1"), cx.scratch

    def row(i, roff):
        for_range(b, F, lambda j: b.store(load1(b, a, add(b, mul(b, j, F), i)), at(b, tmp, add(b, roff, j)),
                                          align=8) and None, unroll=8)

    _rows(cx, row)
    _copy(cx, tmp, o.ptr("out"), F * F)


@lowering(43)
def _l_matmul(cx: Cx, o: Operands):
    """out[i, :] = a[i, 0] * b[0, :] + a[i, 1] * b[1, :] + ... in k order; vectorised across columns j."""
    b, F = cx.b, cx.F
    x, y, tmp = o.ptr("in1"), o.ptr("in2"), cx.scratch

    def row(i, roff):
        def chunk(off, w):
            acc0 = b.fmul(splat(b, load1(b, x, roff), w), load(b, y, off, w))

            def body(k, acc):
                aik = load1(b, x, add(b, roff, k))
                return [b.fadd(acc, b.fmul(splat(b, aik, w), load(b, y, add(b, mul(b, k, F), off), w)))]

            (acc,) = for_range(b, F, body, [acc0], unroll=16, start=1)
            store(b, acc, tmp, add(b, roff, off))

        for_chunks(b, F, chunk)

    _rows(cx, row)
    _copy(cx, tmp, o.ptr("out"), F * F)


