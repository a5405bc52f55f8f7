"""Native stage: bit-exact native evaluation through llvmlite (kernel interpreter and program JIT).

Public API
----------
available() -> bool
    True when llvmlite can JIT on this host (the module imports without llvmlite; calls then fail).

NativeEvaluator(tasks, shape, max_abs_error=100.0)
    Checks the tasks once and loads (or compiles, once per (F, shape), cached on disk) the kernels.
    .evaluate(program_or_bytecode, rng, opts=None, params=None, mode="mean", tier="auto") -> Evaluation
        Same result as azlang.evaluate.evaluate: fitness, per-task TaskResult (fitness, train_steps and,
        with opts.record, train/valid error lists and the final memory snapshot).
    .evaluate_batch(programs, rng, opts=None, lockstep=True) -> BatchResult
        Every program on every task in ONE native call (long evaluations on tasks of one shape: one
        lockstep call per program, all tasks at once, see lanes.py): .fitness (n_programs, n_tasks),
        .train_steps (n_programs, n_tasks), .tasks (with record) and .combined(mode).
    The Rng's SplitMix64 state goes in and comes back out, so the stream continues exactly as if
    azlang.evaluate.evaluate had been called for each program in turn with that Rng.
    EvalOptions(max_abs_error, max_train, max_valid, record) is the FEC probe mode as well.

evaluate(program, tasks, rng, shape=None, opts=None, params=None, mode="mean") -> Evaluation
    Drop-in for azlang.evaluate.evaluate (same signature), for the CLI's `--backend native`.

Bad input (opcodes, addresses outside the shape, OP57/58 indices outside some task's F, task shapes)
raises BytecodeError (a VerifyError and a ValueError) or ValueError before any native code runs.
Environment: AZLANG_CACHE_DIR overrides where compiled objects are cached.
"""

from __future__ import annotations

from collections import OrderedDict

from azlang.fitness import MEAN

_EVALUATORS: OrderedDict = OrderedDict()
_MAX_CACHED = 8


def available() -> bool:
    try:
        from azlang.backends.native import engine

        engine.state()
        return True
    except Exception:  # noqa: BLE001 - any failure to set LLVM up means "not available"
        return False


def __getattr__(name):
    if name in ("NativeEvaluator", "BatchResult"):
        from azlang.backends.native import evaluator

        return getattr(evaluator, name)
    if name == "BytecodeError":
        from azlang.backends.native.pack import BytecodeError

        return BytecodeError
    raise AttributeError(name)


def evaluator_for(tasks, shape, max_abs_error: float = 100.0):
    """A cached NativeEvaluator for this exact task collection (by identity) and shape."""
    from azlang.backends.native.evaluator import NativeEvaluator

    key = (tuple(id(t) for t in tasks), shape, max_abs_error)
    ev = _EVALUATORS.get(key)
    if ev is None:
        ev = NativeEvaluator(tasks, shape, max_abs_error)
        _EVALUATORS[key] = ev  # holds the tasks, so their ids stay unique while cached
        while len(_EVALUATORS) > _MAX_CACHED:
            _EVALUATORS.popitem(last=False)
    else:
        _EVALUATORS.move_to_end(key)
    return ev


def evaluate(program, tasks, rng, shape=None, opts=None, params=None, mode: str = MEAN):
    """Same signature and result as azlang.evaluate.evaluate, computed natively."""
    from azlang.evaluate import EvalOptions

    opts = opts or EvalOptions()
    shape = shape or program.required_memory()
    return evaluator_for(tasks, shape, opts.max_abs_error).evaluate(program, rng, opts, params, mode)
