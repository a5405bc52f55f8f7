"""Native stage: struct-of-arrays lowerings of the matrix-shaped ops (products, broadcasts, row/column statistics).

Same order as lowering_matrix.py per lane: a matrix-vector product sums over j, matmul over k, a column norm
over i, each output's terms added one after another into a W-vector accumulator (W independent tasks).
Results that read other elements of a possibly aliased input are built in the group scratch and copied out.
"""

from __future__ import annotations

from azlang.backends.native.context import Operands
from azlang.backends.native.irutil import add, for_chunks, load, mul, store
from azlang.backends.native.lowering_simd import SCx, _each, _std, _sum, soa

ROWS = 4  # matrix rows emitted straight-line; more become an IR loop (the columns inside stay unrolled)


def _copy(cx: SCx, src, dst, n: int) -> None:
    b = cx.b
    for_chunks(b, n * cx.W, lambda off, w: store(b, load(b, src, off, w), dst, off))


def _rows(cx: SCx, row) -> None:
    _each(cx, cx.F, lambda i: row(i, mul(cx.b, i, cx.F)), unroll=ROWS)


@soa(28)
def _outer(cx: SCx, o: Operands):
    a, v, dst = o.ptr("in1"), o.ptr("in2"), o.ptr("out")

    def row(i, roff):
        ai = cx.ld(a, i)
        _each(cx, cx.F, lambda j: cx.st(cx.b.fmul(ai, cx.ld(v, j)), dst, add(cx.b, roff, j)))

    _rows(cx, row)


@soa(32, 33)
def _bcast_rows(cx: SCx, o: Operands):
    v, dst, column = o.ptr("in1"), o.ptr("out"), o.opdef.axis == 0

    def row(i, roff):
        vi = cx.ld(v, i) if column else None
        _each(cx, cx.F, lambda j: cx.st(vi if column else cx.ld(v, j), dst, add(cx.b, roff, j)))

    _rows(cx, row)


@soa(31)
def _matvec(cx: SCx, o: Operands):
    m, x, tmp = o.ptr("in1"), o.ptr("in2"), cx.scratch

    def row(i, roff):
        (s,) = _sum(cx, cx.F, lambda j: [cx.b.fmul(cx.ld(m, add(cx.b, roff, j)), cx.ld(x, j))])
        cx.st(s, tmp, i)

    _rows(cx, row)
    _copy(cx, tmp, o.ptr("out"), cx.F)  # out may be the input vector


@soa(36, 52, 53)
def _row_stats(cx: SCx, o: Operands):
    b, F, op = cx.b, cx.F, o.opdef.id
    m, dst = o.ptr("in1"), o.ptr("out")

    def row(i, roff):
        def term(j):
            x = cx.ld(m, add(b, roff, j))
            return [b.fmul(x, x)] if op == 36 else [x] if op == 52 else [x, b.fmul(x, x)]

        accs = _sum(cx, F, term)
        if op == 36:
            r = cx.sqrt(accs[0])
        elif op == 52:
            r = b.fdiv(accs[0], cx.const(float(F)))
        else:
            r = _std(cx, accs[0], accs[1], float(F))
        cx.st(r, dst, i)

    _rows(cx, row)


@soa(35)
def _col_norm(cx: SCx, o: Operands):
    b, F = cx.b, cx.F
    m, dst = o.ptr("in1"), o.ptr("out")

    def col(j):
        def term(i):
            x = cx.ld(m, add(b, mul(b, i, F), j))
            return [b.fmul(x, x)]

        (s,) = _sum(cx, F, term)
        cx.st(cx.sqrt(s), dst, j)

    _each(cx, F, col, unroll=ROWS)


@soa(37)
def _transpose(cx: SCx, o: Operands):
    b, F = cx.b, cx.F
    a, tmp = o.ptr("in1"), cx.scratch
    _rows(cx, lambda i, roff: _each(cx, F, lambda j: cx.st(cx.ld(a, add(b, mul(b, j, F), i)), tmp, add(b, roff, j))))
    _copy(cx, tmp, o.ptr("out"), F * F)


@soa(43)
def _matmul(cx: SCx, o: Operands):
    """out[i, j] = a[i, 0] * b[0, j] + a[i, 1] * b[1, j] + ... in k order, all W lanes at once."""
    b, F = cx.b, cx.F
    x, y, tmp = o.ptr("in1"), o.ptr("in2"), cx.scratch

    def row(i, roff):
        def cell(j):
            (s,) = _sum(cx, F, lambda k: [b.fmul(cx.ld(x, add(b, roff, k)), cx.ld(y, add(b, mul(b, k, F), j)))])
            cx.st(s, tmp, add(b, roff, j))

        _each(cx, F, cell, unroll=ROWS)

    _rows(cx, row)
    _copy(cx, tmp, o.ptr("out"), F * F)
