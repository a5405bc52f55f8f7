"""Native stage: the binary interface between Python and generated code (table layouts, signatures).

All tables are int64 arrays (pointers stored as integers, one double stored by its bits), so one
`ctypes` call carries a whole batch:

  program table (n_prog, 4)   row offset into the concatenated code/data, n_setup, n_predict, n_learn
  code   int32 (rows, 4)      op, in1, in2, out          data float64 (rows, 3)   (azlang.ir.bytecode)
  task table (n_tasks, 18)    see TASK_* slots
  opts int64 (8,)             see OPT_* slots
  rng  uint64 (1,)            SplitMix64 state, read and written back in place
  stats int64 (n_prog, n_tasks, 3)   train steps, recorded train errors, recorded valid errors
"""

from __future__ import annotations

import ctypes

# task table slots
TASK_TRAIN_X, TASK_TRAIN_Y, TASK_VALID_X, TASK_VALID_Y, TASK_SEQUENCE = 0, 1, 2, 3, 4
TASK_N_TRAIN, TASK_EPOCHS, TASK_N_VALID, TASK_CLASSIFY, TASK_FN = 5, 6, 7, 8, 9
TASK_REC_TRAIN_OFF, TASK_REC_VALID_OFF, TASK_MEM_OFF, TASK_F = 10, 11, 12, 13
TASK_LANES_FN = 14  # the lockstep function of this task's kernel module (lanes.py)
TASK_ORDERED = 15  # 0, or train rows x[seq[q]] for every step q, then labels y[seq[q]] (lanes_simd.py reads them)
TASK_GROUPED = 16  # 0, or the examples of this task's group of SOA_W tasks, interleaved (order_train)
TASK_GROUP_LANE = 17  # this task's lane in that group
TASK_SLOTS = 18

# option slots (-1 means "no limit")
OPT_MAX_TRAIN, OPT_MAX_VALID, OPT_MAX_ABS_ERROR, OPT_RECORD = 0, 1, 2, 3
OPT_REC_TRAIN_STRIDE, OPT_REC_VALID_STRIDE, OPT_MEM_STRIDE = 4, 5, 6
OPT_PROBE = 7  # lockstep lanes: 1 for an FEC probe, which uses only the recorded errors: no fitness (FIT stays 0)
# and, in lane groups, no final memory
OPT_SLOTS = 8

STAT_STEPS, STAT_REC_TRAIN, STAT_REC_VALID = 0, 1, 2
STAT_SLOTS = 3

# double task(code, data, n_setup, n_predict, n_learn, task_row, opts, rng, mem, scratch, stats, rec_train,
#             rec_valid): one program on one task; the fitness is returned, the rest written through pointers.
# (TASK_FN_TYPE, BATCH_FN_TYPE, LANES_FN_TYPE: the llvmlite types, made on first use by __getattr__ below)
TASK_NOALIAS = (8, 9, 10, 11, 12)  # mem, scratch, stats and record buffers are distinct allocations

# void batch(n_prog, prog_table, code, data, n_tasks, task_table, opts, rng, mem, scratch, fitness, stats,
#            rec_train, rec_valid, rec_mem)
_P, _I = ctypes.c_void_p, ctypes.c_int64
BATCH_CTYPE = ctypes.CFUNCTYPE(None, _I, _P, _P, _P, _I, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P)

# void lanes(args): one program on n tasks in lockstep (lanes.py); args is an int64 array of these slots.
# The caller guarantees: every lane's task has the same F, n_train, epochs and n_valid, and the predict and
# learn components hold no random op (setup may: setups run first, lane after lane, in lane order).
LANE_ARGS = ("CODE", "DATA", "NS", "NP", "NL", "TASKS", "LANE_TASK", "N", "OPTS", "RNG", "RNG_STRIDE", "MEM",
             "MEM_STRIDE", "SCRATCH", "STATS", "REC_TRAIN", "REC_VALID", "RT_STRIDE", "RV_STRIDE", "FIT", "WORK")
L = {name: k for k, name in enumerate(LANE_ARGS)}
LANE_WORK = 16  # int64 words of work space per lane (lanes.py: 7 arrays and a 9-slot task row)
SOA_W = 4  # lanes per struct-of-arrays group (lanes_simd.py): one AVX2 register of doubles
SOA_STATE = 8 + 8 * SOA_W  # doubles of state per group: 4 masks, 4 stream addresses, then losses, labels and 6
# pointer arrays


def lane_mem_doubles(n: int, stride: int) -> int:
    """Doubles of MEM for n lockstep lanes of `stride` doubles: lane groups, a group of scratch, final memory
    and the groups' state and lists (lanes_simd.py)."""
    groups = -(-n // SOA_W)
    return (groups + 1) * SOA_W * stride + n * stride + groups * (SOA_STATE + 2)


def lane_rec_doubles(n: int, stride: int) -> int:
    """Doubles of REC_TRAIN / REC_VALID for n lockstep lanes recording up to `stride` errors each: a row for
    every lane of the last group too (a group may store its lanes' records at once, lanes_simd.py)."""
    return -(-n // SOA_W) * SOA_W * stride


LANES_CTYPE = ctypes.CFUNCTYPE(None, _P)


def final_memory(mem, n: int, stride: int, size: int):
    """Each lane's memory when it stopped (recorded runs), out of lane groups' MEM (lanes_simd.py), as an (n, size)
    array (NumPy views)."""
    start = (-(-n // SOA_W) + 1) * SOA_W * stride
    return mem[start:start + n * stride].reshape(n, stride)[:, :size]


def _function_types() -> dict:
    from llvmlite import ir

    from azlang.backends.native.irutil import F64, I64, PTR

    return {"TASK_FN_TYPE": ir.FunctionType(F64, [PTR, PTR, I64, I64, I64, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR]),
            "BATCH_FN_TYPE": ir.FunctionType(ir.VoidType(), [I64, PTR, PTR, PTR, I64, PTR, PTR, PTR, PTR, PTR, PTR,
                                                             PTR, PTR, PTR, PTR]),
            "LANES_FN_TYPE": ir.FunctionType(ir.VoidType(), [PTR])}


def __getattr__(name: str):
    """The signatures as llvmlite function types, for code generation only: made (and llvmlite.ir imported) on first
    use, so that running cached code does not load the IR library."""
    if name in ("TASK_FN_TYPE", "BATCH_FN_TYPE", "LANES_FN_TYPE"):
        globals().update(_function_types())
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
