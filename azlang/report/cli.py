"""CLI stage: `azc report RUN_OR_SWEEP...` and `azc sweep CONFIG`, thin shells over azlang.report and search.sweep."""

from __future__ import annotations

import json
from pathlib import Path

import tomllib
import typer

from azlang.cli_support import err, friendly, out
from azlang.errors import ConfigError


@friendly
def report(
    paths: list[Path] = typer.Argument(..., help="run directories and sweep directories"),
    out_dir: Path = typer.Option(Path("report"), "--out", "-o", help="where the PNG plots go"),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="write PNG plots (needs matplotlib)"),
    hall: int = typer.Option(5, help="hall-of-fame entries listed per run (0 = none)"),
    as_json: bool = typer.Option(False, "--json", help="print the table rows as JSON"),
):
    """Compare runs and sweeps side by side: a table, success fractions, halls of fame and PNG plots."""
    from azlang.report import load, table

    items = [load.load_any(p) for p in paths]
    rows = table.rows(items)
    if as_json:
        print(json.dumps(rows))
    else:
        out.print(table.render(rows))
        for line in table.success_lines(items) + (table.hall_lines(items, hall) if hall else []):
            out.print(line, markup=False, highlight=False)
    if plots:
        from azlang.report.plots import write_plots

        for path in write_plots(items, out_dir):
            out.print(f"wrote {path}", markup=False)


@friendly
def sweep(
    config: Path = typer.Argument(..., help="experiment config (TOML), e.g. examples/paper/fig4_linear_regressor.toml"),
    sweep_dir: Path = typer.Option(..., "--dir", "-d", help="the sweep directory (run it again to resume or extend)"),
    repeats: int | None = typer.Option(None, help="independent repeats (seeds); default 5, or as many as the "
                                                 "directory's plan has; more than planned adds repeats"),
    seeds: str | None = typer.Option(None, help="comma-separated seeds (default: run.random_seed + 0, 1, ...)"),
    jobs: int = typer.Option(0, help="repeats run at once, one process each (0 = all cores)"),
    threshold: list[float] = typer.Option([], help="success threshold on a repeat's result (repeatable)"),
    set_: list[str] = typer.Option([], "--set", help="override a config key: section.key=VALUE (repeatable)"),
):
    """Run N repeats of a config in parallel processes under one directory and summarise them (paper style)."""
    from azlang.search.sweep import run_sweep

    seed_list = [int(s) for s in seeds.split(",")] if seeds else None
    n = len(seed_list) if seed_list else repeats  # None: the plan's (a new sweep: 5)
    summary = run_sweep(config, sweep_dir, n, seed_list, jobs, parse_sets(set_), threshold)
    out.print(f"{summary['finished']} of {summary['repeats']} repeats finished in {sweep_dir}", markup=False)
    if "result_mean" in summary:
        out.print(f"result: mean {summary['result_mean']:.6f} +- {summary['result_2sem']:.6f} (2 SEM), "
                  f"best {summary['result_best']:.6f}", markup=False)
    for s in summary.get("success", []):
        out.print(f"success > {s['threshold']}: {s['fraction']:.3f} +- {s['two_sigma']:.3f} (2 sigma)", markup=False)
    c = summary["compute"]
    out.print(f"compute: {c['train_steps']:.4g} train steps, {c['individuals']} individuals, "
              f"{c['core_seconds']:.1f} core-seconds", markup=False)
    if summary.get("stopped_by"):  # Ctrl-C / SIGTERM: the running repeats were checkpointed
        from azlang.search.interrupt import EXIT_CODES, REASONS

        err.print(f"stopped ({summary['stopped_by']}): run the same command again to resume the sweep", markup=False)
        raise typer.Exit(next(EXIT_CODES[s] for s, r in REASONS.items() if r == summary["stopped_by"]))


def parse_sets(items: list[str]) -> dict:
    """`section.key=VALUE` with VALUE read as TOML (numbers, true/false, lists, quoted strings), else a string."""
    values = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or "." not in key:
            raise ConfigError(f"cannot read --set {item!r}",
                              hint="write section.key=VALUE, e.g. evolution.population=100")
        try:
            values[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            values[key.strip()] = raw
    return values


def add_commands(app: typer.Typer) -> None:
    app.command("report", help="Compare runs and sweeps: table, success fractions, hall of fame, PNG plots.")(report)
    app.command("sweep", help="Run N seeded repeats of a config in parallel processes; summarise as the paper.")(sweep)
