"""CLI stage: how `azc evolve` shows progress: a live table on a terminal, plain log lines otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich's live display and tables are imported only where there is a terminal to show them on
    from rich.console import Console
    from rich.table import Table


def _count(x: float) -> str:
    """Large counts in a few characters (1.12M, 200M), so the live table fits an 80-column terminal."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.0f}"


def _eta(p: dict) -> str:
    done, eta = p.get("done"), p.get("eta")
    if done is None:
        return "-"
    return f"{100 * done:.0f}%" + (f" eta {eta:.0f}s" if eta is not None else "")


def plain_line(p: dict) -> str:
    """One progress line for logs and pipes (never wrapped), like the reference's `indivs=... elapsed_secs=...`."""
    pct = lambda x: "-" if x is None else f"{100 * x:.1f}%"
    eta = "" if p.get("eta") is None else f" eta_secs={p['eta']:.0f}"
    done = "" if p.get("done") is None else f" done={100 * p['done']:.1f}%"
    return (
        f"progress exp={p['experiment']} indivs={p['individuals']} indivs_per_sec={p['individuals_per_s']:.0f} "
        f"train_steps={p['train_steps']} best={p['best']:.6f} mean={p['mean']:.6f} stdev={p['stdev']:.6f} "
        f"fec_hits={pct(p['fec_hit_rate'])} hurdle_pass={pct(p['hurdle_pass_rate'])}{done}{eta} "
        f"elapsed_secs={p['time']:.1f}"
    )


class Display:
    """Progress: a rich Live table on a terminal (experiment results and notices printed above it), plain
    periodic log lines otherwise."""

    def __init__(self, console: Console):
        self.console, self.last = console, None
        self.terminal = console.is_terminal
        self.live = None  # off a terminal there is no live table (plain lines only)
        if self.terminal:
            from rich.live import Live

            self.live = Live(self._table(), console=console, refresh_per_second=4, transient=False)

    def __enter__(self):
        if self.terminal:
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.terminal:
            self.live.__exit__(*exc)

    def _table(self) -> Table:
        from rich.table import Table

        t = Table(title="evolution", show_header=True)
        for col in ("exp", "individuals", "indiv/s", "train steps", "best", "mean", "FEC hit", "hurdle", "done", "time"):
            # overflow="fold": a narrow terminal wraps a value, never cuts it
            t.add_column(col, justify="right", overflow="fold", min_width=9 if col in ("best", "mean") else None)
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
                _eta(p),
                f"{p['time']:.0f}s",
            )
            for i in p.get("per_island", []):  # several islands: one line each under the total
                row = (f"#{i['island']}", _count(i["individuals"]), "", _count(i["train_steps"]))
                t.add_row(*row, f"{i['best']:.6f}", f"{i['mean']:.6f}", "", "", "", "", style="dim")
        return t

    def print(self, text: str) -> None:
        """A line (off a terminal, azc's console writes what rich would write unchanged straight to the stream:
        cli_support._LazyConsole.print)."""
        self.console.print(text, soft_wrap=True, markup=False, highlight=False)

    def __call__(self, event: dict) -> None:
        kind = event["event"]
        if kind == "progress":
            self.last = event
            if not self.terminal:
                self.print(plain_line(event))
        elif kind == "experiment":
            self.print(
                f"experiment {event['index']}: search {event['search_fitness']:.6f}, "
                f"select {event['select_fitness']:.6f} ({event['stopped_by']}, "
                f"{event['individuals']:,} individuals)" + ("  best so far" if event["best_so_far"] else "")
            )
        elif kind == "notice":
            self._notice(event)
        if self.terminal:
            self.live.update(self._table())

    def _notice(self, event: dict) -> None:
        if event["what"] == "start":
            verb = "resuming" if event["resumed"] else "run directory"
            self.print(f"{verb}: {event['run_dir'] or '(none)'}; random seed {event['seed']}")
            for part in ("search", "select", "final"):
                self.print(f"  {part} tasks: {', '.join(event[part]) or '(none: the search fitness)'}")
        elif event["what"] == "final evaluation":
            self.print(f"final evaluation of the best candidate on {', '.join(event['tasks'])} ...")
