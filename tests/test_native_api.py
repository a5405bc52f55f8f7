"""Native backend: API contract, input checks before any native call, special values, JIT and the cache."""

import inspect
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from native_support import diff_eval, label_task, random_program, same_bits
from native_support import cache_dir, quiet  # noqa: F401  (autouse fixtures)

from azlang import evaluate as reference
from azlang.backends import native
from azlang.backends.native import BytecodeError, NativeEvaluator
from azlang.errors import VerifyError
from azlang.evaluate import EvalOptions, evaluate
from azlang.ir.bytecode import Bytecode, to_bytecode
from azlang.ir.nodes import Index, MemoryShape, Param, ParamRef, Program
from azlang.ir.nodes import Instruction as I
from azlang.rng import Rng
from azlang.tasks import synthetic
from azlang.tasks.task import ACCURACY

pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
SHAPE = MemoryShape(4, 3, 1)
REC = EvalOptions(record=True)
ROOT = Path(__file__).resolve().parent.parent



def both(program, tasks, shape=SHAPE, opts=REC, seed=1):
    ref = evaluate(program, tasks, Rng(seed), shape, opts)
    nat = native.evaluate(program, tasks, Rng(seed), shape, opts)
    assert diff_eval(ref, nat) is None, diff_eval(ref, nat)
    return nat


def test_evaluate_has_the_reference_signature():
    assert inspect.signature(native.evaluate).parameters.keys() == inspect.signature(reference.evaluate).parameters.keys()


def test_comparator_can_fail():
    a = evaluate(Program.of(setup=[I(62, out=1, args=(0.0, 1.0))]), [synthetic.linear(4, 10, 5, 1, 1)], Rng(1),
                 SHAPE, REC)
    b = evaluate(Program.of(setup=[I(62, out=1, args=(0.0, 1.0))]), [synthetic.linear(4, 10, 5, 1, 1)], Rng(2),
                 SHAPE, REC)
    assert diff_eval(a, b) is not None and not same_bits(0.0, -0.0) and same_bits(math.nan, -math.nan)


@pytest.mark.parametrize("a,b", [(1.0, 0.0), (0.0, 0.0), (-1.0, 0.0), (1e200, 1e-200)])
@pytest.mark.parametrize("component", ["setup", "predict", "learn"])
def test_nonfinite_predictions_give_min_fitness(a, b, component):
    prog = Program.of(**{component: [I(56, out=2, args=(a,)), I(56, out=3, args=(b,)), I(4, out=1, in1=2, in2=3)]})
    nat = both(prog, [synthetic.linear(4, 20, 10, 1, 1), synthetic.constant(1.0, 4, 20, 10, ACCURACY)])
    if component != "learn":
        assert nat.tasks[0].fitness == 0.0


@pytest.mark.parametrize("op", [14, 10, 11, 13, 9, 6])
def test_nan_and_inf_from_libm(op):
    """log(-1), arcsin(2), exp(1000), 1/0 ... in memory and predictions: same on both backends."""
    prog = Program.of(setup=[I(56, out=2, args=(-1.0,)), I(56, out=3, args=(1000.0,))],
                      predict=[I(op, out=1, in1=2), I(op, out=2, in1=3), I(19, out=1, in1=1)],
                      learn=[I(op, out=3, in1=1), I(18, out=2, in1=3, in2=0)])
    both(prog, [synthetic.linear(4, 10, 5, 1, 1), synthetic.constant(1.0, 4, 10, 5, ACCURACY)])


@pytest.mark.parametrize("logit", [-3.0, 0.0, 3.0, math.inf, -math.inf, math.nan])
def test_classification_logits(logit):
    prog = Program.of(setup=[I(56, out=2, args=(logit,))], predict=[I(1, out=1, in1=2, in2=3)],
                      learn=[I(1, out=3, in1=1, in2=0)])
    both(prog, [synthetic.constant(1.0, 4, 30, 10, ACCURACY), label_task(4, 30, 20, seed=5)])


def test_random_ops_draw_identical_bits():
    prog = Program.of(setup=[I(op, out=1, args=(-0.5, 0.75)) for op in range(59, 65)]
                      + [I(60, out=2, args=(0.75, -0.5))],  # low > high: constant, no draw
                      predict=[I(62, out=2, args=(0.0, 1.0)), I(27, out=1, in1=1, in2=0)],
                      learn=[I(63, out=2, args=(0.5, 0.25)), I(61, out=0, args=(-1.0, 1.0))])
    tasks = [synthetic.linear(7, 10, 5, 1, 1), synthetic.linear(4, 10, 5, 2, 2)]
    rng_ref, rng_nat = Rng(42), Rng(42)
    ref = evaluate(prog, tasks, rng_ref, MemoryShape(4, 3, 2), REC)
    nat = native.evaluate(prog, tasks, rng_nat, MemoryShape(4, 3, 2), REC)
    assert diff_eval(ref, nat) is None and rng_ref.state == rng_nat.state != Rng(42).state


