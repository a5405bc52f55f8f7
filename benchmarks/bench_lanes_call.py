"""Benchmark: ns per lockstep call of the two calls the search makes per child, on the demo shape.

    python benchmarks/bench_lanes_call.py [--repeats 5] [--calls 100000] [--probe-train 10]

An FEC probe (10 train + 10 valid steps on each of the 10 tasks, errors recorded, OPT_PROBE) and a full
evaluation (100 + 100 steps) of fixed programs on 10 linear tasks (F=4, memory 4/3/1), the train data in
sequence order as in the search (NativeEvaluator.order_train). A native loop makes the calls back to back (no
Python between them, so the figure is the call itself); each figure is the best of `--repeats` loops of
`--calls` calls (the machine is shared). `--probe-train 0` shows what a probe pays before its first step.
"""

from __future__ import annotations

import argparse
import ctypes
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_kernel import EVOLVED_DEMO
from llvmlite import ir

from azlang.backends.native import NativeEvaluator, abi, engine, kernel
from azlang.backends.native.irutil import I64
from azlang.backends.native.lockstep import lane_call
from azlang.backends.native.search_emit import Fn
from azlang.evaluate import EvalOptions
from azlang.ir.nodes import MemoryShape
from azlang.rng import Rng
from azlang.search.fec import FEC_SEED
from azlang.syntax import parse
from azlang.tasks import synthetic

SHAPE = MemoryShape(4, 3, 1)
PROGRAMS = {  # Setup / Predict / Learn after dce, as the search evaluates them
    "evolved demo program (bench_kernel.py)": EVOLVED_DEMO,
    "one instruction each (1/1/1)": """
def Setup():
  s2 = 0.5
def Predict():
  s1 = dot(v0, v1)
def Learn():
  v1 = s2 * v0
""",
    "empty Predict and Learn (1/0/0)": """
def Setup():
  s2 = 0.5
def Predict():
def Learn():
""",
}
REPEAT_CTYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64)


def _repeat_module() -> ir.Module:
    """bench_repeat(args, fn, n): calls the lanes function fn(args) n times."""
    m = ir.Module(name="bench_repeat")
    f = Fn(m, "bench_repeat", ir.VoidType(), [I64, I64], export=True)  # its context argument is the block
    fn, n = f.args
    with f.loop(n):
        f.b.call(f.b.inttoptr(fn, abi.LANES_FN_TYPE.as_pointer()), [f.ctx])
    f.finish()
    return m


def ns_per_call(repeat, fn: int, args, calls: int, repeats: int) -> float:
    repeat(args.ctypes.data, fn, min(calls, 1000))  # caches warm
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        repeat(args.ctypes.data, fn, calls)
        best = min(best, (time.perf_counter() - t) / calls)
    return best * 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--calls", type=int, default=100000)
    ap.add_argument("--probe-train", type=int, default=10)
    a = ap.parse_args()
    ev = NativeEvaluator([synthetic.linear(4, 100, 100, k, k + 1) for k in range(10)], SHAPE)
    ev.order_train()
    repeat = REPEAT_CTYPE(engine.load("bench/repeat", _repeat_module, ["bench_repeat"])["bench_repeat"])
    fn = kernel.lanes_address(4, SHAPE, True)
    print("| program | FEC probe (ns/call) | full evaluation (ns/call) | full / 200 steps (ns) |")
    print("|---|---|---|---|")
    for name, src in PROGRAMS.items():
        prog = parse(src)
        probe_opts = EvalOptions(max_abs_error=100.0, max_train=a.probe_train, max_valid=10, record=True)
        # each block's arrays (the second value) stay alive while the calls point at them
        probe, _probe_arrays = lane_call(ev, prog, Rng(FEC_SEED), probe_opts, probe=True)
        full, _full_arrays = lane_call(ev, prog, Rng(1), EvalOptions(max_abs_error=100.0))
        p = ns_per_call(repeat, fn, probe, max(1, a.calls), a.repeats)
        f = ns_per_call(repeat, fn, full, max(1, a.calls // 8), a.repeats)
        print(f"| {name} | {p:.0f} | {f:.0f} | {f / 200:.1f} |")


if __name__ == "__main__":
    main()
