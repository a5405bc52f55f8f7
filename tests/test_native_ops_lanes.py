"""The lane-group function built for a few ops (kernel.ops_lanes_address), whose interpreter finds an instruction's
op by a binary search of compares instead of the full switch's jump table: programs made of those ops give the
full function's bits; a program holding another op is refused; the native search calls it only for live programs
made of its ops, with the Python loop's results."""

import numpy as np
import pytest
from native_support import FILLS, cache_dir, label_task, quiet, random_program, same_bits  # noqa: F401  (autouse fixtures)
from test_native_lanes import RANDOM_OPS
from test_search_native_loop import assert_same, immigrate_and_sweep, rich, run_both

from azlang.backends import native
from azlang.evaluate import EvalOptions
from azlang.ir.nodes import MemoryShape
from azlang.ir.ops import OPS
from azlang.rng import Rng
from azlang.search import native_island
from azlang.search.config import override
from azlang.search.presets import demo_config
from azlang.syntax import parse
from azlang.tasks import synthetic

pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
PLAIN = [o.id for o in OPS if not o.is_random and o.id]
DEMO_OPS = (56, 27, 2, 3, 18, 23)  # s = const, dot, s - s, s * s, s * v, v + v
SUBSETS = {  # (F, memory shape, ops): the demo's; eight drawn among all (matrix ops and libm calls likely); one
    "demo": (4, MemoryShape(4, 3, 1), DEMO_OPS),
    "eight": (2, MemoryShape(4, 3, 2), tuple(sorted(np.random.default_rng(8).choice(PLAIN, 8, replace=False).tolist()))),
    "one": (4, MemoryShape(3, 3, 1), (23,)),
}


def _programs(g, shape, F, ops, n):
    """Random programs of `ops`, a third of them without fills first, the others with (constants and random ops:
    setups that draw run lane by lane)."""
    return [random_program(g, shape, sizes=(4, 4, 5), F_min=F, seed_fills=k % 3, ops=list(ops)) for k in range(n)]


def _tasks(F, D=9, classify=True):
    """D tasks (two full groups and a padding one), regression and classification alternating, or regression only
    (the function is then built without its classification paths)."""
    return [synthetic.linear(F, 12, 6, k, k + 1) if k % 2 or not classify else label_task(F, 12, 6, seed=k)
            for k in range(D)]


@pytest.mark.parametrize("name,classify", [(name, c) for name in sorted(SUBSETS) for c in (True, False)
                                           if c or name != "one"])
@pytest.mark.parametrize("probe", [False, True])
def test_ops_lanes_give_the_full_functions_bits(name, classify, probe):
    from azlang.backends.native.lockstep import evaluate_lockstep

    F, shape, ops = SUBSETS[name]
    ev = native.NativeEvaluator(_tasks(F, classify=classify), shape)
    g = np.random.default_rng(len(ops))
    stopped = 0
    opts = EvalOptions(max_abs_error=1e3, record=True)
    for prog in _programs(g, shape, F, ops, 60):
        ra, rb = Rng(9), Rng(9)
        a = evaluate_lockstep(ev, prog, ra, opts, probe=probe)
        b = evaluate_lockstep(ev, prog, rb, opts, probe=probe, ops=set(ops) | set(FILLS))
        assert ra.state == rb.state and a.train_steps.tolist() == b.train_steps.tolist()
        assert same_bits(a.fitness, b.fitness), prog
        for x, y in zip(a.tasks[0], b.tasks[0]):
            assert same_bits(x.train_errors, y.train_errors) and same_bits(x.valid_errors, y.valid_errors)
            if not probe:
                for bank in ("s", "v", "m"):
                    assert same_bits(x.memory[bank], y.memory[bank]), (bank, prog)
        stopped += int((a.train_steps < 12).sum())
    assert stopped > 0 or name == "one"  # lanes stopped mid-run too (v = v + v alone never writes a prediction)


def test_ops_lanes_refuse_a_program_with_another_op():
    from azlang.backends.native.lockstep import evaluate_lockstep

    F, shape, ops = SUBSETS["demo"]
    ev = native.NativeEvaluator(_tasks(F), shape)
    prog = parse("def Setup():\n  s2 = 0.5\ndef Predict():\n  s1 = s2 + s3\ndef Learn():\n  s3 = s0 - s1\n")  # op 1
    with pytest.raises(ValueError, match=r"cannot run ops \[1\]"):
        evaluate_lockstep(ev, prog, Rng(1), ops=ops)


def _calls(nat):
    c = nat.native.ctx
    return c["OPS_LANES_FN"], c["OPS_LANE_CALLS"], c["LANE_CALLS"]


def test_demo_search_runs_its_evaluations_through_the_ops_lanes():
    py, nat = run_both(override(demo_config(), {"run.random_seed": 3, "fec.cache_size": 2000}), 2)
    assert_same(py, nat)
    fn, ops_calls, calls = _calls(nat)
    assert fn != 0 and ops_calls == calls > 100


LEARNER = """
def Setup():
  s2 = {rate}
def Predict():
  s3 = dot(v1, v0)
  s1 = s3 + s2
def Learn():
  s3 = s0 - s1
  s3 = s2 * s3
  v2 = s3 * v0
  v1 = v1 + v2
"""


def test_live_programs_with_other_ops_run_through_the_tasks_own_lanes():
    """Immigrants whose Predict adds two scalars (op 1, which the demo's ops lanes lack) and their children run
    through the full function (and must: skipping the addition would change their fitness); the others still
    through the ops lanes. The population, counters and cache stay the Python loop's."""
    from azlang.ir.bytecode import to_bytecode

    cfg = override(demo_config(), {"run.random_seed": 4, "fec.cache_size": 2000, "evolution.population": 200})
    py, nat = run_both(cfg, 2)
    _, before, calls_before = _calls(nat)
    donors = [to_bytecode(parse(LEARNER.format(rate=r))) for r in (0.01, 0.02, 0.05, 0.1, 0.2)]
    immigrate_and_sweep((py, nat), donors, 3)
    assert_same(py, nat)
    fn, ops_calls, calls = _calls(nat)
    assert fn != 0 and 0 < ops_calls - before < calls - calls_before


def test_many_ops_or_short_runs_keep_the_full_function():
    rich_cfg = rich()
    assert len({*rich_cfg.predict.ops} - RANDOM_OPS) > native_island.OPS_LANES_MAX
    short = override(demo_config(), {"stop.max_train_steps": native_island.OPS_LANES_MIN_STEPS / 2})
    one_shape = override(rich_cfg, {"tasks.search": ("linear:F4:D5:N20:V10",)})  # lockstep needs one task shape
    for cfg in (one_shape, short):
        py, nat = run_both(cfg, 2)
        assert_same(py, nat)
        fn, ops_calls, calls = _calls(nat)
        assert fn == 0 and ops_calls == 0 and calls > 0
