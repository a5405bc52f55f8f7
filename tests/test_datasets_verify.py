"""Damaged and modified dataset files: clear errors naming the file with a re-fetch hint, never a traceback;
files with known checksums are verified once and trusted while their identity (size, mtime, inode) holds."""

import gzip
import os

import datasets_fakes as fk
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from azlang.cli import app
from azlang.errors import TaskSpecError
from azlang.tasks import datasets as ds
from azlang.tasks import download
from azlang.tasks.build import build_tasks

IMAGES = "train-images-idx3-ubyte.gz"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv(ds.OFFLINE_ENV, "1")
    monkeypatch.delenv(ds.DATA_ENV, raising=False)
    monkeypatch.delenv("AZLANG_VERIFY_DATA", raising=False)
    monkeypatch.setenv("AZLANG_CACHE_DIR", str(tmp_path / "cache"))
    ds._load_memo.cache_clear()


@pytest.fixture
def mnist(tmp_path, monkeypatch):
    """A fake MNIST whose checksums are the 'official' ones."""
    folder = fk.write_idx_dataset(tmp_path / "data", folder="mnist")
    info = fk.info_matching(ds.MNIST, folder)
    monkeypatch.setitem(ds.DATASETS, "mnist", info)
    return info, tmp_path / "data", folder


def _hashes(monkeypatch) -> list:
    calls = []
    real = download.md5_of
    monkeypatch.setattr(download, "md5_of", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    return calls


def test_verified_once_then_trusted_by_identity(mnist, monkeypatch):
    info, root, _ = mnist
    calls = _hashes(monkeypatch)
    ds.load(info, root)
    assert len(calls) == 4  # every file hashed once
    ds._load_memo.cache_clear()
    ds.load(info, root)
    assert len(calls) == 4  # unchanged identity: no rehash


def test_a_modified_file_is_an_error_naming_it(mnist):
    info, root, folder = mnist
    ds.load(info, root)
    path = folder / IMAGES
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[-1] ^= 0xFF  # one pixel changed, still a valid file
    path.write_bytes(gzip.compress(bytes(data), mtime=0))
    ds._load_memo.cache_clear()
    with pytest.raises(TaskSpecError, match="official checksum") as e:
        ds.load(info, root)
    assert str(path) in e.value.message and "azc data fetch mnist" in e.value.hint


def test_a_touched_but_equal_file_is_rehashed_and_accepted(mnist):
    info, root, folder = mnist
    ds.load(info, root)
    path = folder / IMAGES
    os.utime(path, ns=(10**18, 10**18))
    ds._load_memo.cache_clear()
    ds.load(info, root)


@pytest.mark.parametrize("damage", ["truncate", "deflate"])
def test_damaged_gz_is_a_clear_error_with_or_without_verification(mnist, monkeypatch, damage):
    info, root, folder = mnist
    path = folder / IMAGES
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else raw[:40] + b"\xff" * 50 + raw[90:])
    with pytest.raises(TaskSpecError, match="damaged") as e:
        ds.load(info, root)
    assert str(path) in e.value.message
    monkeypatch.setenv("AZLANG_VERIFY_DATA", "0")
    with pytest.raises(TaskSpecError, match="truncated or damaged gzip") as e:
        ds.load(info, root)
    assert str(path) in e.value.message and "fetch it again" in e.value.hint


def test_cli_run_and_data_list_with_a_truncated_gz(mnist):
    _, root, folder = mnist
    path = folder / IMAGES
    path.write_bytes(path.read_bytes()[:1000])
    runner = CliRunner()
    res = runner.invoke(app, ["run", "linear_sgd", "-t", "mnist:0v1:F8", "--data-dir", str(root)])
    assert res.exit_code == 1 and "damaged" in res.output and "Aborted" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    listing = runner.invoke(app, ["data", "list", "--data-dir", str(root)])
    assert listing.exit_code == 0 and "damaged" in listing.output and listing.exception is None


@given(st.integers(0, 10**6), st.integers(1, 255), st.sampled_from(["flip", "truncate"]))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_damage_to_a_gz_is_a_task_spec_error(tmp_path, pos, byte, kind):
    path = tmp_path / IMAGES
    good = gzip.compress(fk.idx_bytes(fk.pixels(20, 784, 0).reshape(20, 28, 28)), mtime=0)
    pos %= len(good)
    path.write_bytes(good[:pos] if kind == "truncate" else good[:pos] + bytes([good[pos] ^ byte]) + good[pos + 1 :])
    try:
        ds.read_idx(path)
    except TaskSpecError:
        pass
    state = download.file_state(tmp_path, ds.FileInfo(IMAGES, "0" * 32, "0" * 32))
    assert state in ("damaged", "mismatch", "unreadable")


def test_build_tasks_from_verified_data(mnist):
    _, root, _ = mnist
    assert len(build_tasks("mnist:0v1:F8:N20:V10", str(root))) == 1
