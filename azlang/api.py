"""API stage: what the CLI and users call. Loads, formats, checks, runs, evolves and exports programs; never
prints or exits. The documented surface is re-exported lazily by `azlang` (docs/api.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from azlang.errors import AzError, ConfigError, VerifyError

# Evaluation and task building (NumPy interpreter, datasets, downloads) are imported where used, so that
# loading, checking and formatting programs (`azc check`, `azc fmt`) do not pay for them.
from azlang.fitness import MEAN, raw_metric
from azlang.ir.nodes import MemoryShape, Program
from azlang.ir.verify import verify
from azlang.resources import list_resources, resource_path
from azlang.rng import Rng
from azlang.tasks.spec import parse_spec

BACKENDS = ("auto", "native", "numpy")


def find_program(path: str | Path) -> Path:
    """A path as given, else a stdlib program of that name (`linear_sgd`, `stdlib/nn_2layer.az`)."""
    path = Path(path)
    try:
        if path.exists():
            return path
    except OSError:  # a name too long to look up: reading it says so
        return path
    name = path.name if path.suffix == ".az" else path.name + ".az"
    try:
        return resource_path("stdlib", name)
    except FileNotFoundError:
        return path


def read_source(path: str | Path) -> str:
    """A program's text, UTF-8 whatever the locale; line ends arrive as \n (text mode), as the parser counts them."""
    try:
        return find_program(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AzError(f"no such file: {path}", hint=f"stdlib programs: {', '.join(list_resources('stdlib'))}") from None
    except UnicodeDecodeError as exc:
        raise AzError(f"cannot read {path}: not UTF-8 text (byte {exc.start}: {exc.reason})",
                      hint="save the program as UTF-8") from None
    except OSError as exc:  # a folder, no permission, a name too long...
        raise AzError(f"cannot read {path}: {exc.strerror or exc}") from None


def parse(text: str, filename: str = "<string>") -> Program:
    """Parse and verify `.az` source text."""
    from azlang.syntax import parse as _parse

    return _parse(text, filename)


def load(path: str | Path) -> Program:
    """Parse and verify an `.az` file. Errors carry file:line:col and the source for rendering."""
    return parse(read_source(path), str(path))


def format_source(text: str, filename: str = "<string>") -> str:
    from azlang.syntax import print_program

    return print_program(parse(text, filename))


def parse_param_overrides(items: list[str]) -> dict[str, float]:
    """`NAME=VALUE` strings (from --param) into a dict."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"cannot read --param {item!r}", hint="write NAME=VALUE, e.g. --param lr=0.05") from None
    return out


def check_params(program: Program, overrides: dict[str, float]) -> None:
    known = {p.name for p in program.params}
    for name in overrides:
        if name not in known:
            hint = f"it declares: {', '.join(sorted(known))}" if known else "it declares no params"
            raise ConfigError(f"--param {name}: the program has no param named {name!r}", hint=hint)


def choose_backend(name: str):
    """The evaluate() function of a backend: native code when available (auto), else the NumPy reference."""
    from azlang.evaluate import evaluate as evaluate_numpy

    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}", hint=f"one of {', '.join(BACKENDS)}")
    if name == "numpy":
        return evaluate_numpy
    try:
        from azlang.backends import native
    except ImportError:
        native = None
    if native is not None and native.available():
        return native.evaluate
    if name == "native":
        raise ConfigError("the native backend is not available here", hint="use --backend numpy")
    return evaluate_numpy


@dataclass
class TaskFitness:
    spec: str
    name: str
    fitness: float
    train_steps: int
    metric: str = "rms"  # the raw measure: "rms" (regression) or "accuracy" (classification)
    value: float = math.nan


@dataclass
class RunResult:
    fitness: float
    tasks: list[TaskFitness] = field(default_factory=list)
    backend: str = "numpy"

    def to_json(self) -> dict:
        return {"fitness": _json_float(self.fitness),
                "tasks": [{"spec": t.spec, "task": t.name, "fitness": _json_float(t.fitness),
                           t.metric: _json_float(t.value)} for t in self.tasks]}

    def _repr_html_(self) -> str:
        from azlang.reprs import run_html

        return run_html(self)

    def __rich__(self):
        from azlang.reprs import run_table

        return run_table(self)


def _json_float(x: float):
    return x if math.isfinite(x) else None


def run(program: Program | str | Path, task_specs, params: dict[str, float] | None = None, seed: int = 1,
        max_abs_error: float | None = None, backend: str = "auto", data_dir: str | None = None,
        shape: MemoryShape | None = None, mode: str = MEAN) -> RunResult:
    """Evaluate a program (or a path / stdlib name) on tasks: spec strings (`linear:F4:D10`, `csv:data.csv`) and
    Task objects (`Task.from_arrays`); the combined fitness is over all tasks (mean default).
    `max_abs_error` None means the reference's default (100)."""
    from azlang.evaluate import DEFAULT_MAX_ABS_ERROR, EvalOptions, Evaluation
    from azlang.evaluate import evaluate as evaluate_numpy

    max_abs_error = DEFAULT_MAX_ABS_ERROR if max_abs_error is None else max_abs_error
    if isinstance(program, str | Path):
        program = load(program)
    if isinstance(task_specs, str) or not isinstance(task_specs, list | tuple):
        task_specs = [task_specs]
    if not task_specs:
        raise ConfigError("no task given", hint="add --task, e.g. --task linear:F4:D10")
    params = params or {}
    check_params(program, params)
    shape = _memory(program, shape)
    tasks = [t for item in task_specs for t in _tasks_of(item, data_dir)]
    backend, shape = _multiclass_backend(backend, [t for _, t in tasks], shape)
    evaluate = choose_backend(backend)
    for F in sorted({t.F for _, t in tasks}):
        verify(program, shape, F)  # absolute indices must exist at every task's feature size
    result: Evaluation = evaluate(program, [t for _, t in tasks], Rng(seed), shape,
                                  EvalOptions(max_abs_error=max_abs_error), params, mode)
    rows = [TaskFitness(spec, t.name, r.fitness, r.train_steps, *raw_metric(r.fitness, t.eval_type))
            for (spec, t), r in zip(tasks, result.tasks)]
    name = "numpy" if evaluate is evaluate_numpy else "native"
    return RunResult(result.fitness, rows, name)


def _tasks_of(item, data_dir):
    from azlang.tasks.task import Task

    if isinstance(item, Task):
        return [(item.name, item)]
    if not isinstance(item, str):
        raise ConfigError(f"a task must be a spec string or a Task, not {type(item).__name__}")
    from azlang.tasks.build import build_tasks

    spec = parse_spec(item)
    return [(spec.text, t) for t in build_tasks(spec, data_dir)]


def with_params(program: Program, params: dict[str, float] | None) -> Program:
    """The program with some params' default values changed."""
    from dataclasses import replace

    if not params:
        return program
    check_params(program, params)
    return replace(program, params=tuple(replace(p, value=float(params.get(p.name, p.value)))
                                         for p in program.params))


def export_source(program: Program | str | Path, to: str = "numpy", params: dict[str, float] | None = None,
                  name: str | None = None, dce: bool = True) -> str:
    """The program as a standalone module for numpy (bit-identical to azlang), torch or jax (azlang.export)."""
    from azlang import export

    source = str(program) if isinstance(program, str | Path) else None
    if source is not None:
        program = load(program)
    return export.to_source(with_params(program, params), to, name, dce, source=source)


def export_class(program: Program | str | Path, to: str = "numpy", params: dict[str, float] | None = None,
                 name: str | None = None, dce: bool = True) -> type:
    """The exported class, loaded in memory: `export_class("linear_sgd")(lr=0.05).fit(X, y).predict(X2)`."""
    from azlang import export

    if isinstance(program, str | Path):
        program = load(program)
    return export.to_class(with_params(program, params), to, name, dce)


def evolve(config=None, **kwargs):
    """Regularized evolution: azlang.evolve_api.evolve (config or keyword settings, tasks=, progress=)."""
    from azlang.evolve_api import evolve as _evolve

    return _evolve(config, **kwargs)


def _multiclass_backend(backend: str, tasks, shape: MemoryShape) -> tuple[str, MemoryShape]:
    """10-class tasks (vector labels) are evaluated by the NumPy reference only, with v2 (the label) present."""
    from azlang.tasks.multiclass import MIN_VECTORS, is_multiclass

    if not any(is_multiclass(t) for t in tasks):
        return backend, shape
    if backend == "native":
        raise ConfigError("10-class tasks (vector labels) run on the NumPy backend only", hint="use --backend auto")
    return "numpy", MemoryShape(shape.S, max(shape.V, MIN_VECTORS), shape.M)


def _memory(program: Program, shape: MemoryShape | None) -> MemoryShape:
    need = program.required_memory()
    if shape is None:
        return need
    if need.union(shape) != shape:
        raise VerifyError(f"the program needs memory {need.S}/{need.V}/{need.M} (S/V/M) but only "
                          f"{shape.S}/{shape.V}/{shape.M} was given")
    return shape
