"""Benchmark support: check that azlang's config and the C++ runner script describe the same experiment.

Reads the flags out of ../shared/cxx-ref/run-demo.sh or run-baseline.sh (their text, as data) and compares
them with the azlang config: memory, op sets per component, component sizes, population, tournament,
mutate probability, mutation types, initial population, T_search shape, FEC and train budget. Returns the
fields compared and the mismatches (an empty list when both sides do the same work).
"""

from __future__ import annotations

import re
from pathlib import Path

from azlang.ir.ops import OPS
from azlang.search.config import ExperimentConfig
from azlang.tasks.spec import parse_spec

MUTATIONS = {"ALTER_PARAM_MUTATION_TYPE": "alter_param", "RANDOMIZE_INSTRUCTION_MUTATION_TYPE": "randomize_instruction",
             "RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE": "randomize_component_function",
             "INSERT_INSTRUCTION_MUTATION_TYPE": "insert_instruction",
             "REMOVE_INSTRUCTION_MUTATION_TYPE": "remove_instruction"}
INITIAL = {"RANDOM_ALGORITHM": "random", "NO_OP_ALGORITHM": "noop"}


def cxx_flags(script: Path, ops_var: str = "OPS") -> dict:
    """The experiment fields of a runner script, from its text."""
    text = script.read_text()
    names = {}
    m = re.search(rf'^{ops_var}="([^"]*)"', text, re.MULTILINE)
    if m:
        names["$" + ops_var] = [n.strip() for n in m.group(1).split(",")]

    def ops(component: str) -> tuple[int, ...]:
        body = re.search(rf"{component}_ops: \[([^\]]*)\]", text).group(1).strip()
        listed = names.get(body) or [n.strip() for n in body.split(",")]
        by_name = {od.name: od.id for od in OPS if od is not None}
        return tuple(by_name[n] for n in listed)

    def first(pattern: str, cast=int):
        m = re.search(pattern, text)
        return cast(m.group(1)) if m else None

    fec = re.search(r"fec \{num_train_examples: (\d+) num_valid_examples: (\d+)\}", text)
    return {
        "memory": tuple(int(x) for x in re.search(r"(\d+)/(\d+)/(\d+)", _build_note(script)).groups()),
        "ops": {c: ops(c) for c in ("setup", "predict", "learn")},
        "size_init": {c: first(rf"{c}_size_init: (\d+)") for c in ("setup", "predict", "learn")},
        "size_bounds": {c: (first(rf"mutate_{c}_size_min: (\d+)"), first(rf"mutate_{c}_size_max: (\d+)"))
                        for c in ("setup", "predict", "learn")},
        "population": first(r"population_size: (\d+)"),
        "tournament": first(r"tournament_size: (\d+)"),
        "mutate_prob": first(r"mutate_prob: ([\d.]+)", float),
        "mutations": tuple(MUTATIONS[m] for m in re.findall(r"(\w+_MUTATION_TYPE)", text)),
        "initial": INITIAL[first(r"initial_population: (\w+)", str)],
        "F": first(r"features_size: (\d+)"),
        "N": first(r"num_train_examples: (\d+)"),
        "V": first(r"num_valid_examples: (\d+)"),
        "D": first(r"num_tasks: \$?(\w+)", str),
        "fec": (int(fec.group(1)), int(fec.group(2))) if fec else None,
        "budget": "neural_net" if "NEURAL_NET_ALGORITHM" in text else None,
    }


def _build_note(script: Path) -> str:
    """The memory sizes of the binary a script runs (build.sh's variants: demo 4/3/1, baseline 5/9/2)."""
    return "4/3/1" if "demo" in script.name else "5/9/2"


def compare(cfg: ExperimentConfig, script: Path) -> tuple[list[str], list[str]]:
    """(fields compared, mismatches as 'field: azlang X, C++ Y')."""
    cx = cxx_flags(script)
    spec = parse_spec(cfg.tasks.search[0])
    ev, mem = cfg.evolution, cfg.memory
    ours = {
        "memory": (mem.scalars, mem.vectors, mem.matrices),
        "ops": {c: tuple(getattr(cfg, c).ops) for c in ("setup", "predict", "learn")},
        "size_init": {c: getattr(cfg, c).size_init for c in ("setup", "predict", "learn")},
        "size_bounds": {c: _bounds(getattr(cfg, c)) for c in ("setup", "predict", "learn")},
        "population": ev.population, "tournament": ev.tournament, "mutate_prob": ev.mutate_prob,
        "mutations": tuple(ev.mutations), "initial": ev.initial_population,
        "F": spec.F, "N": spec.N, "V": spec.V, "D": str(spec.D),
        "fec": (cfg.fec.num_train_examples, cfg.fec.num_valid_examples) if cfg.fec.enabled else None,
        "budget": cfg.budget.baseline if cfg.budget.enabled else None,
    }
    if cx["D"] == "NSEARCH":  # run-baseline.sh's default number of search tasks
        cx["D"] = "10"
    fields = sorted(ours)
    bad = [f"{k}: azlang {ours[k]}, C++ {cx[k]}" for k in fields if _norm(ours[k]) != _norm(cx[k])]
    return fields, bad


def _bounds(comp) -> tuple:
    """(size_min, size_max) when the mutations may change sizes, else (None, None) as the script leaves them."""
    lo, hi = getattr(comp, "size_min", None), getattr(comp, "size_max", None)
    return (lo, hi) if lo or hi else (None, None)


def _norm(v):
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, tuple | list) and v and isinstance(v[0], int) and len(v) > 3:
        return tuple(sorted(v))  # op sets: order is irrelevant to the search's uniform choice
    return v
