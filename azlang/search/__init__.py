"""Search stage: regularized evolution, random search, FEC, train budget, hurdles, islands, checkpoints.

Public API (what azlang.api / the CLI call):
    run_experiment(config_or_path, run_dir=None, progress=None, overrides=None) -> SearchResult
    resume(run_dir, progress=None, overrides=None) -> SearchResult
    load_config(path) / override(config, {"dotted.key": value}) / demo_config()
"""

from azlang.search.config import ExperimentConfig, load_config, override
from azlang.search.experiment import resume, run_experiment
from azlang.search.presets import demo_config
from azlang.search.results import ExperimentRecord, SearchResult

__all__ = [
    "ExperimentConfig",
    "ExperimentRecord",
    "SearchResult",
    "demo_config",
    "load_config",
    "override",
    "resume",
    "run_experiment",
]
