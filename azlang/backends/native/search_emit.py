"""Native stage: a small structured IR builder for the search loop (locals, loops, ifs, arrays, context).

Every generated search function takes the context array (`search_abi`) as its first argument. Locals are
allocas in the entry block, which LLVM promotes to registers, so control flow can be written like Python.
"""

from __future__ import annotations

from contextlib import contextmanager

from llvmlite import ir

from azlang.backends.native import search_abi as abi
from azlang.backends.native.irutil import F64, I1, I32, I64, PTR

I128 = ir.IntType(128)


def c64(x: int) -> ir.Constant:
    """An i64 constant given as a signed or unsigned Python int."""
    x &= (1 << 64) - 1
    return ir.Constant(I64, x - (1 << 64) if x >= 1 << 63 else x)


def cf(x: float) -> ir.Constant:
    return ir.Constant(F64, x)


def val(x):
    return c64(x) if isinstance(x, int) else x


def table(module: ir.Module, name: str, values, ty=I64) -> ir.GlobalVariable:
    """A constant global array (op-table columns and the like)."""
    arr = ir.ArrayType(ty, len(values))
    g = ir.GlobalVariable(module, arr, name)
    g.initializer = ir.Constant(arr, [ir.Constant(ty, v) for v in values])
    g.global_constant = True
    g.linkage = "internal"
    return g


class Var:
    __slots__ = ("b", "p", "ty")

    def __init__(self, b, p, ty):
        self.b, self.p, self.ty = b, p, ty

    def get(self):
        return self.b.load(self.p, typ=self.ty)

    def set(self, v) -> None:
        self.b.store(val(v), self.p)


