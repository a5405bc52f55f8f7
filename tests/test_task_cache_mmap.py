"""The task cache's mapped reads (azlang/tasks/cache.py): read-only views at 64-byte offsets, entries written before
the header padding still read, damaged entries read as absent, a replaced entry leaves mapped arrays intact, and
tasks built from the cache evaluate as freshly built ones (nothing writes into task data)."""

from __future__ import annotations

import mmap

import datasets_fakes as fk
import numpy as np
import pytest

from azlang.ir.bytecode import to_bytecode
from azlang.ir.nodes import MemoryShape
from azlang.rng import Rng
from azlang.search.backends import make_evaluator, native_available
from azlang.syntax import parse
from azlang.tasks import cache
from azlang.tasks import datasets as ds
from azlang.tasks.build import build_tasks


def _arrays(n_train=33, n_valid=7, F=3, seed=0):
    g = np.random.default_rng(seed)
    return {"train_x": g.normal(size=(n_train, F)), "train_y": g.normal(size=n_train),
            "valid_x": g.normal(size=(n_valid, F)), "valid_y": g.normal(size=n_valid)}


def _old_store(path, arrays):
    """An entry as written before the padding: plain consecutive np.save records."""
    with open(path, "wb") as fh:
        for name in cache.ARRAYS:
            np.save(fh, arrays[name], allow_pickle=False)


def _mapped(a: np.ndarray) -> bool:
    while isinstance(a, np.ndarray):
        a = a.base
    return isinstance(getattr(a, "obj", a), mmap.mmap)  # frombuffer keeps a memoryview of the mapping


def _same(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize("sizes", [(33, 7, 3), (8, 8, 16), (1, 1, 1)])
def test_round_trip_gives_aligned_read_only_views(tmp_path, sizes):
    arrays = _arrays(*sizes)
    cache.store("k", arrays, tmp_path)
    back = cache.load("k", tmp_path)
    _same(back, arrays)
    for a in back.values():
        assert a.ctypes.data % 64 == 0 and not a.flags.writeable and _mapped(a)
    with pytest.raises(ValueError):
        back["train_x"][0, 0] = 1.0


def test_past_the_mapping_limit_entries_are_copied_and_hold_no_descriptor(tmp_path, monkeypatch):
    import gc
    import os

    monkeypatch.setattr(cache, "MAX_MAPPED", cache._MAPPED[0] + 2)
    for k in range(4):
        cache.store(f"k{k}", _arrays(seed=k), tmp_path)
    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    loaded = [cache.load(f"k{k}", tmp_path) for k in range(4)]
    for k, back in enumerate(loaded):
        _same(back, _arrays(seed=k))
        assert all(a.ctypes.data % 64 == 0 and not a.flags.writeable for a in back.values())
    assert [all(_mapped(a) for a in back.values()) for back in loaded] == [True, True, False, False]
    if fds is not None:
        assert len(os.listdir("/proc/self/fd")) == fds + 2  # only the two mappings hold one
    del loaded, back
    gc.collect()
    assert cache._MAPPED[0] == cache.MAX_MAPPED - 2  # both mappings went with their arrays
    assert all(_mapped(a) for a in cache.load("k0", tmp_path).values())


def test_records_start_on_64_byte_offsets_and_plain_numpy_reads_them(tmp_path):
    arrays = _arrays()
    path = cache.store("k", arrays, tmp_path)
    with open(path, "rb") as fh:
        for name in cache.ARRAYS:
            version = np.lib.format.read_magic(fh)
            np.lib.format.read_array_header_1_0(fh) if version == (1, 0) else None
            assert version == (1, 0) and fh.tell() % 64 == 0
            fh.seek(fh.tell() + arrays[name].nbytes)
    with open(path, "rb") as fh:  # what a reader without mapping (np.load, the old load) does
        _same({name: np.load(fh) for name in cache.ARRAYS}, arrays)
        assert fh.read(1) == b""


@pytest.mark.parametrize("sizes", [(33, 7, 3), (8, 8, 16)])
def test_entries_written_before_the_padding_still_read(tmp_path, sizes):
    arrays = _arrays(*sizes)
    _old_store(cache.path_for("old", tmp_path), arrays)
    back = cache.load("old", tmp_path)
    _same(back, arrays)
    for a in back.values():
        assert a.ctypes.data % 64 == 0 and not a.flags.writeable
    # 8 x 16 doubles and 8 doubles are multiples of 64 bytes: every record is in place, so all are mapped
    assert all(_mapped(a) for a in back.values()) == (sizes == (8, 8, 16))


def _damage(path, how: str) -> None:
    raw = path.read_bytes()
    if how == "trailing":
        path.write_bytes(raw + b"\0")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(b"not an npys entry")
    elif how == "version":
        path.write_bytes(raw[:6] + b"\x03\x00" + raw[8:])
    else:
        path.write_bytes(raw[:int(how)])


@pytest.mark.parametrize("how", ["trailing", "empty", "garbage", "version", "5", "6", "7", "9", "100", "200", "-1", "-60"])
def test_damaged_entries_read_as_absent(tmp_path, how):
    path = cache.store("k", _arrays(), tmp_path)
    _damage(path, how)
    assert cache.load("k", tmp_path) is None


def test_fortran_or_object_records_are_not_entries(tmp_path):
    arrays = _arrays()
    arrays["train_x"] = np.asfortranarray(arrays["train_x"])
    with open(cache.path_for("f", tmp_path), "wb") as fh:
        for name in cache.ARRAYS:
            np.save(fh, arrays[name])
    assert cache.load("f", tmp_path) is None


def test_a_replaced_entry_leaves_mapped_arrays_intact(tmp_path):
    first, second = _arrays(seed=1), _arrays(seed=2)
    cache.store("k", first, tmp_path)
    held = cache.load("k", tmp_path)
    cache.store("k", second, tmp_path)  # a concurrent writer: temp file and rename
    _same(held, first)
    _same(cache.load("k", tmp_path), second)


def test_missing_entry_and_unwritable_cache(tmp_path):
    assert cache.load("absent", tmp_path) is None
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cache.store("k", _arrays(), blocker / "sub") is None


@pytest.fixture
def cifar(tmp_path, monkeypatch):
    monkeypatch.setenv(ds.OFFLINE_ENV, "1")
    monkeypatch.setenv("AZLANG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AZLANG_VERIFY_DATA", "0")
    ds._load_memo.cache_clear()
    fk.write_cifar(tmp_path / "data")
    return str(tmp_path / "data")


PROGRAM = ("def Setup():\n  v2 = gaussian(0.0, 0.1)\n  s2 = 0.01\n"
           "def Predict():\n  s1 = dot(v2, v0)\n"
           "def Learn():\n  s3 = s0 - s1\n  s3 = s2 * s3\n  v3 = s3 * v0\n  v2 = v2 + v3\n")


@pytest.mark.parametrize("backend", ["numpy"] + (["native"] if native_available() else []))
def test_tasks_from_the_cache_evaluate_as_built_ones(cifar, backend):
    built = build_tasks("cifar:select:F16:D3:N40:V10", cifar)
    cached = build_tasks("cifar:select:F16:D3:N40:V10", cifar)
    assert all(not t.train_x.flags.writeable and _mapped(t.train_x) for t in cached)
    bc = to_bytecode(parse(PROGRAM))
    results = []
    for tasks in (built, cached):
        ev = make_evaluator(backend, tasks, MemoryShape(4, 4, 1), 100.0)
        results.append([(r.fitness, r.train_steps) for r in ev.full(bc, [0, 1, 2], Rng(9), [None] * 3)])
    assert results[0] == results[1]
