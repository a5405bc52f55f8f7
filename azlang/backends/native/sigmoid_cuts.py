"""Native stage: three exact ways around the classification sigmoid's exp (docs/semantics.md, section 3).

Validation: for a logit p, `sigmoid(p) > 0.5` with the generated code's exp and IEEE rounding is a monotone
test of p, so it equals `p >= t` for one double t, found at start-up by bisection on the double lattice with
the very exp the generated code calls, then verified (the two lattice points at the edge and a probe of
values near t and across the whole domain); when verification fails the exp path stays. t is not 0: exp(-p)
of a tiny positive p rounds to 1 - 2^-53, and 1 + (1 - 2^-53) rounds to 2, so q = 0.5. sigmoid never leaves
[0, 1] (NaN fails both range tests), so the error is 0/1 by the label test alone; NaN p fails `p >= t`.

Training, always: sigmoid has one fixed point x (found and checked at start-up); a logit equal to x is
squashed to x, so the step leaves s1 as it is. Programs whose Predict and Learn never write s1 iterate
s1 <- sigmoid(s1) and settle on x within about 26 steps, then skip exp for the rest of the evaluation.

Training, dead sigmoid: the squashed s1 is written back to memory, but nothing may read it before it is
overwritten: Learn does not read s1 before writing it, and Learn writes s1 or the next Predict (training or
validation) writes s1 before reading it (the prediction read after Predict counts as a read). Programs are
straight-line, so that is a property of the bytecode, found per program by a scan over Learn and Predict
(tables from the op table).
When it holds and nothing is recorded (final memory and errors are then unobservable), a step needs only
the verdict of the error check: with p not NaN, q is in [0, 1], so |y - q| <= max(|y|, |y - 1|) (rounding
is monotone); when that bound is within max_abs_error (and y is not NaN) the step cannot fail and exp is
skipped; otherwise the step takes the exact path. Either way every observable result is unchanged.
"""

from __future__ import annotations

import ctypes
import math
import random
import struct

from llvmlite import ir

from azlang.backends.native.context import intrinsic
from azlang.backends.native.irutil import F64, I1, I32, I64
from azlang.ir.ops import OPS, SCALAR

S1 = 1
# per op: bit k set when input k (in1, in2) is a scalar register; 1 when the output is one
SCALAR_INS = [sum(1 << k for k, kind in enumerate(o.ins) if kind == SCALAR) for o in OPS]
SCALAR_OUT = [int(o.out == SCALAR) for o in OPS]


# --- the validation threshold ------------------------------------------------------------------------------

def _ordered(x: float) -> int:
    """A double as an integer in the doubles' order (-0.0 and 0.0 adjacent, which no test here tells apart)."""
    n = struct.unpack("<Q", struct.pack("<d", x))[0]
    return n if n < 1 << 63 else -(n & ((1 << 63) - 1)) - 1


