"""dce and liveness on hand-made cases: the loop's flows, engine-written registers, random draws."""

from __future__ import annotations

from azlang.ir.analysis import liveness, prediction_sources
from azlang.passes import run_pipeline
from azlang.passes.dce import eliminate
from azlang.syntax import parse, print_program


def body(program, component):
    return [line.strip() for line in print_program(program).split(f"def {component}():")[1].split("\n\n")[0]
            .splitlines()[1:]]


def dce(text, policy="keep"):
    return eliminate(parse(text), policy)


def test_value_learn_writes_reaches_next_predict():
    p = dce("def Setup():\ndef Predict():\n  s1 = s3 + s2\ndef Learn():\n  s3 = s0 - s1\n  s4 = s3 * s3\n")
    assert body(p, "Learn") == ["s3 = s0 - s1"]


def test_value_predict_writes_reaches_next_predict_in_validation():
    p = dce("def Setup():\ndef Predict():\n  s1 = s3 + s2\n  s3 = mean(v0)\n  s5 = mean(v0)\ndef Learn():\n")
    assert body(p, "Predict") == ["s1 = s3 + s2", "s3 = mean(v0)"]


def test_engine_overwrites_s0_and_v0_before_predict_and_learn():
    text = ("def Setup():\n  s0 = 1.0\n  v0 = bcast(s0)\ndef Predict():\n  s0 = 2.0\n  s1 = dot(v0, v1)\n"
            "def Learn():\n  v1 = v1 + v0\n  v0 = bcast(s0)\n")
    p = dce(text)
    assert p.setup.instructions == () and body(p, "Predict") == ["s1 = dot(v0, v1)"]
    assert body(p, "Learn") == ["v1 = v1 + v0"]


def test_index_set_reads_its_target():
    p = dce("def Setup():\n  v3[0] = 2.0\n  v3[1] = 3.0\n  v3 = bcast(s4)\n  v3[1] = 4.0\n"
            "def Predict():\n  s1 = dot(v3, v0)\ndef Learn():\n")
    assert body(p, "Setup") == ["v3 = bcast(s4)", "v3[1] = 4.0"]


def test_dead_update_cycle_goes():
    p = dce("def Setup():\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  v5 = v5 + v0\n  v6 = v5 * v5\n")
    assert p.learn.instructions == ()


def test_dead_draws_are_kept_only_before_live_ones():
    text = ("def Setup():\n  s5 = gaussian(0.0, 1.0)\n  v2 = uniform(0.5, -0.5)\n  v1 = gaussian(0.0, 0.1)\n"
            "def Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n")
    assert body(dce(text), "Setup") == ["s5 = gaussian(0.0, 1.0)", "v1 = gaussian(0.0, 0.1)"]
    assert body(dce(text, "drop"), "Setup") == ["v1 = gaussian(0.0, 0.1)"]
    no_live = text.replace("dot(v1, v0)", "dot(v3, v0)")
    assert dce(no_live).setup.instructions == ()


def test_liveness_sets_and_prediction_sources():
    p = parse("def Setup():\n  s2 = 0.1\ndef Predict():\n  s1 = dot(v0, v1)\n  s1 = s1 * s2\n"
              "def Learn():\n  v1 = s2 * v0\n")
    live = liveness(p)
    assert live.live_in["predict"] == {("v", 0), ("v", 1), ("s", 2)}
    assert live.live_out["setup"] == {("v", 1), ("s", 2)}
    assert prediction_sources(p) == {("predict", 1)}


def test_stats_count_removed_lines():
    p = parse("def Setup():\n  s3 = 1.0\n  no_op\ndef Predict():\n  s1 = abs(s2)\ndef Learn():\n")
    _, stats = run_pipeline(p, ["dce"])
    assert (stats.passes[0].before, stats.passes[0].after, stats.passes[0].removed) == (3, 1, 2)
