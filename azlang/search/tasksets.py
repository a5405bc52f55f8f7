"""Search stage: T_search / T_select / final task collections, seed randomisation (docs/semantics.md, section 13.4)."""

from __future__ import annotations

from dataclasses import replace

from azlang.rng import Rng, hash_mix
from azlang.tasks.build import build_collection
from azlang.tasks.spec import TaskSpec, parse_spec
from azlang.tasks.task import Task

PARAM_SALT, DATA_SALT = 85652777, 38272328


def parse_all(texts) -> list[TaskSpec]:
    return [parse_spec(t) for t in texts]


def randomize_seeds(specs: list[TaskSpec], rng: Rng) -> list[TaskSpec]:
    """--randomize_task_seeds: one seed s from the experiment Rng; generators HashMix(85652777, s) (param)
    and HashMix(38272328, s) (data); each spec's D tasks get fresh seed32 draws from each, in order.
    Each task becomes its own one-task spec carrying its seeds explicitly."""
    s = rng.seed32()
    param_rng, data_rng = Rng(hash_mix(PARAM_SALT, s)), Rng(hash_mix(DATA_SALT, s))
    out = []
    for spec in specs:
        params = [param_rng.seed32() for _ in range(spec.D)]
        datas = [data_rng.seed32() for _ in range(spec.D)]
        out.extend(replace(spec, D=1, S=d, P=p) for d, p in zip(datas, params))
    return out


def build(specs: list[TaskSpec], data_dir: str = "") -> list[Task]:
    return build_collection(list(specs), data_dir or None)


def per_island(overrides, n_islands: int, base: list[TaskSpec], rng: Rng, randomize: bool) -> list[list[TaskSpec]]:
    """T_search of each island: [[islands]] entries round-robin (empty tasks = `base`). Each entry's own
    tasks get their seeds randomised once, after `base`'s, so runs without overrides draw nothing more."""
    own = [parse_all(o.tasks) if o.tasks else None for o in overrides]
    own = [randomize_seeds(s, rng) if s and randomize else s for s in own]
    if not own:
        return [base] * n_islands
    return [own[k % len(own)] or base for k in range(n_islands)]
