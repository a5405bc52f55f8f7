"""Native stage: the start-up verdicts on the C library's exp (libm_core, sigmoid_cuts), kept on disk.

Whether glibc's exp core returns the bits of `exp` (about 11k probes) and the sigmoid's threshold and fixed
point (bisection and about 7k probes) take some 20 ms to establish and are the same in every process that
loads the same C library on the same CPU: they are computed once and kept as a small JSON file next to the
object cache (engine.cache_dir(), so AZLANG_CACHE_DIR moves both). The file is keyed by what the verdicts
depend on: the sha256 of the bytes of the library file mapped at exp's address (checked to be the very
inode mapped, so a library replaced on disk since the process loaded it is never hashed in its place), the
native package's source hash (it changes with libm_core.py and sigmoid_cuts.py), the CPU and its features
(glibc picks exp's implementation by them), GLIBC_TUNABLES (which can override that pick), the platform
and the Python version (its `random` draws the probes). Stored are the core verdict (never an address:
ASLR moves it, and dlvsym finds it again for nothing) and the two doubles as the hex of their IEEE bits.
Files are written atomically and carry a checksum; a missing, corrupt or foreign file is ignored (the
verdicts are computed and the file written anew); where the library file cannot be identified nothing is
cached and the verdicts are computed as before.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import struct
import sys
import threading
from contextlib import suppress
from pathlib import Path
from typing import NamedTuple

from azlang.backends.native import libm_core

VERSION = 1
STATS = {"computed": 0, "cached": 0}  # how this process came by its verdicts (tests read it)


class Verdicts(NamedTuple):
    core_ok: bool  # glibc's exp core (libm_core) returns the bits of exp: generated code calls the core
    threshold: float | None  # sigmoid_cuts.threshold for the exp the generated code calls
    fixed_point: float | None  # sigmoid_cuts.fixed_point for that exp


def compute(exp_address: int, core_address: int | None) -> Verdicts:
    """The verdicts from scratch: the core's probe check, then the sigmoid cuts of the exp that wins."""
    from azlang.backends.native import sigmoid_cuts  # not on a cache hit: it loads llvmlite.ir (its IR helpers)

    core_ok = bool(core_address) and libm_core.same_bits(
        libm_core._F(core_address), libm_core._F(exp_address), libm_core.probes())
    exp = core_address if core_ok else exp_address
    return Verdicts(core_ok, sigmoid_cuts.threshold(exp), sigmoid_cuts.fixed_point(exp))


def resolve(exp_address: int, core_address: int | None, context: list[str], directory: Path) -> Verdicts:
    """The verdicts for the exp at `exp_address` (and the core at `core_address`): from the file in `directory`
    when it holds them under this key, else computed (and written there when the library is identified).
    `context`: what else the verdicts depend on that the caller knows (source hash, CPU name and features)."""
    key = verdict_key(exp_address, context)
    path = directory / f"libm-verdicts-{_digest(key)[:32]}.json" if key is not None else None
    cached = read(path, key) if path is not None else None
    if cached is not None:
        STATS["cached"] += 1
        return cached
    verdicts = compute(exp_address, core_address)
    STATS["computed"] += 1
    if path is not None:
        write(path, key, verdicts)
    return verdicts


# --- the key ----------------------------------------------------------------------------------------------

def mapped_file(address: int) -> tuple[str, int, int] | None:
    """(path, device, inode) of the file mapped at `address` in this process (Linux /proc), or None."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split(None, 5)
                lo, _, hi = fields[0].partition("-")
                if len(fields) == 6 and int(lo, 16) <= address < int(hi, 16):
                    major, _, minor = fields[3].partition(":")
                    path = fields[5].rstrip("\n")
                    if not path.startswith("/") or path.endswith(" (deleted)"):
                        return None
                    return path, os.makedev(int(major, 16), int(minor, 16)), int(fields[4])
    except (OSError, ValueError, IndexError):
        return None
    return None


def library_digest(address: int) -> str | None:
    """sha256 of the library file mapped at `address`, read through a descriptor that is checked to be the
    mapped inode (a file replaced on disk since it was loaded gives None, as does an unidentifiable one)."""
    mapped = mapped_file(address)
    if mapped is None:
        return None
    path, device, inode = mapped
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if (st.st_dev, st.st_ino) != (device, inode):
                return None
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def verdict_key(exp_address: int, context: list[str]) -> dict | None:
    library = library_digest(exp_address)
    if library is None:
        return None
    return {"library": library, "context": list(context), "tunables": os.environ.get("GLIBC_TUNABLES", ""),
            "platform": sys.platform, "machine": os.uname().machine if hasattr(os, "uname") else "",
            "python": list(sys.version_info[:2]), "pointer_bits": ctypes.sizeof(ctypes.c_void_p) * 8}


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# --- the file ---------------------------------------------------------------------------------------------

def _bits(x: float | None) -> str | None:
    return None if x is None else struct.pack(">d", x).hex()


def _double(h) -> float | None:
    if h is None:
        return None
    if not isinstance(h, str) or len(h) != 16:
        raise ValueError("not the hex of a double")
    return struct.unpack(">d", bytes.fromhex(h))[0]


def encode(key: dict, verdicts: Verdicts) -> str:
    body = {"version": VERSION, "key": key, "exp_core": verdicts.core_ok, "threshold": _bits(verdicts.threshold),
            "fixed_point": _bits(verdicts.fixed_point)}
    return json.dumps({**body, "checksum": _digest(body)}, sort_keys=True, indent=1) + "\n"


def decode(text: str, key: dict) -> Verdicts | None:
    """The verdicts in a file's text when it is whole (checksum) and made under `key`, else None."""
    try:
        record = json.loads(text)
        checksum = record.pop("checksum")
        if _digest(record) != checksum or record.get("version") != VERSION or record.get("key") != key:
            return None
        if not isinstance(record["exp_core"], bool):
            return None
        return Verdicts(record["exp_core"], _double(record["threshold"]), _double(record["fixed_point"]))
    except (ValueError, TypeError, KeyError, AttributeError, struct.error):
        return None


def read(path: Path, key: dict) -> Verdicts | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return decode(text, key)


def write(path: Path, key: dict, verdicts: Verdicts) -> None:
    """Atomically (a temporary file renamed over the target; removed again if anything fails)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(encode(key, verdicts), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs computing the verdicts next time
    finally:
        with suppress(OSError):  # gone after the rename; a half-written one after a failure
            tmp.unlink()
