"""Native stage: the memory of struct-of-arrays lane groups (lanes_simd.py): addressing, group state, masks.

Group g of W lanes holds element e of its lane l at mem[g * W * stride + e * W + l]. Each group also has a
state block: four i64 lane masks (live, still validating, failed validation, classification), the addresses
of its interleaved examples when it reads them so (NativeEvaluator.order_train), then W-vectors of losses and
labels and, per lane, its task's pointers (a padding lane past n gets lane n-1's).
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native import abi
from azlang.backends.native.irutil import F64, I32, I64, PTR, at, vec
from azlang.backends.native.search_emit import c64
from azlang.ir.ops import OPS, VECTOR

W = abi.SOA_W
# per op: 1 when in1 is a vector register, 2 when in2 is (their OR when both)
_VECTOR_INS = [sum(1 << k for k, kind in enumerate(o.ins) if kind == VECTOR) for o in OPS]
LIVE, VLIVE, VFAIL, CLS, LOSS, YS = 0, 1, 2, 3, 8, 8 + W  # a group's state: 4 masks, losses, labels,
GTX, GTY, GVX, GVY = 4, 5, 6, 7  # between the masks and the losses: the group's interleaved train features and
# labels, valid features and labels (NativeEvaluator.order_train)
SEQ, TX, TY, VX, VY, XP = (8 + k * W for k in range(2, 8))  # then per lane: task pointers, the example read
STATE = abi.SOA_STATE
assert STATE == XP + W


class GroupMemory:
    """Addressing helpers of LanesSoA (uses its f, n, mem, mstride, gstride, state, final, limit, recording).
    `regression`: built for tasks none of which classifies, every CLS mask is the constant 0 (the classification
    paths of the step are compiled out)."""

    regression = False

    def gmem(self, g):
        return self.f.gep(self.mem, self.f.mul(g, self.gstride), F64)

    def gs(self, g, k: int):
        return self.f.gep(self.state, self.f.add(self.f.mul(g, STATE), k), F64)

    def mask(self, g, k: int):
        if k == CLS and self.regression:
            return c64(0)
        return self.f.b.load(self.gs(g, k), typ=I64)

    def set_mask(self, g, k: int, v) -> None:
        self.f.b.store(v, self.gs(g, k))

    def lane(self, g, l_: int):
        """Lane l of group g, or lane n-1 for a padding lane (its loads stay in bounds)."""
        f = self.f
        lane = f.add(f.mul(g, W), l_)
        return f.sel(f.lt(lane, self.n), lane, f.sub(self.n, 1))

    def el(self, lane, e: int):
        f, b = self.f, self.f.b
        return at(b, self.gmem(b.udiv(lane, c64(W))), f.add(c64(e * W), b.urem(lane, c64(W))))

    def vld(self, p):
        return self.f.b.load(p, typ=vec(W), align=8)

    def per_lane(self, m, xs, fn, plain):
        """The W-vector of xs[l], replaced by fn(l, xs[l]) on the lanes of mask m (a libm call per lane), or
        plain() when m is empty. The lanes stay scalars until the vector is built: a vector load of scalar
        stores (results through memory) cannot take them from the store buffer and stalls until they retire,
        and no vector lives across a call."""
        f, b = self.f, self.f.b
        out = f.var(ir.Constant(vec(W), [0.0] * W))
        with f.if_else(f.ne(m, 0)) as (some, none):
            with some:
                v = ir.Constant(vec(W), ir.Undefined)
                for l_, x in enumerate(xs()):
                    lane = f.var(x)
                    with b.if_then(b.icmp_unsigned("!=", b.and_(m, c64(1 << l_)), c64(0))):
                        lane.set(fn(l_, x))
                    v = b.insert_element(v, lane.get(), ir.Constant(I32, l_))
                out.set(v)
            with none:
                out.set(plain())
        return out.get()

    def vst(self, v, p) -> None:
        self.f.b.store(v, p, align=8)

    def each(self, m, body) -> None:
        """body(l) for each lane l (0..W-1, unrolled) whose bit is set in the i64 mask m."""
        b = self.f.b
        for l_ in range(W):
            with b.if_then(b.icmp_unsigned("!=", b.and_(m, c64(1 << l_)), c64(0))):
                body(l_)

    def bits(self, v):
        """A <W x i1> as an i64 mask."""
        return self.f.b.zext(self.f.b.bitcast(v, ir.IntType(W)), I64)

    def lanes_of(self, m):
        """An i64 mask as a <W x i1>."""
        b = self.f.b
        sp = b.insert_element(ir.Constant(ir.VectorType(I64, W), ir.Undefined), m, ir.Constant(I32, 0))
        sp = b.shuffle_vector(sp, sp, ir.Constant(ir.VectorType(I32, W), [0] * W))
        return b.icmp_unsigned("!=", b.and_(sp, ir.Constant(ir.VectorType(I64, W), [1 << k for k in range(W)])),
                               ir.Constant(ir.VectorType(I64, W), [0] * W))

    def bad(self, err):
        """The mask of `err != err or err > limit` for errors whose sign bit is clear (fabs results): their bit
        patterns order as integers, NaN above +inf, so one integer compare with limit_bits decides."""
        b, lim = self.f.b, self.f.b.insert_element(ir.Constant(ir.VectorType(I64, W), ir.Undefined), self.limit_bits,
                                                   ir.Constant(I32, 0))
        lim = b.shuffle_vector(lim, lim, ir.Constant(ir.VectorType(I32, W), [0] * W))
        return self.bits(b.icmp_signed(">", b.bitcast(err, ir.VectorType(I64, W)), lim))

    def limit_integer(self):
        """The integer `bad` compares error bits with, for any limit: a NaN limit fails NaN errors only (the bits of
        +inf), else the bits of limit + 0.0 (-0.0 as +0.0, which no error exceeds; a negative limit's bits are
        negative: every error fails)."""
        f, b = self.f, self.f.b
        bits = b.bitcast(b.fadd(self.limit, ir.Constant(F64, 0.0)), I64)
        return f.sel(b.fcmp_unordered("uno", self.limit, self.limit), c64(0x7FF0000000000000), bits)

    def keep(self, lane, back: bool = False) -> None:
        """Copy the lane's memory out of its group into its own area (or, with back, the other way)."""
        f = self.f
        mine, grp = f.gep(self.final, f.mul(lane, self.mstride), F64), self.el(lane, 0)
        with f.loop(c64(self.layout.size)) as e:
            if back:
                f.st(grp, f.mul(e, W), f.ld(mine, e, F64), F64)
            else:
                f.st(mine, e, f.ld(grp, f.mul(e, W), F64), F64)

    def stopped(self, lane) -> None:
        """A stopped lane's group computes on: when recording (not a probe), keep its memory as it is now."""
        with self.f.if_(self.keeps_memory):
            self.keep(lane)

    def ptr(self, g, k: int, l_: int):
        """Pointer array k of the group's state, lane l."""
        return self.f.b.inttoptr(self.f.ld(self.gs(g, k + l_), 0, I64), PTR)


def reads_v0(f, code, n):
    """True when one of the n bytecode rows at `code` reads v0 (an in1 or in2 that is vector register 0): when
    none does and nothing is recorded, the features never reach a result and need not be loaded."""
    b = f.b
    ty = ir.ArrayType(ir.IntType(8), len(_VECTOR_INS))
    table = ir.GlobalVariable(b.module, ty, b.module.get_unique_name("azlang_vector_ins"))
    table.initializer, table.global_constant, table.linkage = ir.Constant(ty, _VECTOR_INS), True, "internal"
    acc = f.var(ir.Constant(ir.IntType(1), 0))
    with f.loop(n) as j:
        row = f.gep(code, f.mul(j, 4), I32)
        kinds = b.zext(b.load(b.gep(table, [ir.Constant(I32, 0), f.ld(row, 0, I32)], source_etype=ty),
                              typ=ir.IntType(8)), I32)
        for k in (1, 2):  # in1 = row[1], in2 = row[2]
            hit = b.and_(f.ne(b.and_(kinds, ir.Constant(I32, k)), ir.Constant(I32, 0)),
                         f.eq(f.ld(row, k, I32), ir.Constant(I32, 0)))
            acc.set(b.or_(acc.get(), hit))
    return acc.get()
