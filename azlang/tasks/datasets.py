"""Task stage: the real datasets (CIFAR-10, MNIST, Fashion-MNIST): where they live, their files, their loaders."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from azlang.errors import TaskSpecError

GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)  # what a truncated or corrupt .gz raises on reading
DATA_ENV = "AZLANG_DATA"
OFFLINE_ENV = "AZLANG_OFFLINE"  # set to 1: never try the network (tests, air-gapped machines)


@dataclass(frozen=True)
class FileInfo:
    """One file of a dataset. `md5` is the official file's; `raw_md5` that of its uncompressed contents, so a
    recompressed or gunzipped copy still verifies."""

    name: str
    md5: str
    raw_md5: str | None = None

    @property
    def plain_name(self) -> str:
        return self.name.removesuffix(".gz")


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # name on the command line: cifar10, mnist, fashion
    folder: str  # folder under the data root
    files: tuple[FileInfo, ...]
    base_url: str  # the publisher's location (files are base_url + name, or the archive for CIFAR)
    D: int  # pixels per image
    archive: FileInfo | None = None  # CIFAR ships as one tar.gz holding `folder`


def _idx_files(md5s: dict[str, tuple[str, str]]) -> tuple[FileInfo, ...]:
    return tuple(FileInfo(f"{stem}.gz", gz, raw) for stem, (gz, raw) in md5s.items())


# Official checksums: CIFAR from https://www.cs.toronto.edu/~kriz/cifar.html (as torchvision checks them);
# idx .gz md5s as published with MNIST / Fashion-MNIST; raw md5s of the uncompressed idx files.
CIFAR10 = DatasetInfo(
    "cifar10", "cifar-10-batches-py",
    (FileInfo("data_batch_1", "c99cafc152244af753f735de768cd75f"),
     FileInfo("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
     FileInfo("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
     FileInfo("data_batch_4", "634d18415352ddfa80567beed471001a"),
     FileInfo("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"),
     FileInfo("test_batch", "40351d587109b95175f43aff81a1287e"),
     FileInfo("batches.meta", "5ff9c542aee3614f3951f8cda6e48888")),
    "https://www.cs.toronto.edu/~kriz/", 3072,
    archive=FileInfo("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"))
MNIST = DatasetInfo("mnist", "mnist", _idx_files({
    "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
}), "http://yann.lecun.com/exdb/mnist/", 784)
FASHION = DatasetInfo("fashion", "fashion-mnist", _idx_files({
    "train-images-idx3-ubyte": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    "train-labels-idx1-ubyte": ("25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
    "t10k-images-idx3-ubyte": ("bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
    "t10k-labels-idx1-ubyte": ("bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
}), "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", 784)

DATASETS = {d.name: d for d in (CIFAR10, MNIST, FASHION)}
# Task-spec names and other spellings accepted on the command line.
ALIASES = {"cifar": "cifar10", "cifar-10": "cifar10", "fashion-mnist": "fashion", "fashion_mnist": "fashion"}


@dataclass
class ImageData:
    """Pixels as uint8 rows (n, D) in the official order; labels int64 0..9."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


def dataset_info(name: str) -> DatasetInfo:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in DATASETS:
        raise TaskSpecError(f"unknown dataset {name!r}", hint=f"known: {', '.join(DATASETS)}")
    return DATASETS[key]


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The data root: the explicit argument, else $AZLANG_DATA, else the user cache dir (~/.cache/azlang)."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "azlang"


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def locate(folder: Path, f: FileInfo) -> Path | None:
    """The file as stored, gzipped or not (idx files may be either)."""
    for name in dict.fromkeys((f.name, f.plain_name)):
        if (folder / name).is_file():
            return folder / name
    return None


def missing_files(info: DatasetInfo, root: Path) -> list[str]:
    folder = root / info.folder
    return [f.name for f in info.files if locate(folder, f) is None]


def missing_error(info: DatasetInfo, root: Path, reason: str | None = None) -> TaskSpecError:
    """The one message a user sees for absent data: where we looked, what we need, how to get it."""
    folder = root / info.folder
    names = ", ".join(missing_files(info, root)) or "(all present)"
    why = f" ({reason})" if reason else ""
    return TaskSpecError(
        f"dataset {info.name} is not available{why}: expected {folder}/ with {names}",
        hint=f"fetch it (when online) with `azc data fetch {info.name}` (add --data-dir {root} to put it there), or copy the "
             f"files into {folder}/, or point --data-dir / ${DATA_ENV} at a folder that has {info.folder}/")


