"""Search stage: repeats of one experiment config over seeds, in parallel processes, under one sweep directory.

sweep.json         what the sweep is: the config (resolved once, so every repeat runs the same one), seeds
repeat_NNN/        a normal run directory per repeat (config.toml, progress.jsonl, summary.json, checkpoint)
sweep_summary.json what the paper reports over the repeats (see `summarize`)

A sweep is resumable as a whole: running it again skips finished repeats, resumes those with a checkpoint
and starts the rest. Run again with more repeats (seeds after the plan's largest) or seeds extending the planned list it
extends the plan: the new repeats are added, the planned ones kept. Another config (a base seed or a --set included) or seeds
that are not an extension of the plan's are refused: the directory holds one sweep. New thresholds replace
the plan's (they only change the summary); none given keeps them. Each repeat is one process with one island (run.workers = 1), so repeats with fixed
seeds give exactly what separate runs with those seeds give.

Ctrl-C or SIGTERM stops the whole sweep: the running repeats checkpoint and stop (as `azc evolve` does), no
further repeat starts, and the summary says `stopped_by`; running the sweep again resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from azlang.errors import AzError, ConfigError
from azlang.search.config import ExperimentConfig, from_dict, load_config, override, to_dict, to_toml
from azlang.search.sweep_repeats import SWEEP, RepeatOutcome, _in_parallel, _in_turn, _toml_ready, repeat_dir

SWEEP_SUMMARY = "sweep_summary.json"
__all__ = ["SWEEP", "SWEEP_SUMMARY", "RepeatOutcome", "plan", "repeat_dir", "run_sweep", "summarize"]

DEFAULT_REPEATS = 5  # a new sweep's repeats when neither repeats nor seeds are given


def plan(config: ExperimentConfig | str | Path, sweep_dir: str | Path, repeats: int | None,
         seeds: list[int] | None = None, overrides: dict | None = None,
         thresholds: list[float] | None = None) -> dict:
    """Create the sweep directory's plan, or resume or extend the one it holds (module docstring).
    `repeats` None: as many as the existing plan has (DEFAULT_REPEATS for a new sweep)."""
    sweep_dir = Path(sweep_dir)
    cfg = _planned_config(config, overrides)
    old = json.loads((sweep_dir / SWEEP).read_text()) if (sweep_dir / SWEEP).exists() else None
    if seeds is None and old is not None:  # the plan's seeds, and more after its largest for more repeats
        repeats = len(old["seeds"]) if repeats is None else repeats
        seeds = old["seeds"][:repeats] + [max(old["seeds"]) + 1 + k for k in range(repeats - len(old["seeds"]))]
    if seeds is None:
        base = cfg.run.random_seed or 1
        seeds = [base + i for i in range(DEFAULT_REPEATS if repeats is None else repeats)]
        repeats = len(seeds)
    if (repeats is not None and len(seeds) != repeats) or not seeds:
        raise ConfigError(f"a sweep needs at least one repeat and one seed per repeat ({repeats} repeats, "
                          f"{len(seeds)} seeds)")
    if len(set(seeds)) != len(seeds) or any(s <= 0 for s in seeds):
        raise ConfigError("sweep seeds must be distinct positive integers (0 would be time-based)")
    if old is not None:
        return _replan(sweep_dir, old, cfg, list(seeds), thresholds)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    data = {"source": str(cfg.source), "config": to_dict(cfg), "seeds": list(seeds),
            "thresholds": list(thresholds or [])}
    _write_plan(sweep_dir, data)
    (sweep_dir / "config.toml").write_text(to_toml(cfg))
    return data


def _planned_config(config: ExperimentConfig | str | Path, overrides: dict | None) -> ExperimentConfig:
    cfg = load_config(config) if isinstance(config, str | Path) else config
    if len(cfg.islands) > 1:  # one island per repeat would silently keep only the first [[islands]] entry
        raise ConfigError(
            f"{cfg.source}: {len(cfg.islands)} [[islands]] entries, but a sweep runs one island per repeat and "
            "would keep only the first",
            hint="run all islands with `azc evolve -c CONFIG`, or sweep a config with one [[islands]] entry "
                 "(e.g. examples/paper/fig5_one_process.toml)",
        )
    return override(cfg, {**(overrides or {}), "run.workers": 1})


def _replan(sweep_dir: Path, old: dict, cfg: ExperimentConfig, seeds: list[int], thresholds) -> dict:
    """The existing plan, extended by new seeds and given new thresholds; anything else is refused."""
    hint = ("resume it with the config, --set and seeds it was planned with (more --repeats add repeats), "
            "or give another --dir")
    changed = _config_changes(from_dict(_toml_ready(old["config"]), old["source"]), cfg)
    if changed:
        raise ConfigError(f"{sweep_dir} holds a sweep of another config ({old['source']}): "
                          + "; ".join(changed), hint=hint)
    if seeds[:len(old["seeds"])] != old["seeds"]:
        raise ConfigError(f"{sweep_dir} holds a sweep planned with {len(old['seeds'])} repeats, seeds "
                          f"{_seed_text(old['seeds'])}; this command asks for {len(seeds)} repeats, seeds "
                          f"{_seed_text(seeds)}, which do not extend that plan", hint=hint)
    data = {**old, "seeds": seeds, "thresholds": list(thresholds) if thresholds else old.get("thresholds", [])}
    if data != old:
        _write_plan(sweep_dir, data)
    return data


def _write_plan(sweep_dir: Path, data: dict) -> None:
    """Plain JSON (infinite config values as Infinity, which from_dict reads back), replaced atomically."""
    tmp = sweep_dir / (SWEEP + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, sweep_dir / SWEEP)


def _config_changes(old: ExperimentConfig, new: ExperimentConfig, limit: int = 5) -> list[str]:
    """`key: planned X, now Y` for each config key that differs (both read through from_dict, so keys added
    to the config schema since the plan was written take their defaults on both sides)."""
    a, b = _flat(json.loads(json.dumps(to_dict(old)))), _flat(json.loads(json.dumps(to_dict(new))))
    keys = [k for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]
    out = [f"{k}: planned {a.get(k)!r}, now {b.get(k)!r}" for k in keys[:limit]]
    return out + ([f"and {len(keys) - limit} more keys"] if len(keys) > limit else [])


def _flat(d, prefix: str = "") -> dict:
    if isinstance(d, dict):
        return {k: v for key, sub in d.items() for k, v in _flat(sub, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): d}


def _seed_text(seeds: list[int]) -> str:
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]}"
    return ",".join(map(str, seeds[:8])) + (f",... ({len(seeds)} seeds)" if len(seeds) > 8 else "")


def run_sweep(config: ExperimentConfig | str | Path, sweep_dir: str | Path, repeats: int | None = 1,
              seeds: list[int] | None = None, jobs: int = 0, overrides: dict | None = None,
              thresholds: list[float] | None = None) -> dict:
    """Run (or finish) every repeat, `jobs` at a time (0 = all cores), and return the sweep summary.
    `repeats` None: the existing plan's (see `plan`)."""
    sweep_dir = Path(sweep_dir)
    data = plan(config, sweep_dir, repeats, seeds, overrides, thresholds)
    todo = [(i, s) for i, s in enumerate(data["seeds"])]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    args = [(str(sweep_dir), i, s) for i, s in todo]
    from azlang.search.interrupt import REASONS, stop_requests

    with stop_requests() as flag:
        outcomes = _in_turn(args, flag) if jobs == 1 else _in_parallel(args, jobs, flag)
    failed = [o for o in outcomes if o.status.startswith("failed")]
    summary = summarize(sweep_dir)
    summary["outcomes"] = [o.__dict__ for o in outcomes]
    stopped = flag.signum is not None or any(o.status == "stopped" for o in outcomes)
    summary["stopped_by"] = REASONS.get(flag.signum, "interrupt") if stopped else None
    _write(sweep_dir / SWEEP_SUMMARY, summary)
    if failed:
        raise AzError(f"{len(failed)} of {len(outcomes)} repeats failed; first: {failed[0].status}",
                      hint=f"fix the cause and run the sweep again to finish it ({sweep_dir})")
    return summary



