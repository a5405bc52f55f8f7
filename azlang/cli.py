"""CLI stage: the `azc` typer app, a thin shell over azlang.api. Library errors become messages and exit 1.

Start-up matters (every `azc` call pays it): this module imports only typer and rich. The library, NumPy and
the native backend are imported inside the commands that use them, and the commands that live beside their
library stage are registered by name (`lazy_command`) and imported only when run.
"""

from __future__ import annotations

from azlang import cli_gc

if __name__ == "__main__":  # `python -m azlang.cli`: what follows is start-up (the `azc` script holds in main)
    cli_gc.hold()

import os  # below the hold: these imports are start-up
import sys
from pathlib import Path
from typing import Literal

import typer

from azlang.cli_format import CONTEXT, AzCommand, group_class
from azlang.cli_support import deprecated_alias, friendly, out, print_table

# Commands imported on first use: name -> ("module:function or Typer", help, examples).
LAZY_COMMANDS: dict[str, tuple[str, str, str | None]] = {}

app = typer.Typer(cls=group_class(LAZY_COMMANDS), add_completion=False, no_args_is_help=True,
                  pretty_exceptions_enable=False, rich_markup_mode=None, context_settings=CONTEXT,
                  help="azlang: write, run, optimise and evolve machine-learning algorithms (AutoML-Zero).",
                  epilog="azc evolve                      # evolve on the embedded demo\n"
                         "azc run linear_sgd -t linear:F4:D10\n"
                         "azc COMMAND -h                  # a command's options and examples")


def lazy_command(name: str, target: str, help_text: str, examples: str | None = None) -> None:
    """Register `azc NAME`, implemented by `target` ("module:function" or "module:typer_app"), imported on use."""
    LAZY_COMMANDS[name] = (target, help_text, examples)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"azc (azlang) {version('azlang')}")
        except PackageNotFoundError:  # pragma: no cover - a source tree without installed metadata
            typer.echo("azc (azlang) unknown version (not installed)")
        raise typer.Exit()


# Commands whose start-up goes on into their own work: they end it themselves (cli_gc.release) once set up.
SETS_UP_FURTHER = frozenset({"evolve"})


