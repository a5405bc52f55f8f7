"""An initial population of copies of one seed: a draw-free evaluation is repeated, not re-run, when nothing
else (FEC, hurdles) decides the result; runs are identical with and without the repeat."""

import json

import pytest

from azlang.ir.bytecode import Bytecode, to_bytecode
from azlang.rng import Rng
from azlang.search.backends import NumpyEvaluator
from azlang.search.config import override
from azlang.search.engine import SearchEvaluator
from azlang.search.experiment import run_experiment
from azlang.search.presets import demo_config
from azlang.syntax import parse
from azlang.tasks.build import build_collection
from azlang.tasks.spec import parse_spec

CFG = {
    "evolution.population": 30,
    "evolution.tournament": 5,
    "evolution.initial_population": "noop",
    "stop.max_individuals": 300,
    "stop.max_experiments": 1,
    "tasks.search": ("linear:F4:D3:N30:V20",),
    "tasks.select": ("linear:F4:D2:N30:V20",),
    "tasks.final": (),
    "run.random_seed": 5,
    "run.progress_every": 30,
}


class CountingBackend:
    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def full_batch(self, jobs, rng):
        self.calls += 1
        return self.inner.full_batch(jobs, rng)


def _evaluator():
    tasks = build_collection([parse_spec("linear:F4:D2:N20:V10")])
    from azlang.search.islands import shape_of

    backend = CountingBackend(NumpyEvaluator(tasks, shape_of(demo_config()), 100.0))
    return SearchEvaluator(backend, [20, 20]), backend


def _bc(text):
    return to_bytecode(parse(text))


LINEAR = "def Setup():\n  s2 = 0.0\ndef Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n  s2 = s0 - s1\n  v2 = s2 * v0\n  v1 = v1 + v2\n"


def test_a_draw_free_program_again_is_repeated_with_its_counters():
    ev, backend = _evaluator()
    rng = Rng(3)
    first = ev.evaluate(_bc(LINEAR), rng)
    steps = ev.counters.train_steps
    again = ev.evaluate(_bc(LINEAR), rng)
    assert again == first and backend.calls == 1
    assert ev.counters.train_steps == 2 * steps and ev.counters.evaluations == 2


def test_programs_that_draw_or_differ_in_any_bit_are_evaluated():
    ev, backend = _evaluator()
    rng = Rng(3)
    drawing = "def Setup():\n  s3 = gaussian(0.0, 1.0)\ndef Predict():\n  s1 = s3 * s1\ndef Learn():\n  s2 = s0 + s1\n"
    ev.evaluate(_bc(drawing), rng)
    ev.evaluate(_bc(drawing), rng)
    assert backend.calls == 2  # the stream moved: the second draw differs
    div = "def Setup():\n  s3 = 0.0\ndef Predict():\n  s1 = s1 / s3\ndef Learn():\n  s2 = s0 + s1\n"
    plus, minus = _bc(div), _bc(div)
    data = minus.data.copy()
    data[data == 0.0] = -0.0  # equal as numbers, other bits
    minus = Bytecode(minus.code, data, minus.sizes)
    ev.evaluate(plus, rng)
    ev.evaluate(minus, rng)
    assert backend.calls == 4


def _summary(path):
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in ("seconds", "run_dir", "metadata")}
        return [strip(v) for v in x] if isinstance(x, list) else x

    return strip(json.loads((path / "summary.json").read_text()))


@pytest.mark.parametrize("backend", ["numpy", "native"])
@pytest.mark.parametrize("extra", [{"fec.enabled": False}, {"fec.enabled": True}, {"fec.enabled": False, "hurdles.enabled": True}],
                         ids=["plain", "fec", "hurdle"])
def test_runs_are_identical_with_and_without_the_repeat(tmp_path, monkeypatch, backend, extra):
    if backend == "native":
        pytest.importorskip("llvmlite")
    cfg = override(demo_config(), {**CFG, **extra, "run.backend": backend})
    run_experiment(cfg, tmp_path / "repeat")
    monkeypatch.setattr(SearchEvaluator, "evaluate", lambda self, bc, rng: self.evaluate_batch([bc], rng)[0])
    run_experiment(cfg, tmp_path / "plain")
    assert _summary(tmp_path / "repeat") == _summary(tmp_path / "plain")
