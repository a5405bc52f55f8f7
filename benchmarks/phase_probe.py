"""Benchmark support: run `azc evolve` in this process with exclusive phase timers around azlang's stages.

    python benchmarks/phase_probe.py OUT.json [--perf-map] -- evolve ARGS...

Each timed function pushes its phase on a stack; time goes to the phase on top (exclusive times, so the phases
add up to the process's time inside Python's main). Imports are timed through the source and extension loaders
(an import inside a phase counts as import). The parent (bench_phases.py) adds the interpreter's start (from its
fork to this file's first line) and the teardown (from main's return to the process's exit). With --perf-map the
JIT's functions are written to /tmp/perf-PID.map at the end (from the cached objects' symbol tables), so
`perf report` can name them. The probe changes no result: wrappers only read the clock.
"""

from __future__ import annotations

import time

T_START, CPU_START = time.time(), time.process_time()

import functools
import json
import os
import sys
from importlib import machinery

TOTALS: dict[str, list[float]] = {}  # phase: [wall s, CPU s]
COUNTS: dict[str, int] = {}


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


STACK: list[list] = [["other", _now()]]  # [phase, since]


def _add(name: str, since, now) -> None:
    tot = TOTALS.setdefault(name, [0.0, 0.0])
    tot[0] += now[0] - since[0]
    tot[1] += now[1] - since[1]


def _enter(name: str) -> None:
    now = _now()
    top = STACK[-1]
    _add(top[0], top[1], now)
    STACK.append([name, now])
    COUNTS[name] = COUNTS.get(name, 0) + 1


def _leave() -> None:
    now = _now()
    name, since = STACK.pop()
    _add(name, since, now)
    STACK[-1][1] = now


def timed(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _enter(name)
        try:
            return fn(*args, **kwargs)
        finally:
            _leave()

    return wrapper


def patch(obj, attr: str, name: str) -> None:
    if hasattr(obj, attr):  # an older tree (--before) may lack some
        setattr(obj, attr, timed(name, getattr(obj, attr)))


def _patch_imports() -> None:
    for cls in (machinery.SourceFileLoader, machinery.SourcelessFileLoader):
        patch(cls, "exec_module", "import")
    for attr in ("create_module", "exec_module"):
        patch(machinery.ExtensionFileLoader, attr, "import")


def _patch_azlang() -> None:
    """Phases of the run, by the functions that do them (imported here, so their import counts too)."""
    from azlang.backends.native import engine, evaluator, jit, lockstep
    from azlang.search import (
        checkpoint,
        cli_evolve,
        config,
        executors,
        experiment,
        native_island,
        progress,
        rundir,
        tasksets,
    )

    patch(tasksets, "build_collection", "tasks")
    patch(config, "load_config", "config")
    patch(cli_evolve, "_base_config", "config")
    patch(engine, "_init", "llvm init")
    patch(engine, "load", "native objects")
    patch(engine, "_optimise", "native compile")
    patch(jit, "build_module", "native compile")
    patch(evaluator.NativeEvaluator, "__init__", "evaluator setup")
    patch(executors, "build_island", "island setup")
    patch(native_island.NativeLoop, "__init__", "island setup")
    patch(native_island.NativeLoop, "run", "search native")
    patch(executors.InProcessExecutor, "_sweeps", "search glue")
    patch(executors.ProcessExecutor, "_serve", "search glue")
    patch(checkpoint, "save", "checkpoints")
    patch(experiment.Driver, "_select", "select")
    patch(experiment.Driver, "_maybe_done", "final")
    patch(lockstep, "batch_lockstep", "select/final native")
    patch(experiment.Driver, "_write_experiment", "results output")
    patch(experiment.Driver, "_write_summary", "results output")
    patch(experiment.Driver, "metadata", "results output")
    patch(cli_evolve, "_print_result", "results output")
    patch(rundir.RunDir, "append_progress", "progress")
    patch(progress.ProgressTracker, "on_report", "progress")


def write_perf_map() -> None:
    """/tmp/perf-PID.map: every function of every loaded native object, at its address in this process."""
    import subprocess
    import tempfile

    from azlang.backends.native import engine

    st = engine._STATE
    lines = []
    for key, addrs in st.get("loaded", {}).items():
        body = engine._read(engine._path(key))
        if body is None:
            continue
        with tempfile.NamedTemporaryFile(suffix=".o") as f:
            f.write(body)
            f.flush()
            out = subprocess.run(["nm", "-S", "--defined-only", f.name], capture_output=True, text=True, check=False).stdout
        syms = {}
        for ln in out.splitlines():
            parts = ln.split()
            if len(parts) == 4 and parts[2] in "tT":
                syms[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
        anchor = next((s for s in addrs if s in syms), None)
        if anchor is None:
            continue
        base = addrs[anchor] - syms[anchor][0]
        lines += [f"{base + off:x} {size:x} {key.split('/')[0]}:{name}" for name, (off, size) in syms.items()]
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as f:
        f.write("\n".join(lines) + "\n")


def main() -> int:
    out, rest = sys.argv[1], sys.argv[2:]
    perf_map = "--perf-map" in rest[: rest.index("--")]
    args = rest[rest.index("--") + 1:]
    _patch_imports()
    _enter("import")
    from azlang import cli  # the CLI's own imports

    _leave()
    getattr(cli, "single_threaded_blas", lambda: None)()  # as cli.main() does, before the probe loads NumPy
    _patch_azlang()
    sys.argv = ["azc", *args]
    code = 0
    try:
        cli.main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0
    _leave_all()
    t_end, cpu_end = time.time(), time.process_time()
    if perf_map:
        write_perf_map()
    from azlang.backends.native import engine

    with open(out, "w") as f:
        json.dump({"t_start": T_START, "cpu_start": CPU_START, "t_main_end": t_end, "cpu_main_end": cpu_end,
                   "phases": TOTALS, "counts": COUNTS, "native": engine.STATS, "exit_code": code}, f)
    sys.stdout.flush()
    return code


def _leave_all() -> None:
    while len(STACK) > 1:
        _leave()
    now = _now()
    _add("other", STACK[0][1], now)
    STACK[0][1] = now


if __name__ == "__main__":
    sys.exit(main())
