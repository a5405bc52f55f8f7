"""CLI stage: `azc evolve`: flags over a TOML config, a live progress display, errors as messages."""

from __future__ import annotations

import signal
import time
from enum import Enum
from pathlib import Path

import typer

from azlang import cli_gc
from azlang.cli_support import friendly, out
from azlang.errors import AzError
from azlang.resources import resource_path
from azlang.search.cli_progress import Display
from azlang.search.config import load_config, override
from azlang.search.experiment import resume as resume_run
from azlang.search.experiment import run_experiment
from azlang.search.interrupt import EXIT_CODES
from azlang.search.presets import demo_config, from_seeds_config, task_protocol

STOP_EXIT = {"interrupt": EXIT_CODES[signal.SIGINT], "terminate": EXIT_CODES[signal.SIGTERM]}


def flag_overrides(
    seed,
    task,
    population,
    tournament,
    mutate_prob,
    max_train_steps,
    max_individuals,
    max_time,
    sufficient_fitness,
    max_experiments,
    workers,
    random_seed,
    no_fec,
    hurdles,
    backend,
    executor=None,
    address=None,
    data_dir=None,
) -> dict:
    """Command-line flags as dotted config keys (None = not given, keep the config's value)."""
    return {
        "evolution.seeds": tuple(str(s) for s in seed) or None,
        "evolution.initial_population": "seeds" if seed else None,
        **(task_protocol(task) if task else {}),
        "evolution.population": population,
        "evolution.tournament": tournament,
        "evolution.mutate_prob": mutate_prob,
        "stop.max_train_steps": max_train_steps,
        "stop.max_individuals": max_individuals,
        "stop.max_time": max_time,
        "stop.sufficient_fitness": sufficient_fitness,
        "stop.max_experiments": max_experiments,
        "run.workers": workers,
        "run.random_seed": random_seed,
        "fec.enabled": False if no_fec else None,
        "hurdles.enabled": True if hurdles else None,
        "run.backend": backend,
        "run.executor": executor,
        "run.address": address,
        "tasks.data_dir": data_dir,
    }


def _print_result(result) -> None:
    out.print(
        f"stopped by: {result.stopped_by}; {result.individuals:,} individuals, "
        f"{result.train_steps:,} train steps, {result.seconds:.1f}s; random seed {result.seed}",
        soft_wrap=True,
    )
    if result.select_fitness is not None:
        out.print(f"select fitness: {result.select_fitness:.6f}")
    if result.final_fitness is not None:
        out.print(f"final fitness (unseen tasks): {result.final_fitness:.6f}")
    if result.text:
        out.print("algorithm found:")
        out.print(result.text, markup=False, highlight=False)
        essential = _essential(result.text, result.program)
        if essential and essential != result.text:
            out.print("after dead-code removal (azc opt --dce):")
            out.print(essential, markup=False, highlight=False)
    if result.run_dir:
        out.print(f"run directory: {result.run_dir}", soft_wrap=True)
        if result.stopped_by in STOP_EXIT:
            out.print(f"checkpointed; resume with: azc evolve --resume {result.run_dir}", soft_wrap=True)


def _essential(text: str, program=None) -> str | None:
    """The found program without the lines that cannot influence a prediction (from the result's program
    when it has one: the text is its printout, and reparsing it would build the parser just for this)."""
    from azlang.passes import run_pipeline
    from azlang.syntax import parse, print_program

    program, _ = run_pipeline(program if program is not None else parse(text, "<found>"), ["dce"])
    return print_program(program)


BUNDLED = ("demo", "baseline", "from_empty")


def resolve_config(name: str) -> Path:
    """A config path as given, else a bundled config by name (`demo`, `baseline`, `from_empty`)."""
    path = Path(name)
    if path.exists():
        return path
    stem = path.name.removesuffix(".toml")
    if stem in BUNDLED and path.parent == Path("."):
        return resource_path("examples", stem + ".toml")
    raise AzError(f"no config file {name}", hint=f"give a TOML file, or a bundled config: {', '.join(BUNDLED)}")


def _base_config(config: str | None, seeds: list[Path]):
    """The config file; without one, the paper's search from the seed programs, or else the demo."""
    if config:
        return load_config(resolve_config(config))
    return from_seeds_config() if seeds else demo_config()


class Backend(str, Enum):
    auto = "auto"
    native = "native"
    numpy = "numpy"


class ExecutorKind(str, Enum):
    local = "local"
    ray = "ray"