def test_params_and_absolute_indices():
    prog = Program.of(setup=[I(56, out=2, args=(ParamRef("lr"),)), I(57, out=1, args=(Index(2, False), 0.5)),
                             I(58, out=0, args=(Index(0.6, True), Index(3, False), -2.0))],
                      predict=[I(31, out=2, in1=0, in2=0), I(27, out=1, in1=2, in2=1)],
                      params=(Param("lr", 0.05),))
    tasks = [synthetic.linear(4, 10, 5, 1, 1)]
    for params in (None, {"lr": 0.2}):
        ref = evaluate(prog, tasks, Rng(1), SHAPE, REC, params)
        assert diff_eval(ref, native.evaluate(prog, tasks, Rng(1), SHAPE, REC, params)) is None


def test_batch_continues_one_stream_like_sequential_calls():
    g = np.random.default_rng(8)
    tasks = [synthetic.linear(4, 10, 5, 1, 1), synthetic.linear(4, 10, 5, 2, 2)]
    progs = [random_program(g, SHAPE, ops=list(range(56, 65))) for _ in range(20)]
    rng = Rng(3)
    expect = [evaluate(p, tasks, rng, SHAPE).fitness for p in progs]
    rng2 = Rng(3)
    got = NativeEvaluator(tasks, SHAPE).evaluate_batch([to_bytecode(p) for p in progs], rng2)
    assert same_bits(expect, got.combined()) and rng.state == rng2.state
    assert got.fitness.shape == (20, 2) and got.train_steps.shape == (20, 2)


def test_median_mode_and_evaluation_type():
    tasks = [synthetic.linear(4, 10, 5, s, s) for s in range(4)]
    prog = Program.of(setup=[I(56, out=2, args=(0.01,))], predict=[I(27, out=1, in1=1, in2=0)])
    nat = native.evaluate(prog, tasks, Rng(1), SHAPE, None, None, "median")
    assert isinstance(nat, reference.Evaluation)
    assert nat.fitness == evaluate(prog, tasks, Rng(1), SHAPE, None, None, "median").fitness


# --- inputs are checked before the native call -------------------------------------------------------

def _bc(rows, data=None, sizes=None):
    code = np.array(rows, dtype=np.int32).reshape(-1, 4)
    data = np.zeros((len(code), 3)) if data is None else np.array(data, dtype=np.float64).reshape(-1, 3)
    return Bytecode(code, data, sizes or (len(code), 0, 0))


@pytest.mark.parametrize("bc,message", [
    (_bc([[65, 0, 0, 1]]), "opcode 65"),
    (_bc([[-1, 0, 0, 1]]), "opcode -1"),
    (_bc([[1, 4, 0, 1]]), "in1 address s4"),
    (_bc([[1, 0, 0, -1]]), "out address s-1"),
    (_bc([[23, 0, 3, 1]]), "in2 address v3"),
    (_bc([[39, 0, 0, 1]]), "out address m1"),
    (_bc([[57, 0, 0, 1]], [[-(4 + 1), 1.0, 0.0]]), "index slot"),
    (_bc([[58, 0, 0, 0]], [[0.5, 1.0, 0.0]]), "index slot"),
    (_bc([[57, 0, 0, 1]], [[math.nan, 1.0, 0.0]]), "index slot"),
    (_bc([[1, 0, 0, 1]], sizes=(2, 0, 0)), "do not match"),
])
def test_bad_bytecode_is_rejected_before_running(bc, message):
    ev, rng = NativeEvaluator([synthetic.linear(4, 10, 5, 1, 1)], SHAPE), Rng(5)
    with pytest.raises(BytecodeError, match=message) as info:
        ev.evaluate(bc, rng)
    assert isinstance(info.value, VerifyError) and isinstance(info.value, ValueError)
    assert rng.state == Rng(5).state  # nothing ran
    with pytest.raises(BytecodeError, match="program 1"):
        ev.evaluate_batch([_bc([[0, 0, 0, 0]]), bc], rng)


def test_unused_fields_are_ignored():
    ev = NativeEvaluator([synthetic.linear(4, 10, 5, 1, 1)], SHAPE)
    assert ev.evaluate(_bc([[0, 99, -7, 1234], [5, 1, 999, 2]]), Rng(1)).fitness >= 0.0  # no-op; abs has no in2


