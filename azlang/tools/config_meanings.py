"""Tool stage: meanings of the config keys whose field in azlang/search/config.py carries no comment yet.

Types and defaults always come from the dataclasses; a comment or `help` metadata on a field there takes
precedence over the words here. tests/test_docs.py checks that every key named here exists.
"""

from __future__ import annotations

MEANINGS = {
    "memory.scalars": "scalar registers of evolved programs (s0 label and s1 prediction included)",
    "memory.vectors": "vector registers (v0, the features, included)",
    "memory.matrices": "matrix registers",
    "tasks.search": "task specs the search evaluates candidates on (docs/tasks.md)",
    "tasks.select": "task specs that pick each experiment's best candidate",
    "tasks.final": "task specs of the final, unseen evaluation of the best candidate",
    "tasks.max_abs_error": "a prediction error above this stops an evaluation with fitness 0",
    "tasks.combination": "how per-task fitnesses combine: mean or median (the upper median)",
    "tasks.data_dir": "dataset root; empty = $AZLANG_DATA, else ~/.cache/azlang (docs/data.md)",
    "evolution.population": "population size P",
    "evolution.tournament": "tournament size T (at most P)",
    "evolution.mutate_prob": "probability that a child is mutated (else it is a copy of its parent)",
    "evolution.mutations": "the mutations drawn from, uniformly",
    "evolution.initial_population": "how the first P programs are made",
    "fec.enabled": "functional equivalence checking: reuse the fitness of a program that behaves identically",
    "fec.num_train_examples": "train examples of the FEC probe",
    "fec.num_valid_examples": "validation examples of the FEC probe",
    "fec.cache_size": "entries of the FEC cache (least recently used are dropped)",
    "fec.forget_every": "a cached fitness is recomputed after this many hits",
    "budget.enabled": "reject candidates that cost more than threshold_factor times the baseline per step",
    "budget.baseline": "the program whose cost sets the budget",
    "budget.threshold_factor": "allowed cost relative to the baseline",
    "hurdles.enabled": "early rejection: evaluate a share of the tasks first and stop below the hurdle",
    "run.backend": "evaluator of candidates",
    "run.progress_every": "individuals between progress lines",
    "islands.tasks": "search tasks of this island (empty = tasks.search)",
    "setup.ops": "op ids mutation may place in this component (repeats add weight; empty = never mutated)",
    "setup.size_init": "instructions in this component of an initial random program",
    "setup.size_min": "fewest instructions mutation may leave",
    "setup.size_max": "most instructions mutation may make (0 = unbounded)",
}
for _component in ("predict", "learn"):
    for _key in ("ops", "size_init", "size_min", "size_max"):
        MEANINGS[f"{_component}.{_key}"] = MEANINGS[f"setup.{_key}"]

# Keys whose allowed values are a tuple in azlang/search/config.py (named here, read from there).
CHOICES = {
    "evolution.mutations": "MUTATIONS",
    "evolution.initial_population": "INITIAL",
    "evolution.algorithm": "ALGORITHMS",
    "evolution.loop": "LOOPS",
    "budget.baseline": "BASELINES",
    "run.backend": "BACKENDS",
    "run.executor": "EXECUTORS",
}
