"""API stage: `azlang.evolve`: a config (or the demo) with keyword settings and one's own tasks, run by the search
engine, returned as an EvolveResult: best program, hall of fame, per-experiment summaries and progress records."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from azlang.errors import ConfigError
from azlang.ir.nodes import Program


def _leaf_keys() -> dict[str, list[str]]:
    """Every config key by its last part: population -> [evolution.population], enabled -> [fec.enabled, ...]."""
    from azlang.search.config import ExperimentConfig

    out: dict[str, list[str]] = {}
    for section in dataclasses.fields(ExperimentConfig):
        default = section.default
        if not dataclasses.is_dataclass(default):
            continue
        for f in dataclasses.fields(default):
            out.setdefault(f.name, []).append(f"{section.name}.{f.name}")
            out.setdefault(f"{section.name}_{f.name}", []).append(f"{section.name}.{f.name}")
    return out


def setting_key(name: str) -> str:
    """A keyword setting as a dotted config key: `population`, `fec_enabled` or `"fec.enabled"`."""
    if "." in name:
        return name
    found = _leaf_keys().get(name, [])
    if len(found) == 1:
        return found[0]
    if found:
        raise ConfigError(f"setting {name!r} is ambiguous: {', '.join(found)}",
                          hint=f"write it as {found[0].replace('.', '_')}=... or pass {{'{found[0]}': ...}}")
    raise ConfigError(f"unknown setting {name!r}", hint="settings are config keys (docs/api.md), e.g. population, "
                      "tournament, max_individuals, random_seed, or section_key such as fec_enabled")


def base_config(config):
    """None (the demo), a TOML path, a dict of tables, or an ExperimentConfig."""
    from azlang.search.config import ExperimentConfig, from_dict, load_config
    from azlang.search.presets import demo_config

    if config is None:
        return demo_config()
    if isinstance(config, ExperimentConfig):
        return config
    if isinstance(config, dict):
        return from_dict(config, "<dict>")
    if isinstance(config, str | Path):
        return load_config(config)
    raise ConfigError(f"config must be a path, a dict or an ExperimentConfig, not {type(config).__name__}")


def task_specs(tasks, folder: Path, prefix: str) -> tuple[str, ...]:
    """Spec strings for a list of specs and Task objects (written to .npz files in `folder`, used as given)."""
    from azlang.tasks.task import Task

    if isinstance(tasks, str | Task):
        tasks = [tasks]
    out = []
    for i, t in enumerate(tasks):
        if isinstance(t, str):
            out.append(t)
        elif isinstance(t, Task):
            out.append(task_to_spec(t, folder / f"{prefix}{i}.npz"))
        else:
            raise ConfigError(f"a task must be a spec string or a Task, not {type(t).__name__}")
    return tuple(out)


def task_to_spec(task, path: Path) -> str:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, train_x=task.train_x, train_y=task.train_y, valid_x=task.valid_x, valid_y=task.valid_y)
    kind = "acc" if task.eval_type == "accuracy" else "rms"
    return f"npz:{path}:raw:{kind}:E{task.epochs}:S{task.data_seed}:P{task.param_seed}"


@dataclass
class HallOfFameEntry:
    experiment: int
    search_fitness: float
    select_fitness: float
    program: Program


@dataclass
class EvolveResult:
    """What azlang.evolve returns. `best` is the program with the highest select fitness."""

    best: Program | None
    select_fitness: float | None
    search_fitness: float | None
    final_fitness: float | None
    experiments: list = field(default_factory=list)  # ExperimentRecord per finished experiment
    hall_of_fame: list[HallOfFameEntry] = field(default_factory=list)  # each experiment's candidate, best first
    progress: list[dict] = field(default_factory=list)  # every progress / experiment / done record
    stopped_by: str = ""
    individuals: int = 0
    train_steps: int = 0
    seconds: float = 0.0
    seed: int = 0
    run_dir: str | None = None
    config: object = field(default=None, repr=False)

    def summary(self) -> list[dict]:
        """One dict per experiment (index, fitnesses, individuals, train steps, seconds, stopped_by, best_so_far)."""
        return [dataclasses.asdict(e) for e in self.experiments]

    def progress_frame(self):
        """The progress records as a pandas DataFrame (a list of dicts without pandas)."""
        return _frame([r for r in self.progress if r.get("event") == "progress"])

    def summary_frame(self):
        return _frame(self.summary())

    def __repr__(self) -> str:
        fit = "none" if self.select_fitness is None else f"{self.select_fitness:.6f}"
        return (f"EvolveResult(select_fitness={fit}, experiments={len(self.experiments)}, "
                f"individuals={self.individuals}, stopped_by={self.stopped_by!r})")

    def __rich__(self):
        from azlang.reprs import evolve_table

        return evolve_table(self)

    def _repr_html_(self) -> str:
        from azlang.reprs import evolve_html

        return evolve_html(self)


def _frame(rows: list[dict]):
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows)


def evolve(config=None, *, tasks=None, select_tasks=None, final_tasks=None, seeds=None, progress=None,
           run_dir=None, **settings) -> EvolveResult:
    """Run regularized evolution. See docs/api.md."""
    from azlang.progress_display import make_progress
    from azlang.search.config import override
    from azlang.search.experiment import run_experiment

    cfg = base_config(config)
    with tempfile.TemporaryDirectory(prefix="azlang-evolve-") as tmp:
        folder = Path(run_dir) if run_dir is not None else Path(tmp) / "run"
        overrides = {setting_key(k): v for k, v in settings.items()}
        data = Path(tmp) / "data" if run_dir is None else folder.parent / (folder.name + "-data")
        overrides.update(_task_overrides(cfg, tasks, select_tasks, final_tasks, data))
        if config is None and tasks is not None:  # the demo runs until 0.9999 on linear tasks; own data: once
            overrides.setdefault("stop.max_experiments", 1)
        if seeds:
            overrides["evolution.seeds"] = tuple(str(s) for s in seeds)
            overrides["evolution.initial_population"] = "seeds"
        cfg = override(cfg, overrides)
        records: list[dict] = []
        shown = make_progress(progress)

        def on_event(record: dict) -> None:
            records.append(record)
            if shown is not None:
                shown(record)

        result = run_experiment(cfg, folder, progress=on_event)
        fame = hall_of_fame(folder, result.experiments)
        return EvolveResult(result.program, result.select_fitness, result.search_fitness, result.final_fitness,
                            list(result.experiments), fame, records, result.stopped_by, result.individuals,
                            result.train_steps, result.seconds, result.seed,
                            str(folder) if run_dir is not None else None, cfg)


def _task_overrides(cfg, tasks, select_tasks, final_tasks, data: Path) -> dict:
    out = {}
    if tasks is not None:
        search = task_specs(tasks, data, "search")
        if not search:
            raise ConfigError("tasks= is empty", hint="give at least one task spec or Task")
        out["tasks.search"] = search
        out["tasks.select"] = search if select_tasks is None else ()  # own data: select on the same tasks
        out["tasks.final"] = ()
    if select_tasks is not None:
        out["tasks.select"] = task_specs(select_tasks, data, "select")
    if final_tasks is not None:
        out["tasks.final"] = task_specs(final_tasks, data, "final")
    return out


def hall_of_fame(folder: Path, experiments) -> list[HallOfFameEntry]:
    """Each finished experiment's candidate (read back from the run directory), highest select fitness first."""
    from azlang.api import load

    out = []
    for rec in experiments:
        path = folder / f"experiment_{rec.index:03d}.az"
        if path.exists():
            out.append(HallOfFameEntry(rec.index, rec.search_fitness, rec.select_fitness, load(path)))
    return sorted(out, key=lambda e: (-e.select_fitness, e.experiment))
