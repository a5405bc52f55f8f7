"""Native stage: SplitMix64 draws and random instructions in IR, draw for draw as azlang.search.generate.

Every draw here consumes the island's search Rng (context slot RNG) exactly where azlang.rng.Rng and
azlang.search.generate / mutate consume it, with the same float conversions (float32 roundings included).
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native.context import declare_libm, intrinsic
from azlang.backends.native.irutil import F64, I32, I64, PTR
from azlang.backends.native.search_emit import I128, Fn, Lib, c64, cf
from azlang.rng import GAMMA, MIX1, MIX2, TWO_PI

F32 = ir.FloatType()
_FLT_MAX = 3.4028234663852886e38
_FLIP = 0.10000000149011612  # f32(0.1)


def mix(b: ir.IRBuilder, z):
    """SplitMix64's output function (azlang.rng._mix)."""
    z = b.mul(b.xor(z, b.lshr(z, c64(30))), c64(MIX1))
    z = b.mul(b.xor(z, b.lshr(z, c64(27))), c64(MIX2))
    return b.xor(z, b.lshr(z, c64(31)))


def f32(b: ir.IRBuilder, x):
    """float(np.float32(x)): round to nearest float32 and widen again."""
    return b.fpext(b.fptrunc(x, F32), F64)


def build_rng(lib: Lib) -> None:
    m = lib.module
    f = Fn(m, "rng_next", I64, [PTR], inline=True)
    s = f.b.add(f.b.load(f.args[0], typ=I64), c64(GAMMA))  # (ctx, state pointer)
    f.b.store(s, f.args[0])
    f.ret(mix(f.b, s))
    lib.next_at = f.finish()

    f = Fn(m, "rng_below", I64, [I64], inline=True)  # (next * n) >> 64 on the search Rng
    r = f.call(lib.next_at, f.cx_addr("RNG"))
    wide = f.b.mul(f.b.zext(r, I128), f.b.zext(f.args[0], I128))
    f.ret(f.b.trunc(f.b.lshr(wide, ir.Constant(I128, 64)), I64))
    lib.below = f.finish()

    def conversion(name, shift, add, scale):
        g = Fn(m, name, F64, [], inline=True)
        z = g.b.uitofp(g.b.lshr(g.call(lib.next_at, g.cx_addr("RNG")), c64(shift)), F64)
        g.ret(g.b.fmul(g.b.fadd(z, cf(add)) if add else z, cf(scale)))
        return g.finish()

    lib.unit_f32 = conversion("rng_unit_f32", 40, 0.0, 2.0**-24)
    lib.unit = conversion("rng_unit", 11, 0.0, 2.0**-53)
    lib.open = conversion("rng_open", 11, 0.5, 2.0**-53)
    lib.libm = declare_libm(m)

    f = Fn(m, "rng_gauss01", F64, [], inline=True)  # gaussian(0.0, 1.0) = 0.0 + 1.0 * g, as written
    b = f.b
    u1, u2 = f.call(lib.open), f.call(lib.unit)
    root = b.call(intrinsic(m, "llvm.sqrt", F64), [b.fmul(cf(-2.0), b.call(lib.libm["log"], [u1]))])
    g = b.fmul(root, b.call(lib.libm["cos"], [b.fmul(cf(TWO_PI), u2)]))
    f.ret(b.fadd(cf(0.0), b.fmul(cf(1.0), g)))
    lib.gauss = f.finish()


