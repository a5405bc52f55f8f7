"""Islands on a Ray cluster: migration through the coordinator actor, a killed island restored, progress per island."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from azlang.errors import AzError
from azlang.rng import Rng
from azlang.search.config import from_dict, to_toml
from azlang.search.executors import make_executor
from azlang.search.islands import Report
from azlang.search.ray_actors import CoordinatorActor

from ray_cluster_run import CFG  # the reduced demo, shared with the script that runs the cluster

LOOPBACK_ONLY = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']


def _private_network_available() -> bool:
    """A fresh network namespace holds only loopback, so Ray (which binds to a machine's own address) stays
    on 127.0.0.1: the cluster test runs there. Creating one needs root (as in CI) and iproute2."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    return subprocess.run([*LOOPBACK_ONLY, "true"], capture_output=True).returncode == 0


@pytest.mark.slow
def test_islands_migrate_survive_a_killed_actor_and_finish(tmp_path):
    pytest.importorskip("ray")
    if not _private_network_available():
        pytest.skip("needs a private network namespace (root, unshare, ip) to keep the Ray cluster on loopback")
    script = Path(__file__).with_name("ray_cluster_run.py")
    root = str(script.parent.parent)  # the checkout, importable in the child even without an install
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([*LOOPBACK_ONLY, sys.executable, str(script), str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["node_ips"] == ["127.0.0.1"] * 3  # the head and both worker nodes
    assert r["killed"] and r["killed"][0] < CFG["stop.max_individuals"], "the run ended before the kill"
    assert r["migrations"] > 0 and r["restarts"] == 1
    assert r["restored"][0][0] == 1 and r["restored"][0][1] > 0  # island 1, from a checkpoint, not from scratch
    assert r["islands"] == [0, 1, 2, 3] and r["sizes"] == [50] * 4
    # island 1's work after its last checkpoint is lost: the final states may hold fewer than the stop's 30000
    assert r["stopped_by"] == "max_experiments" and r["individuals"] > 4 * 50 and r["final_fitness"] is not None
    run = tmp_path / "run"
    lines = [json.loads(x) for x in (run / "progress.jsonl").read_text().splitlines()]
    per_island = [e["per_island"] for e in lines if e["event"] == "progress" and "per_island" in e]
    assert per_island and [i["island"] for i in per_island[-1]] == [0, 1, 2, 3]
    assert (run / "summary.json").exists() and (run / "checkpoint.ckpt").exists()


def test_coordinator_actor_migrates_between_islands_and_collects_states():
    hub = CoordinatorActor(2, Rng(1), migrate_every=10)
    rep = lambda k, n, em=None, st=None: Report(k, n, 0, (0.0, 0.0, 0.0), (0, 0), (0, 0), em, st)
    assert hub.migration_due(0, 10) and not hub.migration_due(0, 9)
    assert hub.receive(rep(0, 10, [(0.5, "a")] * 3)).immigrants == []  # nobody else has emigrated yet
    assert hub.receive(rep(1, 10, [(0.7, "b")] * 2)).immigrants == [(0.5, "a")] * 2
    assert not hub.migration_due(0, 19) and hub.poll().migrations == 2
    hub.ask_states()
    assert hub.receive(rep(0, 20)).want_state
    hub.receive(rep(0, 30, st="s0"))
    assert hub.poll().states is None  # island 1 has not sent its state yet
    hub.receive(rep(1, 30, st="s1"))
    assert hub.poll().states == ["s0", "s1"] and not hub.asking
    hub.stop("max_time")
    assert hub.receive(rep(0, 40)).stop


def test_without_ray_the_ray_executor_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(AzError, match=r"Ray is not installed: pip install azlang\[ray\]"):
        make_executor(4, "ray")


def test_islands_config_round_trips_and_assigns_tasks_round_robin():
    from azlang.search.tasksets import parse_all, per_island

    data = {"tasks": {"search": ["linear:F4:D2:N20:V20"]}, "run": {"executor": "ray", "address": "auto"}}
    cfg = from_dict({**data, "islands": [{"tasks": []}, {"tasks": ["linear:F8:D1:N20:V20"]}]})
    import tomllib

    assert from_dict(tomllib.loads(to_toml(cfg))) == cfg
    base = parse_all(cfg.tasks.search)
    specs = per_island(cfg.islands, 4, base, Rng(3), randomize=False)
    assert specs[0] == specs[2] == base and specs[1] == specs[3] == parse_all(["linear:F8:D1:N20:V20"])
    with pytest.raises(AzError, match="run.executor"):
        from_dict({**data, "run": {"executor": "spark"}})


def test_evolve_with_ray_executor_but_no_ray_exits_1_with_the_install_hint(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from azlang.cli import app

    monkeypatch.setitem(sys.modules, "ray", None)
    args = ["evolve", "--executor", "ray", "--islands", "2", "--run-dir", str(tmp_path / "run")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "Ray is not installed: pip install azlang[ray]" in result.output
