"""Robustness stress figures (issue 11): interrupted-and-resumed runs, corrupt checkpoints, broken configs and
damaged data files. Counts tracebacks, hangs and wrong results; prints one JSON object.

    python benchmarks/stress_robustness.py [--signals 20] [--checkpoints 500] [--configs 500] [--data 200]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

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
select = ["linear:F4:D100:N1000:V100"]
final = ["linear:F4:D100:N1000:V100:S1000000:P2000000"]
randomize_seeds = true
[evolution]
population = 1000
tournament = 10
initial_population = "random"
[fec]
enabled = true
[stop]
max_train_steps = 2e8
max_experiments = 0
sufficient_fitness = 0.9999
[run]
random_seed = {seed}
workers = 1
progress_every = 10000
"""


def _azc(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-W", "ignore", "-c", "from azlang.cli import main; main()", *map(str, args)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _summary(run: Path) -> dict:
    s = json.loads((run / "summary.json").read_text())
    return {k: s[k] for k in ("text", "select_fitness", "final_fitness", "individuals", "train_steps", "stopped_by")}


def signals(n: int, tmp: Path, rnd: random.Random) -> dict:
    """The demo (like run_demo.sh) per seed, uninterrupted vs SIGINT/SIGTERM at a random time then --resume."""
    out = {"trials": 0, "exit_code_wrong": 0, "tracebacks": 0, "diverged": 0, "ended_before_signal": 0}
    wholes: dict[int, dict] = {}
    for t in range(n):
        seed = 1 + t % 5
        cfg = tmp / f"c{seed}.toml"
        cfg.write_text(CONFIG.format(seed=seed))
        if seed not in wholes:
            p = _azc("evolve", "-c", cfg, "--run-dir", tmp / f"whole{seed}")
            p.communicate(timeout=600)
            wholes[seed] = _summary(tmp / f"whole{seed}")
        sig = signal.SIGINT if t % 3 else signal.SIGTERM
        run = tmp / f"t{t}"
        p = _azc("evolve", "-c", cfg, "--run-dir", run, start_new_session=True)
        time.sleep(rnd.uniform(0.5, 6.0))
        os.killpg(p.pid, sig)
        _, err = p.communicate(timeout=600)
        out["trials"] += 1
        out["tracebacks"] += "Traceback" in err
        if p.returncode == 0:
            out["ended_before_signal"] += 1
            continue
        out["exit_code_wrong"] += p.returncode != (130 if sig == signal.SIGINT else 143)
        r = _azc("evolve", "--resume", run)
        _, err = r.communicate(timeout=600)
        out["tracebacks"] += "Traceback" in err
        out["diverged"] += r.returncode != 0 or _summary(run) != wholes[seed]
    return out


def points(tmp: Path, step: int) -> dict:
    """Deterministic stop requests at every `step`-th poll point (children, native chunks of 3, experiment
    boundaries) of a small two-experiment run, on both loops; each resumed run compared with the whole one."""
    from azlang.search import interrupt, native_island
    from azlang.search.config import override
    from azlang.search.experiment import resume, run_experiment
    from azlang.search.presets import demo_config

    native_island.MIN_CHUNK = native_island.MAX_CHUNK = 3
    out = {}
    for backend in ("numpy", "native"):
        cfg = override(demo_config(), {
            "evolution.population": 20, "evolution.tournament": 4, "stop.max_individuals": 120,
            "stop.max_experiments": 2, "tasks.search": ("linear:F4:D3:N30:V20",),
            "tasks.select": ("linear:F4:D3:N50:V20",), "tasks.final": ("linear:F4:D2:N50:V20:S77:P88",),
            "run.random_seed": 11, "run.backend": backend, "run.checkpoint_every": 0.0,
            "run.progress_seconds": 0.0, "hurdles.enabled": True})
        interrupt.FLAG.reset()
        whole = run_experiment(cfg, tmp / f"p-{backend}")
        polls = interrupt.FLAG.polls
        key = lambda r: (r.text, r.select_fitness, r.final_fitness, r.individuals, r.train_steps)
        diverged = 0
        for k in range(1, polls + 1, step):
            interrupt.after(k)
            run_experiment(cfg, tmp / f"p-{backend}-{k}")
            interrupt.after(None)
            diverged += key(resume(tmp / f"p-{backend}-{k}")) != key(whole)
        out[backend] = {"points": len(range(1, polls + 1, step)), "of_polls": polls, "diverged": diverged}
    return out


def checkpoints(n: int, tmp: Path, rnd: random.Random) -> dict:
    from azlang.errors import AzError
    from azlang.search import checkpoint, interrupt
    from azlang.search.config import override
    from azlang.search.experiment import run_experiment
    from azlang.search.presets import demo_config

    def stop(event):
        if event["event"] == "progress" and event["individuals"] >= 100:
            interrupt.request()

    cfg = override(demo_config(), {"evolution.population": 50, "stop.max_individuals": 400,
                                   "run.random_seed": 3, "run.progress_every": 50, "hurdles.enabled": True})
    run_experiment(cfg, tmp / "ck", stop)
    good = (tmp / "ck" / "checkpoint.ckpt").read_bytes()
    out = {"corruptions": n, "accepted": 0, "accepted_but_different": 0, "tracebacks": 0, "clear_errors": 0}
    for _ in range(n):
        data = bytearray(good)
        kind = rnd.choice(["flip", "truncate", "insert", "zero", "swap"])
        i = rnd.randrange(len(data))
        if kind == "flip":
            data[i] ^= rnd.randrange(1, 256)
        elif kind == "truncate":
            del data[i:]
        elif kind == "insert":
            data[i:i] = bytes([rnd.randrange(256)])
        elif kind == "zero":
            data[i : i + 64] = bytes(len(data[i : i + 64]))
        else:
            j = rnd.randrange(len(data))
            data[i], data[j] = data[j], data[i]
            if data == good:
                data[i] ^= 1
        if data == good:  # e.g. zeros written over zeros: not a corruption, draw again
            data[i % len(data)] ^= 0x55
        try:
            state = checkpoint.loads(bytes(data))
            out["accepted"] += 1
            out["accepted_but_different"] += checkpoint.dumps(state) != good
        except AzError:
            out["clear_errors"] += 1
        except Exception:  # noqa: BLE001 - counting exactly these
            out["tracebacks"] += 1
    return out


def configs(n: int, rnd: random.Random) -> dict:
    from dataclasses import fields

    from azlang.errors import ConfigError
    from azlang.search.config import ExperimentConfig, from_dict, to_dict
    from azlang.search.presets import demo_config

    keys = [(s.name, f.name) for s in fields(ExperimentConfig) if s.name not in ("source", "islands")
            for f in fields(type(s.default))]
    values = [-1, 0, 1, 2**70, -(2**70), 1e30, -1e30, float("nan"), float("inf"), -0.0, 0.5, True, "", "x",
              ["linear:F99999999"], [], ["nosuch"], [999], "evolution", 100000, 1e-300]
    out = {"configs": n, "accepted": 0, "clear_errors": 0, "tracebacks": 0}
    base = to_dict(demo_config())
    for _ in range(n):
        data = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
        for _ in range(rnd.randint(1, 3)):
            section, name = rnd.choice(keys)
            data[section][name] = rnd.choice(values)
        try:
            from_dict(data, "fuzz.toml")
            out["accepted"] += 1
        except ConfigError:
            out["clear_errors"] += 1
        except Exception:  # noqa: BLE001
            out["tracebacks"] += 1
    return out


def data_files(n: int, tmp: Path, rnd: random.Random) -> dict:
    import datasets_fakes as fk

    from azlang.errors import AzError
    from azlang.tasks import datasets as ds
    from azlang.tasks import download

    good = gzip.compress(fk.idx_bytes(fk.pixels(50, 784, 0).reshape(50, 28, 28)), mtime=0)
    path = tmp / "train-images-idx3-ubyte.gz"
    out = {"files": n, "read_ok": 0, "clear_errors": 0, "tracebacks": 0, "status_tracebacks": 0}
    for _ in range(n):
        data = bytearray(good)
        i = rnd.randrange(len(data))
        if rnd.random() < 0.5:
            del data[i:]
        else:
            data[i] ^= rnd.randrange(1, 256)
        path.write_bytes(bytes(data))
        try:
            ds.read_idx(path)
            out["read_ok"] += 1
        except AzError:
            out["clear_errors"] += 1
        except Exception:  # noqa: BLE001
            out["tracebacks"] += 1
        try:
            download.file_state(tmp, ds.FileInfo(path.name, "0" * 32, "0" * 32))
        except Exception:  # noqa: BLE001
            out["status_tracebacks"] += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--signals", type=int, default=20)
    ap.add_argument("--checkpoints", type=int, default=500)
    ap.add_argument("--configs", type=int, default=500)
    ap.add_argument("--data", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--points-step", type=int, default=1, help="0: skip the interrupt-point sweep")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        result = {
            "interrupt_points": points(tmp, args.points_step) if args.points_step else None,
            "checkpoints": checkpoints(args.checkpoints, tmp, rnd),
            "configs": configs(args.configs, rnd),
            "data_files": data_files(args.data, tmp, rnd),
            "signals": signals(args.signals, tmp, rnd) if args.signals else None,
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
