"""Native stage: the host record, LLVM's answers about this machine kept beside the object cache.

The object cache's keys include what LLVM says of the host (CPU name and features, LLVM's version, the
target triple). Asking means loading LLVM (~30 ms of every start); with every object cached, nothing else
needs it. So the first process to ask writes the answers to a record named by a fingerprint of what they
depend on: the CPU as the kernel describes it (vendor, family, model, stepping, feature flags), the machine
and the llvmlite build (version, and its library's size and time). Later processes on the same host find the
record and need no LLVM until they compile. Any change to those inputs is another fingerprint, so another
record (asked afresh); a damaged record reads as none. Outside Linux there is no fingerprint and no record.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

_CPU_KEYS = (b"vendor_id", b"cpu family", b"model", b"model name", b"stepping", b"cpuid level", b"flags")
FIELDS = ("cpu", "features", "llvm_version", "triple")


def fingerprint() -> str | None:
    """A digest of what LLVM's answers depend on, or None where it cannot be taken (then LLVM is asked)."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_bytes()
        import llvmlite

        lib = Path(llvmlite.__file__).parent / "binding" / "libllvmlite.so"
        st = lib.stat()
    except (OSError, ImportError):
        return None
    first = cpuinfo.split(b"\n\n", 1)[0]
    cpu = sorted(line for line in first.splitlines() if line.split(b":", 1)[0].strip() in _CPU_KEYS)
    h = hashlib.sha256()
    for part in [*cpu, os.uname().machine.encode(), llvmlite.__version__.encode(), str(st.st_size).encode(),
                 str(st.st_mtime_ns).encode()]:
        h.update(part + b"\0")
    return h.hexdigest()[:32]


def _path(cache: Path, key: str) -> Path:
    return cache / f"host-{key}.json"


def read(cache: Path) -> dict | None:
    """LLVM's recorded answers for this host, or None (no record, a damaged one, no fingerprint)."""
    key = fingerprint()
    return None if key is None else _load(_path(cache, key))


def _load(path: Path) -> dict | None:
    try:
        facts = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(facts, dict) or set(facts) != set(FIELDS) or not all(isinstance(facts[k], str) for k in FIELDS):
        return None
    return facts


def write(cache: Path, facts: dict) -> None:
    """Record LLVM's answers (atomically; an unwritable cache only means asking again next time)."""
    key = fingerprint()
    if key is None:
        return
    path = _path(cache, key)
    if _load(path) == facts:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({k: facts[k] for k in FIELDS}, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        pass
