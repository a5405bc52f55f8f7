"""Benchmark: ns per train step of one fixed program: azlang (kernel, JIT, lockstep), the C++ Executor, a plain C loop.

Programs (the same instructions, the same task data for all four):
  sgd_readme  the SGD learner `azc evolve --seed stdlib/empty.az` rediscovers (README), F=4, 10 linear tasks
              of 100/100 examples, memory 4/3/1 (the demo's shape);
  demo_seed1  the program the demo's fixed-work run evolves (seed 1, 2e8 steps), after dce: 5/2/5
              instructions, same tasks;
  nn_2layer   stdlib/nn_2layer.az (the reference's NEURAL_NET_ALGORITHM) with lr = 0.003 (0.01 diverges on
              this task after a few hundred steps), F=16, one teacher task of 8000/1000 examples, memory
              5/9/2 (the baseline's shape).
Columns: azlang's kernel interpreter and its program JIT (the native call on a batch of copies, packed once
outside the timing; the JIT's compile is outside the timing), azlang's lockstep lanes (what the search's native
loop runs: one call evaluates the program on all the tasks, four tasks to a SIMD group; best of 5 native loops
of calls, bench_lanes_call.py's; on one task it runs one group with three idle lanes), the C++
release's Executor<F> (a driver built at bench time in /tmp against
../shared/cxx-ref; see cxx_driver.py; -O2 as its build) and the program written as a plain C loop
(c_loops/*.c, gcc -O3 -march=native -ffp-contract=off: host vector units as the JIT's, no FMA). Each figure
is the median over many short timed units (one evaluation for the C++ and C, a batch of 10 copies for the
small programs in azlang: 0.01-2 ms each), so that on a shared machine most units run undisturbed (longer
units are preempted more often under load and read slower).
Checks: every task's fitness, step count and final memory of the C loop equal azlang's NumPy reference
exactly (Setup's result comes from azlang, so random Setups start from the same weights); the kernel's,
JIT's and lockstep's fitness too. The C++ runs its own Setup (its own random stream): its fitness is shown,
equal only for programs without random draws.

    python benchmarks/bench_step.py [--quick] [--only sgd_readme,nn_2layer] [--no-cxx] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

import cxx_driver
from bench_common import environment, write_results

from azlang.api import load
from azlang.backends.native import NativeEvaluator
from azlang.evaluate import EvalOptions, evaluate
from azlang.ir.bytecode import from_bytecode, to_bytecode
from azlang.ir.nodes import MemoryShape
from azlang.rng import Rng
from azlang.syntax import parse
from azlang.tasks import synthetic
from azlang.tools.tune import with_values

WORK = Path("/tmp/azlang-bench-step")
C_LOOPS = Path(__file__).resolve().parent / "c_loops"
C_FLAGS = ["-O3", "-march=native", "-ffp-contract=off"]  # the JIT targets the host CPU too; no FMA, no fast-math
SHARED = ROOT.parent / "shared"

SGD_README = """
def Setup():
  no_op
def Predict():
  s1 = dot(v0, v1)
def Learn():
  s2 = s1 - s0
  v1 = s2 * v0
  v2 = v2 + v1
  v1 = s3 * v2
  s3 = -0.1762390290293345
"""
DEMO_SEED1 = """
def Setup():
  v2 = v1 + v0
  s3 = 0.7196586122147091
  v1 = s1 * v2
  s2 = -0.695129411685172
  v2 = s3 * v0
def Predict():
  s1 = dot(v0, v2)
  s1 = s2 * s1
def Learn():
  v2 = v2 + v1
  s3 = s0 - s1
  v1 = s3 * v0
  v2 = v2 + v1
  s2 = 0.08480545352211917
