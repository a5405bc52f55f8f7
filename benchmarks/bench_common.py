"""Benchmark support: timing child processes (wall and CPU), the machine's state, and result files."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def adopt_orphans() -> None:
    """Become the subreaper of our descendants (Linux): a process that outlives its parent, such as
    multiprocessing's fork server (whose children are the island workers), is then reparented to us instead of
    init, so reaping it counts its CPU, and its workers', in RUSAGE_CHILDREN."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def reap_orphans() -> None:
    """Wait for every adopted descendant still running (a fork server leaves when its parent has gone)."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def timed_run(cmd: list[str], env: dict, cwd: Path, timeout: float = 900.0) -> tuple[float, float, str]:
    """(wall s, CPU s of the child and all its descendants, stdout+stderr) of one process; raises on failure."""
    adopt_orphans()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # children run one at a time: the delta is this one's
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                       check=False)
    wall = time.perf_counter() - t
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = p.stdout.decode(errors="replace")
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{text[-3000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, text


def installed_env(env: dict, *roots: Path) -> dict:
    """`env` as a normal install runs azlang: with its modules' bytecode compiled (pip compiles it at install; an
    editable install writes it on first import). Compiles each tree's `azlang/` once and drops
    PYTHONDONTWRITEBYTECODE, which some shells set: under it every process compiles azlang from source again
    (about 0.1 CPU s per run here), a cost no installed copy pays."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for root in roots:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", str(Path(root) / "azlang")],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def machine_load() -> float:
    """The 1-minute load average: the machine is shared, so every measurement says how busy it was."""
    return os.getloadavg()[0]


def environment() -> dict:
    root = Path(__file__).resolve().parent.parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                            check=False)
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit.stdout.strip(),
            "python": sys.version.split()[0], "cpu": cpu or platform.processor(), "cores": os.cpu_count(),
            "load_at_start": machine_load()}


def write_results(prefix: str, data: dict, md: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = RESULTS / f"{prefix}-{stamp}"
    path.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    path.with_suffix(".md").write_text(md)
    print(f"wrote {path}.json and .md")
    return path
