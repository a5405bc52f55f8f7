"""Native stage: the program JIT (long-run tier): one program compiled to straight-line native code.

The same op lowerings and evaluation loop as the kernel, but with every register address and constant
folded in, so LLVM keeps registers in machine registers across instructions and drops the dispatch.
Compiled code is cached in memory and on disk by a hash of the program's bytecode (the canonical text
until a canonicaliser exists), F and the memory shape. Worth it only for long evaluations.
"""

from __future__ import annotations

import hashlib

import numpy as np
from llvmlite import ir

from azlang.backends.native import engine, kernel
from azlang.backends.native.context import Cx, Layout, Operands
from azlang.backends.native.irutil import f64
from azlang.backends.native.lowering import LOWER
from azlang.backends.native.sigmoid_cuts import sigmoid_dead
from azlang.backends.native.skeleton import Task
from azlang.ir.bytecode import Bytecode
from azlang.ir.nodes import COMPONENTS, MemoryShape
from azlang.ir.ops import OPS, VECTOR

COMPILE_S = 0.15  # a typical cold compile of one program (measured: 60-250 ms)
DISPATCH_S = 4e-9  # what the kernel spends per executed instruction on dispatch (measured)


def program_hash(bc: Bytecode) -> str:
    h = hashlib.sha256(np.asarray(bc.sizes, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(bc.code, dtype=np.int32).tobytes())
    h.update(np.ascontiguousarray(bc.data, dtype=np.float64).tobytes())
    return h.hexdigest()[:32]


def _runner(bc: Bytecode):
    parts = {name: bc.component(name) for name in COMPONENTS}

    def run(cx: Cx, name: str) -> None:
        code, data = parts[name]
        for row, d in zip(code.tolist(), data.tolist()):
            op, in1, in2, out = row
            LOWER[op](cx, Operands(cx, OPS[op], out, in1, in2, lambda k, d=d: f64(d[k])))

    return run


def build_module(bc: Bytecode, F: int, shape: MemoryShape, symbol: str) -> ir.Module:
    module = ir.Module(name=symbol)
    ns, np_ = bc.sizes[0], bc.sizes[1]
    keeps_v0 = not any(OPS[int(op)].out == VECTOR and int(out) == 0 for op, _, _, out in bc.code[ns:ns + np_])
    Task(module, symbol, Layout(F, shape), _runner(bc), keeps_v0, sigmoid_dead(bc.code, bc.sizes)).build()
    return module


def program_address(bc: Bytecode, F: int, shape: MemoryShape) -> int:
    """Address of `bc` compiled for (F, shape), with the kernel's task-function signature."""
    symbol = f"azlang_jit_{program_hash(bc)}_{kernel.tag(F, shape)}"
    return engine.load(f"jit/{symbol}", lambda: build_module(bc, F, shape, symbol), [symbol])[symbol]


def executed_instructions(bc: Bytecode, train_steps: int, valid_steps: int) -> int:
    """Instructions a full evaluation executes, given all tasks' training and validation steps."""
    _, n_predict, n_learn = bc.sizes
    return train_steps * (n_predict + n_learn) + valid_steps * n_predict


def worth_compiling(bc: Bytecode, train_steps: int, valid_steps: int, n_F: int) -> bool:
    """JIT when the dispatch it saves clearly exceeds the cost of compiling it (once per distinct F)."""
    return executed_instructions(bc, train_steps, valid_steps) * DISPATCH_S > 3 * COMPILE_S * n_F