def test_bad_tasks_and_options_are_rejected():
    task = synthetic.linear(4, 10, 5, 1, 1)
    task.train_y = task.train_y[:5]
    with pytest.raises(ValueError, match="inconsistent shapes"):
        NativeEvaluator([task], SHAPE)
    good = synthetic.linear(4, 10, 5, 1, 1)
    good.orders = good.orders + 10
    with pytest.raises(ValueError, match="training order"):
        NativeEvaluator([good], SHAPE)
    with pytest.raises(ValueError, match="reserved"):
        NativeEvaluator([synthetic.linear(4, 10, 5, 1, 1)], MemoryShape(1, 1, 0))
    ev = NativeEvaluator([synthetic.linear(4, 10, 5, 1, 1)], SHAPE)
    with pytest.raises(ValueError, match="max_train"):
        ev.evaluate(Program.of(), Rng(1), EvalOptions(max_train=-3))


def test_index_checked_against_every_task_F():
    prog = Program.of(setup=[I(57, out=1, args=(Index(5, False), 1.0))])
    native.evaluate(prog, [synthetic.linear(8, 10, 5, 1, 1)], Rng(1), SHAPE)
    with pytest.raises(BytecodeError, match="F=4"):
        native.evaluate(prog, [synthetic.linear(8, 10, 5, 1, 1), synthetic.linear(4, 10, 5, 1, 1)], Rng(1), SHAPE)


# --- program JIT -------------------------------------------------------------------------------------

def test_jit_matches_kernel_and_reference():
    g = np.random.default_rng(11)
    shape = MemoryShape(5, 9, 2)
    tasks = [synthetic.linear(7, 15, 5, 1, 1, epochs=2), label_task(16, 15, 5, seed=1)]
    ev = NativeEvaluator(tasks, shape)
    for _ in range(6):
        prog = random_program(g, shape, sizes=(5, 4, 4), F_min=7)
        ref = evaluate(prog, tasks, Rng(4), shape, EvalOptions(max_abs_error=1e300, record=True))
        jit = ev.evaluate(prog, Rng(4), EvalOptions(max_abs_error=1e300, record=True), tier="jit")
        assert diff_eval(ref, jit) is None


def test_auto_tier_picks_the_kernel_for_short_runs():
    from azlang.backends.native import jit

    ev = NativeEvaluator([synthetic.linear(4, 100, 100, 1, 1)], SHAPE)
    bc = to_bytecode(Program.of(predict=[I(27, out=1, in1=1, in2=0)] * 4, learn=[I(1, out=2, in1=2, in2=1)] * 8))
    assert not ev.prefers_jit(bc)
    assert jit.worth_compiling(bc, train_steps=50_000_000, valid_steps=1_000_000, n_F=1)  # a long real-data run
    assert not jit.worth_compiling(bc, train_steps=8000, valid_steps=1000, n_F=1)


# --- object cache across processes -------------------------------------------------------------------

_CHILD = """
import json, time
t = time.perf_counter()
from azlang.backends.native import NativeEvaluator, engine
from azlang.ir.nodes import MemoryShape, Program, Instruction as I
from azlang.rng import Rng
from azlang.tasks import synthetic
ev = NativeEvaluator([synthetic.linear(5, 10, 5, 1, 1)], MemoryShape(4, 3, 1))
fit = ev.evaluate(Program.of(predict=[I(27, out=1, in1=1, in2=0)]), Rng(1), tier="jit").fitness
print(json.dumps({"stats": engine.STATS, "fitness": fit, "seconds": time.perf_counter() - t}))
"""


def test_second_process_loads_from_object_cache(tmp_path):
    env = dict(os.environ, AZLANG_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    run = lambda: json.loads(subprocess.run([sys.executable, "-c", _CHILD], env=env, check=True,
                                            capture_output=True, text=True).stdout)
    cold, warm = run(), run()
    assert cold["stats"]["compiled"] == 3 and cold["stats"]["loaded"] == 0  # driver, kernel, one JIT program
    assert warm["stats"]["compiled"] == 0 and warm["stats"]["loaded"] == 3
    assert cold["fitness"] == warm["fitness"]
    assert len(list((tmp_path / "native").glob("*.o"))) == 3


def test_corrupt_cache_file_is_recompiled(tmp_path):
    env = dict(os.environ, AZLANG_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", _CHILD], env=env, check=True, capture_output=True)
    for f in (tmp_path / "native").glob("*.o"):
        f.write_bytes(f.read_bytes()[:100])
    out = json.loads(subprocess.run([sys.executable, "-c", _CHILD], env=env, check=True, capture_output=True,
                                    text=True).stdout)
    assert out["stats"]["compiled"] == 3
