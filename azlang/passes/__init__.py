"""Pass stage: IR-to-IR passes as named objects with a contract, run in sequence by name (`-p dce,canon`).

Every pass takes a valid Program and returns a valid Program. Passes marked `exact` leave the fitness of
the program unchanged on every task (for random ops, see each pass's docstring); the others change the
program's meaning on purpose (decouple replaces random-derived constants by their expected values).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from azlang.errors import ConfigError
from azlang.ir.nodes import COMPONENTS, Program


@dataclass(frozen=True)
class PassOptions:
    """Knobs shared by the passes. `random_policy`: "keep" (dce keeps dead random draws whenever a live
    draw exists, so the random stream and thus fitness stay exact) or "drop". `F`, `samples`, `seed`:
    where decouple estimates expected values of random-derived constants by sampling Setup. `multiclass`:
    the program is for multi-class tasks, whose prediction is v1[0:C] rather than s1 (dce keeps what feeds it)."""

    random_policy: str = "keep"
    F: int = 4
    samples: int = 256
    seed: int = 0
    multiclass: bool = False


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable[[Program, PassOptions], Program]
    summary: str
    exact: bool = True  # preserves fitness on every task


@dataclass
class PassStats:
    """What one pass did: instructions before and after, removed, and changed (new content, not moves)."""

    name: str
    before: int
    after: int
    removed: int
    changed: int
    params_added: int = 0


@dataclass
class PipelineStats:
    passes: list[PassStats] = field(default_factory=list)

    def as_rows(self) -> list[dict]:
        return [vars(p) for p in self.passes]


PASSES: dict[str, Pass] = {}


def register(name: str, summary: str, exact: bool = True):
    """Decorator: add a `fn(program, options) -> program` to the registry under `name`."""

    def add(fn):
        PASSES[name] = Pass(name, fn, summary, exact)
        return fn

    return add


def parse_pipeline(spec: str | list[str]) -> list[str]:
    names = [n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec) if n.strip()]
    _load_all()
    for n in names:
        if n not in PASSES:
            raise ConfigError(f"unknown pass {n!r}", hint=f"passes: {', '.join(sorted(PASSES))}")
    return names


def run_pipeline(program: Program, names: str | list[str], options: PassOptions | None = None):
    """Run the named passes in order; returns (program, PipelineStats)."""
    options = options or PassOptions()
    stats = PipelineStats()
    for name in parse_pipeline(names):
        before = program
        program = PASSES[name].run(program, options)
        stats.passes.append(_stats(name, before, program))
    return program, stats


def run_pass(program: Program, name: str, options: PassOptions | None = None) -> Program:
    return run_pipeline(program, [name], options)[0]


def _stats(name: str, before: Program, after: Program) -> PassStats:
    changed = 0
    for comp in COMPONENTS:
        old = Counter(before.component(comp).instructions)
        new = Counter(after.component(comp).instructions)
        changed += sum((new - old).values())
    removed = max(0, before.size() - after.size())
    added = len({p.name for p in after.params} - {p.name for p in before.params})
    return PassStats(name, before.size(), after.size(), removed, changed, added)


def _load_all() -> None:
    # Importing the pass modules registers them; done lazily so azlang.passes imports nothing heavy.
    from azlang.passes import canon, dce, decouple, fold  # noqa: F401
