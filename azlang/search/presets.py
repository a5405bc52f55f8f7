"""Search stage: built-in experiment presets: the reference's run_demo.sh (no config given), and the paper's
search from empty programs (seed programs given on the command line, no config)."""

from __future__ import annotations

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
