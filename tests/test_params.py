"""Params stand wherever a number may, and mean exactly what the literal in that place would mean."""

import numpy as np

from azlang.evaluate import EvalOptions, evaluate
from azlang.ir.bytecode import to_bytecode
from azlang.rng import Rng
from azlang.syntax import parse
from azlang.tasks.build import build_tasks

BODY = "def Setup():\n  v1 = gaussian(0.0, {sd})\n  v2[0.5] = {val}\n  s2 = {lr}\ndef Predict():\n  s1 = dot(v1, v0)\n" \
       "def Learn():\n  s3 = s0 - s1\n  s3 = s2 * s3\n  v2 = s3 * v0\n  v1 = v1 + v2\n"
LITERAL = BODY.format(sd="0.1", val="0.3", lr="0.05")
WITH_PARAMS = "param sd = 0.1\nparam val = 0.3\nparam lr = 0.05\n" + BODY.format(sd="sd", val="val", lr="lr")


def test_params_round_like_literals_in_float32_fields():
    lit, par = parse(LITERAL), parse(WITH_PARAMS)
    assert to_bytecode(lit) == to_bytecode(par)
    tasks = build_tasks("linear:F4:D2")
    a = evaluate(lit, tasks, Rng(3), opts=EvalOptions(record=True))
    b = evaluate(par, tasks, Rng(3), opts=EvalOptions(record=True))
    assert a.fitness == b.fitness
    assert all(np.array_equal(x.memory["v"], y.memory["v"]) for x, y in zip(a.tasks, b.tasks))


def test_param_overrides_change_the_bound_constant():
    par = parse(WITH_PARAMS)
    code = to_bytecode(par, {"sd": 0.25, "lr": 0.5})
    assert code.data[0, 1] == np.float32(0.25) and code.data[2, 0] == 0.5
