"""Select and final evaluations run the candidate after exact dce (experiment.live_code): per-task fitness, train
steps and metrics are those of the program as found, bit for bit, on both backends, binary, regression, tiny
and 10-class tasks, with random and NaN/inf-producing ops; a whole run's summary is unchanged."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from native_support import random_program
from passes_support import SHAPE
from strategies import programs

from azlang.ir.bytecode import Bytecode, to_bytecode
from azlang.rng import Rng
from azlang.search import experiment
from azlang.search.backends import make_evaluator, native_available
from azlang.search.config import override
from azlang.search.experiment import live_code, run_experiment
from azlang.search.presets import demo_config
from azlang.search.watch import task_metrics
from azlang.syntax import load, parse
from azlang.tasks.build import build_collection
from azlang.tasks.multiclass import MULTICLASS, MulticlassTask

ROOT = Path(__file__).parent.parent
# classification and regression, two F, two epochs, and tiny tasks (one training / one validation example)
SPECS = ("linear:F4:N6:V5", "teacher:F4:N6:V5", "ones:F4:N6:V4:acc", "linear:F2:N5:V4:E2", "linear:F4:N1:V1",
         "ones:F2:N1:V1:acc")
BACKENDS = ["numpy"] + (["native"] if native_available() else [])
MAX_ABS_ERROR = 100.0  # small enough that some programs stop early on a large error


def _binary():
    return build_collection(list(SPECS))


def _multiclass(n=2):
    out = []
    for seed in range(n):
        g = np.random.default_rng(seed)
        tx, vx = g.normal(size=(7 + seed, 10)), g.normal(size=(4, 10))
        ty, vy = (np.arange(len(tx)) % 10).astype(float), (np.arange(4) * 3 % 10).astype(float)
        out.append(MulticlassTask(f"mc{seed}", tx, ty, vx, vy, MULTICLASS, 1 + seed, seed, seed, n_classes=10))
    return out


TASKS = {"binary": _binary(), "multiclass": _multiclass()}


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def _outcome(bc: Bytecode, tasks, backend: str, seed: int, shape=SHAPE):
    """What select/final keep of an evaluation: per task fitness bits, train steps and the reported metrics."""
    ev = make_evaluator(backend, tasks, shape, MAX_ABS_ERROR)
    with np.errstate(all="ignore"):
        res = ev.full(bc, list(range(len(tasks))), Rng(seed), [None] * len(tasks))
    metrics = json.dumps(task_metrics(tasks, res))  # NaN-safe comparison through the text
    return [(_bits(r.fitness), r.train_steps) for r in res], metrics


def _sizes(bc: Bytecode) -> int:
    return sum(bc.sizes)


def _check(bc: Bytecode, kind: str, backend: str, seed: int, shape=SHAPE) -> bool:
    """Same outcome with and without dce; whether dce removed anything."""
    tasks = TASKS[kind]
    live = live_code(bc, tasks)
    assert _outcome(live, tasks, backend, seed, shape) == _outcome(bc, tasks, backend, seed, shape)
    return _sizes(live) < _sizes(bc)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("ops", ["all", "random"])
def test_seeded_random_programs_keep_their_outcome(backend, ops):
    rng = np.random.default_rng(11 if ops == "all" else 12)
    fills = (56, 59, 60, 61, 62, 63, 64)
    shrunk = 0
    for k in range(40):
        prog = random_program(rng, SHAPE, sizes=(4, 6, 6), F_min=2, ops=None if ops == "all" else fills + (1, 27))
        shrunk += _check(to_bytecode(prog), "binary", backend, seed=k)
    assert shrunk >= 10  # not vacuous: dce removed code in many of them


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prog=st.one_of(programs(8, SHAPE, F=2, with_params=False, max_magnitude=3.0),
                      programs(8, SHAPE, F=2, with_params=False)),
       kind=st.sampled_from(["binary", "multiclass"]), seed=st.integers(0, 2**31))
def test_any_program_keeps_its_outcome_numpy(prog, kind, seed):
    _check(to_bytecode(prog), kind, "numpy", seed)


@pytest.mark.skipif(not native_available(), reason="native backend not available")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prog=programs(8, SHAPE, F=2, with_params=False), seed=st.integers(0, 2**31))
def test_any_program_keeps_its_outcome_native(prog, seed):
    _check(to_bytecode(prog), "binary", "native", seed)


def test_dead_products_and_lone_dead_draws_go():
    """The baseline's case: dead dot(m0, v1) in Predict and draws that feed nothing live (so they may go)."""
    text = ("def Setup():\n  s2 = uniform(-0.06, -0.8)\n  m0 = uniform(0.7, 0.8)\n  s3 = gaussian(0.3, 0.2)\n"
            "def Predict():\n  v3 = dot(m0, v1)\n  s3 = dot(v3, v1)\n  s1 = s1 + s2\n  v3 = dot(m0, v1)\n"
            "def Learn():\n  v2 = s0 * v0\n")
    bc = to_bytecode(parse(text))
    assert live_code(bc, TASKS["binary"]).sizes == (1, 1, 0)  # s2 = uniform(lo >= hi) draws nothing: kept, live
    for backend in BACKENDS:
        assert _check(bc, "binary", backend, seed=3)