"""


def linear_tasks():
    return [synthetic.linear(4, 100, 100, data_seed=i, param_seed=i) for i in range(10)]


def teacher_task():
    return [synthetic.teacher(16, 8000, 1000, data_seed=1, param_seed=1)]


# name: (program, memory shape, tasks, C++ build variant, azlang kernel batch size)
PROGRAMS = {
    "sgd_readme": (lambda: parse(SGD_README), MemoryShape(4, 3, 1), linear_tasks, "demo", 10),
    "demo_seed1": (lambda: parse(DEMO_SEED1), MemoryShape(4, 3, 1), linear_tasks, "demo", 10),
    "nn_2layer": (lambda: with_values(load(ROOT / "stdlib/nn_2layer.az"), {"lr": 0.003}), MemoryShape(5, 9, 2),
                  teacher_task, "baseline", 1),
}


def write_data(path: Path, tasks, shape: MemoryShape, setups) -> None:
    """The data file of c_loops/common.h: header, then per task the examples and the memory after Setup."""
    F = tasks[0].F
    with open(path, "wb") as f:
        f.write(struct.pack("<7q", F, tasks[0].n_train, tasks[0].n_valid, len(tasks), shape.S, shape.V, shape.M))
        for t, mem in zip(tasks, setups):
            parts = (t.train_x, t.train_y, t.valid_x, t.valid_y, mem["s"][:shape.S], mem["v"][:shape.V],
                     mem["m"][:shape.M])
            f.writelines(np.ascontiguousarray(a, dtype="<f8").tobytes() for a in parts)


def reference(program, tasks, shape):
    """azlang's NumPy reference: per-task results with final memory, and the memories right after Setup."""
    full = evaluate(program, tasks, Rng(1), shape, EvalOptions(record=True))
    setup_only = evaluate(program, tasks, Rng(1), shape, EvalOptions(max_train=0, record=True))
    return full, [r.memory for r in setup_only.tasks]


def timed(fn, steps_of, repeats: int) -> float:
    """Median ns per train step over `repeats` calls of fn."""
    per = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        per.append((time.perf_counter() - t) * 1e9 / steps_of(out))
    return statistics.median(per)


def azlang_rates(program, tasks, shape, batch: int, repeats: int, full) -> dict:
    ev, bc = NativeEvaluator(tasks, shape), to_bytecode(program)
    out = {}
    kern = ev.evaluate(bc, Rng(1), tier="kernel")
    jit = ev.evaluate(bc, Rng(1), tier="jit")  # compiles once, outside the timing
    ref = [r.fitness for r in full.tasks]
    out["kernel_matches"] = [r.fitness for r in kern.tasks] == ref
    out["jit_matches"] = [r.fitness for r in jit.tasks] == ref
    calls = native_calls(ev, bc, batch)
    if calls is None:  # the evaluator's internals moved: time the public calls (their Python cost included)
        out["timed"] = "public calls"
        calls = {"kernel": lambda: ev.evaluate_batch([bc] * batch, Rng(1)),
                 "jit": lambda: ev.evaluate(bc, Rng(1), tier="jit")}
    else:
        out["timed"] = "native calls"
        out["jit_matches"] = out["jit_matches"] and calls["jit"]().fitness[0].tolist() == ref
    for tier in ("kernel", "jit"):
        out[f"{tier}_ns"] = timed(calls[tier], lambda r: int(np.sum(r.train_steps)), repeats)
    return out


def lockstep_rate(program, tasks, shape, full, quick: bool) -> dict:
    """ns per train step of the evaluator the search runs: one lockstep call of the program on all the tasks (lane
    groups of four, examples in visiting order as the search lays them out), called back to back by a native loop
    (bench_lanes_call.py's), best of 5 loops. Its fitness is checked against the reference first."""
    import bench_lanes_call as lanes_bench

    from azlang.backends.native import engine, kernel
    from azlang.backends.native.lockstep import evaluate_lockstep, lane_call

    ev = NativeEvaluator(tasks, shape)
    ev.order_train()
    opts = EvalOptions(max_abs_error=ev.max_abs_error)
    res = evaluate_lockstep(ev, program, Rng(1), opts)
    steps = int(np.sum(res.train_steps))
    args, _arrays = lane_call(ev, program, Rng(1), opts)  # _arrays: what args points to, alive while timed
    repeat = lanes_bench.REPEAT_CTYPE(engine.load("bench/repeat", lanes_bench._repeat_module,
                                                  ["bench_repeat"])["bench_repeat"])
    calls = max(5, int((0.05 if quick else 0.2) / (steps * 5e-9)))
    ns = lanes_bench.ns_per_call(repeat, kernel.lanes_address(tasks[0].F, shape, True), args, calls, 5)
    return {"lockstep_ns": ns / steps,
            "lockstep_matches": np.asarray(res.fitness).ravel().tolist() == [r.fitness for r in full.tasks]}


