"""Evaluation stage: the reference's evaluation loop (docs/semantics.md, section 3) over the NumPy interpreter.

This is the oracle every native path is tested against. One call evaluates one program on one task:
Setup once; per training step Predict, (classification) sigmoid written into s1, error check, Learn;
after each epoch a validation pass; the fitness is the best per-epoch validation fitness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from azlang.backends import numpy_interp as interp
from azlang.backends.semantics import sigmoid
from azlang.fitness import MEAN, combine, flip_and_squash
from azlang.ir.nodes import MemoryShape, Program
from azlang.rng import Rng
from azlang.tasks.multiclass import is_multiclass
from azlang.tasks.multiclass import one_hot as mc_one_hot
from azlang.tasks.multiclass import predicted_class as mc_predicted_class
from azlang.tasks.multiclass import softmax as mc_softmax
from azlang.tasks.task import ACCURACY, Task

DEFAULT_MAX_ABS_ERROR = 100.0


@dataclass
class TaskResult:
    fitness: float
    train_steps: int
    train_errors: list[float] | None = None  # |y - s1| of each completed step (FEC fingerprint)
    valid_errors: list[float] | None = None
    memory: dict[str, np.ndarray] | None = field(default=None, repr=False)  # final memory snapshot


@dataclass
class Evaluation:
    fitness: float
    tasks: list[TaskResult]

    @property
    def train_steps(self) -> int:
        return sum(t.train_steps for t in self.tasks)


@dataclass
class EvalOptions:
    """How to evaluate: `max_train` caps the training steps over all epochs (the budget), `max_valid` the
    validation examples; None means all. `record` keeps error lists and the final memory."""

    max_abs_error: float = DEFAULT_MAX_ABS_ERROR
    max_train: int | None = None
    max_valid: int | None = None
    record: bool = False


class _Run:
    """One program lowered onto one task's memory."""

    def __init__(self, program: Program, task: Task, shape: MemoryShape, rng: Rng, params, opts: EvalOptions):
        self.low = interp.lower(program, shape, task.F, params)
        self.low.rng_box[0] = rng
        self.mem, self.task, self.opts = self.low.memory, task, opts
        self.steps = 0
        self.train_errors: list[float] | None = [] if opts.record else None
        self.valid_errors: list[float] | None = [] if opts.record else None

    def train(self, indices: np.ndarray) -> bool:
        if is_multiclass(self.task):
            return self._train_multiclass(indices)
        s, v, task = self.mem.s, self.mem.v, self.task
        predict, learn = self.low.predict, self.low.learn
        classify, limit = task.eval_type == ACCURACY, self.opts.max_abs_error
        for k in indices.tolist():
            self.steps += 1
            x, y = task.train_x[k], float(task.train_y[k])
            v[0] = x
            s[0] = 0.0
            for fn in predict:
                fn()
            if classify:
                s[1] = sigmoid(s[1])
            err = abs(y - s[1])
            if err != err or err > limit:
                return False
            if self.train_errors is not None:
                self.train_errors.append(err)
            v[0] = x
            s[0] = y
            for fn in learn:
                fn()
        return True

    def _train_multiclass(self, indices: np.ndarray) -> bool:
        """Vector prediction and label (tasks/multiclass.py): logits in v1[0:C] -> softmax before Learn,
        label one-hot in v2 and class index in s0 during Learn; error = sum |y - p| over the classes."""
        s, v, task, C = self.mem.s, self.mem.v, self.task, self.task.n_classes
        F, limit = task.F, self.opts.max_abs_error
        for k in indices.tolist():
            self.steps += 1
            x, y = task.train_x[k], float(task.train_y[k])
            v[0], v[2] = x, 0.0
            s[0] = 0.0
            for fn in self.low.predict:
                fn()
            p = np.zeros(F)
            p[:C] = mc_softmax(v[1][:C])
            label = mc_one_hot(y, F)
            err = float(np.abs(label - p).sum())
            if err != err or err > limit:
                return False
            if self.train_errors is not None:
                self.train_errors.append(err)
            v[0], v[1], v[2] = x, p, label
            s[0] = y
            for fn in self.low.learn:
                fn()
        return True

    def _validate_multiclass(self, n: int) -> float:
        s, v, task, C = self.mem.s, self.mem.v, self.task, self.task.n_classes
        hits = 0
        for k in range(n):
            v[0], v[2] = task.valid_x[k], 0.0
            s[0] = 0.0
            for fn in self.low.predict:
                fn()
            guess = mc_predicted_class(v[1][:C])
            if guess < 0:
                return 0.0
            if self.valid_errors is not None:
                self.valid_errors.append(float(guess != int(task.valid_y[k])))
            hits += guess == int(task.valid_y[k])
        return hits / task.n_valid

    def validate(self) -> float:
        if is_multiclass(self.task):
            n = self.task.n_valid if self.opts.max_valid is None else min(self.opts.max_valid, self.task.n_valid)
            return self._validate_multiclass(n)
        s, v, task = self.mem.s, self.mem.v, self.task
        n = task.n_valid if self.opts.max_valid is None else min(self.opts.max_valid, task.n_valid)
        classify, limit, loss = task.eval_type == ACCURACY, self.opts.max_abs_error, 0.0
        for k in range(n):
            v[0] = task.valid_x[k]
            s[0] = 0.0
            for fn in self.low.predict:
                fn()
            e = _valid_error(float(task.valid_y[k]), s[1], classify)
            if e != e or abs(e) > limit:
                return 0.0
            if self.valid_errors is not None:
                self.valid_errors.append(abs(e))
            loss += e if classify else e * e
        if classify:
            return 1.0 - loss / task.n_valid
        return flip_and_squash(math.sqrt(loss / task.n_valid))


