"""Task stage: turn task specs into Task objects; dataset families register their builders here."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from azlang.errors import TaskSpecError
from azlang.tasks import synthetic
from azlang.tasks.spec import TaskSpec, parse_spec
from azlang.tasks.task import ACCURACY, RMS_ERROR, Task

SYNTHETIC_DEFAULTS = dict(F=4, N=100, V=100)

# dataset name -> builder(spec, data_dir) -> list[Task]; dataset-backed families add themselves here.
BUILDERS: dict[str, Callable[[TaskSpec, str | None], list[Task]]] = {}
# Dataset-backed families, by the module that registers them: imported when a spec first names one, so a run on
# synthetic tasks loads no dataset, cache or CSV code (tests check this table against the modules' registrations).
FAMILY_MODULES = {"cifar": "azlang.tasks.projected", "mnist": "azlang.tasks.projected",
                  "fashion": "azlang.tasks.projected", "csv": "azlang.tasks.tabular", "npz": "azlang.tasks.tabular"}


def register(*datasets: str):
    def add(fn):
        for name in datasets:
            BUILDERS[name] = fn
        return fn

    return add


def build_tasks(spec: str | TaskSpec, data_dir: str | None = None) -> list[Task]:
    """All D tasks of one spec, in expansion order (that order is the FEC task index)."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    builder = builder_of(spec.dataset)
    if builder is None:
        raise TaskSpecError(f"{spec.dataset} tasks are not available yet (task spec {spec.text!r})",
                            hint="synthetic tasks work now: linear:F4, affine:F4, teacher:F8")
    return builder(spec, data_dir)


def builder_of(dataset: str) -> Callable[[TaskSpec, str | None], list[Task]] | None:
    """The builder of a dataset family (its module imported on first use), or None for an unknown name."""
    if dataset not in BUILDERS and dataset in FAMILY_MODULES:
        importlib.import_module(FAMILY_MODULES[dataset])
    return BUILDERS.get(dataset)


def build_collection(specs: list[str | TaskSpec], data_dir: str | None = None) -> list[Task]:
    tasks: list[Task] = []
    for spec in specs:
        tasks.extend(build_tasks(spec, data_dir))
    return tasks


def _name(spec: TaskSpec, i: int) -> str:
    return spec.text if spec.D == 1 else f"{spec.text}#{i}"


@register("linear", "affine", "teacher")
def _regression(spec: TaskSpec, data_dir: str | None) -> list[Task]:
    spec = spec.with_defaults(**SYNTHETIC_DEFAULTS)
    if spec.eval_type == ACCURACY:
        raise TaskSpecError(f"task spec {spec.text!r}: {spec.dataset} tasks are regression (rms) tasks")
    tasks = []
    for i, (data_seed, param_seed) in enumerate(spec.seeds()):
        args = (spec.F, spec.N, spec.V, data_seed, param_seed, spec.E, _name(spec, i))
        if spec.dataset == "teacher":
            tasks.append(synthetic.teacher(*args))
        else:
            tasks.append(synthetic.linear(*args, bias=spec.dataset == "affine"))
    return tasks


@register("zeros", "ones", "increment")
def _unit(spec: TaskSpec, data_dir: str | None) -> list[Task]:
    spec = spec.with_defaults(**SYNTHETIC_DEFAULTS)
    eval_type = spec.eval_type or RMS_ERROR
    if spec.dataset == "increment":
        return [synthetic.increment(spec.F, spec.N, spec.V, spec.increment, spec.E, spec.text)]
    value = 1.0 if spec.dataset == "ones" else 0.0
    return [synthetic.constant(value, spec.F, spec.N, spec.V, eval_type, spec.E, spec.text)]

