"""Figure 4 rates from azc sweep directories: random-search difficulty, evolution success rate, their ratio.

Usage: python docs/repro/fig4_rates.py ROOT [-o table.json]   (ROOT/fig4/ and ROOT/fig4x/ hold the sweep
directories that the commands in docs/reproduction.md make).
Difficulty = evaluated / passed over all random-search repeats (the inverse of the fraction of random programs at
least as good as the hand-written reference). Evolution's success rate = repeats with a passing program (at most
one per repeat) / evaluations, counted two ways: `full` charges every repeat its whole budget, `to_first` charges
a successful repeat only the evaluations up to its first passing program (restart-on-failure, stop-on-success).
With no success the rate is given as the 95 % upper bound 3 / evaluations (rule of three).
The trend (does the ratio grow with difficulty?) is read from posterior draws: each of the four Poisson rates
behind two rows' ratios gets a Jeffreys prior (posterior Gamma(k + 1/2) / n), so a type with no random-search success
still has a proper posterior; the table gives, per pair of rows at one evolution budget, the probability that the
harder type's ratio is the larger (fixed seed, 400,000 draws).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

TYPES = ("linear_regressor", "linear_backprop", "affine_regressor", "affine_backprop")


def poisson_ci(k: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson mean after k events, by bisection on the Poisson CDF."""
    tail = (1 - level) / 2

    def cdf(n: int, mu: float) -> float:
        term = total = math.exp(-mu)
        for i in range(1, n + 1):
            term *= mu / i
            total += term
        return total

    def solve(f, lo=0.0, hi=1000.0):
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
        return (lo + hi) / 2

    lower = 0.0 if k == 0 else solve(lambda mu: 1 - cdf(k - 1, mu) < tail and 1 or -1)
    upper = solve(lambda mu: cdf(k, mu) > tail and 1 or -1)
    return lower, upper


def _experiments(sweeps: list[Path]):
    for sweep in sweeps:
        for summary in sorted(sweep.glob("repeat_*/summary.json")):
            yield from json.loads(summary.read_text())["experiments"]


def random_rate(sweeps: list[Path]) -> dict:
    ev = passed = 0
    secs = 0.0
    for exp in _experiments(sweeps):
        ev += exp["counts"]["evaluated"]
        passed += exp["counts"]["passed"]
        secs += exp["seconds"]
    return {"evaluated": ev, "passed": passed, "rate": passed / ev if passed else None,
            "rate_upper95": (passed or 3) / ev if not passed else None, "seconds": round(secs, 1)}


def evolution_rate(sweeps: list[Path]) -> dict:
    repeats = successes = full = to_first = 0
    secs = 0.0
    budget = 0
    for exp in _experiments(sweeps):
        c = exp["counts"]
        repeats += 1
        full += c["evaluated"]
        budget = max(budget, c["evaluated"])
        secs += exp["seconds"]
        if c["first_pass"] is not None:
            successes += 1
            to_first += c["first_pass"]["individual"] + 1
        else:
            to_first += c["evaluated"]
    out = {"repeats": repeats, "budget": budget, "successes": successes, "evaluated": full,
           "evaluated_to_first": to_first, "seconds": round(secs, 1)}
    out["rate_full"] = successes / full if successes else None
    out["rate_to_first"] = successes / to_first if successes else None
    out["rate_upper95"] = 3 / full if not successes else None
    return out


def _pooled(name: str, prefix: str, t: str) -> bool:
    """A later sweep of the same kind: rs<budget>_<type>[_<part>], evo100k_<type>[_<part>] or evo10k_<type>[_<part>]."""
    if not name.startswith(prefix):
        return False
    rest = name[len(prefix):]
    if prefix == "rs":
        rest = rest.partition("_")[2]  # drop the budget (100k, 1m)
    return rest == t or rest.startswith(f"{t}_") and rest[len(t) + 1:].isalnum()


def table(root: Path) -> dict:
    """Rows per task type and evolution budget; every sweep under ROOT/*/ named after its type is pooled:
    evolution fig4_<type> and evo100k_<type>[_<part>] (10k: evo10k_<type>[_<part>]), random search fig4_<type>_random
    and rs<budget>_<type>[_<part>]."""
    rows = {}
    for t in TYPES:
        rs = [d for d in root.glob("*/*") if d.name == f"fig4_{t}_random" or _pooled(d.name, "rs", t)]
        evo = [d for d in root.glob("*/*") if d.name == f"fig4_{t}" or _pooled(d.name, "evo100k_", t)]
        evo10k = [d for d in root.glob("*/*") if _pooled(d.name, "evo10k_", t)]
        if not rs:
            continue
        r = random_rate(rs)
        for label, dirs in (("100k", evo), ("10k", evo10k)):
            if not dirs:
                continue
            e = evolution_rate(dirs)
            row = {"random": r, "evolution": e, "random_dirs": sorted(str(d.relative_to(root)) for d in rs),
                   "evolution_dirs": sorted(str(d.relative_to(root)) for d in dirs)}
            if r["rate"] and e["rate_full"]:
                row["ratio_full"] = e["rate_full"] / r["rate"]
                row["ratio_to_first"] = e["rate_to_first"] / r["rate"]
            elif e["rate_full"]:  # no random success: the ratio is at least this (95 %)
                row["ratio_full_lower95"] = e["rate_full"] / r["rate_upper95"]
                row["ratio_to_first_lower95"] = e["rate_to_first"] / r["rate_upper95"]
            rows[f"{t} (evolution budget {label})"] = row
    return rows


