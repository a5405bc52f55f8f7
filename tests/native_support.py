"""Test support: a fast random well-typed program generator and bitwise comparison for native tests."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from azlang.evaluate import EvalOptions, Evaluation, TaskResult, evaluate
from azlang.ir.nodes import Index, Instruction, MemoryShape, Program, f32
from azlang.ir.ops import OPS
from azlang.rng import Rng
from azlang.tasks.task import ACCURACY, Task

FILLS = (56, 59, 60, 61, 62, 63, 64)  # ops that put fresh values into memory


def _args(rng: np.random.Generator, op: int, F_max: int) -> tuple:
    """Set-op constants like the reference's random generator (docs/semantics.md, section 6)."""
    u = lambda lo, hi: f32(rng.uniform(lo, hi))
    if op == 56:
        return (float(rng.uniform(-1.0, 1.0)),)
    if op in (57, 58):
        idx = [_index(rng, F_max) for _ in range(op - 56)]
        return (*idx, u(-1.0, 1.0))
    if op in (59, 60, 61):
        return (u(-1.0, 1.0), u(-1.0, 1.0))
    if op in (62, 63, 64):
        return (u(-1.0, 1.0), u(0.0, 1.0))
    return ()


def _index(rng: np.random.Generator, F_max: int) -> Index:
    """Mostly float32 fractions in [0, 1); sometimes an absolute index valid for every F used."""
    if rng.random() < 0.2:
        return Index(int(rng.integers(0, F_max)), fraction=False)
    return Index(min(f32(rng.random()), f32(np.nextafter(np.float32(1.0), np.float32(0.0)))), fraction=True)


def random_instruction(rng: np.random.Generator, shape: MemoryShape, F_min: int, ops=None) -> Instruction:
    ops = ops if ops is not None else [o.id for o in OPS if all(shape.size(k) > 0 for k in (*o.ins, o.out or "s"))]
    od = OPS[int(rng.choice(ops))]
    addr = lambda kind: int(rng.integers(0, shape.size(kind)))
    out = addr(od.out) if od.out else 0
    ins = [addr(k) for k in od.ins] + [0, 0]
    return Instruction(od.id, out, ins[0], ins[1], _args(rng, od.id, F_min))


def random_program(rng: np.random.Generator, shape: MemoryShape, sizes=(6, 4, 5), F_min: int = 4,
                   seed_fills: int = 3, ops=None) -> Program:
    """Random setup/predict/learn; setup starts with a few fills so later ops see non-zero values."""
    fills = [random_instruction(rng, shape, F_min, FILLS) for _ in range(seed_fills)]
    comps = [[random_instruction(rng, shape, F_min, ops) for _ in range(n)] for n in sizes]
    return Program.of(fills + comps[0], comps[1], comps[2])


def same_bits(a, b) -> bool:
    """Bitwise equality of float arrays, any NaN equal to any NaN (libm and Python differ in NaN signs)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    return bool(np.all((a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))))


def diff_task(ref: TaskResult, nat: TaskResult) -> str | None:
    """A description of the first difference between two task results, or None."""
    if not same_bits(ref.fitness, nat.fitness):
        return f"fitness {ref.fitness!r} != {nat.fitness!r}"
    if ref.train_steps != nat.train_steps:
        return f"train steps {ref.train_steps} != {nat.train_steps}"
    for name in ("train_errors", "valid_errors"):
        x, y = getattr(ref, name), getattr(nat, name)
        if (x is None) != (y is None) or (x is not None and not same_bits(x, y)):
            return f"{name} differ"
    if ref.memory is not None:
        for k in "svm":
            if not same_bits(ref.memory[k], nat.memory[k]):
                return f"final memory bank {k} differs"
    return None


def diff_eval(ref: Evaluation, nat: Evaluation) -> str | None:
    if not same_bits(ref.fitness, nat.fitness):
        return f"combined fitness {ref.fitness!r} != {nat.fitness!r}"
    for k, (a, b) in enumerate(zip(ref.tasks, nat.tasks)):
        d = diff_task(a, b)
        if d:
            return f"task {k}: {d}"
    return None


def reference_batch(programs, tasks, shape, seed: int, opts: EvalOptions):
    """The reference over a list of programs with one random stream; returns evaluations and final state."""
    rng = Rng(seed)
    return [evaluate(p, tasks, rng, shape, opts) for p in programs], rng.state


def label_task(F: int, n_train: int, n_valid: int, seed: int, epochs: int = 1, classify: bool = True) -> Task:
    """Gaussian features with random 0/1 labels (or Gaussian labels for regression)."""
    g = np.random.default_rng(seed)
    x, vx = g.normal(size=(n_train, F)), g.normal(size=(n_valid, F))
    if classify:
        y, vy = g.integers(0, 2, n_train).astype(float), g.integers(0, 2, n_valid).astype(float)
    else:
        y, vy = g.normal(size=n_train), g.normal(size=n_valid)
    return Task(f"labels{seed}", x, y, vx, vy, ACCURACY if classify else "rms", epochs, data_seed=seed)


def with_cache_dir(tmp_path_factory):
    """Point the native object cache at a fresh directory for a test session (never the user's cache)."""
    import os

    path = tmp_path_factory.mktemp("azlang-native-cache")
    old = os.environ.get("AZLANG_CACHE_DIR")
    os.environ["AZLANG_CACHE_DIR"] = str(path)
    return path, old


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """A fresh object cache for a test module (import it there), the previous setting restored afterwards."""
    import os

    path, old = with_cache_dir(tmp_path_factory)
    yield path
    if old is None:
        os.environ.pop("AZLANG_CACHE_DIR", None)
    else:
        os.environ["AZLANG_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def quiet():
    """The reference's NumPy overflow chatter is semantics, not a warning worth showing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