class Fn:
    """One IR function under construction; `ctx` is its first argument."""

    def __init__(self, module: ir.Module, name: str, ret, args, export: bool = False, inline: bool = False):
        self.fn = ir.Function(module, ir.FunctionType(ret, [PTR, *args]), name)
        if not export:
            self.fn.linkage = "internal"
        if inline:
            self.fn.attributes.add("alwaysinline")
        self.module, self.ret_type = module, ret
        self.ctx, self.args = self.fn.args[0], self.fn.args[1:]
        self._entry = ir.IRBuilder(self.fn.append_basic_block("entry"))
        self._body = self.fn.append_basic_block("body")
        self.b = ir.IRBuilder(self._body)
        self._loops: list[tuple] = []

    def finish(self) -> ir.Function:
        self._entry.branch(self._body)
        if self.b.block.terminator is None:
            if isinstance(self.ret_type, ir.VoidType):
                self.b.ret_void()
            else:
                self.b.unreachable()
        return self.fn

    # --- locals and arrays -------------------------------------------------------------------------------

    def var(self, init, ty=None) -> Var:
        init = val(init)
        ty = ty or init.type
        v = Var(self.b, self._entry.alloca(ty), ty)
        if init is not None:
            v.set(init)
        return v

    def gep(self, ptr, idx, ty):
        return self.b.gep(ptr, [val(idx)], source_etype=ty)

    def ld(self, ptr, idx, ty=I64):
        return self.b.load(self.gep(ptr, idx, ty), typ=ty)

    def st(self, ptr, idx, v, ty=None) -> None:
        v = val(v)
        self.b.store(v, self.gep(ptr, idx, ty or v.type))

    def const(self, g, idx, ty=I64):
        """Element `idx` of a constant global table."""
        p = self.b.gep(g, [ir.Constant(I32, 0), val(idx)], inbounds=True, source_etype=g.value_type)
        return self.b.load(p, typ=ty)

    # --- the context ---------------------------------------------------------------------------------------

    def cx(self, name: str):
        return self.ld(self.ctx, abi.SLOT[name])

    def cxp(self, name: str):
        return self.b.inttoptr(self.cx(name), PTR)

    def cxf(self, name: str):
        return self.b.bitcast(self.cx(name), F64)

    def cx_set(self, name: str, v) -> None:
        v = val(v)
        if v.type == F64:
            v = self.b.bitcast(v, I64)
        self.st(self.ctx, abi.SLOT[name], v)

    def cx_add(self, name: str, delta) -> None:
        self.cx_set(name, self.b.add(self.cx(name), val(delta)))

    def cx_addr(self, name: str):
        return self.gep(self.ctx, abi.SLOT[name], I64)

    # --- control flow ----------------------------------------------------------------------------------

    def _block(self, name: str):
        return self.fn.append_basic_block(name)

    @contextmanager
    def loop(self, n, start=0):
        """for i in [start, n): yields i (an i64)."""
        b = self.b
        i = self.var(start, I64)
        head, body, latch, end = (self._block(x) for x in ("for.head", "for.body", "for.latch", "for.end"))
        n = val(n)
        b.branch(head)
        b.position_at_end(head)
        iv = i.get()
        b.cbranch(b.icmp_signed("<", iv, n), body, end)
        b.position_at_end(body)
        self._loops.append((latch, end))
        yield iv
        self._loops.pop()
        if b.block.terminator is None:
            b.branch(latch)
        b.position_at_end(latch)
        i.set(b.add(i.get(), c64(1)))
        b.branch(head)
        b.position_at_end(end)

    @contextmanager
    def loop_down(self, n):
        """for i in n-1 .. 0: yields i."""
        b = self.b
        i = self.var(n, I64)
        head, body, end = (self._block(x) for x in ("down.head", "down.body", "down.end"))
        b.branch(head)
        b.position_at_end(head)
        iv = i.get()
        b.cbranch(b.icmp_signed(">", iv, c64(0)), body, end)
        b.position_at_end(body)
        j = b.sub(iv, c64(1))
        i.set(j)
        self._loops.append((head, end))
        yield j
        self._loops.pop()
        if b.block.terminator is None:
            b.branch(head)
        b.position_at_end(end)

    @contextmanager
    def forever(self):
        """An endless loop left through brk() (or ret())."""
        b = self.b
        head, end = self._block("loop.head"), self._block("loop.end")
        b.branch(head)
        b.position_at_end(head)
        self._loops.append((head, end))
        yield
        self._loops.pop()
        if b.block.terminator is None:
            b.branch(head)
        b.position_at_end(end)

    def _dead(self) -> None:
        self.b.position_at_end(self._block("dead"))

    def brk(self) -> None:
        self.b.branch(self._loops[-1][1])
        self._dead()

    def cont(self) -> None:
        self.b.branch(self._loops[-1][0])
        self._dead()

    def ret(self, v=None) -> None:
        if v is None:
            self.b.ret_void()
        else:
            self.b.ret(val(v))
        self._dead()

    def if_(self, cond):
        return self.b.if_then(cond)

    def if_else(self, cond):
        return self.b.if_else(cond)

    def switch(self, value, cases: dict, default=None) -> None:
        """Run cases[k]() when value == k, else default()."""
        b = self.b
        end, dflt = self._block("sw.end"), self._block("sw.default")
        sw = b.switch(value, dflt)
        for k, body in cases.items():
            blk = self._block(f"sw.{k}")
            sw.add_case(ir.Constant(value.type, k), blk)
            b.position_at_end(blk)
            body()
            if b.block.terminator is None:
                b.branch(end)
        b.position_at_end(dflt)
        if default is not None:
            default()
        if b.block.terminator is None:
            b.branch(end)
        b.position_at_end(end)

    # --- small expressions -----------------------------------------------------------------------------

    def lt(self, x, y):
        return self.b.icmp_signed("<", val(x), val(y))

    def le(self, x, y):
        return self.b.icmp_signed("<=", val(x), val(y))

    def eq(self, x, y):
        return self.b.icmp_signed("==", val(x), val(y))

    def ne(self, x, y):
        return self.b.icmp_signed("!=", val(x), val(y))

    def sel(self, c, x, y):
        return self.b.select(c, val(x), val(y))

    def add(self, x, y):
        return self.b.add(val(x), val(y))

    def sub(self, x, y):
        return self.b.sub(val(x), val(y))

    def mul(self, x, y):
        return self.b.mul(val(x), val(y))

    def flag(self, x):
        """An i64 treated as a boolean."""
        return self.b.icmp_signed("!=", val(x), c64(0))

    def call(self, fn, *args):
        return self.b.call(fn, [self.ctx, *[val(a) for a in args]])


def i1(x: bool) -> ir.Constant:
    return ir.Constant(I1, int(x))


class Lib:
    """The search module under construction: its constant tables and the functions built so far."""

    def __init__(self, module: ir.Module, shape):
        self.module, self.shape = module, shape
        self.op_class = table(module, "op_class", abi.OP_CLASS)
        self.op_out = table(module, "op_out", abi.OP_OUT)
        self.op_in1 = table(module, "op_in1", abi.OP_IN1)
        self.op_in2 = table(module, "op_in2", abi.OP_IN2)
        self.op_cost = table(module, "op_cost", abi.OP_COST)
        self.op_random = table(module, "op_random", abi.OP_RANDOM)
        self.op_partial = table(module, "op_partial", abi.OP_PARTIAL)
        self.in_size = table(module, "in_size", [0, shape.S, shape.V, shape.M])
        self.out_lo = table(module, "out_lo", [0, 1, 1, 0])
        self.reg_base = table(module, "reg_base", [0, 0, shape.S, shape.S + shape.V])