def native_calls(ev, bc, batch: int) -> dict | None:
    """The kernel's and the JIT's native call on `batch` copies, the Python packing done once outside the
    timing (what the search's native loop does too). Uses NativeEvaluator internals; None if they moved."""
    try:
        from azlang.backends.native import abi, jit

        code, data, progs = ev._pack_programs([bc] * batch)
        jit_table = ev.table.copy()
        for t, task in enumerate(ev.tasks):
            jit_table[t, abi.TASK_FN] = jit.program_address(bc, task.F, ev.shape)
        opts = EvalOptions(max_abs_error=ev.max_abs_error)
        return {"kernel": lambda: ev._call(code, data, progs, ev.table, Rng(1), opts),
                "jit": lambda: ev._call(code, data, progs, jit_table, Rng(1), opts)}
    except (AttributeError, ImportError, TypeError):
        return None


def parse_native(text: str) -> dict:
    """Per-task fitness/steps, final memories and the median of a C loop's or the C++ driver's output."""
    tasks, finals, ns = [], [], None
    for line in text.splitlines():
        parts = line.split()
        if parts[:1] == ["task"]:
            tasks.append((float(parts[3]), int(parts[5])))
        elif parts[:1] == ["final"]:  # final K UNSTORED values...
            finals.append((parts[2], np.array([float(x) for x in parts[3:]])))
        elif parts[:1] == ["ns_per_step_median"]:
            ns = float(parts[1])
    return {"tasks": tasks, "finals": finals, "ns": ns}


def c_loop(name: str, data: Path, repeats: int) -> dict:
    binary = WORK / f"c_{name}"
    subprocess.run(["gcc", *C_FLAGS, "-o", str(binary), str(C_LOOPS / f"{name}.c"), "-lm"],
                   check=True)
    out = subprocess.run([str(binary), str(data), str(repeats)], check=True, capture_output=True, text=True).stdout
    return parse_native(out)


def flat_memory(mem: dict, shape: MemoryShape) -> np.ndarray:
    return np.concatenate([mem["s"][:shape.S].ravel(), mem["v"][:shape.V].ravel(), mem["m"][:shape.M].ravel()])


def check_c(c: dict, full, shape) -> bool:
    """Fitness, steps and final memory (less the registers the loop never stores) equal the reference's."""
    ref = [(r.fitness, r.train_steps) for r in full.tasks]
    if c["tasks"] != ref or len(c["finals"]) != len(full.tasks):
        return False
    for (unstored, got), r in zip(c["finals"], full.tasks):
        mem = {k: r.memory[k].copy() for k in "svm"}
        for reg in unstored.split(",") if unstored != "-" else []:
            mem[reg[0]][int(reg[1:])] = np.nan  # masked on both sides
        want = flat_memory(mem, shape)
        got = np.where(np.isnan(want), np.nan, got)
        if not np.array_equal(got, want, equal_nan=True):
            return False
    return True


def cxx(name: str, program, variant: str, data: Path, repeats: int, cxx_build: Path) -> dict:
    binary = cxx_driver.build(variant, cxx_build, SHARED / "cxx-ref/src/automl_zero", WORK)
    algo = WORK / f"{name}.algorithm"
    algo.write_text(cxx_driver.algorithm_lines(from_bytecode(to_bytecode(program))))
    out = subprocess.run([str(binary), str(data), str(algo), str(repeats)], check=True, capture_output=True,
                         text=True).stdout
    return parse_native(out)


