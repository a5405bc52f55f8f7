"""Every config value is validated before anything is compiled or run: each bad value is a ConfigError that
names the key (never a traceback, a native crash or a long silent compile). Config fuzzing with hypothesis."""

import math
from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from azlang.cli import app
from azlang.errors import ConfigError
from azlang.search.config import ExperimentConfig, from_dict, reference, to_dict
from azlang.search.presets import demo_config

DEMO = to_dict(demo_config())


def _with(key: str, value) -> dict:
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in DEMO.items()}
    section, _, name = key.partition(".")
    data[section][name] = value
    return data


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("fec.num_train_examples", -1),
        ("fec.num_valid_examples", -1),
        ("fec.num_train_examples", 0),
        ("evolution.population", 1e30),
        ("evolution.population", 0),
        ("memory.scalars", 100000),
        ("memory.vectors", 0),
        ("run.workers", 100000),
        ("stop.max_time", -1),
        ("stop.max_train_steps", 0),
        ("stop.max_train_steps", math.inf),
        ("stop.max_individuals", -5),
        ("evolution.tournament", 100_001),  # above the bound (T may exceed P: draws with replacement)
        ("setup.size_min", 11),  # > size_init (10)
        ("setup.size_max", 5),  # < size_init (10)
        ("evolution.mutate_prob", 1.5),
        ("evolution.batch", 0),
        ("fec.cache_size", 1),
        ("fec.forget_every", 1),
        ("hurdles.task_fraction", 0.0),
        ("budget.threshold_factor", -2.0),
        ("run.random_seed", -1),
        ("run.checkpoint_every", -1.0),
        ("tasks.search", ["linear:F99999999"]),
        ("tasks.final", ["nosuch:F4"]),
        ("tasks.combination", "max"),
        ("memory.matrices", 257),
        ("fec.cache_size", 10**8),
        ("setup.size_init", 5000),
        ("run.backend", "gpu"),
    ],
)
def test_bad_value_names_its_key(key, value):
    with pytest.raises(ConfigError) as e:
        from_dict(_with(key, value), "c.toml")
    assert key in e.value.message and "c.toml" in e.value.message


def test_population_of_large_programs_is_bounded():
    data = _with("evolution.population", 100_000)
    data["learn"]["size_max"] = 1000
    with pytest.raises(ConfigError, match="evolution.population = 100000 programs"):
        from_dict(data)


def test_memory_too_large_for_the_tasks_features():
    data = _with("tasks.select", ["linear:F4096"])
    from_dict(data)  # one 4096 x 4096 matrix fits
    data["memory"]["matrices"] = 20
    with pytest.raises(ConfigError, match=r"memory of 20 matrices .*\(F = 4096\)"):
        from_dict(data)


FLOAT_KEYS = [r["key"] for r in reference() if r["type"] == "float" and not r["key"].startswith("islands")]


@pytest.mark.parametrize("key", FLOAT_KEYS)
def test_nan_anywhere_is_an_error(key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        from_dict(_with(key, math.nan))


def test_every_key_has_help_and_a_valid_default():
    rows = reference()
    assert len(rows) >= 45 and all(r["help"] for r in rows)
    assert {"evolution.population", "fec.num_train_examples", "run.progress_seconds", "islands[].tasks"} <= {
        r["key"] for r in rows
    }
    from_dict({"tasks": {"search": ["linear:F4"]}})  # the defaults validate


ANY = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.text(max_size=12)
    | st.lists(st.integers(-5, 100) | st.text(max_size=8), max_size=3)
)
KEYS = [f"{s.name}.{f.name}" for s in fields(ExperimentConfig) if s.name not in ("source", "islands")
        for f in fields(type(s.default))]


@given(st.lists(st.tuples(st.sampled_from(KEYS), ANY), min_size=1, max_size=4))
@settings(max_examples=400, deadline=None)
def test_fuzzed_configs_validate_or_fail_with_a_config_error(changes):
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in DEMO.items()}
    for key, value in changes:
        section, _, name = key.partition(".")
        data[section][name] = value
    try:
        cfg = from_dict(data, "fuzz.toml")
    except ConfigError as e:
        assert e.message.startswith("fuzz.toml: ")
        return
    ev = cfg.evolution  # accepted: every bound and relation holds
    assert 1 <= ev.tournament <= 100_000 and 1 <= ev.population <= 100_000 and cfg.fec.num_train_examples >= 1
    assert cfg.fec.cache_size <= 5_000_000
    assert all(math.isfinite(x) for x in (cfg.stop.max_time, cfg.stop.max_train_steps, ev.mutate_prob))
    assert cfg.memory.scalars <= 256 and cfg.run.workers <= 1024


@pytest.mark.parametrize(
    "args",
    [
        ["--population", "0"],
        ["--max-time", "-1"],
        ["--workers", "100000"],
        ["--mutate-prob", "nan"],
        ["-t", "linear:F99999999"],
        ["--tournament", "200000"],
    ],
)
def test_cli_bad_flag_values_are_messages(tmp_path, args):
    res = CliRunner().invoke(app, ["evolve", *args, "--run-dir", str(tmp_path / "r")])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and "error" in res.output and not (tmp_path / "r").exists()
