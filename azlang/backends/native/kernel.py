"""Native stage: the kernel interpreter (search tier), one native module per (F, memory shape).

The module holds a bytecode interpreter (a `switch` over the 65 ops, each case the op's lowering with F a
compile-time constant) and the task-evaluation loop of `skeleton.Task` around it. It is built once per
shape and process, or loaded from the object cache, and then evaluates any program without compiling it.

A search whose programs draw their ops from a few of the 65 may also use a lockstep function built for those
ops only (`ops_lanes_address`): the same lowerings, found by a few compares instead of a jump table, and, when no
task classifies, no classification paths: a function a half to a third the size.
"""

from __future__ import annotations

from azlang.backends.native import engine
from azlang.ir.nodes import MemoryShape


def tag(F: int, shape: MemoryShape) -> str:
    return f"f{F}_s{shape.S}v{shape.V}m{shape.M}"


def task_symbol(F: int, shape: MemoryShape) -> str:
    return f"azlang_kernel_{tag(F, shape)}"


def lanes_symbol(F: int, shape: MemoryShape, soa: bool = True) -> str:
    return f"azlang_lanes{'_soa' if soa else ''}_{tag(F, shape)}"


def ops_lanes_symbol(F: int, shape: MemoryShape, ops: frozenset[int], regression: bool = False) -> str:
    """The op set as a bit mask in hex (and `r` for regression tasks only): one name and cached object per kind."""
    return f"azlang_lanes_soa_{tag(F, shape)}_ops{sum(1 << k for k in ops):x}{'r' if regression else ''}"


def _ir():
    """The IR builders (kernel_ir.py): imported on an object-cache miss only (llvmlite.ir and the lowerings)."""
    from azlang.backends.native import kernel_ir

    return kernel_ir


def _addresses(F: int, shape: MemoryShape) -> dict[str, int]:
    key = f"kernel/{tag(F, shape)}"
    return engine.load(key, lambda: _ir().build_module(F, shape), [task_symbol(F, shape), lanes_symbol(F, shape)])


def kernel_address(F: int, shape: MemoryShape) -> int:
    """Address of the task function for (F, shape): loaded, read from the object cache, or compiled."""
    return _addresses(F, shape)[task_symbol(F, shape)]


def lanes_address(F: int, shape: MemoryShape, soa: bool = True) -> int:
    """Address of a lockstep function: lane groups (lanes_simd.py, the kernel module's) or lane by lane
    (lanes.py, a module of its own built on first use)."""
    if soa:
        return _addresses(F, shape)[lanes_symbol(F, shape)]
    sym = lanes_symbol(F, shape, False)
    return engine.load(f"kernel-lanes/{tag(F, shape)}", lambda: _ir().build_lane_module(F, shape), [sym])[sym]


def ops_lanes_address(F: int, shape: MemoryShape, ops: frozenset[int], regression: bool = False) -> int:
    """Address of a lane-group lockstep function (lanes_simd.py) that runs programs made of `ops` only, exactly as
    lanes_address's does: an op outside `ops` is skipped, so the caller checks every row first (the search loop's
    LANE_OPS). `regression`: for tasks none of which classifies (TASK_CLASSIFY 0), without the classification paths:
    the caller runs no other task through it."""
    ops = frozenset(ops)
    sym = ops_lanes_symbol(F, shape, ops, regression)
    return engine.load(f"kernel-ops/{sym}", lambda: _ir().build_ops_module(F, shape, ops, regression), [sym])[sym]