def _valid_error(y: float, p: float, classify: bool) -> float:
    if not classify:
        return y - p
    q = sigmoid(p)
    if q > 1.0 or q < 0.0:
        return math.inf
    return 0.0 if (y > 0.5) == (q > 0.5) else 1.0


def evaluate_task(program: Program, task: Task, rng: Rng, shape: MemoryShape | None = None,
                  opts: EvalOptions | None = None, params: dict[str, float] | None = None) -> TaskResult:
    """Fitness of `program` on `task` (docs/semantics.md, section 3.4): best validation fitness over the epochs."""
    opts = opts or EvalOptions()
    with np.errstate(all="ignore"):  # IEEE results (inf, NaN) are the semantics, not accidents
        return _evaluate_task(program, task, rng, shape, opts, params)


def _evaluate_task(program, task, rng, shape, opts, params) -> TaskResult:
    run = _Run(program, task, shape or program.required_memory(), rng, params, opts)
    for fn in run.low.setup:
        fn()
    per_epoch = task.n_train
    remaining = per_epoch * task.epochs if opts.max_train is None else min(opts.max_train, per_epoch * task.epochs)
    sequence, pos, best, first = task.train_sequence(), 0, 0.0, True
    while remaining > 0:
        k = min(per_epoch, remaining)
        ok = run.train(sequence[pos:pos + k])
        pos += k
        if not ok:
            if first:
                best = 0.0
            break
        remaining -= per_epoch
        best = max(best, run.validate())
        first = False
    memory = run.mem.snapshot() if opts.record else None
    return TaskResult(best, run.steps, run.train_errors, run.valid_errors, memory)


def evaluate(program: Program, tasks: list[Task], rng: Rng, shape: MemoryShape | None = None,
             opts: EvalOptions | None = None, params: dict[str, float] | None = None,
             mode: str = MEAN) -> Evaluation:
    """Evaluate on every task in order with one shared random stream, then combine (mean by default)."""
    shape = shape or program.required_memory()
    results = [evaluate_task(program, t, rng, shape, opts, params) for t in tasks]
    return Evaluation(combine([r.fitness for r in results], mode), results)
