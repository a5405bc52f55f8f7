"""Evaluation-loop scenarios, fitness squash and task combination on NumPy (docs/semantics.md, sections 3 and 4)."""

import math

import numpy as np
import pytest

from azlang.evaluate import EvalOptions, evaluate, evaluate_task
from azlang.fitness import combine, flip_and_squash
from azlang.ir.nodes import Instruction as I
from azlang.ir.nodes import MemoryShape, Program
from azlang.rng import Rng
from azlang.tasks import synthetic
from azlang.tasks.task import ACCURACY

BIG = EvalOptions(max_abs_error=1e12, record=True)
SHAPE = MemoryShape(4, 3, 1)


def const_s1(value, component="predict"):
    return Program.of(**{component: [I(56, out=1, args=(value,))]})


def final_s1(program, task, opts=BIG):
    return evaluate_task(program, task, Rng(1), SHAPE, opts).memory["s"][1]


def test_flip_and_squash():
    assert flip_and_squash(0.0) == 1.0 and flip_and_squash(math.inf) == 0.0 and flip_and_squash(math.nan) == 0.0
    assert flip_and_squash(1.0) == pytest.approx(0.5) and flip_and_squash(0.1) == pytest.approx(0.9365489651)
    xs = np.logspace(-3, 3, 50)
    ys = [flip_and_squash(x) for x in xs]
    assert all(a > b for a, b in zip(ys, ys[1:])) and all(0 < y < 1 for y in ys)


def test_combine():
    assert combine([0.4, 0.2, 0.6, 0.8]) == pytest.approx(0.5)
    assert combine([0.9, 0.12, 0.13, 0.1, 0.11], "median") == 0.12
    assert combine([0.1, 0.2, 0.3, 0.4], "median") == 0.3  # the upper median for even n


def test_ones_task_constant_prediction():
    ones = synthetic.constant(1.0, 4, 1000, 100)
    assert evaluate_task(const_s1(0.9), ones, Rng(1), SHAPE).fitness == pytest.approx(flip_and_squash(0.1))


@pytest.mark.parametrize("logit,expected", [(-3.0, 0.0), (3.0, 1.0), (math.inf, 1.0), (-math.inf, 0.0)])
def test_ones_task_as_accuracy(logit, expected):
    ones = synthetic.constant(1.0, 4, 1000, 100, ACCURACY)
    prog = Program.of(predict=[I(56, out=2, args=(logit,)), I(1, out=1, in1=2, in2=3)])  # s1 = logit + 0
    assert evaluate_task(prog, ones, Rng(1), SHAPE).fitness == expected


def test_increment_task_records_errors():
    inc = synthetic.increment(4, 11, 9)
    res = evaluate_task(Program.of(), inc, Rng(1), SHAPE, BIG)
    assert res.train_errors == list(map(float, range(11))) and res.valid_errors == list(map(float, range(9)))


def test_predict_runs_on_validation_and_memory_persists():
    prog = Program.of(predict=[I(50, out=2, in1=0), I(1, out=1, in1=2, in2=1)])
    assert final_s1(prog, synthetic.increment(4, 1000, 100)) == 504450


def test_label_visible_in_learn_only():
    inc = synthetic.increment(4, 1000, 100)
    assert final_s1(Program.of(learn=[I(1, out=1, in1=0, in2=1)]), inc) == 499500
    assert final_s1(Program.of(predict=[I(1, out=1, in1=0, in2=1)]), inc) == 0


def test_increment_point_one_noop_fitness():
    inc = synthetic.increment(4, 1000, 100, delta=0.1)
    got = evaluate_task(Program.of(), inc, Rng(1), SHAPE).fitness
    rms = math.sqrt(sum((k * 0.1) ** 2 for k in range(100)) / 100)
    assert rms == pytest.approx(5.7301812, rel=1e-6) and got == pytest.approx(flip_and_squash(rms))
    assert got == pytest.approx(0.10999, abs=1e-4)


def test_counting_in_predict_and_in_learn():
    zeros = synthetic.constant(0.0, 4, 1000, 100)
    counter = [I(56, out=2, args=(1.0,)), I(1, out=1, in1=2, in2=1)]
    assert final_s1(Program.of(predict=counter), zeros) == 1100
    assert final_s1(Program.of(learn=counter), zeros) == 1000


@pytest.mark.parametrize("component", ["setup", "predict", "learn"])
def test_huge_or_nonfinite_prediction_gives_zero(component):
    zeros = synthetic.constant(0.0, 4, 100, 100)
    assert evaluate_task(const_s1(110.0, component), zeros, Rng(1), SHAPE).fitness == 0.0
    for a, b in ((0.0, 0.0), (1.0, 0.0)):
        prog = Program.of(**{component: [I(56, out=2, args=(a,)), I(56, out=3, args=(b,)), I(4, out=1, in1=2, in2=3)]})
        assert evaluate_task(prog, zeros, Rng(1), SHAPE).fitness == 0.0


