"""The verdict cache on the C library's exp (libm_verdicts.py): what it keeps equals what start-up computes, bit
for bit; a corrupt, foreign or unidentifiable file is never believed; a second process reads instead of
computing; a failed write leaves no file behind."""

import ctypes
import ctypes.util
import hashlib
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from native_support import cache_dir  # noqa: F401  (autouse: the engine's files go to a fresh directory)

from azlang.backends.native import libm_core, libm_verdicts
from azlang.backends.native.libm_verdicts import Verdicts

LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
EXP = ctypes.cast(LIBM.exp, ctypes.c_void_p).value
CORE = libm_core.core_address(LIBM)
CONTEXT = ["source-hash", "cpu", "+features"]
IDENTIFIED = libm_verdicts.library_digest(EXP) is not None
needs_identified = pytest.mark.skipif(not IDENTIFIED, reason="the C library file cannot be identified here")


def bits(x):
    return None if x is None else struct.pack("<d", x)


def same(a: Verdicts, b: Verdicts) -> bool:
    return a.core_ok == b.core_ok and bits(a.threshold) == bits(b.threshold) and bits(a.fixed_point) == bits(
        b.fixed_point)


@pytest.fixture(scope="module")
def fresh() -> Verdicts:
    return libm_verdicts.compute(EXP, CORE)


@pytest.fixture
def counted(monkeypatch):
    """libm_verdicts.compute, counting its calls."""
    calls = []
    real = libm_verdicts.compute

    def compute(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(libm_verdicts, "compute", compute)
    return calls


def the_file(directory: Path) -> Path:
    (path,) = [p for p in directory.iterdir() if p.name.startswith("libm-verdicts-")]
    return path


def test_fresh_verdicts_match_the_old_start_up_computation(fresh):
    core = libm_core.exp_core(LIBM)
    assert fresh.core_ok == (core is not None)
    exp = core or EXP
    from azlang.backends.native import sigmoid_cuts

    assert same(fresh, Verdicts(fresh.core_ok, sigmoid_cuts.threshold(exp), sigmoid_cuts.fixed_point(exp)))


@needs_identified
def test_cached_verdicts_equal_the_computed_ones(tmp_path, fresh, counted):
    first = libm_verdicts.resolve(EXP, CORE, CONTEXT, tmp_path)
    second = libm_verdicts.resolve(EXP, CORE, CONTEXT, tmp_path)
    assert len(counted) == 1  # the second came from the file
    assert same(first, fresh) and same(second, fresh)
    record = json.loads(the_file(tmp_path).read_text())
    assert record["exp_core"] is fresh.core_ok and "address" not in json.dumps(record)


@needs_identified
def test_the_engine_binds_what_the_verdicts_say(fresh):
    from azlang.backends import native
    from azlang.backends.native import engine

    if not native.available():
        pytest.skip("llvmlite cannot JIT here")
    assert engine._libm_addresses()["exp"] == (CORE if fresh.core_ok else EXP)
    assert bits(engine.sigmoid_threshold()) == bits(fresh.threshold)
    assert bits(engine.sigmoid_fixed_point()) == bits(fresh.fixed_point)
    assert repr(fresh.threshold) in engine.state()["salt"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "not json", "empty", "checksum", "types"])
@needs_identified
def test_a_corrupt_file_is_computed_again_and_rewritten(tmp_path, fresh, counted, damage):
    libm_verdicts.resolve(EXP, CORE, CONTEXT, tmp_path)
    path = the_file(tmp_path)
    text = path.read_text()
    record = json.loads(text)
    if damage == "truncate":
        text = text[: len(text) // 2]
    elif damage == "flip":
        text = text.replace(record["threshold"] or "null", "3ff0000000000000", 1)
    elif damage == "not json":
        text = "\x00\x01 garbage"
    elif damage == "empty":
        text = ""
    elif damage == "checksum":
        record["fixed_point"] = struct.pack(">d", 0.5).hex()  # a believable value, the checksum left stale
        text = json.dumps(record)
    else:  # a whole record (checksum recomputed) with a value of the wrong type
        body = {k: v for k, v in record.items() if k != "checksum"} | {"threshold": 1.5}
        text = json.dumps(body | {"checksum": libm_verdicts._digest(body)})
    path.write_text(text)
    again = libm_verdicts.resolve(EXP, CORE, CONTEXT, tmp_path)
    assert len(counted) == 2 and same(again, fresh)
    assert libm_verdicts.read(path, record["key"]) is not None  # whole again
    libm_verdicts.resolve(EXP, CORE, CONTEXT, tmp_path)
    assert len(counted) == 2


@needs_identified
def test_a_foreign_key_is_not_believed(tmp_path, fresh, counted):
    libm_verdicts.resolve(EXP, CORE, CONTEXT, tmp_path)
    path = the_file(tmp_path)
    key = libm_verdicts.verdict_key(EXP, CONTEXT)
    foreign = key | {"library": hashlib.sha256(b"another libm").hexdigest()}
    path.write_text(libm_verdicts.encode(foreign, Verdicts(False, 0.25, 0.5)))  # whole, but for another library
    assert libm_verdicts.read(path, key) is None
    assert same(libm_verdicts.resolve(EXP, CORE, CONTEXT, tmp_path), fresh) and len(counted) == 2
    other = libm_verdicts.resolve(EXP, CORE, [*CONTEXT[:2], "-features"], tmp_path)  # other CPU: its own file
    assert len(counted) == 3 and same(other, fresh)
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("libm-verdicts-")]) == 2