def bench(name: str, quick: bool, with_cxx: bool, cxx_build: Path) -> dict:
    make, shape, make_tasks, variant, batch = PROGRAMS[name]
    program, tasks = make(), make_tasks()
    steps_per_eval = sum(t.n_train for t in tasks)
    native_repeats = max(5, int((0.05 if quick else 0.2) / (steps_per_eval * 40e-9)))
    full, setups = reference(program, tasks, shape)
    data = WORK / f"{name}.data"
    write_data(data, tasks, shape, setups)
    row = {"program": name, "train_steps_per_eval": full.train_steps, "fitness": full.fitness}
    row.update(azlang_rates(program, tasks, shape, batch, 51 if quick else 201, full))
    row.update(lockstep_rate(program, tasks, shape, full, quick))
    c = c_loop(name, data, native_repeats)
    row["c_ns"], row["c_matches"] = c["ns"], check_c(c, full, shape)
    if with_cxx:
        x = cxx(name, program, variant, data, native_repeats, cxx_build)
        row["cxx_ns"] = x["ns"]
        fits = [f for f, _ in x["tasks"]]
        row["cxx_fitness"] = sum(fits) / len(fits)
        row["cxx_steps_per_eval"] = sum(s for _, s in x["tasks"])
    return row


def markdown(rows: list[dict]) -> str:
    lines = [("| program | steps/eval | azlang kernel | azlang JIT | azlang lockstep | C++ Executor | plain C loop | "
              "C++/kernel | C++/JIT | C++/lockstep | kernel/C | JIT/C | lockstep/C | checks |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cx = r.get("cxx_ns", math.nan)
        ok = "C = azlang" if r["c_matches"] else "C DIFFERS"
        same = r["kernel_matches"] and r["jit_matches"] and r["lockstep_matches"]
        ok += "; kernel, JIT, lockstep = reference" if same else "; NATIVE DIFFERS"
        if "cxx_fitness" in r:
            same = r["cxx_fitness"] == r["fitness"]
            theirs = "equal" if same else "azlang " + format(r["fitness"], ".6g")
            ok += f"; C++ fitness {r['cxx_fitness']:.6g} ({theirs})"
        lines.append(
            f"| {r['program']} | {r['train_steps_per_eval']} | {r['kernel_ns']:.1f} ns | {r['jit_ns']:.1f} ns "
            f"| {r['lockstep_ns']:.1f} ns | {cx:.1f} ns | {r['c_ns']:.1f} ns | {cx / r['kernel_ns']:.2f}x "
            f"| {cx / r['jit_ns']:.2f}x | {cx / r['lockstep_ns']:.2f}x | {r['kernel_ns'] / r['c_ns']:.2f}x "
            f"| {r['jit_ns'] / r['c_ns']:.2f}x | {r['lockstep_ns'] / r['c_ns']:.2f}x | {ok} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=",".join(PROGRAMS))
    ap.add_argument("--no-cxx", action="store_true", help="skip the C++ driver")
    ap.add_argument("--cxx-build", type=Path, default=Path("/tmp/cxx-ref-build"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in (s.strip() for s in args.only.split(",") if s.strip()):
        with np.errstate(all="ignore"):
            rows.append(bench(name, args.quick, not args.no_cxx, args.cxx_build))
        print(json.dumps(rows[-1]), flush=True)
    md = markdown(rows)
    print(md)
    if not args.no_write:
        write_results("step", {"environment": environment(), "rows": rows}, md)
    if not all(r["c_matches"] and r["kernel_matches"] and r["jit_matches"] and r["lockstep_matches"] for r in rows):
        sys.exit("a C loop or a native tier does not reproduce azlang's reference results")


if __name__ == "__main__":
    main()
