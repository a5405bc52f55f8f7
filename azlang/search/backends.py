"""Search stage: the small Evaluator protocol the search evaluates through, with NumPy and native adapters.

Two calls cover what the search needs (docs/semantics.md, section 9): `probe` runs the FEC fingerprint (each task with a
fresh Rng(235732282), errors recorded) and `full` runs the real evaluation of some tasks in order with the
shared search Rng. Batch forms take many programs at once so a native backend can amortise its call cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from azlang.errors import ConfigError
from azlang.evaluate import EvalOptions, TaskResult, evaluate_task
from azlang.ir.bytecode import Bytecode, from_bytecode
from azlang.ir.nodes import MemoryShape
from azlang.rng import Rng
from azlang.search.fec import FEC_SEED
from azlang.tasks.multiclass import MIN_VECTORS, is_multiclass
from azlang.tasks.task import Task

RANDOM_OPS = frozenset(range(59, 65))


class Evaluator(Protocol):
    """What the search needs from a backend. Results are per task, in the order of `task_ids`."""

    name: str

    def probe(self, bc: Bytecode, task_ids: Sequence[int], n_train: int, n_valid: int) -> list[TaskResult]: ...

    def full(self, bc: Bytecode, task_ids: Sequence[int], rng: Rng, max_train: Sequence[int]) -> list[TaskResult]: ...

    def probe_batch(
        self, bcs: Sequence[Bytecode], task_ids: Sequence[int], n_train: int, n_valid: int
    ) -> list[list[TaskResult]]: ...

    def full_batch(
        self, jobs: Sequence[tuple[Bytecode, Sequence[int], Sequence[int]]], rng: Rng
    ) -> list[list[TaskResult]]: ...


def has_random_ops(bc: Bytecode) -> bool:
    return bool(RANDOM_OPS.intersection(bc.code[:, 0].tolist()))


class _Batching:
    """Batch calls as loops: correct for any backend; native ones override them."""

    def probe_batch(self, bcs, task_ids, n_train, n_valid):
        return [self.probe(bc, task_ids, n_train, n_valid) for bc in bcs]

    def full_batch(self, jobs, rng):
        return [self.full(bc, ids, rng, mt) for bc, ids, mt in jobs]


class NumpyEvaluator(_Batching):
    """The reference interpreter (azlang.evaluate): slow, exact, always available."""

    name = "numpy"

    def __init__(self, tasks: list[Task], shape: MemoryShape, max_abs_error: float):
        self.tasks, self.shape, self.max_abs_error = tasks, shape, max_abs_error
        self._last: tuple = (None, None)

    def _program(self, bc: Bytecode):
        if self._last[0] is not bc:  # probe and full of one child share one conversion
            self._last = (bc, from_bytecode(bc))
        return self._last[1]

    def probe(self, bc, task_ids, n_train, n_valid):
        prog = self._program(bc)
        opts = EvalOptions(self.max_abs_error, n_train, n_valid, record=True)
        return [evaluate_task(prog, self.tasks[i], Rng(FEC_SEED), self.shape, opts) for i in task_ids]

    def full(self, bc, task_ids, rng, max_train):
        prog = self._program(bc)
        return [
            evaluate_task(prog, self.tasks[i], rng, self.shape, EvalOptions(self.max_abs_error, mt))
            for i, mt in zip(task_ids, max_train)
        ]


class NativeAdapter(_Batching):
    """azlang.backends.native.NativeEvaluator behind the protocol. Its batch call evaluates programs on the
    whole collection with one shared stream; where the search wants a subset of tasks or per-task FEC
    re-seeding, programs without random ops (whose results cannot depend on the stream) still take the
    whole-collection path and the wanted tasks are picked out; programs with random ops go task by task."""

    name = "native"

    def __init__(self, tasks: list[Task], shape: MemoryShape, max_abs_error: float):
        from azlang.backends.native import NativeEvaluator

        self._cls, self.tasks, self.shape, self.max_abs_error = NativeEvaluator, tasks, shape, max_abs_error
        self.whole = NativeEvaluator(tasks, shape, max_abs_error)
        self._single: dict[int, object] = {}
        self.all_ids = list(range(len(tasks)))

    def _one(self, i: int):
        ev = self._single.get(i)
        if ev is None:
            ev = self._single[i] = self._cls([self.tasks[i]], self.shape, self.max_abs_error)
        return ev

    def probe(self, bc, task_ids, n_train, n_valid):
        return self.probe_batch([bc], task_ids, n_train, n_valid)[0]

    def probe_batch(self, bcs, task_ids, n_train, n_valid):
        opts = EvalOptions(self.max_abs_error, n_train, n_valid, record=True)
        if any(has_random_ops(b) for b in bcs):
            return [[self._one(i).evaluate(b, Rng(FEC_SEED), opts).tasks[0] for i in task_ids] for b in bcs]
        rows = self.whole.evaluate_batch(list(bcs), Rng(FEC_SEED), opts).tasks  # no draws: re-seeding is moot
        ids = list(task_ids)
        return rows if ids == self.all_ids else [[row[i] for i in ids] for row in rows]

    def full(self, bc, task_ids, rng, max_train):
        return self.full_batch([(bc, task_ids, max_train)], rng)[0]

    def full_batch(self, jobs, rng):
        limits = {mt for _, _, mts in jobs for mt in mts}
        if len(limits) != 1 or any(has_random_ops(bc) for bc, _, _ in jobs):
            return [self._task_by_task(bc, ids, rng, mts) for bc, ids, mts in jobs]
        res = self.whole.evaluate_batch([bc for bc, _, _ in jobs], rng, EvalOptions(self.max_abs_error, limits.pop()))
        fit, steps = res.fitness.tolist(), res.train_steps.tolist()
        return [[TaskResult(fit[p][i], steps[p][i]) for i in ids] for p, (_, ids, _) in enumerate(jobs)]

    def _task_by_task(self, bc, task_ids, rng, max_train):
        if list(task_ids) == self.all_ids and len(set(max_train)) == 1:
            return self.whole.evaluate(bc, rng, EvalOptions(self.max_abs_error, max_train[0])).tasks
        return [
            self._one(i).evaluate(bc, rng, EvalOptions(self.max_abs_error, mt)).tasks[0]
            for i, mt in zip(task_ids, max_train)
        ]


def native_available() -> bool:
    try:
        from azlang.backends import native
    except ImportError:
        return False
    return bool(getattr(native, "available", lambda: False)()) and hasattr(native, "NativeEvaluator")


def make_evaluator(name: str, tasks: list[Task], shape: MemoryShape, max_abs_error: float) -> Evaluator:
    """`auto`: native when importable and available, else NumPy; `native` insists. 10-class tasks (vector
    labels) are evaluated by NumPy only: the native kernels know scalar labels."""
    if any(is_multiclass(t) for t in tasks):
        check_multiclass_shape(shape)
        if name == "native":
            raise ConfigError("10-class tasks (vector labels) run on the NumPy backend only", hint="use --backend auto")
        return NumpyEvaluator(tasks, shape, max_abs_error)
    if name == "numpy" or (name == "auto" and not native_available()):
        return NumpyEvaluator(tasks, shape, max_abs_error)
    if not native_available():
        raise ConfigError("the native backend is not available here", hint="use --backend numpy")
    return NativeAdapter(tasks, shape, max_abs_error)


def check_multiclass_shape(shape: MemoryShape) -> None:
    if shape.V < MIN_VECTORS:
        raise ConfigError(f"10-class tasks need at least {MIN_VECTORS} vectors (v1 prediction, v2 label), "
                          f"the memory has {shape.V}", hint="raise [memory] vectors")
