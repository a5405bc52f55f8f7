"""Task stage: dataset files checked against their known checksums once, then trusted while their identity
(size, mtime_ns, inode) is unchanged, so a modified or damaged file is caught without rehashing every load.

The verified identities live in <cache root>/verified.json (beside the task cache); a record that cannot be
written only means the check is repeated next time. AZLANG_VERIFY_DATA=0 skips the check (own data).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from azlang.errors import TaskSpecError
from azlang.tasks import cache
from azlang.tasks import datasets as ds

VERIFY_ENV = "AZLANG_VERIFY_DATA"
GOOD = ("verified", "content")


def enabled() -> bool:
    return os.environ.get(VERIFY_ENV, "1").strip().lower() not in ("0", "false", "no")


def record_path() -> Path:
    return cache.cache_dir().parent / "verified.json"


def _identity(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _read() -> dict:
    try:
        data = json.loads(record_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(records: dict) -> None:
    path = record_path()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(records, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def ensure_verified(info: ds.DatasetInfo, root: Path) -> None:
    """Raise a TaskSpecError naming the file if a dataset file is damaged or differs from its official
    checksum (a rebuilt CIFAR copy with the official structure and labels is accepted)."""
    if not enabled():
        return
    from azlang.tasks import download  # download imports datasets: imported here, not at module level

    folder = root / info.folder
    paths = {f: ds.locate(folder, f) for f in info.files}
    records = _read()
    stale = [f for f, p in paths.items() if p is not None and records.get(str(p.resolve())) != _identity(p)]
    if not stale:
        return
    states = {f: download.file_state(folder, f) for f in stale}
    bad = [f for f, s in states.items() if s not in GOOD]
    rebuilt = bad and info is ds.CIFAR10 and all(states[f] == "mismatch" for f in bad)
    if rebuilt and download.cifar_rebuilt_status(folder, [f.name for f in bad]).state == "rebuilt":
        bad = []
    if bad:
        f = bad[0]
        what = "is damaged (not a complete gzip stream)" if states[f] == "damaged" else (
            "does not match its official checksum (modified, damaged or another file)")
        raise TaskSpecError(
            f"dataset {info.name}: {paths[f]} {what}",
            hint=f"fetch it again: delete {paths[f]} and run `azc data fetch {info.name}`"
                 f" (or set {VERIFY_ENV}=0 to use own data unchecked)",
        )
    records.update({str(p.resolve()): _identity(p) for p in paths.values() if p is not None})
    _write(records)
