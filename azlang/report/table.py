"""Report stage: the comparison table and hall-of-fame listing as plain data and rich renderables."""

from __future__ import annotations

from rich.table import Table

from azlang.report.load import Run, Sweep, hall_of_fame, run_row, sweep_row

COLUMNS = (("name", "left"), ("kind", "left"), ("repeats", "right"), ("result", "right"),
           ("individuals", "right"), ("train steps", "right"), ("core-s", "right"), ("passed", "right"),
           ("stopped by", "left"))


def rows(items: list[Run | Sweep]) -> list[dict]:
    return [sweep_row(it) if isinstance(it, Sweep) else run_row(it) for it in items]


def _num(x, digits: int = 6) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _count(x) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if x >= 1e6 else str(int(x))


def render(table_rows: list[dict]) -> Table:
    t = Table(title="runs and sweeps (result: final fitness, else best select fitness; sweeps: mean +- 2 SEM)")
    for col, justify in COLUMNS:
        t.add_column(col, justify=justify)
    for r in table_rows:
        result = _num(r["result"]) + (f" +- {r['result_2sem']:.6f}" if r["result_2sem"] is not None else "")
        t.add_row(r["name"], r["kind"], str(r["repeats"]), result, _count(r["individuals"]),
                  _count(r["train_steps"]), f"{r['core_seconds']:.1f}", _count(r["passed"]), r["stopped_by"] or "-")
    return t


def success_lines(items: list[Run | Sweep]) -> list[str]:
    out = []
    for it in items:
        if isinstance(it, Sweep):
            for s in it.summary.get("success", []):
                out.append(f"{it.name}: result > {s['threshold']}: {s['fraction']:.3f} +- {s['two_sigma']:.3f} "
                           f"(2 sigma, {it.summary['finished']} repeats)")
            acc = it.summary.get("acceptance")
            if acc:
                out.append(f"{it.name}: repeats with an accepted program: "
                           f"{acc['fraction']:.3f} +- {acc['two_sigma']:.3f}")
    return out


def hall_lines(items: list[Run | Sweep], top: int) -> list[str]:
    """The hall of fame of every run (each repeat of a sweep), best first, programs indented."""
    out = []
    for it in items:
        for run in it.runs if isinstance(it, Sweep) else [it]:
            entries = hall_of_fame(run)
            if not entries:
                continue
            out.append(f"hall of fame of {run.name}:")
            for exp, h in sorted(entries, key=lambda e: -e[1]["fitness"])[:top]:
                out.append(f"  fitness {h['fitness']:.6f}  experiment {exp}  island {h['island']}  "
                           f"individual {h['individual']}  [{h['hash']}]")
                out.extend("      " + line for line in h["text"].rstrip().splitlines())
    return out
