"""Task stage: the on-disk cache of built dataset tasks (one file per task, written atomically).

An entry is the four arrays as consecutive .npy records in one `.npys` file (an .npz goes through zipfile and a
CRC per member, ten times slower for the baseline's 100 final tasks of 8000 examples). `store` pads each record's
header so its data starts on a 64-byte file offset; `load` then maps the file read-only and the arrays are views
of the page cache: no fresh memory to fault in and zero, no copy (0.02 s instead of 0.09 s for those 100 tasks).
The padding is spaces inside the header, which every .npy reader accepts, so old and new readers share entries.
A record that is not so placed (an entry written before the padding, with record sizes that are not multiples
of 64) is copied to aligned memory as before. A damaged entry (bad header, wrong shape, truncated, trailing
bytes) reads as absent. The arrays are read-only: nothing may write into a task's data.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import mmap
import os
import struct
import tempfile
import weakref
from pathlib import Path

import numpy as np

CACHE_ENV = "AZLANG_CACHE_DIR"
FORMAT = 2  # bump when the way tasks are built changes, so old entries are never reused
ARRAYS = ("train_x", "train_y", "valid_x", "valid_y")
MAGIC = np.lib.format.magic(1, 0)[:6]
ALIGN = 64  # a row of F=16 doubles then spans 2 cache lines, not 3, in the native evaluation loops


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
    """The cached arrays (read-only), or None when absent or unreadable (a damaged entry is simply rebuilt).

    The mapping holds the file's inode, so a concurrent store() replacing the entry (a rename, never a write
    in place) leaves these arrays intact."""
    path = path_for(k, directory)
    try:
        with open(path, "rb") as fh:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)  # ValueError for an empty file
        pos, arrays = 0, {}
        for name in ARRAYS:
            arrays[name], pos = _record(mm, pos)
    except (OSError, ValueError, EOFError, struct.error):
        return None
    if pos != len(mm):
        return None  # trailing bytes: not what store() wrote
    if _MAPPED[0] < MAX_MAPPED:
        _MAPPED[0] += 1
        weakref.finalize(mm, _unmapped)  # when the last array of the entry goes
        return arrays
    arrays = {name: _aligned_copy(a) for name, a in arrays.items()}  # the views go with the old dict
    mm.close()
    return arrays


# Each mapping keeps a file descriptor open while its arrays live (mmap holds a duplicate before Python 3.13):
# past this many live entries, load() copies instead, so a process with thousands of tasks stays far below
# the usual limit of 1024 descriptors.
MAX_MAPPED = 256
_MAPPED = [0]


def _unmapped() -> None:
    _MAPPED[0] -= 1


def _record(mm: mmap.mmap, pos: int) -> tuple[np.ndarray, int]:
    """The .npy record at `pos` as a view of `mm` (an aligned copy when its data is not 64-byte aligned), and
    the position after it."""
    head = mm[pos:pos + 8]
    major = head[6] if len(head) == 8 and head[:6] == MAGIC else None
    if major not in (1, 2):
        raise ValueError("not a version 1 or 2 .npy record")
    length, fmt = (2, "<H") if major == 1 else (4, "<I")
    start = pos + 8 + length + struct.unpack_from(fmt, mm, pos + 8)[0]
    if start > len(mm):
        raise EOFError("truncated entry")
    shape, dtype = _header(mm[pos:start])
    end = start + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if end > len(mm):
        raise EOFError("truncated entry")
    arr = np.frombuffer(mm, dtype, (end - start) // dtype.itemsize, start).reshape(shape) if end > start else (
        np.empty(shape, dtype))
    return (arr if start % ALIGN == 0 else _aligned_copy(arr)), end


@functools.lru_cache(maxsize=64)
def _header(raw: bytes) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of one record header (the magic through the padded dict). Memoised: a task set's
    entries repeat a handful of headers, and parsing one (ast.literal_eval) costs more than mapping a file."""
    fh = io.BytesIO(raw)
    version = np.lib.format.read_magic(fh)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read(fh)
    if fortran or dtype.hasobject:
        raise ValueError("not an array store() writes")
    return shape, dtype


def _aligned_copy(arr: np.ndarray) -> np.ndarray:
    """A read-only copy of `arr` whose data starts on a 64-byte boundary (entries written before the padding)."""
    raw = np.empty(arr.nbytes + ALIGN, dtype=np.uint8)
    skip = -raw.ctypes.data % ALIGN
    out = raw[skip:skip + arr.nbytes].view(arr.dtype).reshape(arr.shape)
    out[...] = arr
    out.flags.writeable = False
    return out


def store(k: str, arrays: dict[str, np.ndarray], directory: Path | None = None) -> Path | None:
    """Write atomically (temp file + rename) so a concurrent reader never sees half a file, nor a mapped file
    change under it. A cache that cannot be written (read-only disk, full disk) is not an error: the task is
    simply not cached."""
    path = path_for(k, directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{k}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                for name in ARRAYS:
                    _write_record(fh, np.ascontiguousarray(arrays[name]))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        return None
    return path


def _write_record(fh, a: np.ndarray) -> None:
    """One version 1.0 .npy record whose header is padded (spaces before its final newline, as the format
    allows) so that the data starts on a 64-byte offset of the file, not just of the record."""
    fields = np.lib.format.header_data_from_array_1_0(a)
    text = "{" + "".join(f"{name!r}: {value!r}, " for name, value in fields.items()) + "}"
    fixed = len(np.lib.format.magic(1, 0)) + 2 + len(text) + 1  # magic, length, dict, newline
    header = text + " " * (-(fh.tell() + fixed) % ALIGN) + "\n"
    fh.write(np.lib.format.magic(1, 0) + struct.pack("<H", len(header)) + header.encode("latin1"))
    fh.write(a.data if a.size else b"")
