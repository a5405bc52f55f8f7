"""CLI stage: `azc evolve`: flags over a TOML config, a live progress display, errors as messages."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from azlang.cli_support import friendly, out
from azlang.search.config import load_config, override
from azlang.search.experiment import resume as resume_run
from azlang.search.experiment import run_experiment
from azlang.search.presets import demo_config, from_seeds_config



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
) -> dict:
    """Command-line flags as dotted config keys (None = not given, keep the config's value)."""
    return {
        "evolution.seeds": tuple(str(s) for s in seed) or None,
        "evolution.initial_population": "seeds" if seed else None,
        "tasks.search": tuple(task) or None,
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
    }


def _count(x: float) -> str:
    """Large counts in a few characters (1.12M, 200M), so the live table fits an 80-column terminal."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.0f}"


class Display:
    """A rich Live table of the latest progress line; experiment results are printed above it."""

    def __init__(self, console: Console):
        self.console, self.last = console, None
        self.live = Live(self._table(), console=console, refresh_per_second=4, transient=False)

    def _table(self) -> Table:
        t = Table(title="evolution", show_header=True)
        for col in ("exp", "individuals", "indiv/s", "train steps", "best", "mean", "FEC hit", "hurdle", "time"):
            t.add_column(col, justify="right")
        p = self.last
        if p:
            pct = lambda x: "-" if x is None else f"{100 * x:.1f}%"
            t.add_row(
                str(p["experiment"]),
                _count(p["individuals"]),
                _count(p["individuals_per_s"]),
                _count(p["train_steps"]),
                f"{p['best']:.6f}",
                f"{p['mean']:.6f}",
                pct(p["fec_hit_rate"]),
                pct(p["hurdle_pass_rate"]),
                f"{p['time']:.0f}s",
            )
            for i in p.get("per_island", []):  # several islands: one line each under the total
                row = (f"#{i['island']}", _count(i["individuals"]), "", _count(i["train_steps"]))
                t.add_row(*row, f"{i['best']:.6f}", f"{i['mean']:.6f}", "", "", "", style="dim")
        return t

    def __call__(self, event: dict) -> None:
        if event["event"] == "progress":
            self.last = event
        elif event["event"] == "experiment":
            self.console.print(
                f"experiment {event['index']}: search {event['search_fitness']:.6f}, "
                f"select {event['select_fitness']:.6f} ({event['stopped_by']}, "
                f"{event['individuals']:,} individuals)"
                + ("  [bold green]best so far[/]" if event["best_so_far"] else "")
            )
        self.live.update(self._table())


def _print_result(result) -> None:
    out.print(
        f"stopped by: {result.stopped_by}; {result.individuals:,} individuals, "
        f"{result.train_steps:,} train steps, {result.seconds:.1f}s; random seed {result.seed}"
    )
    if result.select_fitness is not None:
        out.print(f"select fitness: {result.select_fitness:.6f}")
    if result.final_fitness is not None:
        out.print(f"final fitness (unseen tasks): {result.final_fitness:.6f}")
    if result.text:
        out.print("algorithm found:")
        out.print(result.text, markup=False, highlight=False)
        essential = _essential(result.text)
        if essential and essential != result.text:
            out.print("after dead-code removal (azc opt --dce):")
            out.print(essential, markup=False, highlight=False)
    if result.run_dir:
        out.print(f"run directory: {result.run_dir}")
        if result.stopped_by == "interrupt":
            out.print(f"resume with: azc evolve --resume {result.run_dir}")


def _essential(text: str) -> str | None:
    """The found program without the lines that cannot influence a prediction."""
    from azlang.passes import run_pipeline
    from azlang.syntax import parse, print_program

    program, _ = run_pipeline(parse(text, "<found>"), ["dce"])
    return print_program(program)


def _base_config(config: Path | None, seeds: list[Path]):
    """The config file; without one, the paper's search from the seed programs, or else the demo."""
    if config:
        return load_config(config)
    return from_seeds_config() if seeds else demo_config()


@friendly
def evolve(
    config: Path | None = typer.Option(None, "--config", "-c", help="experiment config (TOML); default: the demo, or with --seed the paper's search from those programs"),
    seed: list[Path] = typer.Option([], "--seed", help="seed the initial population with this .az (repeatable)"),
    task: list[str] = typer.Option([], "--task", "-t", help="search task spec, replaces the config's (repeatable)"),
    population: int | None = typer.Option(None, help="population size P"),
    tournament: int | None = typer.Option(None, help="tournament size T"),
    mutate_prob: float | None = typer.Option(None, help="probability that a child is mutated"),
    max_train_steps: float | None = typer.Option(None, help="train steps per experiment"),
    max_individuals: int | None = typer.Option(None, help="individuals per experiment"),
    max_time: float | None = typer.Option(None, help="wall-clock seconds for the whole run"),
    sufficient_fitness: float | None = typer.Option(None, help="stop once a select fitness exceeds this"),
    max_experiments: int | None = typer.Option(None, help="experiments to run (0 = until sufficient fitness)"),
    workers: int | None = typer.Option(None, help="island processes (0 = all cores)"),
    random_seed: int | None = typer.Option(None, help="experiment random seed (0 = time-based)"),
    run_dir: Path | None = typer.Option(None, help="where to write the run (default: runs/evolve-<time>)"),
    resume: Path | None = typer.Option(None, "--resume", help="continue the run in this directory"),
    no_fec: bool = typer.Option(False, "--no-fec", help="disable functional equivalence checking"),
    hurdles: bool = typer.Option(False, "--hurdles", help="enable hurdles (early rejection)"),
    backend: str | None = typer.Option(None, help="auto, native or numpy"),
    executor: str | None = typer.Option(None, help="local (processes on this machine) or ray (islands as Ray actors)"),
    address: str | None = typer.Option(None, help="Ray cluster: auto or HOST:PORT (default: a Ray on this machine)"),
    islands: int | None = typer.Option(None, help="number of islands (the same as --workers)"),
) -> None:
    """Evolve an algorithm (regularized evolution, semantics section 8) and report the best one found."""
    display = Display(out)
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
        backend,
        executor,
        address,
    )
    cfg = None if resume is not None else override(_base_config(config, seed), flags)
    with display.live:
        if cfg is None:
            result = resume_run(resume, progress=display, overrides=flags)
        else:
            run_dir = run_dir or Path("runs") / time.strftime("evolve-%Y%m%d-%H%M%S")
            result = run_experiment(cfg, run_dir, progress=display)
    _print_result(result)
