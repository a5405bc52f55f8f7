"""Native stage: op lowerings on struct-of-arrays lane groups, every element a <W x double> of W tasks.

A group holds W lanes (tasks) side by side: element e of lane l sits at mem[e*W + l] (lanes_simd.py). An op
is then the scalar lowering's arithmetic on W-vectors: each lane of a vector does exactly what the one-lane
lowering (lowering.py) does for that task, in the same order. Reductions run vertically (one accumulator
vector, terms added in index order), so no sum is ever reassociated; libm functions are called lane by lane.
Ops that draw random numbers have no lowering here: they only run in setup, which lanes_simd runs per lane.
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native.abi import SOA_W  # noqa: F401 - lanes per group
from azlang.backends.native.context import Cx, Layout, Operands, intrinsic
from azlang.backends.native.irutil import I32, add, at, for_chunks, for_range, load, mul, store, vec
from azlang.backends.native.lowering import EW2, LIBM_OPS, SCALAR2, _hv
from azlang.ir.ops import MATRIX, NUM_OPS, OPS, SCALAR

SOA: dict[int, object] = {}
# Ops without an SoA lowering and why that is safe; lockstep.eligible keeps them out of predict and learn.
SOA_FALLBACK = {op.id: "random: setup only, run per lane on the array-of-structs path" for op in OPS if op.is_random}
LOOP = 16  # element loops longer than this become IR loops


class SCx(Cx):
    """Cx over one group's memory: `bank` addresses element 0 of a register, `ld`/`st` move W-vectors."""

    def __init__(self, b: ir.IRBuilder, layout: Layout, W: int, mem, scratch, lib: dict):
        super().__init__(b, layout, mem, scratch, None, lib)
        self.W = W

    def bank(self, kind: str, addr):
        if not isinstance(addr, int):
            addr = self.b.sext(addr, ir.IntType(64))
        off = add(self.b, self.layout.base(kind), mul(self.b, addr, self.layout.stride(kind)))
        return at(self.b, self.mem, mul(self.b, off, self.W))

    def ld(self, p, k=0):
        return self.b.load(at(self.b, p, mul(self.b, k, self.W)), typ=vec(self.W), align=8)

    def st(self, v, p, k=0) -> None:
        self.b.store(v, at(self.b, p, mul(self.b, k, self.W)), align=8)

    def const(self, x: float):
        return ir.Constant(vec(self.W), [x] * self.W)

    def splat_data(self, d):
        """A data constant (the same for every lane) as a W-vector."""
        v = self.b.insert_element(ir.Constant(vec(self.W), ir.Undefined), d, ir.Constant(I32, 0))
        return self.b.shuffle_vector(v, v, ir.Constant(ir.VectorType(I32, self.W), [0] * self.W))

    def libm(self, name: str, x):
        """The C library's function lane by lane (never a vector library's: results must stay the same)."""
        b, out = self.b, ir.Constant(vec(self.W), ir.Undefined)
        for lane in range(self.W):
            k = ir.Constant(I32, lane)
            out = b.insert_element(out, self.call(name, b.extract_element(x, k)), k)
        return out

    def sqrt(self, x):
        return self.b.call(intrinsic(self.b.module, "llvm.sqrt", x.type), [x])


def soa(*ids):
    def register(fn):
        for i in ids:
            SOA[i] = fn
        return fn

    return register


def _each(cx: SCx, n: int, body, unroll: int = LOOP) -> None:
    for_range(cx.b, n, lambda k: body(k) and None, unroll=unroll)


def _sum(cx: SCx, n: int, term, extra=1):
    """In-order sums over k in [0, n) of term(k) -> list of `extra` W-vectors: acc = t0; acc = acc + t1; ..."""
    return for_range(cx.b, n, lambda k, *accs: [cx.b.fadd(a, t) for a, t in zip(accs, term(k))], term(0),
                     unroll=LOOP, start=1)


# --- scalar ops ----------------------------------------------------------------------------------------

@soa(*SCALAR2)
def _s2(cx: SCx, o: Operands):
    cx.st(SCALAR2[o.opdef.id](cx.b, cx.ld(o.ptr("in1")), cx.ld(o.ptr("in2"))), o.ptr("out"))