CONTEXT = {"help_option_names": ["-h", "--help"]}
_TASK_HELP = (
    "search task spec (repeatable); it defines the whole protocol: select on the same specs with other seeds, "
    "final on unseen seeds (datasets: the test split)"
)


def _releasing_collections(display: Display):
    """The progress callback: `display`, ending azc's start-up hold on the collector at the first progress line
    (where no sweep in this process did already: islands in worker processes)."""

    def progress(record: dict) -> None:
        if record.get("event") == "progress":
            cli_gc.release()
        display(record)

    return progress


@friendly(interrupted="stopped at once (second Ctrl-C): the last checkpoint is kept; continue with --resume")
def evolve(
    config: str | None = typer.Option(
        None, "--config", "-c",
        help="experiment config: a TOML file or a bundled one (demo, baseline, from_empty); "
        "default: the demo, or with --seed the paper's search from those programs",
    ),
    seed: list[Path] = typer.Option([], "--seed", help="seed the initial population with this .az (repeatable)"),
    task: list[str] = typer.Option([], "--task", "-t", help=_TASK_HELP),
    population: int | None = typer.Option(None, help="population size P"),
    tournament: int | None = typer.Option(None, help="tournament size T"),
    mutate_prob: float | None = typer.Option(None, help="probability that a child is mutated"),
    max_train_steps: float | None = typer.Option(None, help="train steps per experiment"),
    max_individuals: int | None = typer.Option(None, help="individuals per experiment"),
    max_time: float | None = typer.Option(None, help="wall-clock seconds for the whole run"),
    sufficient_fitness: float | None = typer.Option(None, help="stop once a select fitness exceeds this"),
    max_experiments: int | None = typer.Option(None, help="experiments to run (0 = until sufficient fitness)"),
    workers: int | None = typer.Option(None, help="island processes (0 = all cores)"),
    random_seed: int | None = typer.Option(None, "--random-seed", help="experiment random seed (0 = time-based)"),
    run_dir: Path | None = typer.Option(None, help="where to write the run (default: runs/evolve-<time>)"),
    resume: Path | None = typer.Option(None, "--resume", help="continue the run in this directory"),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="folder with the datasets (default: $AZLANG_DATA)"),
    no_fec: bool = typer.Option(False, "--no-fec", help="disable functional equivalence checking"),
    hurdles: bool = typer.Option(False, "--hurdles", help="enable hurdles (early rejection)"),
    backend: Backend | None = typer.Option(None, help="program evaluation backend"),
    executor: ExecutorKind | None = typer.Option(None, help="local processes, or islands as Ray actors"),
    address: str | None = typer.Option(None, help="Ray cluster: auto or HOST:PORT (default: a Ray on this machine)"),
    islands: int | None = typer.Option(None, help="number of islands (the same as --workers)"),
) -> None:
    """Evolve algorithms by regularized evolution (see examples/demo.toml) and report the best one found.

    Ctrl-C (or SIGTERM) checkpoints and stops, exit code 130 (143 for SIGTERM); --resume DIR continues exactly,
    and continues a finished run given larger stop limits (e.g. --resume DIR --max-train-steps 1e11).

    Example: azc evolve -c demo --max-time 60 --run-dir runs/demo
    """
    flags = flag_overrides(
        seed,
        task,
        population,
        tournament,
        mutate_prob,
        max_train_steps,
        max_individuals,
        max_time,
        sufficient_fitness,
        max_experiments,
        islands if islands is not None else workers,
        random_seed,
        no_fec,
        hurdles,
        backend.value if backend else None,
        executor.value if executor else None,
        address,
        str(data_dir) if data_dir is not None else None,
    )
    cfg = None if resume is not None else override(_base_config(config, seed), flags)
    display = Display(out)
    # Start-up goes on through the run's set-up (configs, tasks, native code, islands: built to last, ~3 ms of
    # collections finding nothing): the hold (azlang/cli_gc.py) ends where the sweeps begin (search/heap.py), or
    # in the parent of island processes at the first progress line; the run's own objects are collected as usual.
    progress = _releasing_collections(display)
    with display:
        if cfg is None:
            result = resume_run(resume, progress=progress, overrides=flags)
        else:
            run_dir = run_dir or Path("runs") / time.strftime("evolve-%Y%m%d-%H%M%S")
            result = run_experiment(cfg, run_dir, progress=progress)
    _print_result(result)
    if result.stopped_by in STOP_EXIT:
        raise typer.Exit(STOP_EXIT[result.stopped_by])
