"""API stage: how results read in a notebook (HTML) and in a terminal (rich), for Program, RunResult and
EvolveResult. Only called when displayed; imports rich lazily."""

from __future__ import annotations

import html


def _f(x) -> str:
    return "-" if x is None else f"{x:.6f}"


def program_html(program) -> str:
    return f"<pre style='line-height:1.25'>{html.escape(str(program))}</pre>"


def _html_table(head: list[str], rows: list[list[str]], caption: str = "") -> str:
    cap = f"<caption style='text-align:left'>{html.escape(caption)}</caption>" if caption else ""
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table>{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def run_rows(result) -> list[list[str]]:
    rows = [[t.name, t.spec, f"{t.fitness:.6f}", str(t.train_steps)] for t in result.tasks]
    return rows + [["combined", "", f"{result.fitness:.6f}", ""]]


def run_html(result) -> str:
    return _html_table(["task", "spec", "fitness", "train steps"], run_rows(result), f"{result.backend} backend")


def run_table(result):
    from rich.table import Table

    t = Table(title=f"{result.backend} backend")
    for col in ("task", "spec", "fitness", "train steps"):
        t.add_column(col)
    for row in run_rows(result):
        t.add_row(*row)
    return t


def _summary_rows(result) -> list[list[str]]:
    return [[str(e.index), _f(e.search_fitness), _f(e.select_fitness), f"{e.individuals:,}", f"{e.seconds:.1f}",
             e.stopped_by, "*" if e.best_so_far else ""] for e in result.experiments]


HEAD = ["experiment", "search", "select", "individuals", "seconds", "stopped by", "best"]


def _caption(result) -> str:
    return (f"select fitness {_f(result.select_fitness)}, final {_f(result.final_fitness)}; "
            f"{result.individuals:,} individuals in {result.seconds:.1f}s; stopped by {result.stopped_by}")


def evolve_html(result) -> str:
    best = program_html(result.best) if result.best is not None else "<p>no program</p>"
    return _html_table(HEAD, _summary_rows(result), _caption(result)) + "<p>best program:</p>" + best


def evolve_table(result):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    t = Table(title=_caption(result))
    for col in HEAD:
        t.add_column(col)
    for row in _summary_rows(result):
        t.add_row(*row)
    return Group(t, Text(str(result.best) if result.best is not None else "no program"))
