"""Table S5 at one process from azc sweep directories: held-out accuracy of Basic and Full over repeats.

Usage: python docs/repro/s10_table.py ROOT [-o table.json]   (ROOT/s10/r2_basic and ROOT/s10/r2_full are the sweeps,
each repeat_NNN/ holding heldout_balanced.json from `azc run best.az ... --json`; the default held-out set is the
run's own final evaluation, summary.json `final_fitness`;
ROOT/s10/eval/{logistic_sgd,nn_2layer}_{default,balanced}.json are the baselines on the same tasks).
Per method: mean +- one standard error over repeats of the best program's mean accuracy on the held-out tasks
(default: the configs' `final` draw of 100 tasks; balanced: 10 tasks of each of the 9 held-out pairs), and the
success fraction two ways: the repeat's search found a program at least as good as logistic regression on its own
search tasks (`first_pass`, the acceptance threshold), or its best beats logistic regression's held-out mean.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

METHODS = ("basic", "full")
PAPER = {"basic": ("0.671 +- 0.004", "0.01"), "full": ("0.684 +- 0.003", "0.03")}


def task_mean(path: Path) -> float:
    return statistics.mean(t["accuracy"] for t in json.loads(path.read_text())["tasks"])


def mean_se(values: list[float]) -> tuple[float, float]:
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return statistics.mean(values), se


def repeats(sweep: Path) -> list[dict]:
    """One row per finished repeat with both held-out evaluations."""
    rows = []
    for rep in sorted(sweep.glob("repeat_*")):
        summary, balanced = rep / "summary.json", rep / "heldout_balanced.json"
        if not (summary.exists() and balanced.exists()):
            continue
        s = json.loads(summary.read_text())
        exp = s["experiments"][0]
        rows.append({"seed": s["seed"], "search": exp["search_fitness"], "final": s["final_fitness"],
                     "default": s["final_fitness"], "balanced": task_mean(balanced),
                     "passed_search": exp["counts"]["first_pass"] is not None,
                     "individuals": exp["individuals"], "train_steps": exp["train_steps"],
                     "seconds": exp["seconds"]})
    return rows


def baselines(root: Path) -> dict:
    return {n: {k: task_mean(root / "s10" / "eval" / f"{n}_{k}.json") for k in ("default", "balanced")}
            for n in ("logistic_sgd", "nn_2layer")}


def summary(rows: list[dict], base: dict) -> dict:
    """Mean +- standard error of the repeats' accuracies and fitness, their successes both ways, their time."""
    agg = {k: mean_se([r[k] for r in rows]) for k in ("default", "balanced", "search")}
    agg["n"] = len(rows)
    agg["success_search"] = sum(r["passed_search"] for r in rows)
    agg["success_heldout"] = sum(r["balanced"] > base["logistic_sgd"]["balanced"] for r in rows)
    agg["core_seconds"] = sum(r["seconds"] for r in rows)
    return agg


def table(root: Path) -> dict:
    base = baselines(root)
    out = {"baselines": base, "methods": {}}
    for m in METHODS:
        rows = repeats(root / "s10" / f"r2_{m}")
        if rows:
            out["methods"][m] = {"repeats": rows, "summary": summary(rows, base)}
    return out


def markdown(t: dict) -> str:
    b = t["baselines"]
    lines = [("| program | repeats | held-out, default (100 tasks) | held-out, pair-balanced (90 tasks) | "
             "beats logistic regression: on its search tasks / held-out (balanced) | paper (Table S5): accuracy; "
             "success fraction |"), "|---|---|---|---|---|---|"]
    for n, label in (("logistic_sgd", "logistic regression"), ("nn_2layer", "two-layer net")):
        lines.append(f"| {label} | - | {b[n]['default']:.4f} | {b[n]['balanced']:.4f} | - | - |")
    for m, data in t["methods"].items():
        a = data["summary"]
        n = a["n"]
        lines.append(f"| evolved, {m.capitalize()} | {n} | {a['default'][0]:.4f} +- {a['default'][1]:.4f} | "
                     f"{a['balanced'][0]:.4f} +- {a['balanced'][1]:.4f} | {a['success_search']}/{n} / "
                     f"{a['success_heldout']}/{n} | {PAPER[m][0]}; {PAPER[m][1]} |")
    return "\n".join(lines)


def per_repeat(t: dict) -> str:
    lines = ["| method | seed | search fitness | held-out default | held-out balanced | individuals | train steps |",
             "|---|---|---|---|---|---|---|"]
    for m, data in t["methods"].items():
        for r in data["repeats"]:
            lines.append(f"| {m} | {r['seed']} | {r['search']:.4f}{' (passed)' if r['passed_search'] else ''} | "
                         f"{r['default']:.4f} | {r['balanced']:.4f} | {r['individuals']:,} | {r['train_steps']:.2g} |")
    return "\n".join(lines)


if __name__ == "__main__":
    from repro_cli import main

    main(__doc__, table, markdown, per_repeat)