def _double(n: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", n if n >= 0 else (-(n + 1)) | (1 << 63)))[0]


def sigmoid_with(exp):
    """The generated code's sigmoid, 1 / (1 + exp(-z)), with a given exp (Python floats are IEEE doubles)."""
    return lambda z: 1.0 / (1.0 + exp(-z))  # 1 + exp(-z) is >= 1, inf or NaN: never a division by zero


def bisect_threshold(exp) -> float:
    """The smallest double t with sigmoid(t) > 0.5, assuming the test is monotone (verify() checks)."""
    sig = sigmoid_with(exp)
    lo, hi = _ordered(-1.0), _ordered(1.0)  # sigmoid(-1) < 0.5 < sigmoid(1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if sig(_double(mid)) > 0.5:
            hi = mid
        else:
            lo = mid
    return _double(hi)


def probe_points(t: float) -> list[float]:
    """Logits to check `p >= t` on (about 7000, a few ms at start-up): every double within 512 steps of t and
    of 0, t scaled by 1 +- 2^-e, both signs at every third binade, seeded random doubles over the whole range
    and around 0, and the specials."""
    g = random.Random(3011)
    k = _ordered(t)
    xs = [_double(k + d) for d in range(-512, 513)] + [_double(d) for d in range(-512, 513)]
    xs += [t * (1 + s * math.ldexp(1.0, -e)) for e in range(1, 60) for s in (1, -1)]
    xs += [s * math.ldexp(m, e) for e in range(-1074, 1024, 3) for s in (1, -1) for m in (1.0, 1.5)]
    xs += [_double(g.randrange(_ordered(-math.inf), _ordered(math.inf) + 1)) for _ in range(2000)]
    xs += [g.gauss(0.0, s) for s in (1e-15, 1e-8, 1.0, 30.0, 700.0) for _ in range(200)]
    xs += [0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan, 5e-324, -5e-324, 1.7976931348623157e308]
    return xs


def verify(exp, t: float) -> bool:
    """t is the edge (sigmoid(t) > 0.5 >= sigmoid(prev(t))) and on every probe the validation error's sigmoid
    tests agree with `p >= t`: q never outside [0, 1], and q > 0.5 exactly when p >= t."""
    sig = sigmoid_with(exp)
    if not (sig(t) > 0.5 and not sig(_double(_ordered(t) - 1)) > 0.5):
        return False
    for p in probe_points(t):
        q = sig(p)
        if q > 1.0 or q < 0.0 or (q > 0.5) != (p >= t):
            return False
    return True


def threshold(exp_address: int | None) -> float | None:
    """The verified threshold for the exp at `exp_address`, or None (then validation keeps calling exp)."""
    if not exp_address:
        return None
    exp = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(exp_address)
    try:
        t = bisect_threshold(exp)
    except (ArithmeticError, ValueError):
        return None
    return t if verify(exp, t) else None


def fixed_point(exp_address: int | None) -> float | None:
    """The double x with sigmoid(x) == x for the exp at `exp_address` (about 0.659), found by iterating from 0,
    or None. A training step whose logit is x needs no exp: the squashed value is x again."""
    if not exp_address:
        return None
    sig = sigmoid_with(ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(exp_address))
    x = 0.0
    for _ in range(200):  # the iteration contracts (slope <= 1/4): it settles in about 26 steps
        y = sig(x)
        if struct.pack("<d", y) == struct.pack("<d", x):
            return x
        x = y
    return None


def class_error_cut(b: ir.IRBuilder, y, p, t: float):
    """The validation error of a classification task without exp: 0 when (y > 0.5) == (p >= t), else 1.
    y and p may be doubles or vectors of doubles."""
    half, cut, zero, one = (_like(p.type, v) for v in (0.5, t, 0.0, 1.0))
    same = b.icmp_unsigned("==", b.fcmp_ordered(">", y, half), b.fcmp_ordered(">=", p, cut))
    return b.select(same, zero, one)


def _like(ty, v: float):
    return ir.Constant(ty, [v] * ty.count) if isinstance(ty, ir.VectorType) else ir.Constant(F64, v)


# --- the dead training sigmoid -----------------------------------------------------------------------------

def s1_flow(rows) -> tuple[bool, bool]:
    """(reads s1 before writing it, writes s1) over bytecode rows (op, in1, in2, out), in order."""
    read = written = False
    for op, in1, in2, out in rows:
        ins = SCALAR_INS[int(op)]
        if not written and ((ins & 1 and int(in1) == S1) or (ins & 2 and int(in2) == S1)):
            read = True
        written = written or (SCALAR_OUT[int(op)] and int(out) == S1)
    return read, written


def sigmoid_dead(code, sizes) -> bool:
    """True when no instruction can read the training sigmoid's value written into s1 (module docstring)."""
    ns, np_, nl = (int(s) for s in sizes)
    p_read, p_writes = s1_flow(code[ns:ns + np_])
    l_read, l_writes = s1_flow(code[ns + np_:ns + np_ + nl])
    return not l_read and (l_writes or (p_writes and not p_read))


def _table(module: ir.Module, name: str, values: list[int]) -> ir.GlobalVariable:
    try:
        return module.get_global(name)
    except KeyError:
        ty = ir.ArrayType(ir.IntType(8), len(values))
        g = ir.GlobalVariable(module, ty, name)
        g.initializer, g.global_constant, g.linkage = ir.Constant(ty, values), True, "internal"
        return g


def s1_flow_ir(b: ir.IRBuilder, code, n):
    """s1_flow over the n int32 rows at `code`, at run time: (read first, written) as i1 values."""
    ins_t = _table(b.module, "azlang_scalar_ins", SCALAR_INS)
    out_t = _table(b.module, "azlang_scalar_out", SCALAR_OUT)
    pre = b.block
    head, body, done = (b.append_basic_block(f"s1flow.{x}") for x in ("head", "body", "done"))
    b.branch(head)
    b.position_at_end(head)
    j, read, written = b.phi(I64), b.phi(I1), b.phi(I1)
    for v, init in ((j, ir.Constant(I64, 0)), (read, ir.Constant(I1, 0)), (written, ir.Constant(I1, 0))):
        v.add_incoming(init, pre)
    b.cbranch(b.icmp_signed("<", j, n), body, done)
    b.position_at_end(body)
    row = b.gep(code, [b.mul(j, ir.Constant(I64, 4))], source_etype=I32)
    op, in1, in2, out = (b.load(b.gep(row, [ir.Constant(I64, k)], source_etype=I32), typ=I32) for k in range(4))
    op = b.sext(op, I64)

    def flag(t):
        return b.zext(b.load(b.gep(t, [ir.Constant(I32, 0), op], source_etype=t.value_type), typ=ir.IntType(8)), I32)

    ins, one, zero = flag(ins_t), ir.Constant(I32, S1), ir.Constant(I32, 0)
    r1 = b.and_(b.icmp_unsigned("!=", b.and_(ins, ir.Constant(I32, 1)), zero), b.icmp_unsigned("==", in1, one))
    r2 = b.and_(b.icmp_unsigned("!=", b.and_(ins, ir.Constant(I32, 2)), zero), b.icmp_unsigned("==", in2, one))
    w = b.and_(b.icmp_unsigned("!=", flag(out_t), zero), b.icmp_unsigned("==", out, one))
    read.add_incoming(b.or_(read, b.and_(b.or_(r1, r2), b.not_(written))), body)
    written.add_incoming(b.or_(written, w), body)
    j.add_incoming(b.add(j, ir.Constant(I64, 1)), body)
    b.branch(head)
    b.position_at_end(done)
    return read, written


def sigmoid_dead_ir(b: ir.IRBuilder, code, ns, np_, nl):
    """sigmoid_dead at run time over the bytecode at `code` (setup, predict, learn rows), as an i1."""
    p_read, p_writes = s1_flow_ir(b, b.gep(code, [b.mul(ns, ir.Constant(I64, 4))], source_etype=I32), np_)
    l_read, l_writes = s1_flow_ir(b, b.gep(code, [b.mul(b.add(ns, np_), ir.Constant(I64, 4))], source_etype=I32),
                                  nl)
    return b.and_(b.not_(l_read), b.or_(l_writes, b.and_(p_writes, b.not_(p_read))))


def cannot_fail(b: ir.IRBuilder, y, p, limit):
    """The step's error check passes whatever sigmoid(p) is: p not NaN, |y| <= limit and |y - 1| <= limit
    (false for a NaN y). Doubles or vectors (limit splatted by the caller for vectors)."""
    ty = p.type
    fabs = intrinsic(b.module, "llvm.fabs", ty)
    one = _like(ty, 1.0)
    ok_p = b.fcmp_ordered("ord", p, p)
    ok_lo = b.fcmp_ordered("<=", b.call(fabs, [y]), limit)
    ok_hi = b.fcmp_ordered("<=", b.call(fabs, [b.fsub(y, one)]), limit)
    return b.and_(ok_p, b.and_(ok_lo, ok_hi))


def settled(b: ir.IRBuilder, p, x: float | None):
    """p equals the sigmoid's fixed point x (false when x is unknown); doubles or vectors."""
    if x is None:
        return ir.Constant(ir.VectorType(I1, p.type.count), [0] * p.type.count) if isinstance(
            p.type, ir.VectorType) else ir.Constant(I1, 0)
    return b.fcmp_ordered("==", p, _like(p.type, x))


def train_cuts(b: ir.IRBuilder, classify, dead, y, p, limit, x: float | None):
    """One scalar train step's (skip, squash), as i1s: skip = a dead sigmoid whose error check cannot fail (no
    exp and no check; s1 keeps the logit); squash = the step must write sigmoid(p) to s1 (classification, not
    skipped, and p not already the fixed point x, whose sigmoid is x). The lane groups build the same from masks."""
    skip = b.and_(b.and_(classify, dead), cannot_fail(b, y, p, limit))
    return skip, b.and_(classify, b.not_(b.or_(skip, settled(b, p, x))))
