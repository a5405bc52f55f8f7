"""Search stage: the experiment configuration (docs/config.md; docs/semantics.md, section 12) as validated dataclasses.

Each key is declared once, with `key(default, help, bounds...)`: its default, its meaning and its allowed
values live in the field's metadata, which validation (`validate`) and generated docs (`reference()`)
both read. A config is read from TOML (`load_config`), overridden field by field (`override`, what
command-line flags use) and written back as the run directory's resolved config (`to_toml`): see
config_toml.py. Every error names the file and the dotted key.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields

from azlang.errors import AzError, ConfigError

MUTATIONS = (
    "alter_param",
    "randomize_instruction",
    "randomize_component_function",
    "identity",
    "insert_instruction",
    "remove_instruction",
    "trade_instruction",
    "randomize_algorithm",
)
INITIAL = ("empty", "noop", "random", "linear", "neural_net", "damaged_neural_net", "seeds")
BASELINES = ("linear", "neural_net", "damaged_neural_net", "noop")
ALGORITHMS = ("evolution", "random")
BACKENDS = ("auto", "numpy", "native")
EXECUTORS = ("local", "ray")
LOOPS = ("auto", "native", "python")


def key(default, help: str, *, lo=None, hi=None, lo_open: bool = False, choices=None, inf: bool = False, **extra):
    """A config key: its default, its meaning (`help`) and its allowed values, in one place.

    lo / hi: inclusive bounds (lo_open: lo excluded); choices: the allowed strings (for a list: of each
    item); inf: an infinite float is allowed (NaN never is). Docs and validation both read this metadata."""
    meta = {"help": help, "lo": lo, "hi": hi, "lo_open": lo_open, "choices": choices, "inf": inf, **extra}
    if isinstance(default, tuple | list):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


MAX_COUNT = 10**15  # individuals, train steps: far beyond any run, small enough for every counter
MAX_SIZE = 1000  # instructions per component
MAX_POPULATION = 100_000
MAX_POPULATION_BYTES = 2**31  # programs held by one island (P x rows x 40 bytes in native arrays)
MAX_REGISTERS = 256  # per kind; native code is specialised to the memory shape, so this also bounds compile time
MAX_MEMORY_VALUES = 2**25  # float64 values of one memory (scalars + vectors F + matrices F^2): 256 MiB


@dataclass(frozen=True)
class ComponentConfig:
    """Allowed ops (duplicates add weight; empty = never mutated) and sizes. size_max 0 = unset: unbounded."""

    ops: tuple[int, ...] = key((), "op ids or names this component may use; repeats add weight; [] = never mutated")
    size_init: int = key(1, "instructions in a random initial program", lo=0, hi=MAX_SIZE)
    size_min: int = key(0, "fewest instructions remove_instruction leaves", lo=0, hi=MAX_SIZE)
    size_max: int = key(0, "most instructions + 1 insert_instruction allows (0 = unbounded)", lo=0, hi=MAX_SIZE)
    frozen: bool = key(False, "kept exactly as the initial program gives it: never mutated or randomised")


@dataclass(frozen=True)
class MemoryConfig:
    scalars: int = key(20, "scalar registers s0.. (s0 label, s1 prediction are reserved)", lo=2, hi=MAX_REGISTERS)
    vectors: int = key(20, "vector registers v0.. (v0 the features)", lo=1, hi=MAX_REGISTERS)
    matrices: int = key(20, "matrix registers m0..", lo=0, hi=MAX_REGISTERS)


@dataclass(frozen=True)
class TasksConfig:
    search: tuple[str, ...] = key((), "task specs evolution is scored on (T_search)", spec=True)
    select: tuple[str, ...] = key((), "task specs each experiment's candidate is judged on (T_select); [] = search fitness", spec=True)
    final: tuple[str, ...] = key((), "task specs the best candidate is finally evaluated on (unseen tasks)", spec=True)
    max_abs_error: float = key(100.0, "a prediction error beyond this makes a task's fitness 0", lo=0.0, lo_open=True, inf=True)
    combination: str = key("mean", "how task fitnesses combine on T_search", choices=("mean", "median"))
    randomize_seeds: bool = key(False, "fresh seeds for T_search and T_select in every experiment")
    data_dir: str = key("", "folder with the datasets ('' = $AZLANG_DATA or the default cache)")


@dataclass(frozen=True)
class EvolutionConfig:
    algorithm: str = key("evolution", "regularized evolution, or random search (the baseline)", choices=ALGORITHMS)
    population: int = key(1000, "population size P", lo=1, hi=MAX_POPULATION)
    tournament: int = key(10, "tournament size T: draws with replacement, so T may exceed P (the paper's Figure 5 "
                          "uses T = 100,000 with P = 100: near-elitist selection)", lo=1, hi=MAX_POPULATION)
    mutate_prob: float = key(0.9, "probability that a child is mutated", lo=0.0, hi=1.0)
    mutations: tuple[str, ...] = key(
        ("alter_param", "randomize_instruction", "randomize_component_function"),
        "mutation types, drawn uniformly (repeats add weight)",
        choices=MUTATIONS,
    )
    initial_population: str = key("noop", "what the initial population is made of", choices=INITIAL)
    seeds: tuple[str, ...] = key((), ".az files (or stdlib names) used round-robin when initial_population = 'seeds'")
    batch: int = key(1, "1 = exact sequential semantics; > 1 = batched sweeps (children of one batch evaluated together)", lo=1, hi=1_000_000)
    loop: str = key("auto", "exact-mode loop: native, python (the reference), auto = native if able", choices=LOOPS)


@dataclass(frozen=True)
class FecConfig:
    enabled: bool = key(False, "functional equivalence checking: reuse the fitness of programs that behave alike")
    num_train_examples: int = key(10, "train examples of the FEC probe", lo=1, hi=100_000)
    num_valid_examples: int = key(10, "validation examples of the FEC probe", lo=1, hi=100_000)
    cache_size: int = key(100000, "entries of the FEC cache (LRU)", lo=2, hi=5_000_000)
    forget_every: int = key(100, "drop an entry after this many uses (0 = never; else > 1)", lo=0, hi=MAX_COUNT)


@dataclass(frozen=True)
class BudgetConfig:
    enabled: bool = key(False, "the compute-cost train budget (programs far costlier than the baseline train on 0)")
    baseline: str = key("neural_net", "the program the budget is relative to", choices=BASELINES)
    threshold_factor: float = key(2.0, "allowed cost as a multiple of the baseline's", lo=0.0, lo_open=True)


@dataclass(frozen=True)
class HurdleConfig:
    enabled: bool = key(False, "hurdles: stop evaluating a candidate that scores low on the first tasks")
    task_fraction: float = key(0.3, "share of the search tasks evaluated before the hurdle", lo=0.0, hi=1.0, lo_open=True)
    percentile: float = key(75.0, "the hurdle: this percentile of the population's unique fitnesses", lo=0.0, hi=100.0)
    update_every: int = key(0, "individuals between hurdle updates (0 = once per sweep of P)", lo=0, hi=MAX_COUNT)


@dataclass(frozen=True)
class StopConfig:
    max_train_steps: float = key(8e10, "train steps per experiment (FEC probes included)", lo=0.0, hi=1e18, lo_open=True)
    max_individuals: int = key(0, "individuals per experiment (0 = unlimited)", lo=0, hi=MAX_COUNT)
    max_time: float = key(0.0, "seconds for the whole run (0 = unlimited)", lo=0.0, hi=1e9)
    max_experiments: int = key(1, "experiments to run (0 = until sufficient_fitness)", lo=0, hi=MAX_COUNT)
    sufficient_fitness: float = key(math.inf, "stop once the best select fitness is strictly above this", inf=True)


@dataclass(frozen=True)
class RunConfig:
    random_seed: int = key(0, "the experiment's random seed (0 = time-based)", lo=0, hi=2**64 - 1)
    workers: int = key(0, "islands, one process each (0 = all cores)", lo=0, hi=1024)
    migrate_every: int = key(10000, "individuals per island between migrations (0 = never)", lo=0, hi=MAX_COUNT)
    backend: str = key("auto", "program evaluation: native (JIT), numpy (reference), auto = native if able", choices=BACKENDS)
    progress_every: int = key(10000, "individuals between progress lines", lo=1, hi=MAX_COUNT)
    progress_seconds: float = key(10.0, "seconds between progress lines at most (0 = by count only)", lo=0.0, hi=1e9)
    checkpoint_every: float = key(
        60.0, "most seconds between checkpoints (the first after 2 s, even mid-sweep, then spacing out to keep "
        "their cost under 1%; 0 = at every sweep's end)",
        lo=0.0, hi=1e9,
    )
    dedup: bool = key(False, "structural dedup by canonical text")
    executor: str = key("local", "local (in-process or worker processes) or ray (islands as Ray actors)", choices=EXECUTORS)
    address: str = key("", "Ray cluster: '' = a private local Ray, 'auto' = the running one, or HOST:PORT")


@dataclass(frozen=True)
class AcceptanceConfig:
    """What the paper counts: evaluated programs passing a threshold, the first found, and a hall of fame."""

    threshold: float = key(math.inf, "a search fitness; programs above it are counted (inf = not counting, "
                           "unless `reference` is given)", inf=True)
    reference: str = key("", "a program (stdlib name or .az path) whose fitness on the same search tasks is the "
                         "threshold")
    hall_of_fame: int = key(0, "top-k distinct programs (after dce + canonical hashing) kept per experiment; 0 = off",
                            lo=0, hi=10000)


@dataclass(frozen=True)
class IslandConfig:
    """One [[islands]] entry; entries apply to islands round-robin. Empty tasks = keep tasks.search."""

    tasks: tuple[str, ...] = key((), "this island's search task specs ([] = tasks.search)", spec=True)
    population: int = key(0, "this island's population P (0 = evolution.population)", lo=0, hi=MAX_POPULATION)
    tournament: int = key(0, "this island's tournament T (0 = evolution.tournament)", lo=0, hi=MAX_POPULATION)


@dataclass(frozen=True)
class ExperimentConfig:
    memory: MemoryConfig = MemoryConfig()
    setup: ComponentConfig = ComponentConfig()
    predict: ComponentConfig = ComponentConfig()
    learn: ComponentConfig = ComponentConfig()
    tasks: TasksConfig = TasksConfig()
    evolution: EvolutionConfig = EvolutionConfig()
    fec: FecConfig = FecConfig()
    budget: BudgetConfig = BudgetConfig()
    hurdles: HurdleConfig = HurdleConfig()
    stop: StopConfig = StopConfig()
    run: RunConfig = RunConfig()
    acceptance: AcceptanceConfig = AcceptanceConfig()
    islands: tuple[IslandConfig, ...] = ()  # per-island overrides ([[islands]] in TOML)
    source: str = field(default="<config>", compare=False)

    def components(self) -> tuple[ComponentConfig, ComponentConfig, ComponentConfig]:
        return (self.setup, self.predict, self.learn)


SECTION_HELP = {
    "memory": "register counts per kind",
    "setup": "the Setup component (likewise [predict] and [learn])",
    "tasks": "the task protocol: search, select, final",
    "evolution": "the search algorithm",
    "fec": "functional equivalence checking",
    "budget": "the compute-cost train budget",
    "hurdles": "early rejection",
    "stop": "when an experiment and the run stop",
    "run": "seed, processes, output",
    "islands": "per-island overrides ([[islands]], round-robin)",
}


def reference() -> list[dict]:
    """Every config key with its type, default, meaning and allowed values, for generated docs:
    [{"key": "evolution.population", "type": "int", "default": 1000, "help": ..., "allowed": "1 .. 1000000"}].
    [setup] stands for [predict] and [learn] too; [[islands]] entries are listed as islands[].KEY."""
    rows = []
    for section in fields(ExperimentConfig):
        if section.name in ("source", "predict", "learn"):
            continue
        cls = IslandConfig if section.name == "islands" else type(section.default)
        prefix = "islands[]." if section.name == "islands" else section.name + "."
        for f in fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            rows.append({"key": prefix + f.name, "type": _type_name(f.type), "default": default,
                         "help": f.metadata["help"], "allowed": allowed(f.metadata)})
    return rows


def _type_name(t) -> str:
    return {"tuple[int, ...]": "list of ops", "tuple[str, ...]": "list of strings"}.get(str(t), str(t))


def allowed(meta) -> str:
    """The allowed values of a key in words ("" if any value of its type)."""
    if meta.get("choices"):
        return " | ".join(meta["choices"])
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None and hi is None:
        return ""
    left = ("> " if meta.get("lo_open") else ">= ") + str(lo) if lo is not None else ""
    right = f"<= {hi}" if hi is not None else ""
    return ", ".join(x for x in (left, right) if x)


def _check(ok: bool, cfg: ExperimentConfig, key: str, message: str, hint: str | None = None) -> None:
    if not ok:
        raise ConfigError(f"{cfg.source}: {key} {message}", hint=hint)


def _check_value(cfg: ExperimentConfig, key: str, value, meta) -> None:
    """One key against its metadata: type already coerced; here NaN, infinities, bounds and choices."""
    if meta.get("choices"):
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            _check(item in meta["choices"], cfg, key, f"has {item!r}; allowed: {allowed(meta)}")
        return
    if isinstance(value, float):
        _check(not math.isnan(value), cfg, key, "is NaN", hint="give a number")
        _check(meta.get("inf") or math.isfinite(value), cfg, key, f"must be finite, not {value}")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        lo, hi = meta.get("lo"), meta.get("hi")
        low_ok = lo is None or (value > lo if meta.get("lo_open") else value >= lo)
        _check(low_ok and (hi is None or value <= hi), cfg, key, f"= {value} is out of range: must be {allowed(meta)}")


def _check_fields(cfg: ExperimentConfig) -> None:
    for section in fields(ExperimentConfig):
        if section.name == "source":
            continue
        sub = getattr(cfg, section.name)
        entries = enumerate(sub) if section.name == "islands" else [(None, sub)]
        for i, obj in entries:
            prefix = section.name + (f"[{i}]." if i is not None else ".")
            for f in fields(obj):
                _check_value(cfg, prefix + f.name, getattr(obj, f.name), f.metadata)
                if f.metadata.get("spec"):
                    _check_specs(cfg, prefix + f.name, getattr(obj, f.name))


def _check_specs(cfg: ExperimentConfig, key: str, specs) -> None:
    from azlang.tasks.spec import parse_spec  # the task stage; imported here to keep config import-light

    for text in specs:
        try:
            parse_spec(text)
        except AzError as e:
            raise ConfigError(f"{cfg.source}: {key}: {e.message}", hint=e.hint) from None


def _check_memory(cfg: ExperimentConfig) -> None:
    """The memory of the largest task must fit: matrices are F x F, so a large F needs few of them."""
    from azlang.tasks.spec import parse_spec

    m = cfg.memory
    texts = [*cfg.tasks.search, *cfg.tasks.select, *cfg.tasks.final, *(t for i in cfg.islands for t in i.tasks)]
    for text in texts:
        spec = parse_spec(text)
        F = spec.F or (4 if spec.is_synthetic else 3072)
        values = m.scalars + m.vectors * F + m.matrices * F * F
        _check(values <= MAX_MEMORY_VALUES, cfg, "memory",
               f"of {m.matrices} matrices and {m.vectors} vectors is too large for {text!r} (F = {F}): "
               f"{values:,} values", hint="use fewer matrices, or fewer features (F)")


def validate(cfg: ExperimentConfig) -> None:
    """Every value against its key's metadata, then the relations between keys (the reference's CHECKs),
    as errors that name the key: all before anything is compiled or run."""
    _check_fields(cfg)
    ev = cfg.evolution
    _check(ev.batch <= ev.population, cfg, "evolution.batch", f"= {ev.batch} exceeds the population ({ev.population})")
    _check(bool(ev.mutations), cfg, "evolution.mutations", "must not be empty")
    _check(
        ev.initial_population != "seeds" or bool(ev.seeds),
        cfg,
        "evolution.seeds",
        "must name at least one .az file when initial_population = 'seeds'",
    )
    for name, comp in zip(("setup", "predict", "learn"), cfg.components()):
        _check(comp.size_min <= comp.size_init, cfg, f"{name}.size_min", f"= {comp.size_min} exceeds size_init "
               f"({comp.size_init})")
        _check(comp.size_max == 0 or comp.size_init <= comp.size_max, cfg, f"{name}.size_max",
               f"= {comp.size_max} is below size_init ({comp.size_init}); 0 = unbounded")
        _check(
            not comp.frozen or ev.initial_population != "random" or bool(ev.seeds),
            cfg,
            f"{name}.frozen",
            "takes the component from a program: give evolution.seeds (the first one is used) or a built-in model",
        )
    _check(bool(cfg.tasks.search), cfg, "tasks.search", "must name at least one task spec")
    _check_memory(cfg)
    rows = sum(max(c.size_init, c.size_max) for c in cfg.components()) + 8
    _check(ev.population * rows * 40 <= MAX_POPULATION_BYTES, cfg, "evolution.population",
           f"= {ev.population} programs of up to {rows} instructions need more than 2 GiB",
           hint="use a smaller population or smaller size_init / size_max")
    _check(cfg.fec.forget_every != 1, cfg, "fec.forget_every", "must be 0 or > 1")


# Reading and writing TOML live beside (config_toml.py); the names stay importable from here.
from azlang.search.config_toml import from_dict, load_config, override, to_dict, to_toml  # noqa: F401
