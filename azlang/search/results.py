"""Search stage: the run's state (what a checkpoint holds) and its results (what the library returns)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from azlang.ir.bytecode import Bytecode
from azlang.ir.nodes import Program
from azlang.rng import Rng
from azlang.search.evolution import IslandState
from azlang.tasks.spec import TaskSpec


@dataclass
class ExperimentRecord:
    index: int
    search_fitness: float
    select_fitness: float
    individuals: int
    train_steps: int
    seconds: float
    stopped_by: str
    best_so_far: bool
    counts: dict = field(default_factory=dict)  # acceptance threshold counts and hall of fame (search/watch.py)
    select_tasks: list = field(default_factory=list)  # the candidate's raw metric per T_select task


@dataclass
class RunState:
    """The driver's whole state between two sweeps: pickled as the checkpoint."""

    seed: int
    rng: Rng
    experiment: int = 0
    islands: list[IslandState] | None = None  # None between experiments
    search_specs: list[TaskSpec] | None = None
    island_specs: list[list[TaskSpec]] | None = None  # per island ([[islands]] tasks); None = search_specs
    migration_rng: Rng | None = None
    experiment_seconds: float = 0.0  # spent in the current experiment before this process took over
    best: tuple[float, float, Bytecode, int] | None = None  # select fitness, search fitness, program, experiment
    experiments: list[ExperimentRecord] = field(default_factory=list)
    seconds: float = 0.0  # run time before this process took over
    individuals: int = 0  # in finished experiments
    train_steps: int = 0
    progress_lines: int = 0
    last_progress: int | None = None  # individuals of the current experiment at the last progress line
    stopped_by: str | None = None
    final_fitness: float | None = None
    final_tasks: list = field(default_factory=list)  # the best candidate's raw metric per final task
    done: bool = False
    # The state when the last experiment's search stopped, before its select and final evaluations (checkpoint
    # payload bytes; None mid-experiment): resuming a finished run with larger stop limits continues from it.
    stop_point: bytes | None = None


@dataclass
class SearchResult:
    """What `run_experiment` / `resume` return."""

    seed: int
    program: Program | None  # the best candidate (highest select fitness), None if no experiment finished
    text: str | None
    select_fitness: float | None
    search_fitness: float | None
    final_fitness: float | None
    experiments: list[ExperimentRecord]
    individuals: int
    train_steps: int
    seconds: float
    stopped_by: str
    run_dir: str | None = None
    final_tasks: list = field(default_factory=list)  # {"task", "fitness", "rms" or "accuracy"} per final task
    metadata: dict = field(default_factory=dict)  # versions, commit, command line, CPU, evaluator and loop

    def to_json(self) -> dict:
        out = asdict(self)
        out.pop("program")
        return out