def build_instructions(lib: Lib) -> None:
    """gen_in / gen_out / gen_data / with_op / instruction (Generator._in, _out, data, with_op, instruction)."""
    m = lib.module
    f = Fn(m, "gen_in", I64, [I64])
    f.ret(f.call(lib.below, f.const(lib.in_size, f.args[0])))
    lib.gen_in = f.finish()

    f = Fn(m, "gen_out", I64, [I64])
    lo = f.const(lib.out_lo, f.args[0])
    f.ret(f.add(lo, f.call(lib.below, f.sub(f.const(lib.in_size, f.args[0]), lo))))
    lib.gen_out = f.finish()

    f = Fn(m, "gen_data", ir.VoidType(), [I64, PTR])
    _gen_data(f, lib, *f.args)
    lib.gen_data = f.finish()

    f = Fn(m, "with_op", ir.VoidType(), [I64, PTR, PTR])
    _with_op(f, lib, *f.args)
    lib.with_op = f.finish()

    f = Fn(m, "instruction", ir.VoidType(), [I64, PTR, PTR])  # component, code row, data row
    c, crow, drow = f.args
    ops, n = f.ld(f.cxp("OPS"), c), f.ld(f.cxp("NOPS"), c)
    op = f.ld(f.b.inttoptr(ops, PTR), f.call(lib.below, n))
    f.call(lib.with_op, op, crow, drow)
    lib.instruction = f.finish()


def _unit(f, lib):
    return f.call(lib.unit_f32)


def _uniform_f32(f, lib):
    return f32(f.b, f.b.fadd(cf(-1.0), f.b.fmul(cf(2.0), f.call(lib.unit_f32))))


def _gen_data(f: Fn, lib: Lib, op, d) -> None:
    """Generator.data: each tuple element drawn left to right."""
    b = f.b

    def put(*values):
        for k, v in enumerate(values):
            f.st(d, k, v if v is not None else cf(0.0), F64)

    def const():
        put(b.fadd(cf(-1.0), b.fmul(cf(2.0), f.call(lib.open))), None, None)

    def vset():
        x = _unit(f, lib)
        put(x, _uniform_f32(f, lib), None)

    def mset():
        x = _unit(f, lib)
        y = _unit(f, lib)
        put(x, y, _uniform_f32(f, lib))

    def uniform():
        x = _uniform_f32(f, lib)
        put(x, _uniform_f32(f, lib), None)

    def gaussian():
        x = _uniform_f32(f, lib)
        put(x, _unit(f, lib), None)

    cases = {56: const, 57: vset, 58: mset, 59: uniform, 60: uniform, 61: uniform}
    cases.update({62: gaussian, 63: gaussian, 64: gaussian})
    f.switch(op, cases)


def _with_op(f: Fn, lib: Lib, op, crow, drow) -> None:
    b = f.b
    cls = f.const(lib.op_class, op)
    for k in range(3):
        f.st(drow, k, cf(0.0), F64)
    f.st(crow, 0, b.trunc(op, I32), I32)
    for k in (1, 2, 3):
        f.st(crow, k, ir.Constant(I32, 0), I32)
    with f.if_(f.eq(cls, 1)):
        f.st(crow, 3, b.trunc(f.call(lib.gen_out, f.const(lib.op_out, op)), I32), I32)
        f.call(lib.gen_data, op, drow)
    with f.if_(f.b.icmp_signed(">=", cls, c64(2))):
        f.st(crow, 1, b.trunc(f.call(lib.gen_in, f.const(lib.op_in1, op)), I32), I32)
        with f.if_(f.eq(cls, 3)):
            f.st(crow, 2, b.trunc(f.call(lib.gen_in, f.const(lib.op_in2, op)), I32), I32)
        f.st(crow, 3, b.trunc(f.call(lib.gen_out, f.const(lib.op_out, op)), I32), I32)


def build_log_scale(lib: Lib) -> None:
    """log_scale / log_scale_or_flip of mutate.py, for doubles (OP56) and float32 fields."""
    for single in (False, True):
        suffix = "f" if single else "d"
        f = Fn(lib.module, f"log_scale_{suffix}", F64, [F64])
        _log_scale(f, lib, f.args[0], single)
        setattr(lib, f"log_scale_{suffix}", f.finish())

        f = Fn(lib.module, f"lsof_{suffix}", F64, [F64])
        x = f.args[0]
        with f.if_(f.b.fcmp_ordered("<", f.call(lib.unit_f32), cf(_FLIP))):
            f.ret(f.b.fneg(x))
        f.ret(f.call(getattr(lib, f"log_scale_{suffix}"), x))
        setattr(lib, f"lsof_{suffix}", f.finish())


