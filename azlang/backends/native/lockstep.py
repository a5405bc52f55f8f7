"""Native stage: one program on all tasks of a NativeEvaluator in one lockstep call (lanes.py) from Python.

The search loop calls the lanes directly; this entry point serves the differential tests and benchmarks.
It returns what NativeEvaluator.evaluate_batch returns for that one program (fitness, train steps and, with
`record`, the recorded errors and final memory per task), with the same Rng consumption.
"""

from __future__ import annotations

import numpy as np

from azlang.backends.native import abi, pack
from azlang.evaluate import EvalOptions, TaskResult
from azlang.ir.ops import OPS
from azlang.rng import Rng


def eligible(ev, bc) -> str | None:
    """Why this program cannot run in lockstep on these tasks, or None when it can."""
    if len({(t.F, t.n_train, t.epochs, t.n_valid) for t in ev.tasks}) != 1:
        return "the tasks differ in F, examples or epochs"
    ns = bc.sizes[0]
    if any(OPS[int(op)].is_random for op in np.asarray(bc.code)[ns:, 0]):
        return "predict or learn holds a random op"
    return None


LONG = 20000  # train steps of one evaluation (all tasks) from which lockstep pays for its Python set-up


def batch_lockstep(ev, bcs, rng: Rng, opts: EvalOptions):
    """evaluate_batch by lockstep calls, program after program, when every program can and the work is long;
    else None (the caller runs the one-task kernel)."""
    if opts.record or len(ev.tasks) < 2:
        return None
    cap = (lambda t: t.n_train * t.epochs) if opts.max_train is None else (
        lambda t: min(opts.max_train, t.n_train * t.epochs))
    if sum(cap(t) for t in ev.tasks) < LONG or any(eligible(ev, bc) for bc in bcs):
        return None
    from azlang.backends.native.evaluator import BatchResult

    results = [evaluate_lockstep(ev, bc, rng, opts) for bc in bcs]
    return BatchResult(np.concatenate([r.fitness for r in results]),
                       np.concatenate([r.train_steps for r in results]))