def _write(path: Path, data: dict) -> None:
    from azlang.search.rundir import _json_safe

    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_json_safe(data), indent=2) + "\n")
    os.replace(tmp, path)


# --- what the paper reports ---------------------------------------------------------------------------------

def best_of(summary: dict) -> float | None:
    """A repeat's result: its final fitness when final tasks were given, else its best select fitness."""
    if summary.get("final_fitness") is not None:
        return summary["final_fitness"]
    return summary.get("select_fitness")


def mean_2sem(values: list[float]) -> tuple[float, float]:
    """Mean and two standard errors of the mean (sample std, n - 1); one value has no error (0)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, 2.0 * math.sqrt(var / n)


def fraction_2sigma(successes: int, n: int) -> tuple[float, float]:
    """Success fraction and two binomial standard deviations sqrt(p (1 - p) / n)."""
    p = successes / n
    return p, 2.0 * math.sqrt(p * (1.0 - p) / n)


def summarize(sweep_dir: str | Path) -> dict:
    """Per repeat: seed, result, compute, acceptance counts; over repeats: mean +- 2 SEM, success fractions
    +- 2 sigma against every threshold of the plan, compute used. Unfinished repeats are listed as such."""
    sweep_dir = Path(sweep_dir)
    data = json.loads((sweep_dir / SWEEP).read_text())
    rows = [_repeat_row(sweep_dir, i, s) for i, s in enumerate(data["seeds"])]
    done = [r for r in rows if r["result"] is not None]
    out = {"sweep": str(sweep_dir), "source": data["source"], "repeats": len(rows), "finished": len(done),
           "rows": rows}
    if done:
        mean, sem2 = mean_2sem([r["result"] for r in done])
        out["result_mean"], out["result_2sem"] = mean, sem2
        out["result_best"] = max(r["result"] for r in done)
        out["success"] = [{"threshold": t, **dict(zip(("fraction", "two_sigma"),
                                                       fraction_2sigma(sum(r["result"] > t for r in done),
                                                                       len(done))))}
                          for t in data.get("thresholds", [])]
        accepted = [r for r in done if r["passed"] is not None]
        if accepted:
            frac, sig2 = fraction_2sigma(sum(r["passed"] > 0 for r in accepted), len(accepted))
            out["acceptance"] = {"fraction": frac, "two_sigma": sig2}
    out["compute"] = {k: sum(r[k] for r in rows) for k in ("train_steps", "individuals", "core_seconds")}
    return out


def _repeat_row(sweep_dir: Path, index: int, seed: int) -> dict:
    path = repeat_dir(sweep_dir, index) / "summary.json"
    s = json.loads(path.read_text()) if path.exists() else {}
    exps = s.get("experiments", [])
    counts = [e.get("counts") or {} for e in exps]
    passed = [c["passed"] for c in counts if "passed" in c]
    return {
        "repeat": index,
        "seed": seed,
        "run_dir": str(repeat_dir(sweep_dir, index)),
        "result": best_of(s) if s else None,
        "select_fitness": s.get("select_fitness"),
        "final_fitness": s.get("final_fitness"),
        "individuals": s.get("individuals", 0),
        "train_steps": s.get("train_steps", 0),
        "core_seconds": s.get("seconds", 0.0),  # one process per repeat
        "passed": sum(passed) if passed else None,
        "stopped_by": s.get("stopped_by"),
    }
