"""Smoke runs: the demo configuration repairs a slow linear regressor; islands in worker processes."""

from pathlib import Path

from azlang.search.config import override
from azlang.search.experiment import run_experiment
from azlang.search.presets import demo_config

SLOW_LINEAR = """# linear regression whose learning rate is 50x too small for 100 examples
def Setup():
  s2 = 0.002
def Predict():
  s1 = dot(v1, v0)
def Learn():
  s3 = s0 - s1
  s3 = s2 * s3
  v2 = s3 * v0
  v1 = v1 + v2
"""


def test_demo_config_finds_linear_regression(tmp_path: Path):
    (tmp_path / "slow.az").write_text(SLOW_LINEAR)
    cfg = override(
        demo_config(),
        {
            "evolution.population": 100,
            "evolution.seeds": (str(tmp_path / "slow.az"),),
            "evolution.initial_population": "seeds",
            "stop.max_individuals": 2000,
            "stop.max_experiments": 4,
            "tasks.select": ("linear:F4:D10:N100:V100",),
            "tasks.final": ("linear:F4:D10:N100:V100:S1000000:P2000000",),
            "run.random_seed": 1,
            "run.progress_every": 100,
        },
    )
    events = []
    r = run_experiment(cfg, progress=events.append)
    events = [e for e in events if e["event"] == "progress"]
    assert events[0]["best"] < 0.99  # the seed itself is far from solving the tasks
    assert r.stopped_by == "sufficient_fitness" and r.select_fitness > 0.9999 and r.final_fitness > 0.9999
    assert "dot(v1, v0)" in r.text


def test_islands_in_two_worker_processes(tmp_path: Path):
    cfg = override(
        demo_config(),
        {
            "evolution.population": 20,
            "evolution.tournament": 4,
            "stop.max_individuals": 400,
            "stop.max_experiments": 1,
            "tasks.search": ("linear:F4:D2:N20:V20",),
            "tasks.select": (),
            "tasks.final": ("linear:F4:D2:N20:V20",),
            "run.workers": 2,
            "run.migrate_every": 40,
            "run.random_seed": 3,
            "run.checkpoint_every": 0.0,
        },
    )
    events = []
    r = run_experiment(cfg, tmp_path / "run", progress=events.append)
    assert r.individuals >= 400 and r.final_fitness is not None and r.text
    assert any(e.get("islands") == 2 for e in events)
    assert (tmp_path / "run" / "checkpoint.ckpt").exists()
