"""Search stage: reproducibility metadata for run summaries (versions, commit, command line, CPU, engine)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path


def package_version(name: str) -> str | None:
    """The package's `__version__` when it is loaded and has one (azlang's and llvmlite's are by the time a run
    records them), else its installed metadata (importlib.metadata scans every installed distribution)."""
    own = getattr(sys.modules.get(name), "__version__", None)
    if isinstance(own, str):
        return own
    try:
        from importlib.metadata import version

        return version(name)
    except ImportError:  # PackageNotFoundError: not installed, or no metadata (a source checkout)
        return None


def git_commit(where: Path | None = None) -> str | None:
    """The commit of the azlang checkout (with `+dirty` when tracked files have uncommitted changes), or None.
    One `git status` gives both (its porcelain v2 header names the commit)."""
    where = where or Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"], check=False,
                             cwd=where, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.splitlines() if out.returncode == 0 else []
    commit = next((x.split()[2] for x in lines if x.startswith("# branch.oid ") and len(x.split()) == 3), None)
    if commit is None or commit == "(initial)":
        return None
    return commit + ("+dirty" if any(not x.startswith("#") for x in lines) else "")


def platform_name() -> str:
    """platform.platform() without its processor field on Linux: Python finds that field by running `uname -p` in a
    subprocess (~10 ms of every run), and prints it only where it differs from the machine (there it is mostly
    "unknown"). Elsewhere platform.platform() itself."""
    if not sys.platform.startswith("linux"):
        return platform.platform()
    u = os.uname()
    lib, version = platform.libc_ver()
    parts = [u.sysname, u.release, u.machine] + (["with", lib + version] if lib else [])
    return "-".join(p.replace(" ", "_") for p in parts if p)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def engine(cfg, specs) -> dict[str, str]:
    """Which evaluator and search loop the islands use (the same decisions as search/backends.make_evaluator
    and search/native_island.native_reason), from the search task specs (no data is built)."""
    from azlang.search.backends import native_available
    from azlang.tasks.multiclass import is_multiclass_spec

    multiclass = any(is_multiclass_spec(s) for s in specs)
    native = cfg.run.backend != "numpy" and not multiclass and native_available()
    ev = cfg.evolution
    frozen_random = ev.algorithm == "random" and any(c.frozen for c in cfg.components())
    loop = "native" if native and ev.loop != "python" and ev.batch == 1 and not frozen_random else "python"
    return {"evaluator": "native" if native else "numpy", "loop": loop}


def collect(cfg, specs) -> dict:
    """Everything needed to say what produced a run: JSON-ready."""
    import numpy

    return {
        "azlang": package_version("azlang"),
        "git_commit": git_commit(),
        "command": list(sys.argv),
        "cwd": os.getcwd(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "llvmlite": package_version("llvmlite"),
        "platform": platform_name(),
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        **engine(cfg, specs),
    }
