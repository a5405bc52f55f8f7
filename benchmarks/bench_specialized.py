"""Benchmark: what native code per program could gain over the lockstep interpreter, at best (a bound for a JIT tier).

    python benchmarks/bench_specialized.py [--rounds 5] [--no-write]

For the fixed programs of bench_lanes_call.py on the demo shape (10 linear tasks of 100/100 examples, F=4, memory
4/3/1), one FEC probe (10 + 10 steps, errors recorded) and one full evaluation (100 + 100 steps) are timed through
three builds of the lockstep function:
  - interpreted: the lanes function the search calls (every instruction decoded and dispatched at every step);
  - ops built in: the program's op sequence written into the code, each instruction's registers and constants still
    read from the bytecode at every step (no dispatch: what a threaded or fused-op interpreter could reach at best);
  - program built in: registers and constants as immediates too (what compiled code per program gives, LLVM
    optimising across instructions: values stay in registers from one instruction to the next).
The built-in variants are compiled with LLVM once per program (~0.5 s each: a bound to compare against, not a tier
the search could use) and must give the interpreter's fitness, train errors and step counts bit for bit. Each figure
is the best over `--rounds` interleaved rounds of three timed loops each, as in bench_lanes_call.py (the host's noise
comes in bursts of up to seconds that slow a loop by 1.3-1.6x: a median of a few rounds still catches them).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lanes_call import PROGRAMS, REPEAT_CTYPE, SHAPE, _repeat_module, ns_per_call
from llvmlite import ir

from azlang.backends.native import NativeEvaluator, engine, kernel, lanes_simd, pack
from azlang.backends.native.context import Layout, Operands, declare_libm
from azlang.backends.native.irutil import F64, I32, I64, at
from azlang.backends.native.kernel_ir import _interpreter
from azlang.backends.native.lockstep import lane_call
from azlang.backends.native.lowering_simd import SOA, SCx
from azlang.evaluate import EvalOptions
from azlang.ir.ops import OPS
from azlang.rng import Rng
from azlang.search.fec import FEC_SEED
from azlang.syntax import parse
from azlang.tasks import synthetic

VARIANTS = ("interpreted", "ops built in", "program built in")
CALLS = {  # the two calls the search makes per child: (options, Rng seed, OPT_PROBE)
    "probe": (EvalOptions(max_abs_error=100.0, max_train=10, max_valid=10, record=True), FEC_SEED, True),
    "full": (EvalOptions(max_abs_error=100.0), 1, False),
}


def call(ev, prog, kind: str):
    """(argument block, arrays) of one `kind` call of `prog` on the tasks of `ev`."""
    opts, seed, probe = CALLS[kind]
    return lane_call(ev, prog, Rng(seed), opts, probe=probe)


class BuiltIn(lanes_simd.LanesSoA):
    """LanesSoA whose components run `program` (per component: (op, in1, in2, out, constants)) as straight-line code
    instead of calling the interpreter (`program`); `immediate` makes registers and constants constants of the code."""

    program: dict = {}
    immediate = False

    def run_groups(self, code, data, count, glist, ng) -> None:
        comp = getattr(self, "_comp", "setup")  # `code` and `data`: that component's slice of the bytecode
        operands = [self._operands(code, data, r, row) for r, row in enumerate(self.program[comp])]
        f, b, lib = self.f, self.f.b, declare_libm(self.f.fn.module)
        with f.loop(ng) as a:  # every group runs the component's instructions in order (groups are independent)
            cx = SCx(b, self.layout, lanes_simd.W, at(b, self.mem, b.mul(f.ld(glist, a), self.gstride)), self.spare, lib)
            for (op, *_), (out, in1, in2, const) in zip(self.program[comp], operands):
                SOA[op](cx, Operands(cx, OPS[op], out, in1, in2, const))

    def _operands(self, code, data, r: int, row):
        b = self.f.b
        if self.immediate:
            _, in1, in2, out, consts = row
            return (ir.Constant(I32, out), ir.Constant(I32, in1), ir.Constant(I32, in2),
                    lambda k, c=consts: ir.Constant(F64, c[k]))
        fields = [b.load(b.gep(code, [ir.Constant(I64, 4 * r + k)], source_etype=I32), typ=I32) for k in range(4)]
        slots = at(b, data, ir.Constant(I64, 3 * r))
        return fields[3], fields[1], fields[2], lambda k: b.load(at(b, slots, k), typ=F64)

    def run(self, comp: str, glist, ng) -> None:
        self._comp = comp
        super().run(comp, glist, ng)
        self._comp = "setup"


def built_in(bc, immediate: bool) -> int:
    """Address of the lanes function with `bc` built in (compiled on first use, then from the object cache)."""
    code, data = np.asarray(bc.code), np.asarray(bc.data)
    rows = [(int(c[0]), int(c[1]), int(c[2]), int(c[3]), [float(x) for x in d]) for c, d in zip(code, data)]
    ns, np_ = bc.sizes[0], bc.sizes[1]
    comps = {"setup": rows[:ns], "predict": rows[ns : ns + np_], "learn": rows[ns + np_ :]}
    digest = hashlib.sha256(repr((comps, immediate)).encode()).hexdigest()[:16]
    symbol = f"bench_built_in_{digest}"

    def build() -> ir.Module:
        module, layout = ir.Module(name=symbol), Layout(4, SHAPE)
        cls = type("Built", (BuiltIn,), {"program": comps, "immediate": immediate})
        cls(module, symbol, layout, _interpreter(module, layout),
            lanes_simd.group_interpreter(module, layout, f"{symbol}_groups")).build()
        return module

    return engine.load(f"bench/built-in/{digest}", build, [symbol])[symbol]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    ev = NativeEvaluator([synthetic.linear(4, 100, 100, k, k + 1) for k in range(10)], SHAPE)
    ev.order_train()
    repeat = REPEAT_CTYPE(engine.load("bench/repeat", _repeat_module, ["bench_repeat"])["bench_repeat"])
    rows, data = [], {}
    for name, src in PROGRAMS.items():
        prog = parse(src)
        bc = pack.as_bytecode(prog)
        fns = dict(zip(VARIANTS, (kernel.lanes_address(4, SHAPE, True), built_in(bc, False), built_in(bc, True))))
        times = {v: {kind: [] for kind in CALLS} for v in VARIANTS}
        same = True
        for variant, fn in fns.items():  # results first: every variant must give the interpreter's bits
            out = []
            for kind in CALLS:
                args, arrays = call(ev, prog, kind)
                repeat(args.ctypes.data, fn, 1)
                out += [arrays[k].copy() for k in ("FIT", "STATS", "REC_TRAIN", "REC_VALID")]
            if variant == VARIANTS[0]:
                reference = out
            same &= all(np.array_equal(x.view(np.int64), y.view(np.int64)) for x, y in zip(out, reference))
        calls = {kind: call(ev, prog, kind) for kind in CALLS}
        for _ in range(a.rounds):
            for variant, fn in fns.items():
                for kind, n in (("probe", 20000), ("full", 2500)):
                    times[variant][kind].append(ns_per_call(repeat, fn, calls[kind][0], n, 3))
        best = {v: {k: min(t) for k, t in kinds.items()} for v, kinds in times.items()}
        data[name] = {"ns": best, "same_bits": bool(same)}
        base = best[VARIANTS[0]]
        cells = [f"{best[v]['probe']:.0f} / {best[v]['full']:.0f}" + ("" if v == VARIANTS[0] else
                 f" ({base['probe'] / best[v]['probe']:.2f}x / {base['full'] / best[v]['full']:.2f}x)") for v in VARIANTS]
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {'yes' if same else 'NO'} |")
        print(rows[-1], flush=True)
    head = ("| program | " + " | ".join(f"{v}: probe / full (ns)" for v in VARIANTS) + " | same bits |\n|---|"
            + "---|" * (len(VARIANTS) + 1) + "\n")
    md = (f"# Per-program code against the interpreter, at best (ns per call, best of {a.rounds} rounds)\n\n"
          + head + "\n".join(rows) + "\n")
    print(md)
    if not a.no_write:
        from bench_common import environment, write_results

        write_results("specialized", {"environment": environment(), "rounds": a.rounds, "programs": data}, md)


if __name__ == "__main__":
    main()
