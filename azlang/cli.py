"""CLI stage: the `azc` typer app, a thin shell over azlang.api. Library errors become messages and exit 1."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from azlang import api
from azlang.cli_support import err, friendly, out

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="azlang: write, run, optimise and evolve machine-learning algorithms (AutoML-Zero).")


@app.command()
@friendly
def run(
    algo: Path = typer.Argument(..., help="the .az program"),
    task: list[str] = typer.Option(..., "--task", "-t", help="task spec, e.g. linear:F4:D10 (repeatable)"),
    param: list[str] = typer.Option([], "--param", "-p", help="override a param: NAME=VALUE (repeatable)"),
    seed: int = typer.Option(1, help="seed of the random stream the program's random ops draw from"),
    max_abs_error: float = typer.Option(100.0, help="a prediction error above this stops the evaluation"),
    backend: str = typer.Option("auto", help="auto (native when available), native or numpy"),
    data_dir: Optional[str] = typer.Option(None, help="dataset root (default: $AZLANG_DATA, else the cache)"),
    median: bool = typer.Option(False, help="combine tasks by the (upper) median instead of the mean"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of a table"),
):
    """Evaluate a program on tasks and print per-task and combined fitness."""
    program = api.load(algo)
    result = api.run(program, task, api.parse_param_overrides(param), seed, max_abs_error, backend, data_dir,
                     mode="median" if median else "mean")
    if as_json:
        print(json.dumps(result.to_json()))
        return
    table = Table(title=f"{algo} ({result.backend} backend)")
    for col, justify in (("task", "left"), ("spec", "left"), ("fitness", "right"), ("train steps", "right")):
        table.add_column(col, justify=justify)
    for t in result.tasks:
        table.add_row(t.name, t.spec, f"{t.fitness:.6f}", str(t.train_steps))
    table.add_section()
    table.add_row("combined", "median" if median else "mean", f"[bold]{result.fitness:.6f}[/bold]", "")
    out.print(table)


@app.command()
@friendly
def check(files: list[Path] = typer.Argument(..., help=".az files to parse and verify")):
    """Parse and verify programs; print what each needs."""
    for path in files:
        program = api.load(path)
        need = program.required_memory()
        out.print(f"{path}: ok ({program.size()} instructions, memory S/V/M {need.S}/{need.V}/{need.M}, "
                  f"{len(program.params)} params)")


@app.command()
@friendly
def fmt(
    files: list[Path] = typer.Argument(..., help=".az files to format"),
    in_place: bool = typer.Option(False, "--in-place", "-i", help="rewrite the files"),
    check_only: bool = typer.Option(False, "--check", help="exit 1 if a file is not canonically formatted"),
):
    """Print programs in canonical form (to stdout, --in-place, or --check)."""
    unformatted = []
    for path in files:
        text = api.read_source(path)
        pretty = api.format_source(text, str(path))
        if check_only:
            if pretty != text:
                unformatted.append(path)
        elif in_place:
            if pretty != text:
                path.write_text(pretty)
        else:
            sys.stdout.write(pretty)
    for path in unformatted:
        err.print(f"{path}: not formatted (run azc fmt --in-place {path})")
    if unformatted:
        raise typer.Exit(1)


def _register_subcommands() -> None:
    """Commands whose implementations live beside their library stage."""
    from azlang.data_cli import data_app
    from azlang.opt_cli import ablate, opt, show, tune
    from azlang.search.cli_evolve import CONTEXT, evolve

    app.command("evolve", context_settings=CONTEXT)(evolve)  # help: evolve's docstring (with an example)
    app.add_typer(data_app, name="data", help="Datasets: list what is present, fetch what is missing.")
    app.command("opt", help="Run IR passes: dce, canon, fold, decouple.")(opt)
    app.command("tune", help="Random search over a program's params (log-uniform factors).")(tune)
    app.command("ablate", help="Knock out each instruction (or group) and report the fitness change.")(ablate)
    app.command("show", help="Show the program with dead code dimmed and the dataflow to the prediction.")(show)


_register_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