def intervals(row: dict) -> tuple[float, float, float, float]:
    """95 % intervals (exact Poisson) of the row's random-search rate and evolution's full-budget rate per evaluation:
    (rs_low, rs_high, evo_low, evo_high)."""
    r, e = row["random"], row["evolution"]
    r_lo, r_hi = (x / r["evaluated"] for x in poisson_ci(r["passed"]))
    e_lo, e_hi = (x / e["evaluated"] for x in poisson_ci(e["successes"]))
    return r_lo, r_hi, e_lo, e_hi


def _ratio_draws(row: dict, rng, n: int):
    """Posterior draws of the row's ratio evolution rate / random-search rate (Jeffreys priors on both)."""
    r, e = row["random"], row["evolution"]
    evo = rng.gamma(e["successes"] + 0.5, size=n) / e["evaluated"]
    rs = rng.gamma(r["passed"] + 0.5, size=n) / r["evaluated"]
    return evo / rs


def trend(rows: dict, draws: int = 400_000, seed: int = 2020) -> list[dict]:
    """For each pair of rows at one evolution budget where both types have evolution successes: the posterior
    probability that the type with the larger difficulty (random search's rate lower) has the larger ratio, and
    each ratio's posterior median and 95 % interval."""
    import numpy as np

    rng = np.random.default_rng(seed)
    usable = {k: v for k, v in rows.items() if v["evolution"]["successes"]}
    samples = {k: _ratio_draws(v, rng, draws) for k, v in usable.items()}
    out = []
    names = list(usable)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if usable[a]["evolution"]["budget"] != usable[b]["evolution"]["budget"]:
                continue
            ra, rb = usable[a]["random"], usable[b]["random"]
            rate = {k: (r["passed"] + 0.5) / r["evaluated"] for k, r in ((a, ra), (b, rb))}
            hard, easy = (a, b) if rate[a] < rate[b] else (b, a)
            q = {k: [float(x) for x in np.quantile(samples[k], [0.025, 0.5, 0.975])] for k in (hard, easy)}
            out.append({"harder": hard, "easier": easy, "p_harder_ratio_larger": float(np.mean(samples[hard] > samples[easy])),
                        "ratio_harder": q[hard], "ratio_easier": q[easy]})
    return out


def _prob(p: float) -> str:
    return "> 0.999" if p > 0.999 else "< 0.001" if p < 0.001 else f"{p:.3f}"


def trend_markdown(rows: dict) -> str:
    out = ["| harder type | easier type | ratio, harder [95 %] | ratio, easier [95 %] | P(harder's ratio is larger) |",
           "|---|---|---|---|---|"]
    for t in trend(rows):
        h, e = t["ratio_harder"], t["ratio_easier"]
        out.append(f"| {t['harder']} | {t['easier']} | {h[1]:.2g} [{h[0]:.2g}, {h[2]:.2g}] | "
                   f"{e[1]:.2g} [{e[0]:.2g}, {e[2]:.2g}] | {_prob(t['p_harder_ratio_larger'])} |")
    return "\n".join(out)


def _sci(x: float | None) -> str:
    return "-" if x is None else f"{x:.2g}"


def markdown(rows: dict) -> str:
    """The table of docs/reproduction.md: one line per task type and evolution budget."""
    out = [("| task type (evolution budget per repeat) | random search: passed / evaluated | difficulty "
           "(1 / RS rate) [95 %] | evolution: successful repeats / repeats | evolution rate, full budget [95 %] | "
           "evolution rate, to first success | ratio evolution / RS: full (to first); [95 %, both ends] |"), "|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        r, e = row["random"], row["evolution"]
        r_lo, r_hi, e_lo, e_hi = intervals(row)
        diff = (f"{1 / r['rate']:.2g} [{1 / r_hi:.2g}, {1 / r_lo:.2g}]" if r["rate"]
                else f"> {1 / r['rate_upper95']:.2g}")
        e_full = (f"{_sci(e['rate_full'])} [{e_lo:.2g}, {e_hi:.2g}]" if e["successes"]
                  else f"< {_sci(e['rate_upper95'])}")
        e_first = _sci(e["rate_to_first"]) if e["successes"] else "-"
        if "ratio_full" in row:
            ratio = (f"{row['ratio_full']:.2g} ({row['ratio_to_first']:.2g}); "
                     f"[{e_lo / r_hi:.2g}, {e_hi / r_lo:.2g}]")
        elif "ratio_full_lower95" in row:
            ratio = f"> {row['ratio_full_lower95']:.2g} (> {row['ratio_to_first_lower95']:.2g})"
        else:
            ratio = "not measurable (no success either way)"
        out.append(f"| {name} | {r['passed']} / {r['evaluated']:,} | {diff} | {e['successes']} / {e['repeats']} "
                   f"({e['evaluated']:,} evaluated) | {e_full} | {e_first} | {ratio} |")
    return "\n".join(out)


if __name__ == "__main__":
    from repro_cli import main

    main(__doc__, table, markdown, trend_markdown)
