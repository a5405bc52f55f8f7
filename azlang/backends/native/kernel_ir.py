"""Native stage: the kernel interpreter's IR (kernel.py): the bytecode switch and the task and lane loops around it.

Imported on an object-cache miss only (kernel.py builds through it), so running cached kernels does not load
llvmlite.ir and the op lowerings.
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native import lanes, lanes_simd
from azlang.backends.native.context import Cx, Layout, Operands, declare_libm
from azlang.backends.native.irutil import F64, I32, I64, PTR, at, i64
from azlang.backends.native.kernel import lanes_symbol, ops_lanes_symbol, tag, task_symbol
from azlang.backends.native.lowering import LOWER
from azlang.backends.native.skeleton import Task
from azlang.ir.nodes import MemoryShape
from azlang.ir.ops import OPS

INTERP_TYPE = ir.FunctionType(ir.VoidType(), [PTR, PTR, I64, PTR, PTR, PTR])  # code, data, n, mem, scratch, rng


def _interpreter(module: ir.Module, layout: Layout, ops: frozenset[int] | None = None) -> ir.Function:
    """The bytecode switch over every op, or over `ops` only (an op outside them does nothing: callers run only
    programs made of `ops`)."""
    fn = ir.Function(module, INTERP_TYPE, f"azlang_interp_{tag(layout.F, layout.shape)}")
    fn.linkage = "internal"
    fn.attributes.add("noinline")  # three call sites (setup, predict, learn): keep one copy of the switch
    for k in (3, 4, 5):
        fn.args[k].add_attribute("noalias")
    code, data, n, mem, scratch, rng = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    loop, step, exit_ = (fn.append_basic_block(x) for x in ("loop", "next", "exit"))
    b.cbranch(b.icmp_signed(">", n, i64(0)), loop, exit_)
    b.position_at_end(loop)
    i = b.phi(I64)
    i.add_incoming(i64(0), b.function.entry_basic_block)
    row = at_i32(b, code, b.mul(i, i64(4)))
    op, in1, in2, out = (b.load(at_i32(b, row, k), typ=I32) for k in range(4))
    d = at(b, data, b.mul(i, i64(3)))
    switch = b.switch(op, step)
    cx = Cx(b, layout, mem, scratch, rng, declare_libm(module))
    for opdef in OPS[1:]:  # op 0 (no-op) takes the default edge
        if ops is not None and opdef.id not in ops:
            continue
        block = fn.append_basic_block(f"op{opdef.id}")
        switch.add_case(ir.Constant(I32, opdef.id), block)
        b.position_at_end(block)
        LOWER[opdef.id](cx, Operands(cx, opdef, out, in1, in2, lambda k, d=d: b.load(at(b, d, k), typ=F64)))
        b.branch(step)
    b.position_at_end(step)
    nxt = b.add(i, i64(1))
    i.add_incoming(nxt, step)
    b.cbranch(b.icmp_signed("<", nxt, n), loop, exit_)
    b.position_at_end(exit_)
    b.ret_void()
    return fn


def at_i32(b: ir.IRBuilder, base, off):
    return b.gep(base, [off if not isinstance(off, int) else i64(off)], source_etype=I32)


def _component_runner(interp: ir.Function):
    """How the task loop runs a component in the kernel: call the interpreter on that slice of bytecode."""

    def run(cx: Cx, name: str) -> None:
        t, b = cx.task, cx.b
        start = {"setup": i64(0), "predict": t.ns, "learn": b.add(t.ns, t.np)}[name]
        count = {"setup": t.ns, "predict": t.np, "learn": t.nl}[name]
        code, data = at_i32(b, t.code, b.mul(start, i64(4))), at(b, t.data, b.mul(start, i64(3)))
        b.call(interp, [code, data, count, cx.mem, cx.scratch, cx.rng])

    return run


def build_module(F: int, shape: MemoryShape) -> ir.Module:
    module = ir.Module(name=f"azlang_kernel_{tag(F, shape)}")
    layout = Layout(F, shape)
    interp = _interpreter(module, layout)
    Task(module, task_symbol(F, shape), layout, _component_runner(interp)).build()
    interpg = lanes_simd.group_interpreter(module, layout, f"azlang_interp_groups_{tag(F, shape)}")
    lanes_simd.LanesSoA(module, lanes_symbol(F, shape), layout, interp, interpg).build()
    return module


def build_ops_module(F: int, shape: MemoryShape, ops: frozenset[int], regression: bool = False) -> ir.Module:
    """The lane-group lockstep function alone, its interpreters built for `ops` only, and for regression tasks
    only when `regression` (kernel.ops_lanes_address)."""
    name = ops_lanes_symbol(F, shape, ops, regression)
    module = ir.Module(name=name)
    layout = Layout(F, shape)
    interp = _interpreter(module, layout, ops)
    interpg = lanes_simd.group_interpreter(module, layout, f"azlang_interp_groups_{tag(F, shape)}", ops)
    lanes_simd.LanesSoA(module, name, layout, interp, interpg, regression).build()
    return module


def build_lane_module(F: int, shape: MemoryShape) -> ir.Module:
    """The lane-by-lane lockstep (lanes.py) in a module of its own: only benchmarks and tests compare with it."""
    module = ir.Module(name=f"azlang_lanes_{tag(F, shape)}")
    layout = Layout(F, shape)
    interp = _interpreter(module, layout)
    interpl = lanes.interpreter(module, layout, f"azlang_interp_lanes_{tag(F, shape)}")
    lanes.Lanes(module, lanes_symbol(F, shape, False), layout, interp, interpl).build()
    return module
