"""Tiny datasets in the real on-disk formats, for tests (the real ones are never read by tests)."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import tarfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from azlang.tasks import datasets as ds


def labels_cycle(n: int, seed: int) -> np.ndarray:
    """n labels, every class equally often, in a shuffled (dataset-like) order."""
    y = np.arange(n) % 10
    return np.random.default_rng(seed).permutation(y)


def pixels(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, d), dtype=np.uint8)


def write_cifar(root: Path, per_class: int = 50, test_per_class: int = 10, seed: int = 0,
                brightness: bool = False) -> Path:
    """cifar-10-batches-py/ with data_batch_1..5, test_batch and batches.meta as protocol-2 pickles.
    With `brightness`, class c images have pixels 20 c + (0..9), so classes are told apart by their mean."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    n = 10 * per_class
    x, y = pixels(n, 3072, seed), labels_cycle(n, seed)
    if brightness:
        x = (20 * y[:, None] + x % 10).astype(np.uint8)
    for b, (xb, yb) in enumerate(zip(np.array_split(x, 5), np.array_split(y, 5)), start=1):
        _pickle(folder / f"data_batch_{b}", {b"data": xb, b"labels": [int(v) for v in yb]})
    nt = 10 * test_per_class
    _pickle(folder / "test_batch", {b"data": pixels(nt, 3072, seed + 1), b"labels": labels_cycle(nt, seed + 1).tolist()})
    _pickle(folder / "batches.meta", {b"label_names": [b"c%d" % i for i in range(10)]})
    return folder


def _pickle(path: Path, obj) -> None:
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=2)


def idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + np.ascontiguousarray(arr, dtype=np.uint8).tobytes()


def write_idx_dataset(root: Path, folder: str = "mnist", per_class: int = 50, test_per_class: int = 10,
                      gz: bool = True, seed: int = 0) -> Path:
    """The four MNIST-style idx files (gzipped or raw) with 28x28 images."""
    out = root / folder
    out.mkdir(parents=True, exist_ok=True)
    n, nt = 10 * per_class, 10 * test_per_class
    arrays = {"train-images-idx3-ubyte": pixels(n, 784, seed).reshape(n, 28, 28),
              "train-labels-idx1-ubyte": labels_cycle(n, seed).astype(np.uint8),
              "t10k-images-idx3-ubyte": pixels(nt, 784, seed + 1).reshape(nt, 28, 28),
              "t10k-labels-idx1-ubyte": labels_cycle(nt, seed + 1).astype(np.uint8)}
    for stem, arr in arrays.items():
        data = idx_bytes(arr)
        if gz:
            (out / f"{stem}.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (out / stem).write_bytes(data)
    return out


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def info_matching(info: ds.DatasetInfo, folder: Path) -> ds.DatasetInfo:
    """The dataset's description with the md5s of the fake files, so they verify as 'official'."""
    files = []
    for f in info.files:
        path = ds.locate(folder, f)
        raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        files.append(replace(f, md5=md5(path.read_bytes()), raw_md5=md5(raw) if f.raw_md5 else None))
    return replace(info, files=tuple(files))


def cifar_archive(folder: Path) -> bytes:
    """A cifar-10-python.tar.gz holding the given batches folder."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=f"cifar-10-batches-py/{path.name}")
    return buf.getvalue()
