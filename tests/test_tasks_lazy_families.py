"""Dataset-backed task families (projected images, CSV/npz tables) are imported when a spec first names one
(tasks/build.py FAMILY_MODULES): a run on synthetic tasks loads none of their code, and the table names exactly
the families those modules register."""

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from azlang.errors import TaskSpecError
from azlang.tasks import build

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = {"linear", "affine", "teacher", "zeros", "ones", "increment"}


def test_family_table_matches_the_registrations():
    """Every task module imported: each family any of them registers is in the table, under its module."""
    import azlang.tasks

    for info in pkgutil.iter_modules(azlang.tasks.__path__):
        importlib.import_module(f"azlang.tasks.{info.name}")
    assert set(build.BUILDERS) == SYNTHETIC | set(build.FAMILY_MODULES)
    for name, module in build.FAMILY_MODULES.items():
        assert build.builder_of(name).__module__ == module


def test_unknown_dataset_is_still_an_error():
    assert build.builder_of("nonesuch") is None
    with pytest.raises(TaskSpecError, match="unknown dataset 'nonesuch'"):
        build.build_tasks("nonesuch:F4")


CODE = """
import sys
from azlang.search.tasksets import build, parse_all
tasks = build(parse_all(["linear:F4:D3:N20:V10", "teacher:F4:D1:N15:V10"]))
assert len(tasks) == 4
print(" ".join(m for m in ("azlang.tasks.projected", "azlang.tasks.tabular", "azlang.tasks.datasets", "csv")
               if m in sys.modules))
"""


def test_synthetic_tasks_load_no_dataset_code():
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
