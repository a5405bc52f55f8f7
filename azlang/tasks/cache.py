"""Task stage: the on-disk cache of built dataset tasks (one file per task, written atomically).

An entry is the four arrays as consecutive .npy records in one `.npys` file: read back with one open and four
plain reads (an .npz goes through zipfile and a CRC per member, ten times slower for the baseline's 100
final tasks of 8000 examples). A damaged entry (bad header, wrong shape, truncated) reads as absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

CACHE_ENV = "AZLANG_CACHE_DIR"
FORMAT = 2  # bump when the way tasks are built changes, so old entries are never reused
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
    return (directory or cache_dir()) / f"{k}.npys"


def load(k: str, directory: Path | None = None) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None when absent or unreadable (a damaged entry is simply rebuilt)."""
    path = path_for(k, directory)
    try:
        with open(path, "rb") as fh:
            arrays = {name: _read_aligned(fh) for name in ARRAYS}
            if fh.read(1):
                return None  # trailing bytes: not what store() wrote
    except (OSError, ValueError, EOFError):
        return None
    return arrays


def _read_aligned(fh) -> np.ndarray:
    """One .npy record read straight into memory that starts on a 64-byte boundary: a row of F=16 doubles then
    spans 2 cache lines, not 3, in the native evaluation loops (which would otherwise copy it to align it)."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if fortran or dtype.hasobject:
        raise ValueError("not an array store() writes")
    count = int(np.prod(shape, dtype=np.int64))
    raw = np.empty(count * dtype.itemsize + 64, dtype=np.uint8)
    skip = -raw.ctypes.data % 64
    arr = raw[skip:skip + count * dtype.itemsize].view(dtype).reshape(shape)
    if fh.readinto(memoryview(arr.reshape(-1)).cast("B")) != arr.nbytes:
        raise EOFError("truncated entry")
    return arr


def store(k: str, arrays: dict[str, np.ndarray], directory: Path | None = None) -> Path | None:
    """Write atomically (temp file + rename) so a concurrent reader never sees half a file. A cache that
    cannot be written (read-only disk, full disk) is not an error: the task is simply not cached."""
    path = path_for(k, directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{k}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                for name in ARRAYS:
                    np.save(fh, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        return None
    return path
