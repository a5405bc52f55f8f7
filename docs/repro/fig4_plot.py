"""Figure 4 as the paper draws it: evolution's success rate relative to random search's against task difficulty.

Usage: python docs/repro/fig4_plot.py docs/repro/fig4_rates.json -o docs/repro/fig4/ratio_vs_difficulty.png
(the JSON is fig4_rates.py's -o output). One point per task type and evolution budget, log-log, with 95 %
intervals taken at both ends (as in fig4_rates.py's table). A type with no random-search success has only a lower
bound on its difficulty and on its ratio (rule of three on random search, evolution's point estimate): it is drawn
at those bounds, with an arrow along ratio = evolution's rate x difficulty (where the true point lies, up and to
the right) and a dotted line down to the ratio with evolution's lower 95 % end. A type with no success either way
is left out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fig4_rates import intervals


def points(rows: dict) -> list[dict]:
    """Per row: difficulty and ratio (point, 95 % low/high, or a lower bound) from fig4_rates.table's rows."""
    out = []
    for name, row in rows.items():
        r, e = row["random"], row["evolution"]
        if not e["successes"]:
            continue
        r_lo, r_hi, e_lo, e_hi = intervals(row)
        p = {"name": name, "rate": e["rate_full"]}
        if r["passed"]:
            p.update(difficulty=1 / r["rate"], d_lo=1 / r_hi, d_hi=1 / r_lo, ratio=row["ratio_full"],
                     q_lo=e_lo / r_hi, q_hi=e_hi / r_lo, bound=False)
        else:
            p.update(difficulty=1 / r["rate_upper95"], ratio=row["ratio_full_lower95"],
                     q_lo=e_lo / r["rate_upper95"], bound=True)
        out.append(p)
    return out


def plot(rows: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    pts = points(rows)
    for k, p in enumerate(pts):
        color = f"C{k}"
        label = p["name"].replace(" (evolution budget", ",").rstrip(")")
        if p["bound"]:
            ax.plot([p["difficulty"]], [p["ratio"]], marker="^", color=color, linestyle="none",
                    label=f"{label} (lower bounds)")
            ax.annotate("", xy=(p["difficulty"] * 3, p["ratio"] * 3), xytext=(p["difficulty"], p["ratio"]),
                        arrowprops={"arrowstyle": "->", "color": color})  # ratio = rate x difficulty: slope 1
            ax.plot([p["difficulty"]] * 2, [p["q_lo"], p["ratio"]], color=color, linewidth=1, linestyle=":")
        else:
            ax.errorbar([p["difficulty"]], [p["ratio"]], color=color, marker="o", capsize=3, label=label,
                        xerr=[[p["difficulty"] - p["d_lo"]], [p["d_hi"] - p["difficulty"]]],
                        yerr=[[p["ratio"] - p["q_lo"]], [p["q_hi"] - p["ratio"]]])
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.update_datalim([(p["difficulty"] * 3.5, p["ratio"] * 3.5) for p in pts if p["bound"]])
    ax.autoscale_view()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("task difficulty = 1 / random search's success rate")
    ax.set_ylabel("evolution's success rate / random search's")
    ax.set_title("Figure 4: evolution against random search (95 % intervals)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rates", type=Path, help="fig4_rates.py's JSON")
    ap.add_argument("-o", dest="out", type=Path, required=True, help="the PNG to write")
    args = ap.parse_args()
    plot(json.loads(args.rates.read_text()), args.out)
