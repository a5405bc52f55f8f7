"""Dataset loaders, data root, offline errors, checksums, resumable downloads (fake server) and `azc data`."""

from __future__ import annotations

import gzip
import io
import pickle
import urllib.error

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import datasets_fakes as fk
from azlang.data_cli import data_app
from azlang.errors import TaskSpecError
from azlang.tasks import datasets as ds
from azlang.tasks import download
from azlang.tasks.build import build_tasks


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No network, no real data, a private cache."""
    monkeypatch.setenv(ds.OFFLINE_ENV, "1")
    monkeypatch.delenv(ds.DATA_ENV, raising=False)
    monkeypatch.setenv("AZLANG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AZLANG_VERIFY_DATA", "0")  # fakes have other checksums (test_datasets_verify checks them)
    monkeypatch.setattr(download.urllib.request, "urlopen", _no_network)
    ds._load_memo.cache_clear()


def _no_network(*args, **kwargs):
    raise AssertionError("a test tried to use the network")


class FakeServer:
    """urlopen stand-in serving bytes by URL; honours Range unless told not to; records the requests."""

    def __init__(self, files: dict[str, bytes], ranges: bool = True):
        self.files, self.ranges, self.requests = files, ranges, []

    def __call__(self, request, timeout=None):
        self.requests.append(request)
        body = self.files[request.full_url]
        rng = request.get_header("Range")
        if rng and self.ranges:
            start = int(rng.split("=")[1].rstrip("-"))
            if start >= len(body):
                raise urllib.error.HTTPError(request.full_url, 416, "range", {}, None)
            return _Response(body[start:], 206)
        return _Response(body, 200)


class _Response(io.BytesIO):
    def __init__(self, body: bytes, status: int):
        super().__init__(body)
        self.status = status
        self.headers = {"Content-Length": str(len(body))}


# --- data root and loaders ----------------------------------------------------------------------------------

def test_data_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ds.data_root() == tmp_path / "xdg" / "azlang"
    monkeypatch.setenv(ds.DATA_ENV, str(tmp_path / "env"))
    assert ds.data_root() == tmp_path / "env"
    assert ds.data_root(tmp_path / "arg") == tmp_path / "arg"


def test_idx_gz_and_raw_load_the_same(tmp_path):
    fk.write_idx_dataset(tmp_path / "a", gz=True)
    fk.write_idx_dataset(tmp_path / "b", gz=False)
    a, b = (ds.load(ds.MNIST, tmp_path / r) for r in "ab")
    assert a.train_x.shape == (500, 784) and a.test_x.shape == (100, 784)
    for part in ("train_x", "train_y", "test_x", "test_y"):
        assert np.array_equal(getattr(a, part), getattr(b, part))
    assert np.bincount(a.train_y).tolist() == [50] * 10


def test_truncated_idx_is_a_clear_error(tmp_path):
    folder = fk.write_idx_dataset(tmp_path, gz=False)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(TaskSpecError, match="truncated"):
        ds.load(ds.MNIST, tmp_path)


def test_cifar_batches_load_in_official_order(tmp_path):
    fk.write_cifar(tmp_path, per_class=20, test_per_class=3)
    data = ds.load(ds.CIFAR10, tmp_path)
    assert data.train_x.shape == (200, 3072) and data.train_x.dtype == np.uint8
    assert data.test_x.shape == (30, 3072)
    assert np.array_equal(data.train_y, fk.labels_cycle(200, 0))
    assert np.array_equal(data.train_x, fk.pixels(200, 3072, 0))


def test_cifar_pickle_with_foreign_objects_is_refused(tmp_path):
    folder = fk.write_cifar(tmp_path, per_class=2, test_per_class=1)
    with open(folder / "data_batch_3", "wb") as fh:
        pickle.dump({b"data": np.zeros((1, 3072), np.uint8), b"labels": [0], b"x": io.BytesIO()}, fh, protocol=2)
    with pytest.raises(TaskSpecError, match="data_batch_3"):
        ds.load(ds.CIFAR10, tmp_path)


# --- missing data ---------------------------------------------------------------------------------------------

def test_missing_dataset_names_path_files_and_fetch_command(tmp_path):
    with pytest.raises(TaskSpecError) as err:
        build_tasks("cifar:3v5:F16", data_dir=str(tmp_path))
    text = err.value.render()
    assert str(tmp_path / "cifar-10-batches-py") in text
    assert "data_batch_1" in text and "test_batch" in text
    assert "azc data fetch cifar10" in text
    assert "Traceback" not in text


def test_missing_files_of_an_incomplete_dataset(tmp_path):
    folder = fk.write_idx_dataset(tmp_path, folder="fashion-mnist")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(TaskSpecError, match="t10k-labels-idx1-ubyte.gz") as err:
        build_tasks("fashion:0v1", data_dir=str(tmp_path))
    assert "train-images" not in err.value.message  # only what is missing is named
    assert "azc data fetch fashion" in err.value.render()


# --- downloads (fake server: tests never touch the network) ----------------------------------------------------

def test_download_verifies_and_renames(tmp_path):
    body = b"x" * 5000
    server = FakeServer({"http://h/f": body})
    seen = []
    download.download("http://h/f", tmp_path / "f", fk.md5(body), lambda *a: seen.append(a), urlopen=server)
    assert (tmp_path / "f").read_bytes() == body and not (tmp_path / "f.part").exists()
    assert seen[-1] == ("f", 5000, 5000)


def test_download_resumes_with_range(tmp_path):
    body = bytes(range(256)) * 40
    (tmp_path / "f.part").write_bytes(body[:3000])
    server = FakeServer({"http://h/f": body})
    download.download("http://h/f", tmp_path / "f", fk.md5(body), urlopen=server)
    assert server.requests[0].get_header("Range") == "bytes=3000-"
    assert (tmp_path / "f").read_bytes() == body


def test_download_restarts_when_server_ignores_range(tmp_path):
    body = bytes(range(256)) * 40
    (tmp_path / "f.part").write_bytes(b"garbage")
    download.download("http://h/f", tmp_path / "f", fk.md5(body), urlopen=FakeServer({"http://h/f": body}, ranges=False))
    assert (tmp_path / "f").read_bytes() == body


def test_download_of_a_complete_partial_file(tmp_path):
    body = b"complete"
    (tmp_path / "f.part").write_bytes(body)
    download.download("http://h/f", tmp_path / "f", fk.md5(body), urlopen=FakeServer({"http://h/f": body}))
    assert (tmp_path / "f").read_bytes() == body


def test_checksum_failure_discards_the_download(tmp_path):
    server = FakeServer({"http://h/f": b"tampered"})
    with pytest.raises(TaskSpecError, match="checksum mismatch for f"):
        download.download("http://h/f", tmp_path / "f", fk.md5(b"original"), urlopen=server)
    assert not (tmp_path / "f").exists() and not (tmp_path / "f.part").exists()


def test_fetch_idx_dataset_from_fake_publisher(tmp_path, monkeypatch):
    src = fk.write_idx_dataset(tmp_path / "src")
    info = fk.info_matching(ds.MNIST, src)
    monkeypatch.setitem(ds.DATASETS, "mnist", info)
    monkeypatch.delenv(ds.OFFLINE_ENV)
    server = FakeServer({info.base_url + f.name: (src / f.name).read_bytes() for f in info.files})
    folder = download.fetch("mnist", tmp_path / "root", urlopen=server)
    assert download.status("mnist", tmp_path / "root").state == "verified"
    assert len(server.requests) == 4
    download.fetch("mnist", tmp_path / "root", urlopen=server)  # present and verified: nothing fetched
    assert len(server.requests) == 4 and folder == tmp_path / "root" / "mnist"


def test_fetch_cifar_archive_extracts_atomically(tmp_path, monkeypatch):
    src = fk.write_cifar(tmp_path / "src", per_class=2, test_per_class=1)
    archive = fk.cifar_archive(src)
    info = fk.info_matching(ds.CIFAR10, src)
    info = ds.DatasetInfo(**{**info.__dict__, "archive": ds.FileInfo(info.archive.name, fk.md5(archive))})
    monkeypatch.setitem(ds.DATASETS, "cifar10", info)
    monkeypatch.delenv(ds.OFFLINE_ENV)
    server = FakeServer({info.base_url + info.archive.name: archive})
    (tmp_path / "root" / "cifar-10-batches-py").mkdir(parents=True)  # an incomplete earlier copy
    (tmp_path / "root" / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"old")
    folder = download.fetch("cifar10", tmp_path / "root", urlopen=server)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f.name for f in info.files)
    assert not (tmp_path / "root" / info.archive.name).exists()
    assert download.status("cifar10", tmp_path / "root").state == "verified"


def test_fetch_offline_is_the_missing_data_error(tmp_path):
    with pytest.raises(TaskSpecError, match="offline"):
        download.fetch("mnist", tmp_path)


def test_fetch_network_failure_is_the_missing_data_error(tmp_path, monkeypatch):
    monkeypatch.delenv(ds.OFFLINE_ENV)

    def unreachable(request, timeout=None):
        raise urllib.error.URLError("no route to host")

    with pytest.raises(TaskSpecError, match="no route to host") as err:
        download.fetch("fashion", tmp_path, urlopen=unreachable)
    assert "azc data fetch fashion" in err.value.render()


# --- status / list --------------------------------------------------------------------------------------------

def test_status_states(tmp_path, monkeypatch):
    folder = fk.write_idx_dataset(tmp_path, folder="mnist")
    monkeypatch.setitem(ds.DATASETS, "mnist", fk.info_matching(ds.MNIST, folder))
    assert download.status("mnist", tmp_path).state == "verified"
    path = folder / "t10k-images-idx3-ubyte.gz"  # same contents, compressed differently: still verified
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1, mtime=1))
    st = download.status("mnist", tmp_path)
    assert st.state == "verified" and "repacked" in st.detail
    path.write_bytes(gzip.compress(b"\0\0\x08\x01" + b"\0\0\0\1" + b"\7"))
    assert download.status("mnist", tmp_path).state == "mismatch"
    path.unlink()
    assert download.status("mnist", tmp_path).state == "incomplete"
    assert download.status("fashion", tmp_path).state == "missing"


def test_rebuilt_cifar_copy_with_wrong_labels_is_a_mismatch(tmp_path):
    fk.write_cifar(tmp_path, per_class=2, test_per_class=1)
    st = download.status("cifar10", tmp_path)
    assert st.state == "mismatch"  # neither official bytes nor official shapes/labels


def _cli():
    app = typer.Typer()
    app.add_typer(data_app, name="data")
    app.command()(lambda: None)  # a second command keeps `data` a sub-command
    return app


def test_cli_list_and_fetch_errors(tmp_path):
    fk.write_idx_dataset(tmp_path, folder="mnist")
    runner = CliRunner()
    result = runner.invoke(_cli(), ["data", "list", "--data-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "mnist" in result.output and "mismatch" in result.output and "missing" in result.output
    result = runner.invoke(_cli(), ["data", "fetch", "cifar10", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "azc data fetch cifar10" in result.output and "Traceback" not in result.output
    result = runner.invoke(_cli(), ["data", "fetch", "svhn"])
    assert result.exit_code == 1 and "unknown dataset" in result.output
