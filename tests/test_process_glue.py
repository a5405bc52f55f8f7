"""The whole process around the search: BLAS threads, lazy imports, the task cache's file format, and the native
FEC cache's export straight to arrays (checkpoints), each against what it replaces."""

import mmap
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from azlang.rng import Rng
from azlang.search.fec import FecCache
from azlang.tasks import cache


def run_python(code: str, env: dict | None = None) -> str:
    base = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **(env or {})}, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


# --- BLAS threads --------------------------------------------------------------------------------------------

def test_cli_asks_for_one_blas_thread_before_numpy_loads():
    code = "import os; from azlang.cli import single_threaded_blas; single_threaded_blas(); " \
           "print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    assert run_python(code) == "1"
    assert run_python(code, {"OPENBLAS_NUM_THREADS": "3"}) == "3"  # the user's choice wins


def test_cli_leaves_blas_alone_once_numpy_is_loaded():
    code = "import os, numpy; from azlang.cli import single_threaded_blas; single_threaded_blas(); " \
           "print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    assert run_python(code) == "None"  # too late to matter: nothing is changed


# --- imports a run does not need ------------------------------------------------------------------------------

def test_printing_programs_does_not_load_the_parser():
    code = ("import sys; from azlang.syntax import print_program; from azlang.search import tasksets; "
            "print('lark' in sys.modules, 'urllib.request' in sys.modules)")
    assert run_python(code) == "False False"


def test_parse_still_works_after_the_lazy_import():
    from azlang.syntax import parse, print_program

    text = "def Setup():\n  s2 = 0.5\n\ndef Predict():\n  s1 = s2 * s0\n\ndef Learn():\n"
    assert "s1 = s2 * s0" in print_program(parse(text))


def test_task_modules_import_in_any_order():
    for first in ("azlang.tasks.projected", "azlang.tasks.tabular", "azlang.tasks.build"):
        # builder_of imports the family's module when build was imported first (build.FAMILY_MODULES)
        assert run_python(f"import {first}; from azlang.tasks.build import builder_of; "
                          "print(builder_of('cifar') is not None and builder_of('csv') is not None)") == "True"


# --- the task cache's file format --------------------------------------------------------------------------

def arrays(rng):
    return {"train_x": rng.normal(size=(30, 4)), "train_y": rng.integers(0, 2, 30).astype(np.float64),
            "valid_x": rng.normal(size=(7, 4)), "valid_y": np.array([np.nan, -0.0, np.inf, 1, 0, 1, 0])}


def test_task_cache_round_trip_is_exact(tmp_path):
    a = arrays(np.random.default_rng(1))
    path = cache.store("k", a, tmp_path)
    assert path.suffix == ".npys"
    b = cache.load("k", tmp_path)
    for name in cache.ARRAYS:
        assert b[name].dtype == a[name].dtype and b[name].shape == a[name].shape
        assert b[name].tobytes() == a[name].tobytes()  # bit for bit, NaN and -0.0 included
        assert not b[name].flags.writeable  # views of the mapped file: nothing may write into task data


