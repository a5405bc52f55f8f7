"""Native stage: bulk Gaussian fills for task generation, exactly `azlang.rng.Rng.gaussian_array`.

Building the select and final tasks draws about a million Gaussians per run; in Python each costs a call
of `math.log` and `math.cos`. This loop does the same SplitMix64 draws and the same float operations in
the same order (`Cx.gaussian`), calling the same C library `log` and `cos`, so the numbers are identical.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

import numpy as np

from azlang.backends.native.pack import aligned

if TYPE_CHECKING:
    from llvmlite import ir

_SYMBOL = "azlang_gaussian_fill"
_PROTO = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_double,
                          ctypes.c_double)
_FN: list = []


def build_module() -> ir.Module:
    """void fill(double *out, i64 n, u64 *state, double mean, double sd): out[i] = gaussian(mean, sd). Built on an
    object-cache miss only: filling from cached code does not import llvmlite.ir."""
    from llvmlite import ir

    from azlang.backends.native.context import Cx, Layout, declare_libm
    from azlang.backends.native.irutil import F64, I64, PTR, at, i64
    from azlang.ir.nodes import MemoryShape

    module = ir.Module(name="gaussian_fill")
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [PTR, I64, PTR, F64, F64]), _SYMBOL)
    out, n, state, mean, sd = fn.args
    entry, loop, done = fn.append_basic_block("entry"), fn.append_basic_block("loop"), fn.append_basic_block("done")
    b = ir.IRBuilder(entry)
    cx = Cx(b, Layout(1, MemoryShape(1, 1, 1)), None, None, state, declare_libm(module))
    b.cbranch(b.icmp_signed(">", n, i64(0)), loop, done)
    b.position_at_end(loop)
    i = b.phi(I64)
    i.add_incoming(i64(0), entry)
    b.store(cx.gaussian(mean, sd), at(b, out, i))
    nxt = b.add(i, i64(1))
    i.add_incoming(nxt, b.block)
    b.cbranch(b.icmp_signed("<", nxt, n), loop, done)
    b.position_at_end(done)
    b.ret_void()
    return module


def _function():
    if not _FN:
        from azlang.backends.native import engine

        _FN.append(_PROTO(engine.load("gaussian_fill/1", build_module, [_SYMBOL])[_SYMBOL]))
    return _FN[0]


def gaussian_fill(state: int, mean: float, sd: float, n: int) -> tuple[np.ndarray, int]:
    """n Gaussians drawn from SplitMix64 `state`, and the state after them, in an array starting on a 64-byte
    boundary (task features: the native evaluator then uses them in place rather than copy them to align rows)."""
    out = aligned(n, zeroed=False)
    st = np.array([state], dtype=np.uint64)
    _function()(out.ctypes.data, n, st.ctypes.data, float(mean), float(sd))
    return out, int(st[0])
