"""Lane groups skip the feature rows when no predict or learn instruction reads v0 and nothing is recorded
(lanes_simd.py, lane_groups.reads_v0): such programs, and the ones that do read v0 (in predict, only in
learn, after writing it), keep the reference's bits, with padding lanes, multi-epoch tasks and train caps."""

import numpy as np
import pytest
from native_support import cache_dir, label_task, quiet  # noqa: F401  (autouse fixtures)
from test_native_lanes import assert_lockstep_matches, lockstep_programs

from azlang.backends import native
from azlang.backends.native import abi
from azlang.evaluate import EvalOptions
from azlang.ir.nodes import MemoryShape
from azlang.ir.ops import OPS, VECTOR
from azlang.syntax import parse
from azlang.tasks import synthetic

pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
W = abi.SOA_W


def reads_v0(prog) -> bool:
    return any(kind == VECTOR and reg == 0 for comp, _, ins in prog.instructions() if comp != "setup"
               for kind, reg in zip(OPS[ins.op].ins, (ins.in1, ins.in2)))


def _tasks(F: int, D: int, epochs: int):
    return [synthetic.linear(F, 9, 5, k, k + 1, epochs=epochs) if k % 2 else
            label_task(F, 9, 5, seed=k, epochs=epochs) for k in range(D)]


@pytest.mark.parametrize("F,shape,D,epochs", [(4, MemoryShape(4, 5, 1), 2 * W + 1, 2),
                                              (16, MemoryShape(5, 6, 2), W + 3, 1)])
def test_programs_with_and_without_v0_reads_match_reference(F, shape, D, epochs):
    g = np.random.default_rng(40 + F)
    programs = lockstep_programs(g, shape, F, 60, sizes=(3, 3, 3))
    unread = [p for p in programs if not reads_v0(p)]
    assert 15 <= len(unread) <= len(programs) - 15  # both paths run, many times
    tasks = _tasks(F, D, epochs)
    assert_lockstep_matches(programs, tasks, shape, EvalOptions())
    assert_lockstep_matches(programs[:30], tasks, shape, EvalOptions(max_train=7, max_valid=3))
    assert_lockstep_matches(programs[30:], tasks, shape, EvalOptions(record=True))  # v0 recorded: loaded


HAND = {  # v0 read in predict; only in learn; written by predict, then read by learn; never read
    "predict": "def Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  v1 = v1 + v0\n",
    "learn": "def Predict():\n  s1 = norm(v1)\ndef Learn():\n  s2 = s0 - s1\n  v2 = s2 * v0\n  v1 = v1 + v2\n",
    "written": "def Predict():\n  v0 = v1 + v1\n  s1 = mean(v1)\ndef Learn():\n  v1 = v0 * v1\n",
    "never": "def Setup():\n  s2 = 0.3\ndef Predict():\n  s1 = s2 * s2\ndef Learn():\n  s2 = s0 - s1\n",
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_written_programs_match_reference(name):
    prog = parse("def Setup():\n  v1 = uniform(-0.1, 0.1)\n" + HAND[name] if name != "never" else HAND[name])
    assert reads_v0(prog) == (name != "never")
    tasks = _tasks(4, W + 1, 3)
    for opts in (EvalOptions(), EvalOptions(max_abs_error=1e300), EvalOptions(record=True)):
        assert_lockstep_matches([prog], tasks, MemoryShape(4, 3, 1), opts)