def test_task_cache_entry_that_is_not_whole_reads_as_absent(tmp_path):
    path = cache.store("k", arrays(np.random.default_rng(2)), tmp_path)
    whole = path.read_bytes()
    for cut in (0, 5, 100, len(whole) // 2, len(whole) - 1):
        path.write_bytes(whole[:cut])
        assert cache.load("k", tmp_path) is None
    path.write_bytes(whole + b"\0")
    assert cache.load("k", tmp_path) is None
    assert cache.load("absent", tmp_path) is None


def test_task_cache_keys_name_the_format():
    assert cache.key(a=1) != cache.key(a=2)
    assert len(cache.key(a=1)) == 40


# --- the native FEC cache in checkpoints -----------------------------------------------------------------------

native = pytest.importorskip("azlang.backends.native")


@pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
def test_native_fec_cache_exports_the_arrays_its_plain_cache_would():
    from test_search_native_loop import rich, run_both

    from azlang.search import checkpoint
    from azlang.search.native_state import NativeFecCache

    py, nat = run_both(rich(), 2)
    assert isinstance(nat.state.cache, NativeFecCache) and len(nat.state.cache) > 0
    plain = pickle.loads(pickle.dumps(nat.state.cache))
    assert type(plain) is FecCache and plain.entries == py.state.cache.entries
    assert (plain.hits, plain.misses) == (py.state.cache.hits, py.state.cache.misses)
    for x, y in zip(nat.state.cache.export(), py.state.cache.export()):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    a, b = checkpoint.to_data(nat.state.cache), checkpoint.to_data(py.state.cache)
    assert a.name == b.name == "FecCache"
    assert a.fields.keys() == b.fields.keys()
    for k in a.fields:
        assert np.array_equal(a.fields[k], b.fields[k])


@pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
@pytest.mark.parametrize(("size", "forget"), [(2, 0), (5, 2), (7, 0), (64, 3)])
def test_native_fec_cache_layout_evicts_and_forgets_as_the_python_cache(size, forget):
    """Tiny caches: every insert evicts, probe chains wrap the table and backward-shift deletions move slots."""
    from test_search_native_loop import assert_same, rich, run_both

    py, nat = run_both(rich(**{"fec.cache_size": size, "fec.forget_every": forget}), 2)
    assert_same(py, nat)
    assert py.state.cache.misses > size


@pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
def test_fec_keys_of_long_probes_match_past_the_precomputed_positions():
    """Probes of 300 recorded errors: positions beyond the native hash's 256 precomputed keys."""
    from test_search_native_loop import assert_same, rich, run_both

    cfg = rich(**{"tasks.search": ("linear:F4:D1:N300:V40",), "fec.num_train_examples": 280,
                  "fec.num_valid_examples": 30, "evolution.population": 12, "fec.cache_size": 50})
    py, nat = run_both(cfg, 1)
    assert_same(py, nat)
    assert py.state.cache.hits + py.state.cache.misses >= 24


def reference_live_rows(code: np.ndarray, sizes, shape) -> np.ndarray:
    """search_dce's definition restated in Python: liveness of s1-after-Predict as a fixed point over register
    bit sets (Predict and Learn in any order), random ops always kept, OP57/58 never ending liveness."""
    from azlang.backends.native import search_abi as abi

    base = [0, 0, shape.S, shape.S + shape.V]

    def bit(kind, addr):
        return 0 if kind == 0 else 1 << (base[kind] + int(addr))

    def sweep(rows, live):
        marks = []
        for op, a, b, out in rows[::-1]:
            keep = False
            if op != 0:
                outb = bit(abi.OP_OUT[op], out)
                if abi.OP_RANDOM[op]:
                    keep, live = True, live & ~outb
                elif live & outb:
                    keep = True
                    if not abi.OP_PARTIAL[op]:
                        live = (live & ~outb) | bit(abi.OP_IN1[op], a) | bit(abi.OP_IN2[op], b)
            marks.append(keep)
        return live, marks[::-1]

    ns, np_, _ = sizes
    setup, pred, learn = code[:ns], code[ns:ns + np_], code[ns + np_:]
    kill, s1 = ~(1 | 1 << shape.S), 2
    lip = lil = 0
    while True:
        new_p, mp = sweep(pred, ((lip | lil) & kill) | s1)
        new_l, ml = sweep(learn, lip & kill)
        if (new_p, new_l) == (lip, lil):
            break
        lip, lil = new_p, new_l
    _, ms = sweep(setup, lip & kill)
    keep = np.array(ms + mp + ml, dtype=bool)
    return code[keep], [sum(ms), sum(mp), sum(ml)]


@pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
@pytest.mark.parametrize("seed,wide", [(1, False), (2, False), (3, True)])
def test_native_live_programs_are_the_reference_dce(seed, wide):
    """Each slot's live program (written by the native loop with its child) is the dce of the slot's program;
    `wide`: 70 registers, so a register set takes two int64 words (the decoded masks too)."""
    from dataclasses import replace

    from test_search_native_loop import assert_same, rich, run_both

    from azlang.backends.native.search_dce import width
    from azlang.search.config import MemoryConfig, override

    cfg = override(rich(), {"run.random_seed": seed})
    if wide:
        cfg = replace(cfg, memory=MemoryConfig(40, 20, 10))
    py, nat = run_both(cfg, 3)
    assert width(nat.native.shape) == (128 if wide else 64)
    assert_same(py, nat)
    keep, shape = nat.native.ctx.keep, nat.native.shape
    checked = 0
    for i in range(nat.P):
        if not keep["PL_OK"][i]:
            continue
        sizes = keep["POP_SIZES"][i].tolist()
        rows, live_sizes = reference_live_rows(keep["POP_CODE"][i, :sum(sizes)], sizes, shape)
        assert keep["PL_SIZES"][i].tolist() == live_sizes
        assert np.array_equal(keep["PL_CODE"][i, :len(rows)], rows)
        checked += 1
    assert checked > nat.P // 2


def test_cli_main_leaves_nothing_for_the_exit_collection():
    code = ("import gc, sys; from azlang.cli import main; sys.argv = ['azc', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint(gc.get_freeze_count() > 1000, gc.isenabled())")
    assert run_python(code).splitlines()[-1] == "True True"


def test_island_processes_fork_when_single_threaded_else_from_a_preloaded_server():
    import multiprocessing as mp

    from azlang.search.executors import PRELOAD, ProcessExecutor, default_start_method

    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        assert default_start_method(threads=2) == "forkserver"
        assert "azlang.search.islands" in PRELOAD and "numpy" in PRELOAD
    else:
        assert default_start_method(threads=2) == "spawn"
    if "fork" in methods:
        assert default_start_method(threads=1) == "fork"
    assert ProcessExecutor("spawn").context().get_start_method() == "spawn"  # still selectable
    if os.path.isdir("/proc/self/task") and "fork" in methods:  # azc's process: one thread, so its islands fork
        code = ("from azlang.cli import single_threaded_blas; single_threaded_blas()\n"
                "from azlang.search.config import override; from azlang.search.presets import demo_config\n"
                "from azlang.search.executors import ProcessExecutor; from azlang.search.experiment import run_experiment\n"
                "cfg = override(demo_config(), {'evolution.population': 20, 'evolution.tournament': 4, "
                "'stop.max_individuals': 400, 'stop.max_experiments': 1, 'tasks.search': ('linear:F4:D2:N20:V20',), "
                "'tasks.select': (), 'tasks.final': (), 'run.workers': 2, 'run.migrate_every': 40})\n"
                "print(ProcessExecutor().context().get_start_method())\n"
                "print(run_experiment(cfg).individuals >= 400)")
        assert run_python(code).splitlines()[-2:] == ["fork", "True"]  # and a run with forked islands finishes


def test_fec_cache_from_arrays_is_lazy_and_behaves_as_the_cache_it_came_from():
    rng = np.random.default_rng(5)
    eager = FecCache(50, 4)
    keys = rng.integers(0, 2**63, 40).tolist() + [2**64 - 1, 0]
    for k in keys + keys[:10]:
        if eager.lookup(k) is None:
            eager.insert(k, float(rng.normal()))
    lazy = FecCache.from_arrays(50, 4, *eager.export(), eager.hits, eager.misses)
    assert lazy._entries is None and len(lazy) == len(eager)  # nothing built yet
    for x, y in zip(lazy.export(), eager.export()):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    assert lazy._entries is None
    for k in keys[::-1] + [12345]:  # the same lookups and inserts on both: same answers, same LRU order
        a, b = lazy.lookup(k), eager.lookup(k)
        assert a == b
        if a is None:
            lazy.insert(k, 0.5)
            eager.insert(k, 0.5)
    assert lazy.entries == eager.entries and list(lazy.entries) == list(eager.entries)
    assert (lazy.hits, lazy.misses) == (eager.hits, eager.misses)
    with pytest.raises(ValueError, match="differ in length"):
        FecCache.from_arrays(5, 2, np.zeros(2, dtype=np.uint64), np.zeros(1), np.zeros(2, dtype=np.int64))
    back = pickle.loads(pickle.dumps(FecCache.from_arrays(50, 4, *eager.export())))
    assert back.entries == eager.entries


def test_run_metadata_is_collected_once_per_run(tmp_path, monkeypatch):
    import json

    from azlang.search import experiment
    from azlang.search.config import override
    from azlang.search.presets import demo_config

    calls = []
    real = experiment.collect_metadata
    monkeypatch.setattr(experiment, "collect_metadata", lambda *a: calls.append(1) or real(*a))
    cfg = override(demo_config(), {"evolution.population": 20, "evolution.tournament": 4, "stop.max_individuals": 60,
                                   "stop.max_experiments": 2, "tasks.search": ("linear:F4:D2:N20:V20",),
                                   "tasks.select": (), "tasks.final": (), "run.random_seed": 3})
    r = experiment.run_experiment(cfg, tmp_path / "run")
    assert len(calls) == 1
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["metadata"] == r.metadata and r.metadata["git_commit"] == real(cfg, [])["git_commit"]


def test_plain_progress_lines_print_as_rich_would():
    import io

    from rich.console import Console

    from azlang.search.cli_progress import Display, plain_line

    event = {"event": "progress", "experiment": 0, "individuals": 120000, "individuals_per_s": 31234.5,
             "train_steps": 123456789, "best": 0.987654321, "mean": -0.5, "stdev": 0.25, "fec_hit_rate": 0.891,
             "hurdle_pass_rate": None, "done": 0.42, "eta": 12.3, "time": 4.56}
    texts = [plain_line(event), plain_line({**event, "eta": None, "done": None, "fec_hit_rate": None}),
             "x" * 300, "  search tasks: linear:F4", "tab\there", "emoji :smile: here", "ünïcödé [bold]x[/bold]", ""]
    for text in texts:
        fast, slow = io.StringIO(), io.StringIO()
        Display(Console(file=fast, highlight=False)).print(text)
        Console(file=slow, highlight=False).print(text, soft_wrap=True, markup=False, highlight=False)
        assert fast.getvalue() == slow.getvalue(), text


@pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
def test_migration_between_native_islands_is_the_python_loops():
    """Two islands taking turns in one process, migrating every 2 sweeps: bulk emigrants / immigrants of the
    native islands give the Python loop's run (populations, fitnesses, counters, program)."""
    from azlang.search.config import override
    from azlang.search.executors import InProcessExecutor
    from azlang.search.experiment import run_experiment
    from azlang.search.presets import demo_config

    cfg = override(demo_config(), {"evolution.population": 30, "evolution.tournament": 4,
                                   "stop.max_individuals": 600, "stop.max_experiments": 1,
                                   "tasks.search": ("linear:F4:D2:N20:V20",), "tasks.select": (),
                                   "tasks.final": (), "run.workers": 2, "run.migrate_every": 60,
                                   "run.random_seed": 5, "run.progress_every": 10**9})
    a, b = (run_experiment(override(cfg, {"evolution.loop": loop}), executor=InProcessExecutor())
            for loop in ("python", "native"))
    assert (a.individuals, a.train_steps, a.search_fitness, a.text) == (b.individuals, b.train_steps,
                                                                      b.search_fitness, b.text)


@pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
def test_bulk_immigrants_with_a_bad_program_fail_like_one_by_one():
    from test_search_native_loop import rich, run_both

    from azlang.backends.native.pack import BytecodeError
    from azlang.ir.bytecode import Bytecode

    _, nat = run_both(rich(), 1)
    good = [(0.5, nat.state.programs[k]) for k in range(3)]
    code = np.array(good[1][1].code)
    code[0, 3] = 999  # an output address outside memory
    bad = Bytecode(code, np.array(good[1][1].data), good[1][1].sizes)
    cursor = nat.state.cursor
    with pytest.raises(BytecodeError, match="outside memory"):
        nat.immigrate([good[0], (0.25, bad), good[2]])
    assert nat.state.programs[cursor] == good[0][1]  # what came before the bad one was written, as before


def test_task_cache_reads_arrays_onto_cache_line_boundaries(tmp_path):
    a = arrays(np.random.default_rng(3))
    cache.store("k", a, tmp_path)
    b = cache.load("k", tmp_path)
    for name in cache.ARRAYS:
        assert b[name].ctypes.data % 64 == 0 and np.array_equal(b[name], a[name], equal_nan=True)


@pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
def test_native_evaluator_points_at_line_aligned_task_data_with_the_same_results():
    from dataclasses import replace

    from azlang.api import find_program
    from azlang.backends.native import abi
    from azlang.backends.native.evaluator import NativeEvaluator
    from azlang.evaluate import EvalOptions
    from azlang.ir.bytecode import to_bytecode
    from azlang.ir.nodes import MemoryShape
    from azlang.search.tasksets import build, parse_all
    from azlang.syntax import load

    def misaligned(x):
        raw = np.zeros(x.size + 1)
        out = raw[1:].reshape(x.shape)  # 8 bytes past an allocation: never on a 64-byte boundary
        out[...] = x
        return out

    tasks = build(parse_all(["linear:F16:D3:N50:V20"]))
    shifted = [replace(t, train_x=misaligned(t.train_x), valid_x=misaligned(t.valid_x),
                       train_y=misaligned(t.train_y)) for t in tasks]
    assert all(t.train_x.ctypes.data % 64 for t in shifted)
    prog = to_bytecode(load(find_program("linear_sgd")))
    shape = MemoryShape(4, 4, 1)
    results = []
    for ts in (tasks, shifted):
        ev = NativeEvaluator(ts, shape)
        assert all(int(a) % 64 == 0 for k in (abi.TASK_TRAIN_X, abi.TASK_TRAIN_Y, abi.TASK_VALID_X,
                                              abi.TASK_VALID_Y) for a in ev.table[:, k])
        res = ev.evaluate_batch([prog], Rng(4), EvalOptions(record=True))
        results.append((res.fitness.tolist(), res.train_steps.tolist(),
                        [(r.train_errors, r.valid_errors) for r in res.tasks[0]]))
    assert results[0] == results[1]


@pytest.mark.parametrize("shape", [(3, 4), (1 << 17, 2), (100_000, 4)])
def test_huge_arrays_are_zeroed_writable_and_page_aligned_when_large(shape):
    """The FEC cache's arrays: zeroed, writable, C-contiguous; from 2 MiB on, starting on a 2 MiB boundary (where
    the kernel may back them with huge pages), else ordinary arrays."""
    from azlang.backends.native.pack import HUGE_PAGE, huge

    a = huge(shape, np.int64)
    assert a.shape == shape and a.dtype == np.int64 and a.flags.c_contiguous and a.flags.writeable
    assert not a.any()
    a[...] = 7
    assert (a == 7).all()
    if a.nbytes >= HUGE_PAGE and hasattr(mmap, "MADV_HUGEPAGE"):
        assert a.ctypes.data % HUGE_PAGE == 0
