"""Report stage: PNG figures with matplotlib (an optional extra: `pip install 'azlang[plot]'`)."""

from __future__ import annotations

from pathlib import Path

from azlang.errors import AzError
from azlang.report.load import Run, Sweep


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise AzError("plots need matplotlib, which is not installed",
                      hint="pip install 'azlang[plot]' (or pip install matplotlib), or pass --no-plots") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def write_plots(items: list[Run | Sweep], out_dir: Path) -> list[Path]:
    """Best and mean fitness against train steps and against time, evolution against random search, success
    fraction against compute (sweeps with thresholds) and one figure per sweep; returns the files written."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = [(it.name, r) for it in items for r in (it.runs if isinstance(it, Sweep) else [it])]
    written = [_curves(plt, runs, "steps", out_dir / "fitness_vs_steps.png"),
               _curves(plt, runs, "seconds", out_dir / "fitness_vs_time.png")]
    if len({r.algorithm for _, r in runs}) > 1:
        written.append(_versus(plt, runs, out_dir / "evolution_vs_random.png"))
    sweeps = [it for it in items if isinstance(it, Sweep)]
    if any(s.thresholds for s in sweeps):
        written.append(_success(plt, sweeps, out_dir / "success_vs_compute.png"))
    for s in sweeps:
        written.append(_curves(plt, [(s.name, r) for r in s.runs], "steps", out_dir / f"sweep_{s.name}.png",
                               title=f"{s.name}: {len(s.runs)} repeats", per_run=True))
    return written


LEGEND_MAX = 10  # runs named in a legend; more are counted in one entry
XLABEL = {"steps": "train steps", "seconds": "seconds", "individuals": "individuals evaluated"}


def _curves(plt, runs, x: str, path: Path, title: str | None = None, per_run: bool = False) -> Path:
    """Best (solid, as steps: it changes only at progress lines; random search: the best so far, load.py) and
    mean (dashed) population fitness; one colour per group (run or sweep), or per run with `per_run`."""
    fig, ax = plt.subplots(figsize=(8, 5))
    keys = [r.name for _, r in runs] if per_run else sorted({g for g, _ in runs})
    colors = {k: plt.cm.tab10(i % 10) for i, k in enumerate(keys)}
    labelled = set()
    for group, run in runs:
        xs = getattr(run.curve, x)
        if not xs:
            continue
        key = run.name if per_run else group
        # a legend of 100 repeats would cover the plot: name the first LEGEND_MAX, count the rest
        label = key if key not in labelled and keys.index(key) < LEGEND_MAX else None
        labelled.add(key)
        marker = "o" if len(xs) < 3 else None  # a short run may have one progress line: show it as a point
        ax.plot(xs, run.curve.best, color=colors[key], lw=1.5, drawstyle="steps-post", label=label, marker=marker)
        ax.plot(xs, run.curve.mean, color=colors[key], lw=0.8, ls="--")
    if len(labelled) > LEGEND_MAX:
        ax.plot([], [], color="none", label=f"... and {len(labelled) - LEGEND_MAX} more")
    if labelled:
        best = "solid: best" + (" (random search: so far)" if any(r.algorithm == "random" for _, r in runs) else "")
        ax.plot([], [], color="gray", lw=1.5, label=best)
        ax.plot([], [], color="gray", lw=0.8, ls="--", label="dashed: mean")
    ax.set_xlabel(XLABEL[x])
    ax.set_ylabel("search fitness (population)")
    if x == "steps":
        _log_x(plt, ax)
    ax.set_title(title or f"best and mean fitness against {XLABEL[x]}")
    ax.grid(alpha=0.3)
    if labelled:
        ax.legend(fontsize=8)
    return _save(plt, fig, path)


def _versus(plt, runs, path: Path) -> Path:
    """Best fitness of every run, coloured by algorithm, against individuals (the paper's budget unit) and
    against train steps (FEC makes evolution's children cheaper): evolution's population best, random search's
    best so far."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    colors = {"evolution": "tab:blue", "random": "tab:orange"}
    for ax, x in zip(axes, ("individuals", "steps")):
        seen = set()
        for _, run in runs:
            xs = getattr(run.curve, x)
            if xs:
                label = run.algorithm if run.algorithm not in seen else None
                seen.add(run.algorithm)
                marker = "o" if len(xs) < 3 else None  # one progress line (a short repeat) would draw nothing
                ax.plot(xs, run.curve.best, color=colors.get(run.algorithm, "gray"), lw=1.2, label=label,
                        drawstyle="steps-post", marker=marker)
        _log_x(plt, ax)
        ax.set_xlabel(XLABEL[x])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("best search fitness (random: so far)")
    axes[0].legend()
    fig.suptitle("evolution against random search")
    return _save(plt, fig, path)


def _log_x(plt, ax) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(plt.NullFormatter())


def _success(plt, sweeps: list[Sweep], path: Path) -> Path:
    """Fraction of a sweep's repeats whose population's best has passed the threshold by each step count."""
    fig, ax = plt.subplots(figsize=(8, 5))
    for s in sweeps:
        for t in s.thresholds:
            firsts = [_first_step(r, t) for r in s.runs]
            xs = sorted(x for x in firsts if x is not None)
            if not s.runs:
                continue
            n = len(s.runs)
            end = max((r.curve.steps[-1] for r in s.runs if r.curve.steps), default=1.0)
            lo = min((r.curve.steps[0] for r in s.runs if r.curve.steps), default=1.0)
            ys = [0.0] + [(k + 1) / n for k in range(len(xs))]
            ax.step([lo] + xs + [end], ys + [ys[-1]], where="post", label=f"{s.name} > {t}")
    _log_x(plt, ax)
    ax.set_xlabel("train steps per repeat")
    ax.set_ylabel("success fraction")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("success fraction against compute")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def _first_step(run: Run, threshold: float):
    for x, b in zip(run.curve.steps, run.curve.best):
        if b > threshold:
            return x
    return None


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
