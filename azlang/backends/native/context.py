"""Native stage: the emission context shared by both tiers (memory layout, libm, SplitMix64 in IR).

Memory of one evaluation is one float64 buffer: scalars, then vectors, then matrices (see `Layout`).
Transcendental functions are the C library's, bound under private names so LLVM never treats them as
builtins (no constant folding with another implementation, no vector-library substitution).
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native.irutil import F64, I64, add, at, f64, mul, u64
from azlang.backends.native.layout import LIBM, Layout, libm_symbol
from azlang.ir.ops import OpDef
from azlang.rng import GAMMA, MIX1, MIX2, TWO_PI

SCALE53 = 2.0**-53


class Cx:
    """What an op lowering needs: the builder, F, the memory layout, scratch, the RNG state and libm."""

    def __init__(self, b: ir.IRBuilder, layout: Layout, mem, scratch, rng, lib: dict):
        self.b, self.layout, self.F = b, layout, layout.F
        self.mem, self.scratch, self.rng, self.lib = mem, scratch, rng, lib

    def count(self, kind: str) -> int:
        return self.layout.stride(kind)

    def bank(self, kind: str, addr):
        """Pointer to register `addr` (Python int or i32 value) of bank `kind`."""
        if not isinstance(addr, int):
            addr = self.b.sext(addr, I64)
        off = add(self.b, self.layout.base(kind), mul(self.b, addr, self.layout.stride(kind)))
        return at(self.b, self.mem, off)

    def call(self, name: str, x):
        return self.b.call(self.lib[name], [x])

    def sqrt(self, x):
        return self.b.call(intrinsic(self.b.module, "llvm.sqrt", x.type), [x])

    def fabs(self, x):
        return self.b.call(intrinsic(self.b.module, "llvm.fabs", x.type), [x])

    # --- SplitMix64, exactly azlang.rng ---------------------------------------------------------------

    def next_u64(self):
        b = self.b
        state = b.add(b.load(self.rng, typ=I64), u64(GAMMA))
        b.store(state, self.rng)
        z = b.mul(b.xor(state, b.lshr(state, u64(30))), u64(MIX1))
        z = b.mul(b.xor(z, b.lshr(z, u64(27))), u64(MIX2))
        return b.xor(z, b.lshr(z, u64(31)))

    def unit(self):
        b = self.b
        return b.fmul(b.uitofp(b.lshr(self.next_u64(), u64(11)), F64), f64(SCALE53))

    def open(self):
        b = self.b
        return b.fmul(b.fadd(b.uitofp(b.lshr(self.next_u64(), u64(11)), F64), f64(0.5)), f64(SCALE53))

    def uniform(self, lo, hi):
        """lo + (hi - lo) * open(), or lo without drawing when not lo < hi (the reference's rule)."""
        b = self.b
        draw = b.fcmp_ordered("<", lo, hi)
        pre = b.block
        with b.if_then(draw):
            u = b.fadd(lo, b.fmul(b.fsub(hi, lo), self.open()))
            then = b.block
        out = b.phi(F64)
        out.add_incoming(lo, pre)
        out.add_incoming(u, then)
        return out

    def gaussian(self, mean, sd):
        b = self.b
        u1 = self.open()
        u2 = self.unit()
        g = b.fmul(self.sqrt(b.fmul(f64(-2.0), self.call("log", u1))), self.call("cos", b.fmul(f64(TWO_PI), u2)))
        return b.fadd(mean, b.fmul(sd, g))


def intrinsic(module: ir.Module, name: str, ty) -> ir.Function:
    """A unary floating-point intrinsic over a double or a vector of doubles (llvm.sqrt.v8f64, ...)."""
    full = f"{name}.v{ty.count}f64" if isinstance(ty, ir.VectorType) else f"{name}.f64"
    try:
        return module.get_global(full)
    except KeyError:
        return ir.Function(module, ir.FunctionType(ty, [ty]), full)


def declare_libm(module: ir.Module) -> dict:
    fnty = ir.FunctionType(F64, [F64])
    lib = {}
    for name in LIBM:
        try:
            lib[name] = module.get_global(libm_symbol(name))
            continue
        except KeyError:
            fn = ir.Function(module, fnty, libm_symbol(name))
        fn.attributes.add("nounwind")
        lib[name] = fn
    return lib


class Operands:
    """An instruction's operands: register fields as Python ints (JIT) or i32 values (kernel), constants
    as a function returning the double in data slot i."""

    def __init__(self, cx: Cx, opdef: OpDef, out, in1, in2, data):
        self.cx, self.opdef = cx, opdef
        self.fields = {"out": out, "in1": in1, "in2": in2}
        self.data = data

    def kind(self, field: str) -> str:
        return self.opdef.out if field == "out" else self.opdef.ins[{"in1": 0, "in2": 1}[field]]

    def ptr(self, field: str):
        return self.cx.bank(self.kind(field), self.fields[field])

    def index(self, slot: int):
        """An OP57/58 index slot resolved for this F, as an i64: -(i+1) is absolute, else floor(F32*f32)."""
        b, d = self.cx.b, self.data(slot)
        absolute = b.fptosi(b.fsub(b.fneg(d), f64(1.0)), I64)
        frac = b.fmul(ir.Constant(ir.FloatType(), float(self.cx.F)), b.fptrunc(d, ir.FloatType()))
        return b.select(b.fcmp_ordered("<", d, f64(0.0)), absolute, b.fptosi(frac, I64))

