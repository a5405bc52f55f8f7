"""API stage: showing evolution's progress records: a live HTML table in Jupyter, one line per record on stderr
in a terminal, or the caller's own callback. The library prints only when asked (progress=True)."""

from __future__ import annotations

import sys
import time

from azlang.errors import ConfigError

COLUMNS = ("experiment", "individuals", "individuals_per_s", "train_steps", "best", "mean", "time")


def in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def make_progress(progress):
    """None/False: nothing; a callable: called with each record; True/"auto": notebook or terminal display;
    "notebook" / "text": that one."""
    if progress is None or progress is False:
        return None
    if callable(progress):
        return progress
    if progress is True or progress == "auto":
        return NotebookProgress() if in_notebook() else TextProgress()
    if progress == "notebook":
        return NotebookProgress()
    if progress == "text":
        return TextProgress()
    raise ConfigError(f"progress={progress!r}", hint="None, True, 'auto', 'notebook', 'text' or a callable")


def _line(r: dict) -> str:
    if r["event"] == "progress":
        return (f"exp {r['experiment']}: {r['individuals']:,} individuals ({r['individuals_per_s']:,.0f}/s), "
                f"best {r['best']:.6f}, mean {r['mean']:.6f}, {r['time']:.1f}s")
    if r["event"] == "experiment":
        return (f"experiment {r['index']} done: search {r['search_fitness']:.6f}, select {r['select_fitness']:.6f}"
                f" ({r['stopped_by']})")
    if r["event"] == "notice":
        details = ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("event", "what", "time"))
        return f"{r['what']}" + (f": {details}" if details else "")
    if r["event"] == "done":
        return f"done: {r['stopped_by']}, select {r['select_fitness']}, final {r['final_fitness']}"
    return f"{r['event']}: " + ", ".join(f"{k} {v}" for k, v in r.items() if k != "event")


class TextProgress:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr

    def __call__(self, record: dict) -> None:
        print(_line(record), file=self.stream, flush=True)


class NotebookProgress:
    """One output area updated in place (at most 4 times a second, always on experiment and done records)."""

    def __init__(self):
        self.handle, self.last, self.lines, self.latest = None, 0.0, [], None

    def __call__(self, record: dict) -> None:
        from IPython.display import HTML, display

        if record["event"] == "progress":
            self.latest = record
        else:
            self.lines.append(_line(record))
        now = time.monotonic()
        if record["event"] == "progress" and now - self.last < 0.25 and self.handle is not None:
            return
        self.last = now
        html = self.html()
        if self.handle is None:
            self.handle = display(HTML(html), display_id=True)
        else:
            self.handle.update(HTML(html))

    def html(self) -> str:
        import html as h

        rows = ""
        if self.latest:
            cells = "".join(f"<td>{h.escape(_cell(self.latest.get(c)))}</td>" for c in COLUMNS)
            rows = f"<tr>{cells}</tr>"
        head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in COLUMNS)
        done = "".join(f"<div>{h.escape(x)}</div>" for x in self.lines)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{done}"


def _cell(x) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    return "" if x is None else f"{x:,}" if isinstance(x, int) else str(x)
