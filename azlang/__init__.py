"""azlang: a compiler toolchain and search engine for AutoML-Zero algorithms. The documented Python API
(docs/api.md) is loaded lazily (PEP 562): `import azlang` imports nothing heavy and starts no threads."""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "load": "azlang.api",
    "parse": "azlang.api",
    "run": "azlang.api",
    "evolve": "azlang.api",
    "export_source": "azlang.api",
    "export_class": "azlang.api",
    "RunResult": "azlang.api",
    "EvolveResult": "azlang.evolve_api",
    "Task": "azlang.tasks.task",
    "build_tasks": "azlang.tasks.build",
    "Program": "azlang.ir.nodes",
    "Estimator": "azlang.estimator",
    "AzError": "azlang.errors",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'azlang' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
