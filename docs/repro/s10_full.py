"""Table S5 at the paper's full budget: the S10 repeats that ran 1e11 train steps, per method, beside the baselines.

Usage: python docs/repro/s10_full.py ROOT [-o table.json]   (every ROOT/s10x/<method>_<seed> sweep, as the S10
commands in docs/reproduction.md make them, whose repeat reached 1e11 train steps and holds heldout_balanced.json;
the baselines are ROOT/s10/eval/{logistic_sgd,nn_2layer}_{default,balanced}.json, as for s10_table.py, which
also prints the tables: mean +- one standard error over the repeats of the default held-out accuracy (the run's own
final evaluation on the config's 100 `final` tasks) and the pair-balanced one (10 tasks of each of the 9 held-out
pairs), and how many repeats passed logistic regression's level on their own search tasks / on the balanced
held-out tasks.
"""

from __future__ import annotations

from pathlib import Path

from s10_table import METHODS, baselines, markdown, per_repeat, repeats, summary

BUDGET = 1e11  # the paper's train steps per process (Table S5)


def table(root: Path) -> dict:
    base = baselines(root)
    out = {"baselines": base, "budget": BUDGET, "methods": {}}
    for m in METHODS:
        rows = [r for sweep in sorted((root / "s10x").glob(f"{m}_*")) for r in repeats(sweep)
                if r["train_steps"] >= BUDGET]
        if rows:
            out["methods"][m] = {"repeats": rows, "summary": summary(rows, base)}
    return out


if __name__ == "__main__":
    from repro_cli import main

    main(__doc__, table, markdown, per_repeat)
