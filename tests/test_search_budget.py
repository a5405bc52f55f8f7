"""The compute-cost train budget (docs/semantics.md, section 10)."""

from dataclasses import replace

from azlang.ir.nodes import f32
from azlang.rng import Rng
from azlang.search.budget import TrainBudget, costs
from azlang.search.config import ComponentConfig, MemoryConfig
from azlang.search.generate import Generator
from azlang.search.presets import demo_config


def gen(sizes=(0, 0, 0)):
    cfg = demo_config()
    cfg = replace(
        cfg,
        memory=MemoryConfig(5, 9, 2),
        setup=ComponentConfig((56,), sizes[0]),
        predict=ComponentConfig((1,), sizes[1]),
        learn=ComponentConfig((1,), sizes[2]),
    )
    return Generator(cfg)


def test_reference_costs_of_the_built_in_models():
    g = gen()
    assert costs(g.model("neural_net", Rng(0))) == (358864510, 81904713)
    assert costs(g.model("linear", Rng(0))) == (3691108, 22221525)


def test_budget_scenarios():
    g = gen()
    nn, lin = g.model("neural_net", Rng(0)), g.model("linear", Rng(0))
    by_nn, by_lin = TrainBudget(nn, 2.0), TrainBudget(lin, 2.0)
    assert by_nn.allowed(nn, 100) == 100 and by_nn.allowed(nn, 1000) == 1000
    assert by_nn.allowed(lin, 100) == 100 and by_nn.allowed(lin, 1000) == 1000
    assert by_lin.allowed(nn, 100) == 0 and by_lin.allowed(nn, 1000) == 0


def test_baseline_is_padded_with_no_ops():
    padded = gen((10, 10, 20)).model("neural_net", Rng(0))
    c_setup, c_train = costs(padded)
    assert c_setup == 358864510 + 7 * 3013921 and c_train == 81904713 + 14 * 3013921
    assert f32(0.1) == padded.data[0, 1]
