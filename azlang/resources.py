"""Resource lookup: grammar and stdlib files, from an installed wheel or from a source checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

KINDS = ("grammar", "stdlib", "examples")

# A wheel carries the top-level folders inside the package as azlang/_data/<kind>/ (pyproject force-include);
# a source checkout has them at the repository root, one level above the package.
_PACKAGE_DATA = "_data"
_REPO_ROOT = Path(__file__).resolve().parent.parent


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown resource kind {kind!r}; expected one of {', '.join(KINDS)}")


def _package_dir(kind: str):
    return resources.files("azlang").joinpath(_PACKAGE_DATA).joinpath(kind)


def _candidate_dirs(kind: str) -> list[Path]:
    dirs = []
    pkg = _package_dir(kind)
    if pkg.is_dir():
        dirs.append(Path(str(pkg)))
    repo = _REPO_ROOT / kind
    if repo.is_dir():
        dirs.append(repo)
    return dirs


def resource_path(kind: str, name: str) -> Path:
    """Path of `<kind>/<name>`: the packaged copy first, else the checkout's top-level folder."""
    _check_kind(kind)
    for folder in _candidate_dirs(kind):
        path = folder / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"no {kind} resource named {name!r}")


def list_resources(kind: str) -> list[str]:
    """Names of the files of one kind (packaged and checkout copies merged), sorted."""
    _check_kind(kind)
    names = set()
    for folder in _candidate_dirs(kind):
        names.update(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return sorted(names)