def test_dead_draws_stay_when_a_draw_is_live():
    text = ("def Setup():\n  s3 = gaussian(0.3, 0.2)\n  v1 = uniform(-1.0, 1.0)\n  s4 = s3 * s3\n"
            "def Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n  s5 = gaussian(0.0, 1.0)\n")
    bc = to_bytecode(parse(text))
    assert live_code(bc, TASKS["binary"]).sizes == (2, 1, 1)
    for backend in BACKENDS:
        assert _check(bc, "binary", backend, seed=4)


def test_multiclass_network_survives_and_mixed_sets_are_left_alone():
    net = load(ROOT / "stdlib" / "nn_2layer_softmax.az")
    bc = to_bytecode(net)
    assert live_code(bc, TASKS["multiclass"]).sizes == bc.sizes  # v1 is the prediction there
    assert _sizes(live_code(bc, TASKS["binary"])) < _sizes(bc)  # for s1 the network is dead
    assert live_code(bc, TASKS["binary"] + TASKS["multiclass"]) is bc
    dead = parse((ROOT / "stdlib" / "nn_2layer_softmax.az").read_text()
                 .replace("  m0 = m0 + m4\n", "  m0 = m0 + m4\n  v2 = v4 + v5\n  s2 = s3 * s3\n"))
    assert live_code(to_bytecode(dead), TASKS["multiclass"]) == bc
    assert _check(to_bytecode(dead), "multiclass", "numpy", seed=5, shape=net.required_memory())


RUN = {
    "evolution.population": 20,
    "evolution.tournament": 4,
    "stop.max_individuals": 400,
    "stop.max_experiments": 2,
    "tasks.search": ("linear:F4:D3:N30:V20",),
    "tasks.select": ("linear:F4:D3:N40:V20",),
    "tasks.final": ("linear:F4:D4:N40:V20:S1000000:P2000000", "ones:F4:N20:V10:acc"),
    "run.random_seed": 5,
    "run.progress_seconds": 0.0,
    "run.checkpoint_every": 0.0,
}


def _summary(tmp_path: Path, backend: str, name: str) -> dict:
    run_experiment(override(demo_config(), {**RUN, "run.backend": backend}), tmp_path / name)
    s = json.loads((tmp_path / name / "summary.json").read_text())
    keep = ("select_fitness", "search_fitness", "final_fitness", "final_tasks", "text", "individuals", "train_steps")
    return {k: s[k] for k in keep} | {"select_tasks": [e["select_tasks"] for e in s["experiments"]]}


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_summary_is_that_of_the_program_as_found(tmp_path, monkeypatch, backend):
    shrunk = []

    def spy(bc, tasks):
        live = live_code(bc, tasks)
        shrunk.append(_sizes(live) < _sizes(bc))
        return live

    monkeypatch.setattr(experiment, "live_code", spy)
    with_dce = _summary(tmp_path, backend, "dce")
    monkeypatch.setattr(experiment, "live_code", lambda bc, tasks: bc)
    without = _summary(tmp_path, backend, "plain")
    assert len(shrunk) == 3 and any(shrunk)  # two selects and the final; dead code was there to remove
    assert with_dce == without
    assert with_dce["final_fitness"] is not None and len(with_dce["final_tasks"]) == 5
