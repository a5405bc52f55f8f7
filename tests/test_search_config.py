"""Experiment configs: TOML parsing, validation errors naming file and key, overrides, the examples."""

from pathlib import Path

import pytest

from azlang.errors import ConfigError
from azlang.search.config import from_dict, load_config, override, to_toml
from azlang.search.presets import demo_config, from_seeds_config

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_demo_toml_is_the_demo_preset_and_round_trips(tmp_path):
    cfg = load_config(EXAMPLES / "demo.toml")
    assert cfg == demo_config()
    (tmp_path / "c.toml").write_text(to_toml(cfg))
    assert load_config(tmp_path / "c.toml") == cfg


def test_baseline_toml_matches_run_baseline():
    cfg = load_config(EXAMPLES / "baseline.toml")
    assert (cfg.memory.scalars, cfg.memory.vectors, cfg.memory.matrices) == (5, 9, 2)
    assert cfg.setup.ops == (56, 62, 59, 63, 60, 64, 61) and cfg.learn.size_max == 23
    assert cfg.budget.enabled and cfg.budget.threshold_factor == 2.0 and not cfg.fec.enabled
    assert cfg.evolution.population == 100 and cfg.run.random_seed == 1000060 and cfg.stop.max_train_steps == 1e11


def test_ops_by_name_or_id():
    cfg = from_dict({"tasks": {"search": ["linear:F4"]}, "setup": {"ops": ["SCALAR_SUM", "vector_sum_op", 3]}})
    assert cfg.setup.ops == (1, 23, 3)


@pytest.mark.parametrize(
    "data, key",
    [
        ({"evolution": {"populaton": 3}}, "evolution.populaton"),
        ({"evolution": {"population": "many"}}, "evolution.population"),
        ({"evolution": {"population": 0}}, "evolution.population"),
        ({"setup": {"ops": [99]}}, "setup.ops"),
        ({"evolution": {"mutations": ["grow"]}}, "evolution.mutations"),
        ({"fec": {"forget_every": 1}}, "fec.forget_every"),
        ({"fec": "yes"}, "fec"),
    ],
)
def test_bad_values_name_file_and_key(data, key):
    data = {"tasks": {"search": ["linear:F4"]}, **data}
    with pytest.raises(ConfigError) as e:
        from_dict(data, "exp.toml")
    assert "exp.toml" in str(e.value) and key in str(e.value)


def test_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[evolution\n")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_config(tmp_path / "bad.toml")


def test_overrides_replace_fields_and_are_validated():
    cfg = override(
        demo_config(),
        {"evolution.population": 50, "fec.enabled": False, "run.workers": None, "tasks.search": ("linear:F8",)},
    )
    assert cfg.evolution.population == 50 and not cfg.fec.enabled and cfg.run.workers == 1
    assert cfg.tasks.search == ("linear:F8",)
    with pytest.raises(ConfigError):
        override(cfg, {"evolution.tournament": 0})
    with pytest.raises(ConfigError):
        override(cfg, {"nope.x": 1})


def test_cli_turns_library_errors_into_exit_code_one(tmp_path):
    import typer
    from typer.testing import CliRunner

    from azlang.search.cli_evolve import evolve

    app = typer.Typer()
    app.command("evolve")(evolve)
    app.command("other")(lambda: None)
    (tmp_path / "bad.toml").write_text("[evolution]\npopulation = -1\n[tasks]\nsearch = ['linear:F4']\n")
    result = CliRunner().invoke(app, ["evolve", "--config", str(tmp_path / "bad.toml")])
    assert result.exit_code == 1 and "evolution.population" in result.output


def test_from_empty_toml_is_the_seeds_preset():
    assert load_config(EXAMPLES / "from_empty.toml") == from_seeds_config()
