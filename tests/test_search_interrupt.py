"""Ctrl-C / SIGTERM: a stop request at any point checkpoints a whole state; resuming ends exactly like the
uninterrupted run (one island). Deterministic interrupt points through `interrupt.after(k)` (the k-th
poll: between children, between native chunks, between experiments), plus real signals to a subprocess."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from azlang.search import interrupt, native_island
from azlang.search.config import override
from azlang.search.experiment import resume, run_experiment
from azlang.search.presets import demo_config

ROOT = Path(__file__).resolve().parent.parent
BASE = {
    "evolution.population": 20,
    "evolution.tournament": 4,
    "stop.max_individuals": 120,
    "stop.max_experiments": 2,
    "tasks.search": ("linear:F4:D3:N30:V20",),
    "tasks.select": ("linear:F4:D3:N50:V20",),
    "tasks.final": ("linear:F4:D2:N50:V20:S77:P88",),
    "run.random_seed": 11,
    "run.progress_every": 20,
    "run.progress_seconds": 0.0,
    "run.checkpoint_every": 0.0,
}


pytestmark = pytest.mark.usefixtures("clean_interrupt_flag")


@pytest.fixture
def small_chunks(monkeypatch):
    """Native chunks of at most 3 children, so that stop requests land between chunks mid-sweep."""
    monkeypatch.setattr(native_island, "MIN_CHUNK", 3)
    monkeypatch.setattr(native_island, "MAX_CHUNK", 3)


def _cfg(backend: str, **extra):
    return override(demo_config(), {**BASE, "run.backend": backend, **extra})


def _progress(run_dir: Path) -> list[dict]:
    lines = (run_dir / "progress.jsonl").read_text().splitlines()
    drop = ("time", "individuals_per_s", "seconds", "eta")
    return [{k: v for k, v in json.loads(x).items() if k not in drop} for x in lines]


def _same(a, b) -> None:
    assert (a.text, a.select_fitness, a.final_fitness, a.stopped_by) == (b.text, b.select_fitness, b.final_fitness,
                                                                          b.stopped_by)
    assert (a.individuals, a.train_steps) == (b.individuals, b.train_steps)
    assert [e.search_fitness for e in a.experiments] == [e.search_fitness for e in b.experiments]


def _polls(cfg, path: Path) -> tuple[object, int]:
    interrupt.FLAG.reset()
    whole = run_experiment(cfg, path)
    return whole, interrupt.FLAG.polls


def _interrupt_and_resume(cfg, path: Path, k: int):
    interrupt.after(k)
    stopped = run_experiment(cfg, path)
    interrupt.after(None)
    assert stopped.stopped_by == "interrupt" and (path / "checkpoint.ckpt").exists()
    return stopped, resume(path)


@pytest.mark.parametrize("backend", ["numpy", "native"])
def test_resume_after_a_stop_request_at_many_points_equals_the_whole_run(tmp_path, backend, small_chunks):
    cfg = _cfg(backend)
    whole, polls = _polls(cfg, tmp_path / "whole")
    assert polls > 30  # children (Python loop) or chunks (native loop, none while lines wait), and experiments
    points = sorted({1, 2, 3, polls // 2, polls - 1, polls} | set(range(5, polls, max(1, polls // 7))))
    for k in points:
        _, resumed = _interrupt_and_resume(cfg, tmp_path / f"k{k}", k)
        _same(resumed, whole)
        assert _progress(tmp_path / f"k{k}") == _progress(tmp_path / "whole"), f"interrupt at poll {k}"


def test_interrupted_result_reports_the_true_counts(tmp_path):
    cfg = _cfg("numpy")
    interrupt.after(70)  # in the first experiment, after Init and a few sweeps
    stopped = run_experiment(cfg, tmp_path / "r")
    assert stopped.stopped_by == "interrupt" and stopped.experiments == []
    assert 40 <= stopped.individuals < 120 and stopped.train_steps > 0 and stopped.search_fitness is not None


def test_repeated_interrupts_then_resume_equal_the_whole_run(tmp_path, small_chunks):
    cfg = _cfg("native")
    whole, polls = _polls(cfg, tmp_path / "whole")
    run = tmp_path / "r"
    interrupt.after(polls // 5)
    assert run_experiment(cfg, run).stopped_by == "interrupt"
    for _ in range(3):
        interrupt.after(polls // 5)
        assert resume(run).stopped_by == "interrupt"
    interrupt.after(None)
    _same(resume(run), whole)
    assert _progress(run) == _progress(tmp_path / "whole")


def test_native_chunk_size_does_not_change_the_run(tmp_path, monkeypatch):
    default = run_experiment(_cfg("native"), tmp_path / "a")
    monkeypatch.setattr(native_island, "MIN_CHUNK", 1)
    monkeypatch.setattr(native_island, "MAX_CHUNK", 2)
    _same(run_experiment(_cfg("native"), tmp_path / "b"), default)


def test_sigterm_request_is_reported_as_terminate(tmp_path):
    cfg = _cfg("numpy")

    def terminate(event):  # what the SIGTERM handler records
        if event["event"] == "progress":
            interrupt.request(signal.SIGTERM)

    r = run_experiment(cfg, tmp_path / "r", progress=terminate)
    assert r.stopped_by == "terminate" and r.individuals == 20


def test_stop_request_on_the_last_sweep_just_ends_the_run(tmp_path):
    """A request that arrives when a stop criterion fires anyway does not cost an extra sweep."""
    cfg = _cfg("numpy", **{"stop.max_experiments": 1})
    whole = run_experiment(cfg, tmp_path / "whole")

    def request_at_end(event):
        if event["event"] == "progress" and event["individuals"] >= 120:
            interrupt.request()

    r = run_experiment(cfg, tmp_path / "r", progress=request_at_end)
    _same(r, whole)


# --- real signals, in a subprocess through the CLI ------------------------------------------------------------

CONFIG = """
[memory]
scalars = 4
vectors = 3
matrices = 1
[setup]
ops = [56, 27, 2, 3, 18, 23]
size_init = 10
[predict]
ops = [56, 27, 2, 3, 18, 23]
size_init = 2
[learn]
ops = [56, 27, 2, 3, 18, 23]
size_init = 8
[tasks]
search = ["linear:F4:D10:N100:V100"]
select = ["linear:F4:D10:N100:V100:S500:P600"]
final = ["linear:F4:D10:N100:V100:S700:P800"]
[evolution]
population = 100
tournament = 10
initial_population = "random"
[fec]
enabled = true
[stop]
max_individuals = {individuals}
max_experiments = 2
[run]
random_seed = 5
workers = {workers}
backend = "{backend}"
progress_every = 100
progress_seconds = 0.0
checkpoint_every = 0.0
"""


def _azc(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    cmd = [sys.executable, "-W", "ignore", "-c", "from azlang.cli import main; main()", *map(str, args)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _signal_when_running(tmp_path: Path, sig: int, workers: int, backend: str = "numpy", lines: int = 3):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(individuals=20000, workers=workers, backend=backend))
    run = tmp_path / "run"
    proc = _azc("evolve", "-c", cfg, "--run-dir", run, start_new_session=True)
    deadline = time.monotonic() + 60
    progress = run / "progress.jsonl"
    while time.monotonic() < deadline and proc.poll() is None:
        if progress.exists() and len(progress.read_text().splitlines()) >= lines:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, sig)  # the whole group, as a terminal or a job scheduler does
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err, run


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_real_signal_checkpoints_and_exits_with_its_code(tmp_path, sig, code):
    rc, out, err, run = _signal_when_running(tmp_path, sig, workers=1, backend="native")
    assert rc == code, out + err
    assert "Traceback" not in err and "checkpointed; resume with" in out
    assert (run / "checkpoint.ckpt").exists()
    counted = int(out.split("stopped by: ")[1].split(" individuals")[0].split("; ")[1].replace(",", ""))
    assert counted >= 100  # the true count so far, not 0


def test_sigterm_with_two_workers_is_clean(tmp_path):
    rc, out, err, run = _signal_when_running(tmp_path, signal.SIGTERM, workers=2)
    assert rc == 143, out + err
    assert "Traceback" not in err and "Error" not in err
    assert (run / "checkpoint.ckpt").exists()


def test_real_sigint_then_resume_equals_the_whole_run(tmp_path):
    cfg = tmp_path / "w.toml"
    cfg.write_text(CONFIG.format(individuals=3000, workers=1, backend="native"))
    whole = _azc("evolve", "-c", cfg, "--run-dir", tmp_path / "whole")
    whole.communicate(timeout=120)
    assert whole.returncode == 0
    cfg.write_text(CONFIG.format(individuals=3000, workers=1, backend="native"))
    run = tmp_path / "run"
    proc = _azc("evolve", "-c", cfg, "--run-dir", run, start_new_session=True)
    progress = run / "progress.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if progress.exists() and len(progress.read_text().splitlines()) >= 5:
            os.killpg(proc.pid, signal.SIGINT)
            break
        time.sleep(0.005)
    proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run ended before the signal arrived")
    assert proc.returncode == 130
    again = _azc("evolve", "--resume", run)
    again.communicate(timeout=120)
    assert again.returncode == 0
    a = json.loads((run / "summary.json").read_text())
    b = json.loads((tmp_path / "whole" / "summary.json").read_text())
    for key in ("text", "select_fitness", "final_fitness", "individuals", "train_steps"):
        assert a[key] == b[key], key


@pytest.mark.parametrize("backend", ["numpy", "native"])
def test_checkpoints_between_children_resume_exactly(tmp_path, backend, small_chunks, monkeypatch):
    """With checkpoint_every > 0, checkpoints are also taken mid-sweep (between children or native chunks): a
    run killed right after any of them resumes to the uninterrupted result."""
    from azlang.search import checkpoint
    from azlang.search.interrupt import CheckpointSchedule

    whole = run_experiment(_cfg(backend), tmp_path / "whole")
    monkeypatch.setattr(CheckpointSchedule, "SHARE", 1e12)  # ignore the cost: checkpoint whenever due
    snapshots, real_save = [], checkpoint.save

    def save(path, state):
        real_save(path, state)
        progress = (Path(path).parent / "progress.jsonl").read_text()
        snapshots.append((Path(path).read_bytes(), progress, bool(state.islands and state.islands[0].cursor)))

    monkeypatch.setattr(checkpoint, "save", save)
    run_experiment(_cfg(backend, **{"run.checkpoint_every": 1e-9}), tmp_path / "often")
    monkeypatch.setattr(checkpoint, "save", real_save)
    mid = [s for s in snapshots if s[2]]
    assert len(mid) >= 5, "no mid-sweep checkpoints were taken"
    config = (tmp_path / "often" / "config.toml").read_text()
    for i, (data, progress, _) in enumerate(mid[:: max(1, len(mid) // 6)]):
        run = tmp_path / f"killed{i}"
        run.mkdir()
        (run / "config.toml").write_text(config)
        (run / "progress.jsonl").write_text(progress)
        (run / "checkpoint.ckpt").write_bytes(data)
        _same(resume(run, overrides={"run.checkpoint_every": 0.0}), whole)
