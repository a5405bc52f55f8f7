"""Native backend: random well-typed programs give bit-identical results to the NumPy reference."""


import numpy as np
import pytest
from native_support import diff_eval, diff_task, label_task, random_program, reference_batch, same_bits
from native_support import cache_dir, quiet  # noqa: F401  (autouse fixtures)

from azlang.backends import native
from azlang.backends.native import NativeEvaluator
from azlang.api import load
from azlang.evaluate import EvalOptions, evaluate
from azlang.ir.nodes import MemoryShape
from azlang.ir.ops import NUM_OPS
from azlang.rng import Rng
from azlang.tasks import synthetic
from azlang.tasks.task import ACCURACY
from azlang.tools.tune import with_values

pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
SHAPES = [MemoryShape(4, 3, 1), MemoryShape(5, 9, 2), MemoryShape(20, 20, 20)]
FS = [4, 16, 32, 7]
N_PROGRAMS = {4: 300, 16: 250, 32: 120, 7: 300}
COUNTS = {"programs": 0}



def assert_batch_matches(programs, tasks, shape, opts, seed=5):
    """Batch on native vs the reference program by program, one random stream through all of them."""
    ref, ref_state = reference_batch(programs, tasks, shape, seed, opts)
    rng = Rng(seed)
    res = NativeEvaluator(tasks, shape).evaluate_batch(programs, rng, opts)
    COUNTS["programs"] += len(programs)
    assert same_bits([[t.fitness for t in r.tasks] for r in ref], res.fitness)
    assert [[t.train_steps for t in r.tasks] for r in ref] == res.train_steps.tolist()
    for p, (r, row) in enumerate(zip(ref, res.tasks or [])):
        for k, (a, b) in enumerate(zip(r.tasks, row)):
            d = diff_task(a, b)
            assert d is None, f"program {p} task {k}: {d}\n{programs[p]}"
    assert same_bits([r.fitness for r in ref], res.combined())
    assert rng.state == ref_state


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s.S}-{s.V}-{s.M}")
@pytest.mark.parametrize("F", FS)
def test_random_programs_match(F, shape):
    g = np.random.default_rng(1000 * F + shape.S)
    n = N_PROGRAMS[F] // (2 if shape.S == 20 else 1)
    programs = [random_program(g, shape, F_min=F) for _ in range(n)]
    tasks = [synthetic.linear(F, 20, 10, 1, 2), label_task(F, 20, 10, seed=F)]
    assert_batch_matches(programs[: n // 2], tasks, shape, EvalOptions(record=True))
    # a huge error limit keeps most programs running to the end, so every op sees many values
    assert_batch_matches(programs[n // 2:], tasks, shape, EvalOptions(max_abs_error=1e300, record=True))


@pytest.mark.parametrize("F", [7, 16])
def test_every_op_on_live_values(F):
    """Each op, several times in every component, after fills that make its inputs non-trivial."""
    shape, g = MemoryShape(5, 5, 3), np.random.default_rng(F)
    programs = []
    for op in range(NUM_OPS):
        for _ in range(3):
            p = random_program(g, shape, sizes=(3, 3, 3), F_min=F, seed_fills=6, ops=[op])
            programs.append(p)
    tasks = [synthetic.linear(F, 12, 6, 3, 4)]
    assert_batch_matches(programs, tasks, shape, EvalOptions(max_abs_error=1e300, record=True))
    seen = {ins.op for p in programs for _, _, ins in p.instructions()}
    assert seen == set(range(NUM_OPS))


@pytest.mark.parametrize("F", [1, 3, 65])
def test_odd_feature_sizes(F):
    """Single-element vectors, tails shorter than a vector chunk, and F > 64 (loops, NumPy's other matmul)."""
    shape, g = MemoryShape(5, 5, 3), np.random.default_rng(F)
    programs = [random_program(g, shape, F_min=F) for _ in range(40)]
    assert_batch_matches(programs, [synthetic.linear(F, 8, 4, 1, 1)], shape, EvalOptions(max_abs_error=1e300, record=True))


def test_multi_epoch_and_mixed_F():
    shape, g = MemoryShape(5, 9, 2), np.random.default_rng(3)
    tasks = [synthetic.linear(4, 15, 8, 1, 1, epochs=3), label_task(7, 12, 6, seed=2, epochs=2),
             synthetic.teacher(16, 10, 5, 2, 2, epochs=2)]
    programs = [random_program(g, shape, F_min=4) for _ in range(150)]
    assert_batch_matches(programs, tasks, shape, EvalOptions(record=True))
    assert_batch_matches(programs, tasks, shape, EvalOptions(max_abs_error=1e300))


@pytest.mark.parametrize("opts", [EvalOptions(max_train=7, max_valid=3, record=True),
                                  EvalOptions(max_train=0, record=True), EvalOptions(max_valid=0, record=True),
                                  EvalOptions(max_train=25, record=True)])
def test_probe_mode_budgets(opts):
    shape, g = MemoryShape(4, 3, 1), np.random.default_rng(4)
    tasks = [synthetic.linear(4, 10, 10, 1, 1, epochs=3), synthetic.constant(1.0, 4, 10, 10, ACCURACY)]
    assert_batch_matches([random_program(g, shape) for _ in range(60)], tasks, shape, opts)


def test_learning_programs_train_to_the_end():
    """Hand-built learners run every step, so long loops and validation are compared too."""
    lin = with_values(load("linear_sgd"), {"lr": 0.01})  # the reference's 4.1 models, from the stdlib
    nn = with_values(load("nn_2layer"), {"lr": 0.003})
    tasks = [synthetic.teacher(16, 300, 100, 1, 1), synthetic.linear(16, 300, 100, 2, 2, epochs=2)]
    opts = EvalOptions(record=True)
    for prog in (lin, nn):
        ref = evaluate(prog, tasks, Rng(9), MemoryShape(5, 9, 2), opts)
        nat = native.evaluate(prog, tasks, Rng(9), MemoryShape(5, 9, 2), opts)
        assert diff_eval(ref, nat) is None
        assert all(t.train_steps == 300 * task.epochs for t, task in zip(nat.tasks, tasks))


def test_count_of_compared_programs():
    """Runs last in this file: the differential tests above compared thousands of programs."""
    assert COUNTS["programs"] >= 2000, COUNTS