def _log_scale(f: Fn, lib: Lib, x, single: bool) -> None:
    b, exp, log = f.b, lib.libm["exp"], lib.libm["log"]
    g = f.call(lib.gauss)
    if single:
        g = f32(b, g)
    y = f.var(cf(-0.0))  # x == 0 (either sign): the reference computes -exp(-inf) = -0
    with f.if_else(b.fcmp_ordered(">", x, cf(0.0))) as (pos, other):
        with pos:
            y.set(b.call(exp, [b.fadd(b.call(log, [x]), g)]))
        with other:
            with f.if_(b.fcmp_unordered("uno", x, x)):
                y.set(x)
            with f.if_(b.fcmp_ordered("<", x, cf(0.0))):
                y.set(b.fneg(b.call(exp, [b.fadd(b.call(log, [b.fneg(x)]), g)])))
    out = y.get()
    if single:  # to_f32: overflow goes quietly to +-inf
        big = b.fcmp_ordered(">", b.call(intrinsic(lib.module, "llvm.fabs", F64), [out]), cf(_FLT_MAX))
        inf = b.call(_copysign(lib.module), [cf(float("inf")), out])
        out = b.select(big, inf, f32(b, out))
    f.ret(out)


def _copysign(module: ir.Module):
    try:
        return module.get_global("llvm.copysign.f64")
    except KeyError:
        return ir.Function(module, ir.FunctionType(F64, [F64, F64]), "llvm.copysign.f64")


class Child:
    """Accessors for the child buffers inside one function."""

    def __init__(self, f: Fn):
        self.f = f
        self.code, self.data, self.sizes = f.cxp("CH_CODE"), f.cxp("CH_DATA"), f.cxp("CH_SIZES")

    def size(self, c):
        return self.f.ld(self.sizes, c)

    def set_size(self, c, v) -> None:
        self.f.st(self.sizes, c, v, I64)

    def start(self, c):
        f = self.f
        s0, s1 = self.size(0), self.size(1)
        return f.sel(f.eq(c, 0), 0, f.sel(f.eq(c, 1), s0, f.add(s0, s1)))

    def total(self):
        f = self.f
        return f.add(f.add(self.size(0), self.size(1)), self.size(2))

    def crow(self, r):
        return self.f.gep(self.code, self.f.mul(r, 4), I32)

    def drow(self, r):
        return self.f.gep(self.data, self.f.mul(r, 3), F64)

    def copy_row(self, dst, src) -> None:
        f = self.f
        for k in range(4):
            f.st(self.crow(dst), k, f.ld(self.crow(src), k, I32), I32)
        for k in range(3):
            f.st(self.drow(dst), k, f.ld(self.drow(src), k, F64), F64)


def build_random_program(lib: Lib) -> None:
    f = Fn(lib.module, "random_program", ir.VoidType(), [])
    _random_program(f, lib)
    lib.random_program = f.finish()


def _random_program(f: Fn, lib: Lib) -> None:
    """Generator.random: sizes init; a component with no ops is all NO_OPs."""
    ch = Child(f)
    for c in range(3):
        ch.set_size(c, f.ld(f.cxp("SINIT"), c))
    for c in range(3):
        start, has_ops = ch.start(c64(c)), f.ne(f.ld(f.cxp("NOPS"), c), 0)
        with f.loop(ch.size(c64(c))) as k:
            r = f.add(start, k)
            with f.if_else(has_ops) as (rand, noop):
                with rand:
                    f.call(lib.instruction, c64(c), ch.crow(r), ch.drow(r))
                with noop:
                    f.call(lib.with_op, c64(0), ch.crow(r), ch.drow(r))
