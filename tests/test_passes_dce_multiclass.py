"""dce on multi-class programs: v1 (the logits) is the prediction and v2/s0 are the engine's, so the softmax
network survives `--multiclass` dce intact (less truly dead code) and fitness stays exact."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from passes_support import SHAPE, random_programs
from typer.testing import CliRunner

from azlang.evaluate import EvalOptions, evaluate
from azlang.ir.nodes import COMPONENTS
from azlang.passes import PassOptions, run_pipeline
from azlang.passes.dce import eliminate
from azlang.rng import Rng
from azlang.syntax import load, parse, print_program
from azlang.tasks.multiclass import MULTICLASS, MulticlassTask

ROOT = Path(__file__).parent.parent
NET = ROOT / "stdlib" / "nn_2layer_softmax.az"
RECORD = EvalOptions(max_abs_error=1e6, record=True)


def _task(F=10, n_train=12, n_valid=8, seed=3) -> MulticlassTask:
    g = np.random.default_rng(seed)
    tx, vx = g.normal(size=(n_train, F)), g.normal(size=(n_valid, F))
    ty, vy = (np.arange(n_train) % 10).astype(float), (np.arange(n_valid) % 10).astype(float)
    return MulticlassTask("toy-mc", tx, ty, vx, vy, MULTICLASS, 2, 0, 0, n_classes=10)


def _trace(program, shape, seed=5):
    ev = evaluate(program, [_task()], Rng(seed), shape, RECORD)
    key = lambda xs: tuple("nan" if math.isnan(x) else x for x in (xs or ()))
    return [(t.fitness, t.train_steps, key(t.train_errors), key(t.valid_errors)) for t in ev.tasks]


def _sizes(program):
    return [len(program.component(c).instructions) for c in COMPONENTS]


def test_softmax_network_survives_multiclass_dce():
    net = load(NET)
    assert _sizes(eliminate(net, multiclass=True)) == _sizes(net)
    assert sum(_sizes(eliminate(net))) < 3  # without the flag only s1 counts: the network goes (the bug)
    # add dead code: a Learn write of v2 (the engine's label, overwritten before every use) and an unused s2
    src = NET.read_text().replace("  m0 = m0 + m4\n", "  m0 = m0 + m4\n  v2 = v4 + v5\n  s2 = s3 * s3\n")
    dead = parse(src)
    out = eliminate(dead, multiclass=True)
    assert print_program(out) == print_program(net)
    shape = net.required_memory()
    assert _trace(out, shape) == _trace(dead, shape)
    assert _trace(eliminate(dead), shape) != _trace(dead, shape)


def test_softmax_read_keeps_predict_logits_live_for_learn():
    """Learn reads softmax(v1): a Predict write of v1 that Predict itself overwrites is dead, the last one is
    live, and a Learn that only copies v1 to a register Predict reads keeps that chain."""
    prog = parse("def Setup():\n  s3 = 0.0\n\ndef Predict():\n  v1 = v0 + v0\n  v1 = v0 + v3\n\n"
                 "def Learn():\n  v3 = v1 - v2\n  v2 = v3 + v3\n")
    out = eliminate(prog, multiclass=True)
    assert [len(out.component(c).instructions) for c in COMPONENTS] == [0, 1, 1]
    shape = prog.required_memory()
    assert _trace(out, shape) == _trace(prog, shape)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_programs(random_ops=True))
def test_multiclass_dce_preserves_fitness(program):
    assert _trace(eliminate(program, multiclass=True), SHAPE) == _trace(program, SHAPE)


def test_pass_option_and_cli():
    net = load(NET)
    out, _ = run_pipeline(net, ["dce"], PassOptions(multiclass=True))
    assert print_program(out) == print_program(net)
    from azlang.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["opt", "--dce", "--multiclass", str(NET)])
    assert res.exit_code == 0, res.output
    assert print_program(parse(res.stdout)) == print_program(net)
    res = runner.invoke(app, ["opt", "--dce", str(NET)])
    assert res.exit_code == 0 and "dot(m0, v0)" not in res.stdout


def test_hall_of_fame_keeps_the_network_of_a_multiclass_run():
    """The hall of fame and first pass of a 10-class run print the network, not plain dce's empty program."""
    from azlang.ir.bytecode import to_bytecode
    from azlang.search.tasksets import parse_all
    from azlang.search.watch import Watch, merge
    from azlang.tasks.multiclass import is_multiclass_spec

    net = load(NET)
    w = Watch(threshold=0.5, k=2)
    w.see(to_bytecode(net), 0.9)
    plain, multi = merge([w], 2), merge([w], 2, multiclass=True)
    kept = _sizes(eliminate(net, multiclass=True))
    assert _sizes(parse(multi["hall_of_fame"][0]["text"])) == _sizes(parse(multi["first_pass"]["text"])) == kept
    assert sum(_sizes(parse(plain["hall_of_fame"][0]["text"]))) < sum(_sizes(net))  # what the flag prevents
    assert multi["hall_of_fame"][0]["hash"] != plain["hall_of_fame"][0]["hash"]
    assert [is_multiclass_spec(s) for s in parse_all(["cifar:all:F16:D2", "cifar:3v5:F16", "linear:F4"])] == [
        True, False, False]
