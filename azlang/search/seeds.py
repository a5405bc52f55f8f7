"""Search stage: the experiment's random seed and the `.az` programs that seed an initial population."""

from __future__ import annotations

import time
from pathlib import Path

from azlang.errors import AzError, ConfigError
from azlang.ir.bytecode import to_bytecode
from azlang.ir.nodes import Program
from azlang.rng import MASK64, Rng, _mix
from azlang.search.config import ExperimentConfig
from azlang.search.generate import Generator


def resolve_seed(seed: int) -> int:
    """0 means time-based, like the reference: nanoseconds mod (2^32 - 1), never 0."""
    if seed:
        return int(seed)
    s = 0
    while s == 0:
        s = time.time_ns() % (2**32 - 1)
    return s


# Random search draws from a stream of its own (docs/semantics.md, section 5.2), so that an evolution run and its
# random-search twin with the same seed do not start from the same initial programs (their outcomes would be
# correlated). The tag is the ASCII of "random s"; SplitMix64's output function spreads it over the state.
RANDOM_SEARCH_STREAM = 0x72616E646F6D2073


def experiment_rng(seed: int, algorithm: str) -> Rng:
    """The experiment stream of a run: seeded with the seed itself (evolution, as the reference), or with
    mix64(seed XOR RANDOM_SEARCH_STREAM) for random search (one seed -> one run either way)."""
    if algorithm == "random":
        return Rng(_mix((int(seed) ^ RANDOM_SEARCH_STREAM) & MASK64))
    return Rng(seed)


def _find(path: str, source: str) -> Path:
    p = Path(path)
    if p.exists() or p.is_absolute():
        return p
    beside = Path(source).parent / p
    return beside if beside.exists() else p


def load_seeds(cfg: ExperimentConfig, gen: Generator) -> list[Program]:
    """Seed programs for initial_population = "seeds" (checked against the memory), else []; a built-in
    initial model is checked against the memory too. (The budget baseline is only costed, never run.)"""
    initial = cfg.evolution.initial_population
    if initial not in ("seeds", "random", "empty", "noop"):
        gen.check_fits(gen.model(initial, Rng(0)), f"{cfg.source}: initial model {initial!r}")
    if initial != "seeds" and not (initial == "random" and any(c.frozen for c in cfg.components())):
        return []  # (random programs with frozen components take those from the first seed)
    from azlang.api import find_program
    from azlang.syntax import load

    programs = []
    for path in cfg.evolution.seeds:
        p = find_program(_find(path, cfg.source))  # a file, else a stdlib program of that name
        try:
            program = load(p)
        except OSError as e:
            raise ConfigError(f"cannot read seed program {p}: {e.strerror}") from None
        except AzError:
            raise
        gen.check_fits(to_bytecode(program), f"seed program {p}")
        programs.append(program)
    return programs
