"""Search stage: built-in experiment presets: the reference's run_demo.sh (no config given), and the paper's
search from empty programs (seed programs given on the command line, no config)."""

from __future__ import annotations

import re

from azlang.search.config import (
    ComponentConfig,
    EvolutionConfig,
    ExperimentConfig,
    FecConfig,
    MemoryConfig,
    RunConfig,
    StopConfig,
    TasksConfig,
)

DEMO_OPS = (56, 27, 2, 3, 18, 23)


def demo_config() -> ExperimentConfig:
    """Equal to examples/demo.toml (checked by a test)."""
    return ExperimentConfig(
        memory=MemoryConfig(4, 3, 1),
        setup=ComponentConfig(DEMO_OPS, 10),
        predict=ComponentConfig(DEMO_OPS, 2),
        learn=ComponentConfig(DEMO_OPS, 8),
        tasks=TasksConfig(
            search=("linear:F4:D10:N100:V100",),
            select=("linear:F4:D100:N1000:V100",),
            final=("linear:F4:D100:N1000:V100:S1000000:P2000000",),
            randomize_seeds=True,
        ),
        evolution=EvolutionConfig(
            population=1000,
            tournament=10,
            mutate_prob=0.9,
            mutations=("alter_param", "randomize_instruction", "randomize_component_function"),
            initial_population="random",
        ),
        fec=FecConfig(enabled=True),
        stop=StopConfig(max_train_steps=2e8, max_experiments=0, sufficient_fitness=0.9999),
        run=RunConfig(random_seed=0, workers=1, progress_every=10000),
        source="<demo preset>",
    )


# The paper's mutations (section 3): insert or remove an instruction, randomize a component, alter an argument.
PAPER_MUTATIONS = ("insert_instruction", "remove_instruction", "randomize_component_function", "alter_param")


def from_seeds_config() -> ExperimentConfig:
    """The demo's tasks, ops and memory, grown from seed programs (e.g. empty ones) by the paper's mutations.

    Components may grow to 10 / 4 / 10 instructions (size_max is one more: the reference's insert refuses at
    size >= max - 1); equal to examples/from_empty.toml (checked by a test)."""
    demo = demo_config()
    return ExperimentConfig(
        memory=demo.memory,
        setup=ComponentConfig(DEMO_OPS, 0, size_min=0, size_max=11),
        predict=ComponentConfig(DEMO_OPS, 0, size_min=0, size_max=5),
        learn=ComponentConfig(DEMO_OPS, 0, size_min=0, size_max=11),
        tasks=demo.tasks,
        evolution=EvolutionConfig(
            population=1000,
            tournament=10,
            mutate_prob=0.9,
            mutations=PAPER_MUTATIONS,
            initial_population="seeds",
            seeds=("empty.az",),
        ),
        fec=demo.fec,
        stop=demo.stop,
        run=demo.run,
        source="<from-seeds preset>",
    )


# --- -t: one task spec defines the whole protocol -------------------------------------------------------------

SELECT_OFFSET, FINAL_OFFSET = 500_000, 1_000_000  # seeds far from any search seed (D is bounded far below)


def task_protocol(search: list[str] | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """tasks.search / select / final for search specs given on the command line: select on the same specs
    with other data and param seeds, final on still other (unseen) seeds, and for the built-in datasets on
    their test split (own data has none: other seeds give other train/valid splits). Explicit S/P/test options of the given specs are replaced in select and final."""
    from azlang.tasks.spec import DATASETS, DEFAULT_DATA_SEEDS, DEFAULT_PARAM_SEEDS, parse_spec

    select, final = [], []
    for text in search:
        spec = parse_spec(text)
        kept = [f for f in text.split(":") if not _SEED_OR_TEST.fullmatch(f.strip())]
        s0 = spec.S if spec.S is not None else DEFAULT_DATA_SEEDS[0]
        p0 = spec.P if spec.P is not None else DEFAULT_PARAM_SEEDS[0]
        select.append(":".join([*kept, f"S{_seed(s0 + SELECT_OFFSET)}", f"P{_seed(p0 + SELECT_OFFSET)}"]))
        tail = [f"S{_seed(s0 + FINAL_OFFSET)}", f"P{_seed(p0 + FINAL_OFFSET)}"] + (["test"] if spec.dataset in DATASETS else [])
        final.append(":".join([*kept, *tail]))
    return {"tasks.search": tuple(search), "tasks.select": tuple(select), "tasks.final": tuple(final)}


_SEED_OR_TEST = re.compile(r"[SP]\d+|(?i:test)")


def _seed(x: int) -> int:
    """Seeds stay uint32 (and nonzero), as the reference's are."""
    return 1 + (x - 1) % (2**32 - 2)
