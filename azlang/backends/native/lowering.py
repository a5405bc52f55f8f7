"""Native stage: one IR lowering per op of the op table, shared by the kernel interpreter and the program JIT.

Each lowering computes its result completely before storing it whenever an output element depends on
more than one input element (matrix-vector product, matmul, transpose), so aliasing is always safe.
Float operations mirror azlang.backends.semantics / numpy_interp one for one, in the same order.
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native.context import Cx, Operands
from azlang.backends.native.irutil import (
    I64,
    at,
    f64,
    for_chunks,
    for_range,
    load,
    load1,
    seq_reduce,
    splat,
    store,
    vec,
)
from azlang.ir.ops import MATRIX, NUM_OPS, OPS, SCALAR, VECTOR

LOWER: dict[int, object] = {}


def lowering(*ids):
    def register(fn):
        for i in ids:
            LOWER[i] = fn
        return fn

    return register


# --- scalar ops ----------------------------------------------------------------------------------------

def _smin(b, x, y):
    return b.select(b.fcmp_ordered("<", y, x), y, x)  # b if b < a else a


def _smax(b, x, y):
    return b.select(b.fcmp_ordered("<", x, y), y, x)  # b if a < b else a


SCALAR2 = {1: lambda b, x, y: b.fadd(x, y), 2: lambda b, x, y: b.fsub(x, y), 3: lambda b, x, y: b.fmul(x, y),
           4: lambda b, x, y: b.fdiv(x, y), 44: _smin, 47: _smax}
LIBM_OPS = {7: "sin", 8: "cos", 9: "tan", 10: "asin", 11: "acos", 12: "atan", 13: "exp", 14: "log"}


def _scalar1(cx: Cx, op: int, x):
    b = cx.b
    if op == 5:
        return cx.fabs(x)
    if op == 6:
        return b.fdiv(f64(1.0), x)
    if op == 15:
        return b.select(b.fcmp_ordered(">=", x, f64(0.0)), f64(1.0), f64(0.0))
    return cx.call(LIBM_OPS[op], x)


@lowering(*SCALAR2)
def _l_scalar2(cx: Cx, o: Operands):
    b = cx.b
    x, y = load1(b, o.ptr("in1")), load1(b, o.ptr("in2"))
    b.store(SCALAR2[o.opdef.id](b, x, y), o.ptr("out"), align=8)


@lowering(5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
def _l_scalar1(cx: Cx, o: Operands):
    b = cx.b
    b.store(_scalar1(cx, o.opdef.id, load1(b, o.ptr("in1"))), o.ptr("out"), align=8)


# --- elementwise vector and matrix ops -----------------------------------------------------------------

def _hv(b, x, w):
    return b.select(b.fcmp_ordered(">", x, ir.Constant(vec(w), [0.0] * w)),
                    ir.Constant(vec(w), [1.0] * w), ir.Constant(vec(w), [0.0] * w))


EW2 = {"+": lambda b, x, y: b.fadd(x, y), "-": lambda b, x, y: b.fsub(x, y), "*": lambda b, x, y: b.fmul(x, y),
       "/": lambda b, x, y: b.fdiv(x, y),
       "minimum": lambda b, x, y: b.select(b.fcmp_ordered("<", x, y), x, y),  # np.where(x < y, x, y)
       "maximum": lambda b, x, y: b.select(b.fcmp_ordered(">", x, y), x, y)}


def _ew(cx: Cx, o: Operands, n: int, fn) -> None:
    """out[k] = fn(in1[k], in2[k]) chunk by chunk: each chunk is loaded whole before it is stored."""
    b = cx.b
    ptrs = [o.ptr(f) for f in ("in1", "in2")[:o.opdef.arity]]
    dst = o.ptr("out")

    def chunk(off, w):
        store(b, fn(w, *[load(b, p, off, w) for p in ptrs]), dst, off)

    for_chunks(b, n, chunk)


@lowering(*[op.id for op in OPS if op.spelling in EW2 and op.arity == 2 and set(op.ins) == {op.out} != {SCALAR}])
def _l_ew2(cx: Cx, o: Operands):
    fn = EW2[o.opdef.spelling]
    _ew(cx, o, cx.count(o.opdef.out), lambda w, x, y: fn(cx.b, x, y))


@lowering(16, 17, 20, 22, 30, 38)
def _l_ew1(cx: Cx, o: Operands):
    b, op = cx.b, o.opdef
    if op.spelling == "heaviside":
        fn = lambda w, x: _hv(b, x, w)
    elif op.spelling == "abs":
        fn = lambda w, x: cx.fabs(x)
    else:
        fn = lambda w, x: b.fdiv(ir.Constant(vec(w), [1.0] * w), x)
    _ew(cx, o, cx.count(op.out), fn)


@lowering(18, 29)
def _l_scale(cx: Cx, o: Operands):
    b = cx.b
    s = load1(b, o.ptr("in1"))  # loaded before any store: the scalar bank cannot alias, but be explicit
    src, dst = o.ptr("in2"), o.ptr("out")
    for_chunks(b, cx.count(o.opdef.out), lambda off, w: store(b, b.fmul(splat(b, s, w), load(b, src, off, w)), dst, off))


@lowering(19)
def _l_bcast(cx: Cx, o: Operands):
    b = cx.b
    s, dst = load1(b, o.ptr("in1")), o.ptr("out")
    for_chunks(b, cx.F, lambda off, w: store(b, splat(b, s, w), dst, off))


# --- reductions to a scalar ----------------------------------------------------------------------------

def _reduce(cx: Cx, o: Operands, terms) -> list:
    b = cx.b
    ptrs = [o.ptr(f) for f in ("in1", "in2")[:o.opdef.arity]]
    return seq_reduce(b, cx.count(o.opdef.ins[0]), lambda off, w: terms(*[load(b, p, off, w) for p in ptrs]))


@lowering(27)
def _l_dot(cx: Cx, o: Operands):
    (s,) = _reduce(cx, o, lambda x, y: [cx.b.fmul(x, y)])
    cx.b.store(s, o.ptr("out"), align=8)


@lowering(21, 34)
def _l_norm(cx: Cx, o: Operands):
    (s,) = _reduce(cx, o, lambda x: [cx.b.fmul(x, x)])
    cx.b.store(cx.sqrt(s), o.ptr("out"), align=8)


@lowering(50, 51)
def _l_mean(cx: Cx, o: Operands):
    (s,) = _reduce(cx, o, lambda x: [x])
    cx.b.store(cx.b.fdiv(s, f64(float(cx.count(o.opdef.ins[0])))), o.ptr("out"), align=8)


@lowering(54, 55)
def _l_std(cx: Cx, o: Operands):
    b = cx.b
    s, sq = _reduce(cx, o, lambda x: [x, b.fmul(x, x)])
    n = f64(float(cx.count(o.opdef.ins[0])))
    mean = b.fdiv(s, n)
    b.store(cx.sqrt(b.fsub(b.fdiv(sq, n), b.fmul(mean, mean))), o.ptr("out"), align=8)


# --- set ops -------------------------------------------------------------------------------------------

@lowering(0)
def _l_noop(cx: Cx, o: Operands):
    pass


@lowering(56)
def _l_const(cx: Cx, o: Operands):
    cx.b.store(o.data(0), o.ptr("out"), align=8)


@lowering(57)
def _l_vset(cx: Cx, o: Operands):
    cx.b.store(o.data(1), at(cx.b, o.ptr("out"), o.index(0)), align=8)


@lowering(58)
def _l_mset(cx: Cx, o: Operands):
    b = cx.b
    off = b.add(b.mul(o.index(0), ir.Constant(I64, cx.F)), o.index(1))
    b.store(o.data(2), at(b, o.ptr("out"), off), align=8)


@lowering(59, 60, 61, 62, 63, 64)
def _l_random(cx: Cx, o: Operands):
    b = cx.b
    p, x, y = o.ptr("out"), o.data(0), o.data(1)
    draw = cx.uniform if o.opdef.spelling == "uniform" else cx.gaussian
    # one element after another in index order (row-major), like the reference's draws
    for_range(b, cx.count(o.opdef.out), lambda k: b.store(draw(x, y), at(b, p, k), align=8) and None, unroll=1)


from azlang.backends.native import lowering_matrix  # noqa: F401 - registers the matrix-shaped ops

assert sorted(LOWER) == list(range(NUM_OPS)), "the native lowering must cover the whole op table"
assert all(OPS[i].out in (None, SCALAR, VECTOR, MATRIX) for i in LOWER)
