"""docs/repro/fig4_rates.py, fig4_plot.py and s10_full.py on made-up trees of sweep summaries."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

REPRO = Path(__file__).resolve().parent.parent / "docs" / "repro"


def _script(name: str):
    sys.path.insert(0, str(REPRO))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(REPRO))


@pytest.fixture(scope="module")
def rates():
    return _script("fig4_rates")


def _sweep(root: Path, name: str, repeats: list[tuple[int, int | None]]) -> None:
    """A sweep directory with one summary per repeat: (evaluated, index of the first passing program or None)."""
    for i, (evaluated, first) in enumerate(repeats):
        rep = root / name / f"repeat_{i:03d}"
        rep.mkdir(parents=True)
        counts = {"evaluated": evaluated, "passed": int(first is not None),
                  "first_pass": None if first is None else {"individual": first}}
        (rep / "summary.json").write_text(json.dumps({"experiments": [{"counts": counts, "seconds": 1.0}]}))


def _tree(tmp_path: Path, easy_rs_hits: int) -> Path:
    # easy type: random search passes `easy_rs_hits` of 2e6; evolution 20 of 100 repeats of 1000
    _sweep(tmp_path / "fig4", "fig4_linear_backprop_random", [(1_000_000, 5)] * easy_rs_hits
           + [(1_000_000, None)] * (2 - easy_rs_hits))
    _sweep(tmp_path / "fig4x", "evo100k_linear_backprop_s9", [(1000, 99)] * 20 + [(1000, None)] * 80)
    # hard type: random search 0 of 3e7 (two pools), evolution 10 of 100 repeats of 1000
    _sweep(tmp_path / "fig4x", "rs1m_linear_regressor", [(10_000_000, None)] * 2)
    _sweep(tmp_path / "fig4x", "rs1m_linear_regressor_s9", [(10_000_000, None)])
    _sweep(tmp_path / "fig4x", "evo100k_linear_regressor", [(1000, 500)] * 10 + [(1000, None)] * 90)
    _sweep(tmp_path / "fig4x", "rs1m_linear_regressorx", [(1_000_000, 1)])  # another type's name: not pooled
    return tmp_path


def test_rates_pool_every_part_and_bound_a_type_without_random_success(rates, tmp_path):
    rows = rates.table(_tree(tmp_path, 2))
    easy, hard = rows["linear_backprop (evolution budget 100k)"], rows["linear_regressor (evolution budget 100k)"]
    assert easy["random"]["evaluated"] == 2_000_000 and easy["random"]["passed"] == 2
    assert easy["evolution"]["successes"] == 20 and easy["evolution"]["evaluated"] == 100_000
    assert easy["evolution"]["evaluated_to_first"] == 20 * 100 + 80 * 1000
    assert easy["ratio_full"] == pytest.approx((20 / 100_000) / (2 / 2_000_000))
    assert hard["random"]["evaluated"] == 30_000_000 and hard["random"]["passed"] == 0
    assert hard["random"]["rate_upper95"] == pytest.approx(3 / 30_000_000)
    assert hard["ratio_full_lower95"] == pytest.approx((10 / 100_000) / (3 / 30_000_000))
    assert "> 1e+07" in rates.markdown(rows)  # the difficulty is a bound


def test_trend_is_the_posterior_probability_that_the_harder_ratio_is_larger(rates, tmp_path):
    rows = rates.table(_tree(tmp_path, 2))
    (t,) = rates.trend(rows, draws=50_000)
    assert t["harder"].startswith("linear_regressor") and t["easier"].startswith("linear_backprop")
    # ratio 200 against at least 1000 (no random success in 3e7): the harder type's is larger, almost surely
    assert 0.9 < t["p_harder_ratio_larger"] <= 1.0
    lo, mid, hi = t["ratio_easier"]
    assert lo < 200 < hi and lo < mid < hi
    assert rates.trend(rows, draws=50_000) == rates.trend(rows, draws=50_000)  # seeded: the same every time


def test_trend_turns_when_the_easy_type_is_the_more_efficient(rates, tmp_path):
    rows = rates.table(_tree(tmp_path, 1))  # the easy type's ratio: 400
    hard = rows["linear_regressor (evolution budget 100k)"]
    hard["random"]["passed"], hard["evolution"]["successes"] = 3, 1  # still harder (1e-7), ratio 100
    (t,) = rates.trend(rows, draws=50_000)
    assert t["p_harder_ratio_larger"] < 0.5


def test_plot_writes_a_png(rates, tmp_path):
    pytest.importorskip("matplotlib")
    plot = _script("fig4_plot")
    rows = rates.table(_tree(tmp_path / "runs", 2))
    kinds = {p["name"].split()[0]: p["bound"] for p in plot.points(rows)}
    assert kinds == {"linear_backprop": False, "linear_regressor": True}
    out = tmp_path / "fig4.png"
    plot.plot(rows, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _s10_repeat(sweep: Path, seed: int, steps: float, search: float, default: float, balanced: list[float],
                passed: bool) -> None:
    rep = sweep / "repeat_000"
    rep.mkdir(parents=True)
    exp = {"search_fitness": search, "individuals": 10, "train_steps": steps, "seconds": 3600.0,
           "counts": {"first_pass": {"individual": 3} if passed else None}}
    (rep / "summary.json").write_text(json.dumps({"seed": seed, "final_fitness": default, "experiments": [exp]}))
    (rep / "heldout_balanced.json").write_text(json.dumps({"tasks": [{"accuracy": a} for a in balanced]}))


def test_s10_full_budget_table_counts_only_repeats_at_1e11(tmp_path):
    full = _script("s10_full")
    ev = tmp_path / "s10" / "eval"
    ev.mkdir(parents=True)
    for name, acc in (("logistic_sgd", 0.68), ("nn_2layer", 0.71)):
        for kind in ("default", "balanced"):
            (ev / f"{name}_{kind}.json").write_text(json.dumps({"tasks": [{"accuracy": acc}]}))
    _s10_repeat(tmp_path / "s10x" / "basic_1", 1, 1.00002e11, 0.69, 0.676, [0.69, 0.70], True)
    _s10_repeat(tmp_path / "s10x" / "basic_2", 2, 1.0e11, 0.70, 0.680, [0.67, 0.68], False)
    _s10_repeat(tmp_path / "s10x" / "basic_3", 3, 4e10, 0.60, 0.600, [0.60], False)  # short of the budget
    _s10_repeat(tmp_path / "s10x" / "full_1", 1, 1e10, 0.70, 0.683, [0.69], True)  # a tenth: left out
    t = full.table(tmp_path)
    assert list(t["methods"]) == ["basic"]
    a = t["methods"]["basic"]["summary"]
    assert a["n"] == 2 and a["default"][0] == pytest.approx(0.678) and a["default"][1] == pytest.approx(0.002)
    assert a["balanced"][0] == pytest.approx((0.695 + 0.675) / 2)
    assert (a["success_search"], a["success_heldout"]) == (1, 1)  # 0.695 > 0.68 balanced; 0.675 is not
    assert "| evolved, Basic | 2 | 0.6780 +- 0.0020 |" in full.markdown(t)
