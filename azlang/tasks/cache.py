"""Task stage: the on-disk cache of built dataset tasks (one .npz per task, written atomically)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

CACHE_ENV = "AZLANG_CACHE_DIR"
FORMAT = 1  # bump when the way tasks are built changes, so old entries are never reused
ARRAYS = ("train_x", "train_y", "valid_x", "valid_y")


def cache_dir() -> Path:
    """$AZLANG_CACHE_DIR/tasks, else ~/.cache/azlang/tasks (following $XDG_CACHE_HOME); the same root as the
    native backend's compiled objects (.../native)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser() / "tasks"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "azlang" / "tasks"


def key(**fields) -> str:
    """A digest of everything that decides a task's data (dataset identity, pair, sizes, seed, ...)."""
    text = json.dumps({"format": FORMAT, **fields}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def path_for(k: str, directory: Path | None = None) -> Path:
    return (directory or cache_dir()) / f"{k}.npz"


def load(k: str, directory: Path | None = None) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None when absent or unreadable (a damaged entry is simply rebuilt)."""
    path = path_for(k, directory)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in ARRAYS}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def store(k: str, arrays: dict[str, np.ndarray], directory: Path | None = None) -> Path | None:
    """Write atomically (temp file + rename) so a concurrent reader never sees half a file. A cache that
    cannot be written (read-only disk, full disk) is not an error: the task is simply not cached."""
    path = path_for(k, directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{k}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **{name: arrays[name] for name in ARRAYS})
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        return None
    return path