def test_large_labels_stop_training_or_validation():
    x = [0.0] * 4
    ok = synthetic.fixed([(x, 0.0)] * 12, [(x, 0.0)] * 3)
    assert evaluate_task(Program.of(), ok, Rng(1), SHAPE).fitness != 0.0
    bad_train = synthetic.fixed([(x, 0.0)] * 11 + [(x, 1000.0)], [(x, 0.0)] * 3)
    assert evaluate_task(Program.of(), bad_train, Rng(1), SHAPE).fitness == 0.0
    bad_valid = synthetic.fixed([(x, 0.0)] * 12, [(x, 0.0), (x, 1000.0), (x, 0.0)])
    assert evaluate_task(Program.of(), bad_valid, Rng(1), SHAPE).fitness == 0.0


def test_zeros_task_noop_is_perfect():
    assert evaluate_task(Program.of(), synthetic.constant(0.0, 4, 100, 100), Rng(1), SHAPE).fitness == 1.0


def test_failing_step_counts_and_stops_learning():
    x = [0.0] * 4
    task = synthetic.fixed([(x, 0.0)] * 5 + [(x, 500.0)] + [(x, 0.0)] * 6, [(x, 0.0)])
    res = evaluate_task(Program.of(learn=[I(1, out=3, in1=3, in2=2)]), task, Rng(1), SHAPE, EvalOptions(record=True))
    assert res.fitness == 0.0 and res.train_steps == 6 and len(res.train_errors) == 5


def test_sigmoid_written_in_training_only():
    ones = synthetic.constant(1.0, 4, 10, 10, ACCURACY)
    # Learn copies s1 into s2: during training s1 holds sigmoid(3); validation keeps the raw logit in s1
    prog = Program.of(predict=[I(56, out=1, args=(3.0,))], learn=[I(1, out=2, in1=1, in2=3)])
    mem = evaluate_task(prog, ones, Rng(1), SHAPE, BIG).memory["s"]
    assert mem[2] == pytest.approx(1 / (1 + math.exp(-3.0))) and mem[1] == 3.0


def test_nan_logit_predicts_class_zero_in_validation():
    x = [0.0] * 4
    task = synthetic.fixed([(x, 1.0)], [(x, 0.0), (x, 1.0), (x, 0.0), (x, 0.0)], ACCURACY)
    # Setup s3 = 1; Predict s1 = s2 / s3 (0 in training); Learn zeroes s3, so validation logits are 0/0 = NaN
    prog = Program.of(setup=[I(56, out=3, args=(1.0,))], predict=[I(4, out=1, in1=2, in2=3)],
                      learn=[I(3, out=3, in1=2, in2=2)])
    res = evaluate_task(prog, task, Rng(1), SHAPE, BIG)
    assert math.isnan(res.memory["s"][1]) and res.fitness == 0.75


def test_epochs_best_of_validation_and_shuffled_order():
    task = synthetic.fixed([([float(k)] * 4, float(k)) for k in range(3)], [([1.0] * 4, 1.0)], epochs=8)
    seq = task.train_sequence()
    assert len(seq) == 24 and all((seq == k).sum() == 8 for k in range(3))
    assert list(seq[:3]) == [0, 1, 2]
    assert any(list(task.orders[e]) != [0, 1, 2] for e in range(1, 8))


def test_evaluator_mean_equals_separate_runs_with_one_stream():
    prog = Program.of(setup=[I(63, out=1, args=(0.0, 0.1))], predict=[I(27, out=1, in1=1, in2=0)])
    tasks = [synthetic.teacher(4, 100, 20, 11001, 1001), synthetic.teacher(4, 100, 20, 11012, 1012)]
    both = evaluate(prog, tasks, Rng(7), MemoryShape(4, 3, 1))
    rng = Rng(7)
    separate = [evaluate_task(prog, t, rng, MemoryShape(4, 3, 1)).fitness for t in tasks]
    assert both.fitness == pytest.approx(sum(separate) / 2, abs=0) and both.tasks[0].fitness != both.tasks[1].fitness


def test_budget_caps_training_steps():
    task = synthetic.linear(4, 100, 10, 1000, 100)
    assert evaluate_task(Program.of(), task, Rng(1), SHAPE, EvalOptions(max_train=0)).fitness == 0.0
    assert evaluate_task(Program.of(), task, Rng(1), SHAPE, EvalOptions(max_train=10)).train_steps == 10


def test_linear_model_fits_linear_task():
    lin = Program.of(setup=[I(56, out=2, args=(0.01,))], predict=[I(27, out=1, in1=1, in2=0)],
                     learn=[I(2, out=3, in1=0, in2=1), I(3, out=3, in1=2, in2=3), I(18, out=2, in1=3, in2=0),
                            I(23, out=1, in1=1, in2=2)])
    task = synthetic.linear(4, 1000, 100, 1000, 100)
    assert evaluate_task(lin, task, Rng(1), SHAPE).fitness > 0.999
