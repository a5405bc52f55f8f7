"""CLI stage: `azc data fetch|list`, the real datasets' sub-commands (registered by name in azlang/cli.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from azlang.cli_format import CONTEXT, AzCommand, group_class
from azlang.cli_support import err, friendly, out, print_table
from azlang.tasks import datasets as ds
from azlang.tasks import download

data_app = typer.Typer(cls=group_class({}), add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                       context_settings=CONTEXT, epilog="azc data list\nazc data fetch mnist",
                       help="Real datasets (CIFAR-10, MNIST, Fashion-MNIST): fetch them, list what is present.")

DATA_DIR_HELP = f"data root (default: ${ds.DATA_ENV}, else ~/.cache/azlang)"
STATE_STYLE = {"verified": "green", "rebuilt": "yellow", "mismatch": "red", "incomplete": "red", "missing": "dim"}


_friendly = friendly(interrupted="interrupted (a partial download resumes next time)")


@contextlib.contextmanager
def progress_bars(console: Console | None = None) -> Iterator[download.Progress]:
    """A rich progress display and the callback that feeds it, one bar per file. Also usable around task
    building: `with progress_bars() as cb, download.reporting(cb): build_tasks(...)`."""
    bars = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    TimeRemainingColumn(), console=console or err, transient=False)
    ids: dict[str, int] = {}

    def update(name: str, done: int, total: int | None) -> None:
        if name not in ids:
            ids[name] = bars.add_task(name, total=total)
        bars.update(ids[name], completed=done, total=total)

    with bars:
        yield update


@data_app.command("fetch", cls=AzCommand, epilog="azc data fetch cifar10\nAZLANG_DATA=/data azc data fetch all")
@_friendly
def fetch(dataset: str = typer.Argument(..., metavar="DATASET", help="cifar10, mnist, fashion, or all"),
          data_dir: Path | None = typer.Option(None, "--data-dir", metavar="PATH", help=DATA_DIR_HELP)) -> None:
    """Download a dataset from its publisher (resumable, checksummed); files already verified are kept."""
    names = list(ds.DATASETS) if dataset.lower() == "all" else [ds.dataset_info(dataset).name]
    for name in names:
        with progress_bars() as update:
            folder = download.fetch(name, data_dir, update)
        st = download.status(name, data_dir)
        out.print(f"{name}: {folder} ({st.state}: {st.detail})", markup=False, soft_wrap=True)


@data_app.command("list", cls=AzCommand, epilog="azc data list\nazc data list --data-dir /data")
@_friendly
def list_(data_dir: Path | None = typer.Option(None, "--data-dir", metavar="PATH", help=DATA_DIR_HELP)) -> None:
    """What is present under the data root, where, and whether it verifies (reads every file)."""
    table = Table()
    for column in ("dataset", "state", "path", "detail"):
        table.add_column(column, overflow="fold")
    for st in download.inventory(data_dir):
        style = STATE_STYLE.get(st.state, "")
        table.add_row(st.name, f"[{style}]{st.state}[/]" if style else st.state, str(st.path), st.detail)
    print_table(out, table, f"datasets under {ds.data_root(data_dir)}")
