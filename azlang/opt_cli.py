"""CLI stage: `azc opt`, `tune`, `ablate` and `show`, thin shells over azlang.passes and azlang.tools.

Registered by name in azlang/cli.py and imported only when run. Each turns AzError into a message on stderr
and exit 1; program text goes to stdout unadorned, so it can be piped. An output path is checked before any
work is done, so a typo in `-o` never costs a tuning run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from azlang.cli_support import check_output_path, deprecated_alias, err, friendly, out, print_table, write_output
from azlang.errors import ConfigError


def _load(path: Path):
    from azlang import api

    return api.load(path)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_output(output, text)
        err.print(f"wrote {output}", markup=False, soft_wrap=True)


def _pipeline(passes: str | None, flags: dict[str, bool]) -> list[str]:
    names = [n.strip() for n in (passes or "").split(",") if n.strip()]
    names += [name for name, on in flags.items() if on and name not in names]
    if not names:
        raise ConfigError("no pass chosen", hint="e.g. --passes dce,canon or --dce --canon")
    return names


MAX_DECOUPLE_F = 4096  # decouple runs Setup at F: F x F matrices; 4096 covers full-size CIFAR (3072)


def _features(features: int | None, file: Path) -> int:
    """decouple's F: as given, else the F the program was evolved at (its comments or its run's config)."""
    from azlang import api
    from azlang.passes.decouple import evolved_features

    if features is not None:
        if not 1 <= features <= MAX_DECOUPLE_F:
            raise ConfigError(f"-F {features}: the feature size must be between 1 and {MAX_DECOUPLE_F}")
        return features
    found = evolved_features(api.read_source(file), api.find_program(file))
    if found is None:
        raise ConfigError(f"decouple needs the feature size F that {file} was evolved at; it does not say",
                          hint="give it, e.g. -F 16 (expected values of random draws depend on F)")
    err.print(f"decouple: F = {found}, the size {file} was evolved at (-F to override)", markup=False)
    return found


@friendly
def opt(
    file: Path = typer.Argument(..., metavar="FILE", help="the .az program"),
    passes: str | None = typer.Option(None, "--passes", metavar="PASS,...",
                                         help="comma-separated passes, run in order: dce, canon, fold, decouple"),
    dce: bool = typer.Option(False, "--dce", help="append dce: remove what cannot influence a prediction"),
    canon: bool = typer.Option(False, "--canon", help="append canon: canonical names and order"),
    fold: bool = typer.Option(False, "--fold", help="append fold: constant folding"),
    decouple: bool = typer.Option(False, "--decouple", help="append decouple: constants become params"),
    output: Path | None = typer.Option(None, "-o", "--output", metavar="PATH", help="write here, not stdout"),
    in_place: bool = typer.Option(False, "--in-place", "-i", help="overwrite FILE"),
    stats: bool = typer.Option(False, "--stats", help="say what each pass removed or changed (stderr)"),
    random_policy: Literal["keep", "drop"] = typer.Option("keep", "--random",
                                                          help="dead random draws: keep (exact) or drop"),
    multiclass: bool = typer.Option(False, "--multiclass",
                                    help="the program is for multi-class tasks: dce keeps what feeds the logits "
                                         "v1 (not s1) and treats v2 as the engine's label"),
    features: int | None = typer.Option(None, "--features", "-F", metavar="F",
                                           help="F at which decouple estimates expected values "
                                                "[default: the F the program was evolved at]"),
    random_seed: int = typer.Option(0, "--random-seed", help="seed for decouple's sampling of Setup"),
    seed: int | None = typer.Option(None, "--seed", hidden=True, help="deprecated: --random-seed"),
):
    """Run IR passes over a program and print (or write) the result."""
    from azlang.passes import PassOptions, run_pipeline
    from azlang.syntax import print_program

    random_seed = deprecated_alias("--seed", seed, "--random-seed", random_seed)
    if output is not None and in_place:
        raise ConfigError("-o and --in-place both name where to write", hint="give one of them")
    target = check_output_path(output, "-o") if output is not None else None
    if in_place:
        from azlang import api

        target = check_output_path(api.find_program(file), "--in-place")
    names = _pipeline(passes, {"dce": dce, "fold": fold, "decouple": decouple, "canon": canon})
    F = _features(features, file) if "decouple" in names else (features or 4)
    program, report = run_pipeline(_load(file), names, PassOptions(random_policy, F, seed=random_seed, multiclass=multiclass))
    _emit(print_program(program), target)
    if stats:
        _print_stats(report)


def _print_stats(report) -> None:
    from rich.table import Table

    table = Table()
    for col in ("pass", "before", "after", "removed", "changed", "params added"):
        table.add_column(col, justify="left" if col == "pass" else "right")
    for s in report.passes:
        table.add_row(s.name, str(s.before), str(s.after), str(s.removed), str(s.changed), str(s.params_added))
    err.print(table)


@friendly
def tune(
    file: Path = typer.Argument(..., metavar="FILE", help="the .az program (with params; see azc opt --decouple)"),
    task: list[str] = typer.Option(..., "--task", "-t", metavar="SPEC", help="task spec (repeatable)"),
    trials: int = typer.Option(100, "--trials", "-n", help="random trials besides the program's own values"),
    random_seed: int = typer.Option(0, "--random-seed", help="seed of the trial values"),
    seed: int | None = typer.Option(None, "--seed", hidden=True, help="deprecated: --random-seed"),
    eval_random_seed: int = typer.Option(1, "--eval-random-seed",
                                         help="seed of the random stream every trial's evaluation uses"),
    eval_seed: int | None = typer.Option(None, "--eval-seed", hidden=True, help="deprecated"),
    workers: int | None = typer.Option(None, "--workers", "-j", help="processes [default: all cores]"),
    output: Path | None = typer.Option(None, "-o", "--output", metavar="PATH", help="write the tuned program"),
    data_dir: str | None = typer.Option(None, "--data-dir", metavar="PATH", help="dataset root"),
):
    """Random search over the params (each scaled by a log-uniform factor in [0.001, 1000])."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from azlang.syntax import print_program
    from azlang.tools.tune import tune as run_tune
    from azlang.tools.tune import with_values

    random_seed = deprecated_alias("--seed", seed, "--random-seed", random_seed)
    eval_random_seed = deprecated_alias("--eval-seed", eval_seed, "--eval-random-seed", eval_random_seed)
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers {workers}: give at least 1 process", hint="or leave it out to use all cores")
    if output is not None:
        check_output_path(output, "-o")  # before the trials: a bad path must not cost them
    program = _load(file)

    def tuned(progress=None):
        return run_tune(program, task, trials, random_seed, workers, eval_random_seed, data_dir=data_dir,
                        progress=progress)

    if err.is_terminal:
        columns = (TextColumn("tuning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            job = bar.add_task("trials", total=trials + 1)
            result = tuned(lambda done, total: bar.update(job, completed=done))
    else:  # a log gets the result, not an empty line where a transient bar was
        result = tuned()
    table = Table()
    for col in ("param", "default", "best"):
        table.add_column(col, justify="left" if col == "param" else "right")
    for name, value in result.best.values.items():
        table.add_row(name, f"{result.baseline.values[name]:.6g}", f"{value:.6g}")
    table.add_section()
    table.add_row("fitness", f"{result.baseline.fitness:.6f}", f"[bold]{result.best.fitness:.6f}[/bold]")
    print_table(err, table, f"{file}: best of {trials} trials")
    if output is not None:
        _emit(print_program(with_values(program, result.best.values)), output)


@friendly
def ablate(
    file: Path = typer.Argument(..., metavar="FILE", help="the .az program"),
    task: list[str] = typer.Option(..., "--task", "-t", metavar="SPEC", help="task spec (repeatable)"),
    group: list[str] = typer.Option([], "--group", "-g", metavar="LINES",
                                    help="lines knocked out together: 12-14 or learn:2-4 (repeatable)"),
    random_seed: int = typer.Option(1, "--random-seed", help="seed of the random stream every evaluation uses"),
    seed: int | None = typer.Option(None, "--seed", hidden=True, help="deprecated: --random-seed"),
    data_dir: str | None = typer.Option(None, "--data-dir", metavar="PATH", help="dataset root"),
):
    """Knock out each instruction (or each --group) and report the fitness change, most harmful first."""
    from rich.table import Table
    from rich.text import Text

    from azlang.tasks.build import build_collection
    from azlang.tools.ablate import ablate as run_ablate
    from azlang.tools.ablate import parse_group

    random_seed = deprecated_alias("--seed", seed, "--random-seed", random_seed)
    program = _load(file)
    groups = [(g, parse_group(program, g)) for g in group] or None
    result = run_ablate(program, build_collection(task, data_dir), groups, random_seed)
    table = Table()
    for col in ("removed", "lines", "fitness", "change"):
        table.add_column(col, justify="right" if col in ("fitness", "change") else "left")
    for row in result.rows:
        style = "red" if row.delta < 0 else ("green" if row.delta > 0 else "dim")
        table.add_row(row.name, "; ".join(row.lines), f"{row.fitness:.6f}", Text(f"{row.delta:+.6f}", style=style))
    print_table(out, table, f"{file}: baseline fitness {result.baseline:.6f}")


@friendly
def show(
    file: Path = typer.Argument(..., metavar="FILE", help="the .az program"),
    dot: Path | None = typer.Option(None, "--dot", metavar="PATH", help="also write the dataflow as Graphviz"),
):
    """The program with dead lines dimmed and, per line, where the values it reads come from."""
    from rich.table import Table
    from rich.text import Text

    from azlang.tools.show import analyse, to_dot

    if dot is not None:
        check_output_path(dot, "--dot")
    program = _load(file)
    shown = analyse(program)
    table = Table(box=None, show_header=True)
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
    print_table(out, table, f"{file}: {shown.live_count} of {len(shown.lines)} lines feed the prediction")
    out.print(f"prediction s1 <- {', '.join(shown.prediction) or 'nothing (s1 stays 0)'}", markup=False)
    if dot is not None:
        _emit(to_dot(program), dot)