@app.callback()
def _main(ctx: typer.Context,
          version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """azlang: write, run, optimise and evolve machine-learning algorithms (AutoML-Zero)."""
    if ctx.invoked_subcommand not in SETS_UP_FURTHER:  # the command is loaded: its work is no longer start-up
        cli_gc.release()


Backend = Literal["auto", "native", "numpy"]


@app.command(cls=AzCommand, epilog="azc run linear_sgd -t linear:F4:D10\n"
                                   "azc run my.az -t cifar:3v5:F16 -p lr=0.05 --random-seed 2 --json")
@friendly
def run(
    algo: Path = typer.Argument(..., metavar="ALGO", help="the .az program (or a stdlib name: linear_sgd)"),
    task: list[str] = typer.Option(..., "--task", "-t", metavar="SPEC",
                                   help="task spec, e.g. linear:F4:D10 (repeatable; see docs/tasks.md)"),
    param: list[str] = typer.Option([], "--param", "-p", metavar="NAME=VALUE",
                                    help="override a param (repeatable)"),
    random_seed: int = typer.Option(1, "--random-seed",
                                    help="seed of the random stream the program's random ops draw from"),
    seed: int | None = typer.Option(None, "--seed", hidden=True, help="deprecated: --random-seed"),
    max_abs_error: float = typer.Option(100.0, help="a prediction error above this stops the evaluation"),
    backend: Backend = typer.Option("auto", help="native when available (auto), native or numpy"),
    data_dir: str | None = typer.Option(None, metavar="PATH",
                                           help="dataset root (default: $AZLANG_DATA, else the cache)"),
    median: bool = typer.Option(False, "--median", help="combine tasks by the (upper) median instead of the mean"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of a table"),
):
    """Evaluate a program on tasks and print per-task and combined fitness."""
    import json

    from azlang import api
    from azlang.errors import ConfigError

    random_seed = deprecated_alias("--seed", seed, "--random-seed", random_seed)
    if not max_abs_error > 0:  # NaN too: no error would ever exceed it
        raise ConfigError(f"--max-abs-error {max_abs_error}: must be a positive number", hint="the default is 100")
    program = api.load(algo)
    result = api.run(program, task, api.parse_param_overrides(param), random_seed, max_abs_error, backend,
                     data_dir, mode="median" if median else "mean")
    if as_json:
        print(json.dumps(result.to_json()))
        return
    from rich.table import Table  # the table only: --json output needs no rich (~30 ms of imports)

    table = Table()
    for col, justify in (("task", "left"), ("spec", "left"), ("fitness", "right"), ("train steps", "right")):
        table.add_column(col, justify=justify)
    for t in result.tasks:
        table.add_row(t.name, t.spec, f"{t.fitness:.6f}", str(t.train_steps))
    table.add_section()
    table.add_row("combined", "median" if median else "mean", f"[bold]{result.fitness:.6f}[/bold]", "")
    print_table(out, table, f"{algo} ({result.backend} backend)")


@app.command(cls=AzCommand, epilog="azc check my.az stdlib/nn_2layer.az")
@friendly
def check(files: list[Path] = typer.Argument(..., metavar="FILE", help=".az files to parse and verify")):
    """Parse and verify programs; print what each needs."""
    from azlang import api

    for path in files:
        program = api.load(path)
        need = program.required_memory()
        typer.echo(f"{path}: ok ({program.size()} instructions, memory S/V/M {need.S}/{need.V}/{need.M}, "
                   f"{len(program.params)} params)")


@app.command(cls=AzCommand, epilog="azc fmt my.az > pretty.az\nazc fmt --check *.az\nazc fmt -i my.az")
@friendly
def fmt(
    files: list[Path] = typer.Argument(..., metavar="FILE", help=".az files to format"),
    in_place: bool = typer.Option(False, "--in-place", "-i", help="rewrite the files"),
    check_only: bool = typer.Option(False, "--check", help="exit 1 if a file is not canonically formatted"),
):
    """Print programs in canonical form (to stdout, --in-place, or --check)."""
    from azlang import api
    from azlang.cli_support import write_output

    unformatted = []
    for path in files:
        text = api.read_source(path)
        pretty = api.format_source(text, str(path))
        if check_only:
            if pretty != text:
                unformatted.append(path)
        elif in_place:
            if pretty != text:
                write_output(path, pretty)
        else:
            sys.stdout.write(pretty)
    for path in unformatted:
        typer.echo(f"{path}: not formatted (run azc fmt --in-place {path})", err=True)
    if unformatted:
        raise typer.Exit(1)


def _register_subcommands() -> None:
    """Commands whose implementations live beside their library stage, one line each, imported when used."""
    lazy_command("evolve", "azlang.search.cli_evolve:evolve",
                 "Evolve algorithms by regularized evolution (see examples/demo.toml and docs/config.md). "
                 "Ctrl-C (or SIGTERM) checkpoints and stops with exit code 130 (143 for SIGTERM); "
                 "--resume DIR continues exactly.",
                 "azc evolve                                   # the demo: rediscover SGD on linear tasks\n"
                 "azc evolve -c demo --max-time 60 --run-dir runs/demo\n"
                 "azc evolve --seed stdlib/empty.az            # the paper's setting: start from empty programs\n"
                 "azc evolve -c examples/baseline.toml --workers 2\n"
                 "azc evolve --resume runs/evolve-20260101-120000")
    lazy_command("opt", "azlang.opt_cli:opt", "Run IR passes: dce, canon, fold, decouple.",
                 "azc opt --passes dce,canon my.az\nazc opt --dce --stats my.az -o small.az\n"
                 "azc opt --decouple -F 16 evolved.az")
    lazy_command("tune", "azlang.opt_cli:tune", "Random search over a program's params (log-uniform factors).",
                 "azc tune linear_sgd -t linear:F4:D10 --trials 50 -o tuned.az")
    lazy_command("ablate", "azlang.opt_cli:ablate",
                 "Knock out each instruction (or group) and report the fitness change.",
                 "azc ablate nn_2layer -t teacher:F8:D2\nazc ablate my.az -t linear:F4 --group learn:2-4")
    lazy_command("show", "azlang.opt_cli:show",
                 "Show the program with dead code dimmed and the dataflow to the prediction.",
                 "azc show my.az\nazc show my.az --dot flow.dot && dot -Tsvg flow.dot > flow.svg")
    lazy_command("data", "azlang.data_cli:data_app", "Datasets: list what is present, fetch what is missing.")
    lazy_command("export", "azlang.export_cli:export", "Export a program as a standalone NumPy, PyTorch or JAX module.",
                 "azc export linear_sgd --to numpy -o linear_sgd_np.py\nazc export runs/r1/best.az --to torch -o model.py")
    lazy_command("sweep", "azlang.report.cli:sweep", "Run N seeded repeats of a config in parallel processes, resumable.",
                 "azc sweep examples/paper/fig4_linear_backprop.toml -d sweeps/lb --repeats 6 --threshold 0.999")
    lazy_command("report", "azlang.report.cli:report", "Compare runs and sweeps: a table, success fractions, halls of fame, PNG plots.",
                 "azc report sweeps/lb sweeps/lb_random -o report/")


_register_subcommands()


def main() -> None:
    cli_gc.hold()  # start-up: collections off until the command is loaded (or, for evolve, set up)
    single_threaded_blas()
    try:
        app()
    finally:
        cli_gc.release()
        skip_exit_collection()


def skip_exit_collection() -> None:
    """The command is done: move every object to the collector's permanent generation, so interpreter exit
    does not trace them all once more (a full collection of everything a run loaded: ~40 ms after evolve).
    Objects are still freed by reference counting, files closed and atexit handlers run as usual."""
    import gc

    gc.freeze()


def single_threaded_blas() -> None:
    """One BLAS thread unless the user says otherwise ($OPENBLAS_NUM_THREADS), set before NumPy loads. azc's
    NumPy work is small (the search and evaluations run natively), while OpenBLAS starts a thread per core at
    import: 60 ms of start-up, and threads that spin beside the islands' processes."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


if __name__ == "__main__":
    main()
