"""Search stage: the experiment configuration (semantics sections 12 and 13) as typed, validated dataclasses.

A config is read from TOML (`load_config`), overridden field by field (`override`, what command-line flags
use) and written back as the run directory's resolved config (`to_toml`). Every error names the file and
the dotted key.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path

import tomllib

from azlang.errors import ConfigError
from azlang.ir.ops import NUM_OPS
from azlang.ir.ops import op as lookup_op

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


@dataclass(frozen=True)
class ComponentConfig:
    """Allowed ops (duplicates add weight; empty = never mutated) and sizes. size_max 0 = unset: unbounded."""

    ops: tuple[int, ...] = ()
    size_init: int = 1
    size_min: int = 0
    size_max: int = 0
    frozen: bool = False  # kept exactly as the initial program gives it: never mutated or randomised


@dataclass(frozen=True)
class MemoryConfig:
    scalars: int = 20
    vectors: int = 20
    matrices: int = 20


@dataclass(frozen=True)
class TasksConfig:
    search: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    final: tuple[str, ...] = ()
    max_abs_error: float = 100.0
    combination: str = "mean"
    randomize_seeds: bool = False  # --randomize_task_seeds: T_search and T_select, every experiment
    data_dir: str = ""


@dataclass(frozen=True)
class EvolutionConfig:
    algorithm: str = "evolution"  # or "random": random search, the baseline
    population: int = 1000
    tournament: int = 10
    mutate_prob: float = 0.9
    mutations: tuple[str, ...] = ("alter_param", "randomize_instruction", "randomize_component_function")
    initial_population: str = "noop"
    seeds: tuple[str, ...] = ()  # .az files, used round-robin when initial_population = "seeds"
    batch: int = 1  # 1 = exact sequential semantics; > 1 = batched sweeps (see evolution.py)
    loop: str = "auto"  # exact-mode loop: "native" (search_loop), "python" (the reference), "auto" = native if able


@dataclass(frozen=True)
class FecConfig:
    enabled: bool = False
    num_train_examples: int = 10
    num_valid_examples: int = 10
    cache_size: int = 100000
    forget_every: int = 100


@dataclass(frozen=True)
class BudgetConfig:
    enabled: bool = False
    baseline: str = "neural_net"
    threshold_factor: float = 2.0


@dataclass(frozen=True)
class HurdleConfig:
    enabled: bool = False
    task_fraction: float = 0.3  # share of the search tasks evaluated before the hurdle
    percentile: float = 75.0  # of the population's unique fitnesses
    update_every: int = 0  # individuals between hurdle updates; 0 = once per sweep (P)


@dataclass(frozen=True)
class StopConfig:
    max_train_steps: float = 8e10  # per experiment, like the reference
    max_individuals: int = 0  # per experiment; 0 = unlimited
    max_time: float = 0.0  # seconds for the whole run; 0 = unlimited
    max_experiments: int = 1  # 0 = unlimited
    sufficient_fitness: float = math.inf  # stop once the best select fitness is strictly above


@dataclass(frozen=True)
class RunConfig:
    random_seed: int = 0  # 0 = time-based
    workers: int = 0  # islands (one process each); 0 = all cores
    migrate_every: int = 10000  # individuals per island between migrations
    backend: str = "auto"
    progress_every: int = 10000
    checkpoint_every: float = 60.0  # seconds
    dedup: bool = False  # structural dedup by canonical text, once a canon pass exists
    executor: str = "local"  # "local": in-process or worker processes; "ray": islands as Ray actors
    address: str = ""  # Ray cluster: "" = a private local Ray, "auto" = the running one, or HOST:PORT


@dataclass(frozen=True)
class AcceptanceConfig:
    """What the paper counts: evaluated programs passing a threshold, the first found, and a hall of fame."""

    threshold: float = math.inf  # a search fitness; inf = not counting (unless `reference` is given)
    reference: str = ""  # a program (stdlib name or .az path): its fitness on the same search tasks is the threshold
    hall_of_fame: int = 0  # top-k distinct programs (after dce + canonical hashing) per experiment; 0 = off


@dataclass(frozen=True)
class IslandConfig:
    """One [[islands]] entry; entries apply to islands round-robin. Empty tasks = keep tasks.search."""

    tasks: tuple[str, ...] = ()
    population: int = 0  # this island's P; 0 = evolution.population
    tournament: int = 0  # this island's T; 0 = evolution.tournament


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


# --- reading -----------------------------------------------------------------------------------------------


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a TOML experiment config."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    return from_dict(data, str(path))


def from_dict(data: dict, source: str = "<config>") -> ExperimentConfig:
    cfg = _build(ExperimentConfig, data, source, "")
    cfg = replace(cfg, source=source)
    validate(cfg)
    return cfg


def _build(cls, data, source: str, prefix: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: [{prefix.rstrip('.')}] must be a table")
    known = {f.name: f for f in fields(cls) if f.name != "source"}
    values = {}
    for key, raw in data.items():
        dotted = prefix + key
        if key not in known:
            raise ConfigError(f"{source}: unknown key {dotted!r}", hint=f"known: {', '.join(known)}")
        default = known[key].default
        if key == "islands" and cls is ExperimentConfig:
            values[key] = _islands(raw, source)
        elif is_dataclass(default):
            values[key] = _build(type(default), raw, source, dotted + ".")
        else:
            values[key] = _coerce(raw, default, source, dotted)
    return cls(**values)


def _coerce(raw, default, source: str, key: str):
    """Convert a TOML value to the type of the field's default, or raise ConfigError naming the key."""
    if key.endswith(".ops"):
        return _ops(raw, source, key)
    want = type(default)
    if want is tuple:
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise ConfigError(f"{source}: {key} must be a list of strings")
        return tuple(raw)
    if want is bool:
        if not isinstance(raw, bool):
            raise ConfigError(f"{source}: {key} must be true or false, not {raw!r}")
        return raw
    if want is int:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise ConfigError(f"{source}: {key} must be a whole number, not {raw!r}")
        return raw
    if want is float:
        if not isinstance(raw, int | float) or isinstance(raw, bool):
            raise ConfigError(f"{source}: {key} must be a number, not {raw!r}")
        return float(raw)
    if not isinstance(raw, str):
        raise ConfigError(f"{source}: {key} must be a string, not {raw!r}")
    return raw