def identity(info: DatasetInfo, root: Path) -> str:
    """A cheap fingerprint of the files on disk (path, size, mtime): it changes whenever the data changes."""
    h = hashlib.sha256(info.name.encode())
    folder = root / info.folder
    for f in info.files:
        path = locate(folder, f)
        if path is None:
            raise missing_error(info, root)
        st = path.stat()
        h.update(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:32]


def load(info: DatasetInfo, root: Path) -> ImageData:
    """Load a dataset that is present (callers fetch first); memoised on the files' identity."""
    if missing_files(info, root):
        raise missing_error(info, root)
    from azlang.tasks.verify import ensure_verified  # verify imports this module

    ensure_verified(info, root)  # once per file identity: a modified file is an error, not silently used
    return _load_memo(info.name, str(root), identity(info, root))


@functools.lru_cache(maxsize=2)  # the last two datasets stay loaded: a run mixing search and select specs
def _load_memo(name: str, root: str, ident: str) -> ImageData:
    info = DATASETS[name]
    folder = Path(root) / info.folder
    data = load_cifar(folder) if info is CIFAR10 else load_idx_dataset(folder, info)
    for part in ("train_x", "test_x"):
        getattr(data, part).setflags(write=False)  # shared between calls: nobody may change it
    return data


# --- CIFAR-10 "python version" -----------------------------------------------------------------------------

class _ArrayUnpickler(pickle.Unpickler):
    """Only what the CIFAR pickles need (numpy array reconstruction): loading a pickle runs no other code."""

    # _codecs.encode: how Python 3 writes bytes in a protocol-2 pickle (copies re-saved by Python 3 tools)
    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a CIFAR batch")
        if name == "_reconstruct":  # numpy 2 moved numpy.core to numpy._core; old pickles name the former
            core = getattr(np, "_core", None) or np.core
            return core.multiarray._reconstruct
        return super().find_class(module, name) if module == "_codecs" else getattr(np, name)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(data uint8 [n, 3072], labels int64 [n]) of one batch file."""
    try:
        with open(path, "rb") as fh:
            batch = _ArrayUnpickler(fh, encoding="bytes").load()
        data = batch.get(b"data", batch.get("data"))
        labels = batch.get(b"labels", batch.get("labels"))
        data = np.asarray(data, dtype=np.uint8).reshape(len(labels), 3072)
        labels = np.asarray(labels, dtype=np.int64)
    except Exception as exc:  # any malformed file ends up here; say which one
        raise TaskSpecError(f"cannot read CIFAR-10 batch {path}: {exc}",
                            hint="the file is damaged or not a CIFAR-10 python batch; fetch it again") from None
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise TaskSpecError(f"CIFAR-10 batch {path} has labels outside 0..9")
    return data, labels


def load_cifar(folder: Path) -> ImageData:
    parts = [read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    test_x, test_y = read_cifar_batch(folder / "test_batch")
    return ImageData(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                     test_x, test_y)


# --- MNIST / Fashion-MNIST idx ------------------------------------------------------------------------------

def read_idx(path: Path) -> np.ndarray:
    """An idx1/idx3 ubyte file, gzipped or not: uint8 array of the declared shape."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, *GZIP_ERRORS) as exc:
        why = "truncated or damaged gzip stream" if isinstance(exc, GZIP_ERRORS) else str(exc)
        raise TaskSpecError(f"cannot read {path}: {why} ({exc})",
                            hint=f"fetch it again: delete {path} and run `azc data fetch`") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise TaskSpecError(f"{path} is not an unsigned-byte idx file")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    start = 4 + 4 * ndim
    if len(raw) - start != int(np.prod(dims)):
        raise TaskSpecError(f"{path} is truncated: header says {dims}, file has {len(raw) - start} bytes of data")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(dims)


def load_idx_dataset(folder: Path, info: DatasetInfo) -> ImageData:
    # "train-images-idx3-ubyte" -> "train-images"
    arrays = {"-".join(f.plain_name.split("-")[:2]): read_idx(locate(folder, f)) for f in info.files}
    tx, ty = arrays["train-images"], arrays["train-labels"]
    vx, vy = arrays["t10k-images"], arrays["t10k-labels"]
    for x, y, split in ((tx, ty, "train"), (vx, vy, "t10k")):
        if len(x) != len(y):
            raise TaskSpecError(f"{folder}: {split} images ({len(x)}) and labels ({len(y)}) differ in number")
    return ImageData(tx.reshape(len(tx), -1), ty.astype(np.int64), vx.reshape(len(vx), -1), vy.astype(np.int64))