def test_an_unidentified_library_is_computed_and_nothing_written(tmp_path, fresh, counted, monkeypatch):
    monkeypatch.setattr(libm_verdicts, "library_digest", lambda address: None)
    assert same(libm_verdicts.resolve(EXP, CORE, CONTEXT, tmp_path), fresh)
    assert same(libm_verdicts.resolve(EXP, CORE, CONTEXT, tmp_path), fresh)
    assert len(counted) == 2 and list(tmp_path.iterdir()) == []


@needs_identified
def test_the_library_is_the_mapped_file():
    path, device, inode = libm_verdicts.mapped_file(EXP)
    st_ = os.stat(path)
    assert (st_.st_dev, st_.st_ino) == (device, inode)
    assert libm_verdicts.library_digest(EXP) == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert libm_verdicts.mapped_file(0) is None


@needs_identified
def test_a_library_replaced_on_disk_is_not_hashed(monkeypatch):
    path, device, inode = libm_verdicts.mapped_file(EXP)
    monkeypatch.setattr(libm_verdicts, "mapped_file", lambda address: (path, device, inode + 1))
    assert libm_verdicts.library_digest(EXP) is None


@given(st.one_of(st.none(), st.floats(allow_nan=False)), st.one_of(st.none(), st.floats()), st.booleans())
def test_encoding_keeps_every_bit(threshold, fixed, core_ok):
    key = {"library": "x", "context": ["a"]}
    v = Verdicts(core_ok, threshold, fixed)
    back = libm_verdicts.decode(libm_verdicts.encode(key, v), key)
    assert back is not None and same(back, v)
    assert libm_verdicts.decode(libm_verdicts.encode(key, v), key | {"library": "y"}) is None


@pytest.mark.parametrize("failure", ["rename", "write"])
def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch, failure):
    path = tmp_path / "libm-verdicts-x.json"
    if failure == "rename":
        def replace(src, dst):
            raise OSError("disk full")

        monkeypatch.setattr(libm_verdicts.os, "replace", replace)
    else:
        def write_text(self, text, encoding=None):
            with open(self, "w", encoding=encoding) as f:
                f.write(text[:10])  # part of it reaches the disk, then the write fails
            raise OSError("disk full")

        monkeypatch.setattr(Path, "write_text", write_text)
    libm_verdicts.write(path, {"k": 1}, Verdicts(True, 0.5, 0.25))
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_directory_only_costs_computing(tmp_path, fresh, counted):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert same(libm_verdicts.resolve(EXP, CORE, CONTEXT, blocker / "native"), fresh)
    assert same(libm_verdicts.resolve(EXP, CORE, CONTEXT, blocker / "native"), fresh)
    assert len(counted) == 2


PROBE = """
import ctypes, ctypes.util, json, struct
from azlang.backends import native
from azlang.backends.native import engine, libm_core, libm_verdicts
assert native.available()
bits = lambda x: None if x is None else struct.pack('<d', x).hex()
core = libm_core.core_address(ctypes.CDLL(ctypes.util.find_library('m') or 'libm.so.6'))
print(json.dumps([libm_verdicts.STATS, bits(engine.sigmoid_threshold()), bits(engine.sigmoid_fixed_point()),
                  engine._libm_addresses()['exp'] == core]))
"""


@needs_identified
def test_a_second_process_reads_the_verdicts(tmp_path, fresh):
    from azlang.backends import native

    if not native.available():
        pytest.skip("llvmlite cannot JIT here")
    env = dict(os.environ, AZLANG_CACHE_DIR=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    runs = [json.loads(subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                                      check=True).stdout) for _ in range(2)]
    assert runs[0][0] == {"computed": 1, "cached": 0}
    assert runs[1][0] == {"computed": 0, "cached": 1}
    expected = [None if x is None else struct.pack("<d", x).hex() for x in (fresh.threshold, fresh.fixed_point)]
    assert runs[0][1:3] == runs[1][1:3] == expected
    assert runs[0][3] == runs[1][3] == fresh.core_ok  # exp bound to the core exactly when the verdict says so
    assert the_file(tmp_path / "native").exists()
