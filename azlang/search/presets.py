"""Search stage: built-in experiment presets: the reference's run_demo.sh, used when no config is given."""

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