def lane_call(ev, program, rng: Rng, opts: EvalOptions | None = None, probe: bool = False, lane_tasks=None):
    """The argument block of one lockstep call of `program` on every task of `ev` (a NativeEvaluator), or on
    the tasks `lane_tasks` in that order (lane k runs task lane_tasks[k], as the search's stages do), and the
    arrays it points to (kept alive by the caller): what evaluate_lockstep passes to the lanes function."""
    from azlang.backends.native.evaluator import address

    opts = opts or EvalOptions(max_abs_error=ev.max_abs_error)
    bc = pack.as_bytecode(program)
    code, data = pack.check_bytecode(bc, ev.shape, ev.Fs)
    why = eligible(ev, bc)
    if why is not None:
        raise ValueError(f"lockstep evaluation impossible: {why}")
    lane_task = np.arange(len(ev.tasks), dtype=np.int64) if lane_tasks is None else np.array(lane_tasks, np.int64)
    n, lay = len(lane_task), ev.layouts[0]
    o, _ = ev._options(EvalOptions(opts.max_abs_error, opts.max_train, opts.max_valid, False), ev.table.copy())
    o[abi.OPT_RECORD] = int(bool(opts.record))
    o[abi.OPT_PROBE] = int(probe)
    caps = ev._record_caps(opts)
    rts, rvs = max(1, int(caps[0].max())), max(1, int(caps[1].max()))
    stride = -(-lay.size // 8) * 8
    arrays = {"TASKS": ev.table, "LANE_TASK": lane_task, "OPTS": o,
              "RNG": np.array([rng.state], dtype=np.uint64), "MEM": pack.aligned(abi.lane_mem_doubles(n, stride)),
              "SCRATCH": pack.aligned(lay.scratch), "STATS": np.zeros(n * abi.STAT_SLOTS, dtype=np.int64),
              "REC_TRAIN": pack.aligned(abi.lane_rec_doubles(n, rts)),
              "REC_VALID": pack.aligned(abi.lane_rec_doubles(n, rvs)), "FIT": np.zeros(n),
              "WORK": np.zeros(n * abi.LANE_WORK, dtype=np.int64), "CODE": code, "DATA": data}
    args = np.zeros(len(abi.LANE_ARGS), dtype=np.int64)
    for name, arr in arrays.items():
        args[abi.L[name]] = address(arr)
    for name, v in (("NS", bc.sizes[0]), ("NP", bc.sizes[1]), ("NL", bc.sizes[2]), ("N", n), ("RNG_STRIDE", 0),
                    ("MEM_STRIDE", stride), ("RT_STRIDE", rts), ("RV_STRIDE", rvs)):
        args[abi.L[name]] = v
    return args, arrays


def evaluate_lockstep(ev, program, rng: Rng, opts: EvalOptions | None = None, soa: bool = True,
                      probe: bool = False, lane_tasks=None, ops=None):
    """BatchResult of `program` on every task of `ev` (a NativeEvaluator), all tasks in one lockstep call:
    in struct-of-arrays lane groups as the search does (lanes_simd.py), or with soa=False lane by lane
    (lanes.py, kept as the yardstick of benchmarks/bench_kernel.py and the tests). probe=True runs as FEC
    probes do (OPT_PROBE): every fitness is 0 and, in lane groups, the final memory is not kept (no result has
    it); errors, train steps and the Rng are the same. `lane_tasks` (lane_call) gives the results of those
    tasks, in that order. `ops` (op ids): through the lane-group function built for those ops only
    (kernel.ops_lanes_address, what the search uses when its programs hold few ops; for regression tasks only when
    no task run classifies); the program's must be among them."""
    from azlang.backends.native import kernel
    from azlang.backends.native.evaluator import BatchResult, address, snapshot

    opts = opts or EvalOptions(max_abs_error=ev.max_abs_error)
    args, arrays = lane_call(ev, program, rng, opts, probe, lane_tasks)
    n, lay = int(args[abi.L["N"]]), ev.layouts[0]
    stride, rts, rvs = (int(args[abi.L[k]]) for k in ("MEM_STRIDE", "RT_STRIDE", "RV_STRIDE"))
    F = ev.tasks[0].F
    if ops is None:
        fn = kernel.lanes_address(F, ev.shape, soa)
    else:
        ops = frozenset(ops) | {0}
        other = sorted({int(k) for k in arrays["CODE"][:, 0]} - ops)
        if other or not soa:
            raise ValueError(f"the lanes built for ops {sorted(ops)} cannot run ops {other} (or lane by lane)")
        regression = not ev.table[arrays["LANE_TASK"], abi.TASK_CLASSIFY].any()  # then without classification paths
        fn = kernel.ops_lanes_address(F, ev.shape, ops, regression)
    with ev._lock:
        abi.LANES_CTYPE(fn)(address(args))
    rng.state = int(arrays["RNG"][0])
    stats = arrays["STATS"].reshape(n, abi.STAT_SLOTS)
    fit = arrays["FIT"]
    tasks = None
    if opts.record:
        mem = abi.final_memory(arrays["MEM"], n, stride, lay.size) if soa else arrays["MEM"][:n * stride].reshape(
            n, stride)[:, :lay.size]
        tasks = [[TaskResult(float(fit[t]), int(stats[t, abi.STAT_STEPS]),
                             arrays["REC_TRAIN"][t * rts:t * rts + stats[t, abi.STAT_REC_TRAIN]].tolist(),
                             arrays["REC_VALID"][t * rvs:t * rvs + stats[t, abi.STAT_REC_VALID]].tolist(),
                             None if probe and soa else snapshot(mem[t].copy(), lay))
                  for t in range(n)]]
    return BatchResult(fit.reshape(1, n).copy(), stats[:, abi.STAT_STEPS].reshape(1, n).copy(), tasks)
