"""CLI stage: `azc opt`, `tune`, `ablate` and `show`, thin shells over azlang.passes and azlang.tools.

The lead registers them in azlang/cli.py with `app.command("opt")(opt)` and so on. Each turns AzError into
a message on stderr and exit 1; program text goes to stdout unadorned, so it can be piped.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from azlang.cli_support import err, friendly, out
from azlang.errors import ConfigError



_friendly = friendly


def _load(path: Path):
    from azlang import api

    return api.load(path)


def _write(text: str, output: Path | None, in_place: bool, source: Path) -> None:
    target = source if in_place else output
    if target is None:
        typer.echo(text, nl=False)
    else:
        target.write_text(text, encoding="utf-8")
        err.print(f"wrote {target}")


def _pipeline(passes: str | None, flags: dict[str, bool]) -> list[str]:
    names = [n for n in (passes or "").split(",") if n.strip()]
    names += [name for name, on in flags.items() if on and name not in names]
    if not names:
        raise ConfigError("no pass chosen", hint="e.g. -p dce,canon or --dce --canon")
    return names


@_friendly
def opt(
    file: Path = typer.Argument(..., help="the .az program"),
    passes: str | None = typer.Option(None, "-p", "--passes", help="comma-separated passes: dce,canon,fold,decouple"),
    dce: bool = typer.Option(False, "--dce", help="append dce: remove what cannot influence a prediction"),
    canon: bool = typer.Option(False, "--canon", help="append canon: canonical names and order"),
    fold: bool = typer.Option(False, "--fold", help="append fold: constant folding"),
    decouple: bool = typer.Option(False, "--decouple", help="append decouple: constants become params"),
    output: Path | None = typer.Option(None, "-o", "--output", help="write here instead of stdout"),
    in_place: bool = typer.Option(False, "--in-place", help="overwrite FILE"),
    stats: bool = typer.Option(False, "--stats", help="say what each pass removed or changed (stderr)"),
    random_policy: str = typer.Option("keep", "--random", help="dead random draws: keep (exact) or drop"),
    features: int = typer.Option(4, "--features", "-F", help="F at which decouple estimates expected values"),
    seed: int = typer.Option(0, help="seed for decouple's sampling of Setup"),
):
    """Run IR passes over a program and print (or write) the result."""
    from azlang.passes import PassOptions, run_pipeline
    from azlang.syntax import print_program

    names = _pipeline(passes, {"dce": dce, "fold": fold, "decouple": decouple, "canon": canon})
    if random_policy not in ("keep", "drop"):
        raise ConfigError(f"--random must be keep or drop, not {random_policy!r}")
    program, report = run_pipeline(_load(file), names, PassOptions(random_policy, features, seed=seed))
    _write(print_program(program), output, in_place, file)
    if stats:
        table = Table(title="passes")
        for col in ("pass", "before", "after", "removed", "changed", "params added"):
            table.add_column(col, justify="left" if col == "pass" else "right")
        for s in report.passes:
            table.add_row(s.name, str(s.before), str(s.after), str(s.removed), str(s.changed), str(s.params_added))
        err.print(table)


@_friendly
def tune(
    file: Path = typer.Argument(..., help="the .az program (with params; see azc opt --decouple)"),
    task: list[str] = typer.Option(..., "--task", "-t", help="task spec (repeatable)"),
    trials: int = typer.Option(100, "--trials", "-n", help="random trials besides the program's own values"),
    seed: int = typer.Option(0, help="seed of the trial values"),
    eval_seed: int = typer.Option(1, help="seed of the random stream every trial's evaluation uses"),
    workers: int | None = typer.Option(None, "--workers", "-j", help="processes (default: all cores)"),
    output: Path | None = typer.Option(None, "-o", "--output", help="write the tuned program here"),
    data_dir: str | None = typer.Option(None, help="dataset root"),
):
    """Random search over the params (each scaled by a log-uniform factor in [0.001, 1000])."""
    from azlang.syntax import print_program
    from azlang.tools.tune import tune as run_tune
    from azlang.tools.tune import with_values

    program = _load(file)
    columns = (TextColumn("tuning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        job = bar.add_task("trials", total=trials + 1)
        result = run_tune(program, task, trials, seed, workers, eval_seed, data_dir=data_dir,
                          progress=lambda done, total: bar.update(job, completed=done))
    table = Table(title=f"{file}: best of {trials} trials")
    for col in ("param", "default", "best"):
        table.add_column(col, justify="left" if col == "param" else "right")
    for name, value in result.best.values.items():
        table.add_row(name, f"{result.baseline.values[name]:.6g}", f"{value:.6g}")
    table.add_section()
    table.add_row("fitness", f"{result.baseline.fitness:.6f}", f"[bold]{result.best.fitness:.6f}[/bold]")
    err.print(table)
    if output is not None:
        _write(print_program(with_values(program, result.best.values)), output, False, file)


@_friendly
def ablate(
    file: Path = typer.Argument(..., help="the .az program"),
    task: list[str] = typer.Option(..., "--task", "-t", help="task spec (repeatable)"),
    group: list[str] = typer.Option([], "--group", "-g", help="lines knocked out together: 12-14 or learn:2-4"),
    seed: int = typer.Option(1, help="seed of the random stream every evaluation uses"),
    data_dir: str | None = typer.Option(None, help="dataset root"),
):
    """Knock out each instruction (or each --group) and report the fitness change, most harmful first."""
    from azlang.tasks.build import build_collection
    from azlang.tools.ablate import ablate as run_ablate
    from azlang.tools.ablate import parse_group

    program = _load(file)
    groups = [(g, parse_group(program, g)) for g in group] or None
    result = run_ablate(program, build_collection(task, data_dir), groups, seed)
    table = Table(title=f"{file}: baseline fitness {result.baseline:.6f}")
    for col in ("removed", "lines", "fitness", "change"):
        table.add_column(col, justify="right" if col in ("fitness", "change") else "left")
    for row in result.rows:
        style = "red" if row.delta < 0 else ("green" if row.delta > 0 else "dim")
        table.add_row(row.name, "; ".join(row.lines), f"{row.fitness:.6f}", Text(f"{row.delta:+.6f}", style=style))
    out.print(table)


@_friendly
def show(
    file: Path = typer.Argument(..., help="the .az program"),
    dot: Path | None = typer.Option(None, "--dot", help="also write the dataflow as a Graphviz graph"),
):
    """The program with dead lines dimmed and, per line, where the values it reads come from."""
    from azlang.tools.show import analyse, to_dot

    program = _load(file)
    shown = analyse(program)
    table = Table(title=f"{file}: {shown.live_count} of {len(shown.lines)} lines feed the prediction",
                  box=None, show_header=True)
    for col in ("", "instruction", "reads from"):
        table.add_column(col)
    current = None
    for line in shown.lines:
        if line.component != current:
            current = line.component
            table.add_row("", Text(f"def {current.capitalize()}():", style="bold"), "")
        style = "" if line.live else ("dim italic" if line.kept else "dim")
        reads = ", ".join(f"{reg}<-{'|'.join(d) or '0'}" for reg, d in line.sources)
        table.add_row(Text(line.label, style="dim"), Text("  " + line.text, style=style), Text(reads, style=style))
    out.print(table)
    out.print(f"prediction s1 <- {', '.join(shown.prediction) or 'nothing (s1 stays 0)'}")
    if dot is not None:
        dot.write_text(to_dot(program), encoding="utf-8")
        err.print(f"wrote {dot}")
