"""Search stage: experiment configs from and to TOML, and overrides by dotted key (the dataclasses: config.py)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import fields, is_dataclass, replace
from pathlib import Path

import tomllib

from azlang.errors import ConfigError
from azlang.ir.ops import NUM_OPS
from azlang.ir.ops import op as lookup_op
from azlang.search.config import ExperimentConfig, IslandConfig, validate

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
        f = known[key]
        if key == "islands" and cls is ExperimentConfig:
            values[key] = _islands(raw, source)
        elif is_dataclass(f.default):
            values[key] = _build(type(f.default), raw, source, dotted + ".")
        else:
            values[key] = _coerce(raw, f.type, source, dotted)
    return cls(**values)


def _coerce(raw, kind: str, source: str, key: str):
    """Convert a TOML (or Python) value to the field's type `kind`, or raise ConfigError naming the key."""
    if kind == "tuple[int, ...]":
        return _ops(raw, source, key)
    if kind == "tuple[str, ...]":
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
            raise ConfigError(f"{source}: {key} must be a list of strings, not {raw!r}")
        return tuple(raw)
    if kind == "bool":
        if not isinstance(raw, bool):
            raise ConfigError(f"{source}: {key} must be true or false, not {raw!r}")
        return raw
    if kind == "int":
        if isinstance(raw, float) and raw.is_integer() and abs(raw) < 2**64:
            raw = int(raw)
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise ConfigError(f"{source}: {key} must be a whole number, not {raw!r}")
        return raw
    if kind == "float":
        if not isinstance(raw, int | float) or isinstance(raw, bool):
            raise ConfigError(f"{source}: {key} must be a number, not {raw!r}")
        if isinstance(raw, int) and abs(raw) > 1e300:
            raise ConfigError(f"{source}: {key} = {raw} is out of range")
        return float(raw)
    if not isinstance(raw, str):
        raise ConfigError(f"{source}: {key} must be a string, not {raw!r}")
    return raw


def _islands(raw, source: str) -> tuple[IslandConfig, ...]:
    if not isinstance(raw, list | tuple):
        raise ConfigError(f"{source}: islands must be an array of tables ([[islands]])")
    return tuple(_build(IslandConfig, t, source, f"islands[{i}].") for i, t in enumerate(raw))


def _ops(raw, source: str, key: str) -> tuple[int, ...]:
    if not isinstance(raw, list | tuple):
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
        kind = next(f.type for f in fields(sub) if f.name == name)
        value = _coerce(list(value) if isinstance(value, tuple) else value, kind, "override", key)
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