@soa(5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
def _s1(cx: SCx, o: Operands):
    b, op, x = cx.b, o.opdef.id, cx.ld(o.ptr("in1"))
    if op == 5:
        r = cx.fabs(x)
    elif op == 6:
        r = b.fdiv(cx.const(1.0), x)
    elif op == 15:  # the scalar heaviside is x >= 0 (the vector one x > 0)
        r = b.select(b.fcmp_ordered(">=", x, cx.const(0.0)), cx.const(1.0), cx.const(0.0))
    else:
        r = cx.libm(LIBM_OPS[op], x)
    cx.st(r, o.ptr("out"))


# --- elementwise: all operands of one kind are contiguous runs of count*W doubles -----------------------

def _ew(cx: SCx, o: Operands, fn) -> None:
    b = cx.b
    ptrs = [o.ptr(f) for f in ("in1", "in2")[:o.opdef.arity]]
    dst = o.ptr("out")
    for_chunks(b, cx.count(o.opdef.out) * cx.W, lambda off, w: store(b, fn(w, *[load(b, p, off, w) for p in ptrs]),
                                                                      dst, off))


@soa(*[op.id for op in OPS if op.spelling in EW2 and op.arity == 2 and set(op.ins) == {op.out} != {SCALAR}])
def _ew2(cx: SCx, o: Operands):
    fn = EW2[o.opdef.spelling]
    _ew(cx, o, lambda w, x, y: fn(cx.b, x, y))


@soa(16, 17, 20, 22, 30, 38)
def _ew1(cx: SCx, o: Operands):
    b, sp = cx.b, o.opdef.spelling
    if sp == "heaviside":
        _ew(cx, o, lambda w, x: _hv(b, x, w))
    elif sp == "abs":
        _ew(cx, o, lambda w, x: cx.fabs(x))
    else:
        _ew(cx, o, lambda w, x: b.fdiv(ir.Constant(vec(w), [1.0] * w), x))


@soa(18, 29)
def _scale(cx: SCx, o: Operands):
    s, src, dst = cx.ld(o.ptr("in1")), o.ptr("in2"), o.ptr("out")
    _each(cx, cx.count(o.opdef.out), lambda k: cx.st(cx.b.fmul(s, cx.ld(src, k)), dst, k))


@soa(19)
def _bcast(cx: SCx, o: Operands):
    s, dst = cx.ld(o.ptr("in1")), o.ptr("out")
    _each(cx, cx.F, lambda k: cx.st(s, dst, k))


# --- reductions to a scalar ----------------------------------------------------------------------------

@soa(27)
def _dot(cx: SCx, o: Operands):
    x, y = o.ptr("in1"), o.ptr("in2")
    (s,) = _sum(cx, cx.F, lambda k: [cx.b.fmul(cx.ld(x, k), cx.ld(y, k))])
    cx.st(s, o.ptr("out"))


@soa(21, 34)
def _norm(cx: SCx, o: Operands):
    x = o.ptr("in1")
    (s,) = _sum(cx, cx.count(o.opdef.ins[0]), lambda k: [cx.b.fmul(cx.ld(x, k), cx.ld(x, k))])
    cx.st(cx.sqrt(s), o.ptr("out"))


@soa(50, 51)
def _mean(cx: SCx, o: Operands):
    x, n = o.ptr("in1"), cx.count(o.opdef.ins[0])
    (s,) = _sum(cx, n, lambda k: [cx.ld(x, k)])
    cx.st(cx.b.fdiv(s, cx.const(float(n))), o.ptr("out"))


def _std(cx: SCx, s, sq, n: float):
    b = cx.b
    mean = b.fdiv(s, cx.const(n))
    return cx.sqrt(b.fsub(b.fdiv(sq, cx.const(n)), b.fmul(mean, mean)))


@soa(54, 55)
def _std_all(cx: SCx, o: Operands):
    x, n = o.ptr("in1"), cx.count(o.opdef.ins[0])

    def term(k):
        v = cx.ld(x, k)
        return [v, cx.b.fmul(v, v)]

    s, sq = _sum(cx, n, term)
    cx.st(_std(cx, s, sq, float(n)), o.ptr("out"))


# --- set ops -------------------------------------------------------------------------------------------

@soa(0)
def _noop(cx: SCx, o: Operands):
    pass


@soa(56)
def _const(cx: SCx, o: Operands):
    cx.st(cx.splat_data(o.data(0)), o.ptr("out"))


@soa(57)
def _vset(cx: SCx, o: Operands):
    cx.st(cx.splat_data(o.data(1)), o.ptr("out"), o.index(0))


@soa(58)
def _mset(cx: SCx, o: Operands):
    b = cx.b
    cx.st(cx.splat_data(o.data(2)), o.ptr("out"), b.add(b.mul(o.index(0), ir.Constant(ir.IntType(64), cx.F)),
                                                         o.index(1)))


from azlang.backends.native import lowering_simd_matrix  # noqa: F401 - registers the matrix-shaped ops

assert sorted({*SOA, *SOA_FALLBACK}) == list(range(NUM_OPS)), "every op needs an SoA lowering or a fallback"
assert not set(SOA) & set(SOA_FALLBACK) and all(OPS[i].out in (None, SCALAR, "v", MATRIX) for i in SOA)
