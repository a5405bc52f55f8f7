"""Native stage: the search loop's binary interface: one int64 context array and the op-table constants.

Python fills one int64 array (`Ctx`) with the island's parameters, the addresses of its arrays and its
scalar state (Rng, cursor, counters); the generated chunk function reads and updates it in place, so one
ctypes call carries a whole chunk of children. Doubles are stored by their bits.
"""

from __future__ import annotations

import numpy as np

from azlang.ir.ops import OPS

_GROUPS = (  # one line per concern: parameters, mutation, FEC, cache, budget, hurdle, evaluation, arrays, state
    "P T NT CAP",
    "PROB PROB_LT1 N_ACTIONS ACTIONS N_MUTABLE MUTABLE OPS NOPS SMIN SMAX SINIT",
    "FEC FEC_TRAIN FEC_VALID",
    "C_TABLE C_MASK C_ENT C_HEAD C_TAIL C_COUNT C_FREE C_CAPACITY C_FORGET C_HITS C_MISSES C_GEN C_AHEAD",  # search_fec
    "BUDGET BASE_SETUP BASE_TRAIN FACTOR EXAMPLES BUDGETED",
    "HURDLE HURDLE_K HURDLE_VALUE H_TESTED H_PASSED MEDIAN",
    "TASKS MEM SCRATCH PROBE_OPTS FULL_OPTS STATS REC_TRAIN REC_VALID TASKFITS",
    "POP_CODE POP_DATA POP_SIZES FIT PPART PSTEPS PVALID",
    "CH_CODE CH_DATA CH_SIZES CH_PART CH_STEPS CH_VALID",
    "LV_CODE LV_DATA LV_SIZES LP_CODE LP_DATA LP_SIZES LP_AFTER MARK DCE_MASKS DCE_AFTER",
    "PL_CODE PL_DATA PL_SIZES PL_OK PL_AFTER",  # per slot: its live program (and dce's sets), when PL_OK
    "CH_EDIT DEAD_EDITS DEAD_CHECK DEAD_BAD",  # the mutation's edit (search_mutate); the dead-edit shortcut
    "PHASH PM_TABLE PM_MASK CH_HASH MEMO_HITS",  # per slot its live program's hash; a direct-mapped table hash -> slot
    "BEST_CODE BEST_DATA BEST_SIZES BEST_FIT HAS_BEST",
    "RNG PROBE_RNG CURSOR INDIVIDUALS TRAIN_STEPS EVALUATIONS MAX_TOTAL PROBES_SKIPPED",
    "COUNT SOURCE DONE STOP_STEPS",  # STOP_STEPS > 0: a chunk ends at the first sweep end with that many train steps
    # progress lines taken at sweep ends (LINE_EVERY > 0): rows of LINE_WORDS in LINE_BUF; CLOCK: clock_gettime or 0
    "LINE_NEXT LINE_EVERY LINE_BUF LINE_CAP LINE_COUNT CLOCK CLOCK_ID",
    # lockstep evaluation (lanes.py): probe results and full evaluations computed ahead, per task
    "LANES LANE_ARGS LANE_TASK LANE_FIT LANE_STATS LANE_RNG LANE_REC_TRAIN LANE_REC_VALID LANE_RTS LANE_RVS",
    "PRE_OK PRE_PART PRE_STEPS SPEC_OK SPEC_FIT SPEC_STEPS LANE_CALLS",
    # a lockstep function built for the ops the search draws (0: none) and per op id 1 where it runs that op; LV_OPS:
    # the live program's rows all have such ops (set by live_random), so `lanes_run` calls that function (counted)
    "OPS_LANES_FN LANE_OPS LV_OPS OPS_LANE_CALLS",
    "ST_OK ST_KEY ST_POS ST_GEN",  # per task the key and cache position `stage` found, valid while C_GEN == ST_GEN
)
_NAMES = [name for group in _GROUPS for name in group.split()]
SLOT = {name: k for k, name in enumerate(_NAMES)}
N_SLOTS = len(_NAMES)

# the FEC cache's entries (search_fec): int64 words key, fitness bits, uses, then prev and next as two int32
C_ENTRY_WORDS, C_LINKS = 4, 3

# child sources of a chunk
SOURCE_EVOLVE, SOURCE_INIT_RANDOM, SOURCE_RANDOM = 0, 1, 2
# chunk return codes
STATUS_DONE, STATUS_GROW, STATUS_STOPPED = 0, 1, 2  # STOPPED: at a sweep end, the train steps reached STOP_STEPS
STATUS_LINES = 3  # at a sweep end: LINE_BUF is full

# a progress line's row (search_loop_ir._take_line): int64 words, doubles by their bits; the clock's timespec last
LINE_FIELDS = ("individuals", "train_steps", "fec_hits", "fec_misses", "hurdle_tested", "hurdle_passed",
               "fit_sum", "fit_squares", "fit_max", "best_fit", "has_best", "clock_s", "clock_ns")
LINE = {name: k for k, name in enumerate(LINE_FIELDS)}
LINE_WORDS = len(LINE_FIELDS)

# per op: 0 no-op, 1 set op, 2 one input, 3 two inputs (the ALTER_PARAM classes of mutate.py)
OP_CLASS = [0 if o.id == 0 else 1 if o.is_set else o.arity + 1 for o in OPS]
_KIND = {None: 0, "s": 1, "v": 2, "m": 3}
OP_OUT = [_KIND[o.out] for o in OPS]
OP_IN1 = [_KIND[o.ins[0]] if o.arity >= 1 else 0 for o in OPS]
OP_IN2 = [_KIND[o.ins[1]] if o.arity >= 2 else 0 for o in OPS]
OP_COST = [o.cost for o in OPS]
OP_RANDOM = [int(o.is_random) for o in OPS]
OP_PARTIAL = [int(o.id in (57, 58)) for o in OPS]  # writes one element: the rest of `out` stays live


class Ctx:
    """The context array plus the NumPy arrays it points to (kept alive here)."""

    def __init__(self):
        self.a = np.zeros(N_SLOTS, dtype=np.int64)
        self.keep: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> int:
        return int(self.a[SLOT[name]])

    def __setitem__(self, name: str, value: int) -> None:
        self.a[SLOT[name]] = value

    def f(self, name: str) -> float:
        return float(self.a[SLOT[name] : SLOT[name] + 1].view(np.float64)[0])

    def set_f(self, name: str, value: float) -> None:
        self.a[SLOT[name] : SLOT[name] + 1].view(np.float64)[0] = value

    def u(self, name: str) -> int:
        return int(self.a[SLOT[name] : SLOT[name] + 1].view(np.uint64)[0])

    def set_u(self, name: str, value: int) -> None:
        self.a[SLOT[name] : SLOT[name] + 1].view(np.uint64)[0] = value

    def array(self, name: str, arr: np.ndarray) -> np.ndarray:
        """Point slot `name` at `arr` (C-contiguous) and keep it alive (a name without a slot: keep only)."""
        arr = np.ascontiguousarray(arr)
        self.keep[name] = arr
        if name in SLOT:
            self.a[SLOT[name]] = arr.ctypes.data
        return arr