def _islands(raw, source: str) -> tuple[IslandConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: islands must be an array of tables ([[islands]])")
    return tuple(_build(IslandConfig, t, source, f"islands[{i}].") for i, t in enumerate(raw))


def _ops(raw, source: str, key: str) -> tuple[int, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: {key} must be a list of op ids or names")
    out = []
    for x in raw:
        try:
            if isinstance(x, bool) or not isinstance(x, int | str) or (isinstance(x, int) and not 0 <= x < NUM_OPS):
                raise KeyError(x)
            out.append(lookup_op(x).id)
        except KeyError:
            raise ConfigError(
                f"{source}: {key}: unknown op {x!r}", hint=f"use ids 0..{NUM_OPS - 1} or names like SCALAR_SUM"
            ) from None
    return tuple(out)


def _check(ok: bool, cfg: ExperimentConfig, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{cfg.source}: {key} {message}")


def validate(cfg: ExperimentConfig) -> None:
    """Cross-field checks (the reference's CHECKs, as errors that name the key)."""
    ev, st = cfg.evolution, cfg.stop
    _check(ev.algorithm in ALGORITHMS, cfg, "evolution.algorithm", f"must be one of {ALGORITHMS}")
    _check(ev.population >= 1, cfg, "evolution.population", "must be at least 1")
    _check(ev.tournament >= 1, cfg, "evolution.tournament", "must be at least 1")
    _check(0.0 <= ev.mutate_prob <= 1.0, cfg, "evolution.mutate_prob", "must lie in [0, 1]")
    _check(ev.batch >= 1, cfg, "evolution.batch", "must be at least 1")
    _check(ev.loop in LOOPS, cfg, "evolution.loop", f"must be one of {LOOPS}")
    _check(bool(ev.mutations), cfg, "evolution.mutations", "must not be empty")
    for m in ev.mutations:
        _check(m in MUTATIONS, cfg, "evolution.mutations", f"has unknown type {m!r} (known: {', '.join(MUTATIONS)})")
    _check(ev.initial_population in INITIAL, cfg, "evolution.initial_population", f"must be one of {INITIAL}")
    _check(
        ev.initial_population != "seeds" or bool(ev.seeds),
        cfg,
        "evolution.seeds",
        "must name at least one .az file when initial_population = 'seeds'",
    )
    for name, comp in zip(("setup", "predict", "learn"), cfg.components()):
        _check(comp.size_init >= 0, cfg, f"{name}.size_init", "must be >= 0")
        _check(comp.size_min >= 0 and comp.size_max >= 0, cfg, f"{name}.size_min/size_max", "must be >= 0")
        _check(
            not comp.frozen or ev.initial_population != "random" or bool(ev.seeds),
            cfg,
            f"{name}.frozen",
            "takes the component from a program: give evolution.seeds (the first one is used) or a built-in model",
        )
    for i, isl in enumerate(cfg.islands):
        _check(isl.population >= 0 and isl.tournament >= 0, cfg, f"islands[{i}]", "population/tournament must be >= 0")
    _check(cfg.acceptance.hall_of_fame >= 0, cfg, "acceptance.hall_of_fame", "must be >= 0 (0 = off)")
    m = cfg.memory
    _check(
        m.scalars >= 2 and m.vectors >= 1 and m.matrices >= 0,
        cfg,
        "memory",
        "needs scalars >= 2 and vectors >= 1 (s0, s1, v0 are reserved)",
    )
    _check(bool(cfg.tasks.search), cfg, "tasks.search", "must name at least one task spec")
    _check(cfg.tasks.combination in ("mean", "median"), cfg, "tasks.combination", "must be mean or median")
    _check(cfg.fec.cache_size > 1, cfg, "fec.cache_size", "must be > 1")
    _check(cfg.fec.forget_every == 0 or cfg.fec.forget_every > 1, cfg, "fec.forget_every", "must be 0 or > 1")
    _check(cfg.budget.baseline in BASELINES, cfg, "budget.baseline", f"must be one of {BASELINES}")
    _check(0.0 < cfg.hurdles.task_fraction <= 1.0, cfg, "hurdles.task_fraction", "must lie in (0, 1]")
    _check(0.0 <= cfg.hurdles.percentile <= 100.0, cfg, "hurdles.percentile", "must lie in [0, 100]")
    _check(st.max_train_steps > 0, cfg, "stop.max_train_steps", "must be > 0")
    _check(st.max_experiments >= 0, cfg, "stop.max_experiments", "must be >= 0 (0 = unlimited)")
    _check(cfg.run.workers >= 0, cfg, "run.workers", "must be >= 0 (0 = all cores)")
    _check(cfg.run.backend in BACKENDS, cfg, "run.backend", f"must be one of {BACKENDS}")
    _check(cfg.run.executor in EXECUTORS, cfg, "run.executor", f"must be one of {EXECUTORS}")
    _check(cfg.run.progress_every >= 1, cfg, "run.progress_every", "must be >= 1")


# --- overriding and writing --------------------------------------------------------------------------------


def override(cfg: ExperimentConfig, values: dict[str, object]) -> ExperimentConfig:
    """Replace fields by dotted key ("evolution.population": 100); None values are skipped."""
    for key, value in values.items():
        if value is None:
            continue
        section, _, name = key.partition(".")
        sub = getattr(cfg, section, None)
        if not is_dataclass(sub) or name not in {f.name for f in fields(sub)}:
            raise ConfigError(f"unknown config key {key!r}")
        value = _coerce(list(value) if isinstance(value, tuple) else value, getattr(sub, name), "override", key)
        cfg = replace(cfg, **{section: replace(sub, **{name: value})})
    validate(cfg)
    return cfg


def to_dict(cfg: ExperimentConfig) -> dict:
    out = dataclasses.asdict(cfg)
    out.pop("source", None)
    return out


def to_toml(cfg: ExperimentConfig) -> str:
    """The resolved config as TOML that `load_config` reads back to an equal config."""
    lines = []
    for section, table in to_dict(cfg).items():
        for header, entry in _tables(section, table):
            lines.append(header)
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in entry.items())
            lines.append("")
    return "\n".join(lines)


def _tables(section: str, table):
    """(header, entries) per TOML table: [[islands]] is an array of tables, the rest are plain tables."""
    if section == "islands":
        return [(f"[[{section}]]", t) for t in table]
    return [(f"[{section}]", table)]


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "inf" if v == math.inf else "-inf" if v == -math.inf else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"
