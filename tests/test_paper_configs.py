"""Every config in examples/paper/ loads and runs a few hundred individuals (tasks shrunk onto tiny fake
datasets, so no real data is needed); frozen components stay exactly as the seed gives them."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from azlang.ir.bytecode import to_bytecode
from azlang.search.config import load_config, override
from azlang.search.experiment import run_experiment
from tests import datasets_fakes as fk

PAPER = Path(__file__).resolve().parents[1] / "examples" / "paper"
CONFIGS = sorted(PAPER.glob("*.toml"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    fk.write_cifar(root, per_class=50)
    fk.write_idx_dataset(root, folder="mnist", per_class=50)
    return str(root)


@pytest.fixture(autouse=True)
def _task_cache(tmp_path, monkeypatch):
    monkeypatch.setattr("azlang.tasks.cache.cache_dir", lambda: tmp_path / "task-cache")
    monkeypatch.setenv("AZLANG_VERIFY_DATA", "0")  # fakes have other checksums (test_datasets_verify checks them)


def shrink(spec: str) -> str:
    """The same task family at toy size: few examples, at most 2 tasks and 2 epochs."""
    spec = re.sub(r":N\d+", ":N20", spec)
    spec = re.sub(r":V\d+", ":V10", spec)
    spec = re.sub(r":D(\d+)", lambda m: f":D{min(2, int(m.group(1)))}", spec)
    return re.sub(r":E(\d+)", lambda m: f":E{min(2, int(m.group(1)))}", spec)


def small(path: Path, data_dir: str):
    cfg = load_config(path)
    t = cfg.tasks
    tasks = replace(t, search=tuple(map(shrink, t.search)), select=tuple(map(shrink, t.select)),
                    final=tuple(map(shrink, t.final)), data_dir=data_dir)
    islands = tuple(replace(i, tasks=tuple(map(shrink, i.tasks)), population=min(i.population, 40),
                            tournament=min(i.tournament, 1000)) for i in cfg.islands)
    cfg = replace(cfg, tasks=tasks, islands=islands)
    return override(cfg, {"evolution.population": 40, "evolution.tournament": min(cfg.evolution.tournament, 1000),
                          "stop.max_individuals": 200, "stop.max_experiments": 1, "run.workers": 1,
                          "run.checkpoint_every": 1e9})


def test_every_experiment_has_a_config():
    names = {p.stem for p in CONFIGS}
    for prefix, count in (("fig4_", 8), ("fig5_", 2), ("sec42_", 2), ("sec43_", 6), ("s3_", 6), ("s10_", 2)):
        assert sum(n.startswith(prefix) for n in names) == count, prefix


@pytest.mark.slow
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_loads_and_runs(path, data_dir, tmp_path):
    text = path.read_text()
    assert text.startswith("# ") and ("Figure" in text.splitlines()[0] or "Section" in text.splitlines()[0]
                                       or "Supplement" in text.splitlines()[0])
    cfg = small(path, data_dir)
    result = run_experiment(cfg, tmp_path / "run", overrides={"run.random_seed": 7})
    assert result.individuals == 200
    assert result.select_fitness is not None and 0.0 <= result.select_fitness <= 1.0
    counts = result.experiments[0].counts
    if cfg.acceptance.reference or cfg.acceptance.hall_of_fame:
        assert counts["evaluated"] == 200
        assert 1 <= len(counts["hall_of_fame"]) <= cfg.acceptance.hall_of_fame
    assert result.to_json()["metadata"]["evaluator"] in ("native", "numpy")


@pytest.mark.parametrize("name", ["fig4_linear_backprop", "fig4_linear_backprop_random"])
def test_frozen_components_never_change(name, data_dir, tmp_path):
    """Setup and Predict of every hall-of-fame program and of the best equal the seed's (frozen)."""
    from azlang import api

    cfg = small(PAPER / f"{name}.toml", data_dir)
    result = run_experiment(cfg, tmp_path / "run", overrides={"run.random_seed": 3})
    seed = to_bytecode(api.load(PAPER / "linear_backprop_seed.az"))
    best = to_bytecode(result.program)
    assert best.sizes[:2] == seed.sizes[:2]
    n = sum(seed.sizes[:2])
    assert (best.code[:n] == seed.code[:n]).all() and (best.data[:n] == seed.data[:n]).all()
    # the learn component was searched: not the seed's no-ops
    assert best.code[n:, 0].any()


def test_islands_have_their_own_population_and_tournament(data_dir, tmp_path):
    """Figure 5's groups: an [[islands]] entry's population and tournament replace evolution's."""
    from azlang.search.islands import island_config

    cfg = load_config(PAPER / "fig5_two_layer_net.toml")
    groups = [(island_config(cfg, k).evolution.population, island_config(cfg, k).evolution.tournament)
              for k in range(5)]
    assert groups == [(100, 100000), (215, 100000), (464, 10000), (1000, 100), (100, 100000)]
    cfg = small(PAPER / "fig5_two_layer_net.toml", data_dir)
    cfg = replace(cfg, islands=(replace(cfg.islands[0], population=30),) + cfg.islands[1:])
    result = run_experiment(cfg, tmp_path / "run", overrides={"run.random_seed": 7})
    assert result.individuals == 210  # sweeps of the island's own P = 30 until 200 are reached
