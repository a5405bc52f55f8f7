"""Task stage: getting the real datasets onto disk (resumable, checksummed, atomic) and checking what is there."""

from __future__ import annotations

import contextlib
import contextvars
import gzip
import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from azlang.errors import TaskSpecError
from azlang.tasks import datasets as ds

CHUNK = 1 << 20
TIMEOUT_S = 30

# progress(file_name, bytes_done, bytes_total or None): how the library reports downloads (the CLI draws bars).
Progress = Callable[[str, int, "int | None"], None]
# What build_tasks uses when it has to fetch on its own: the CLI sets it around task building.
DEFAULT_PROGRESS: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("azlang_progress", default=None)

# The CIFAR copy built from the JPEG archive has the official labels in the official order; these are the
# sha256 digests of the label sequences (uint8, train batches 1..5 then test), so that copy can be verified.
CIFAR_TRAIN_LABELS_SHA256 = "2b7cd2f24487317614016b72ffd53071c3062f592f0eb300c18a770d41ae1253"
CIFAR_TEST_LABELS_SHA256 = "cec8a24a1e92aa2ecaa0bbd3dbfa86bf6cd8759fbd209a832824c8cf0afca9d5"


@contextlib.contextmanager
def reporting(progress: Progress | None) -> Iterator[None]:
    """Within the block, downloads started by task building report to `progress`."""
    token = DEFAULT_PROGRESS.set(progress)
    try:
        yield
    finally:
        DEFAULT_PROGRESS.reset(token)


def md5_of(path: Path, gunzip: bool = False) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with (gzip.open if gunzip else open)(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


# --- fetching ----------------------------------------------------------------------------------------------

def ensure(info: ds.DatasetInfo, root: Path) -> Path:
    """The dataset's folder, fetching what is missing unless offline; a clear TaskSpecError if it can't be had."""
    if not ds.missing_files(info, root):
        return root / info.folder
    return fetch(info.name, root, DEFAULT_PROGRESS.get())


def fetch(name: str, data_dir: str | os.PathLike | None = None, progress: Progress | None = None,
          urlopen: Callable | None = None) -> Path:
    """Download `name` into the data root from its publisher, verifying official checksums. Files already
    present and verified are kept; an interrupted download resumes. `urlopen` is replaceable for tests."""
    urlopen = urlopen or urllib.request.urlopen  # looked up per call, so tests can block the network
    info = ds.dataset_info(name)
    root = ds.data_root(data_dir)
    folder = root / info.folder
    if ds.offline():
        raise ds.missing_error(info, root, f"offline: ${ds.OFFLINE_ENV} is set")
    try:
        if info.archive is not None:
            _fetch_archive(info, root, progress, urlopen)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            for f in info.files:
                if file_state(folder, f) not in ("verified", "content"):
                    download(info.base_url + f.name, folder / f.name, f.md5, progress, urlopen)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise ds.missing_error(info, root, f"download failed: {_reason(exc)}") from None
    return folder


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "reason", None) or exc)


def _fetch_archive(info: ds.DatasetInfo, root: Path, progress: Progress | None, urlopen: Callable) -> None:
    """CIFAR: one tar.gz holding the batches folder; extracted beside, then moved into place in one rename."""
    if not ds.missing_files(info, root):
        return
    root.mkdir(parents=True, exist_ok=True)
    archive = root / info.archive.name
    if not (archive.is_file() and md5_of(archive) == info.archive.md5):
        download(info.base_url + info.archive.name, archive, info.archive.md5, progress, urlopen)
    staging = root / f".{info.folder}.extracting"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith(info.folder + "/")]
        for m in members:  # extract file by file, by base name only: no path in the archive can escape
            with tar.extractfile(m) as src, open(_mkparent(staging / Path(m.name).name), "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
    target = root / info.folder
    if target.exists():  # an incomplete folder: keep it aside (the last one only) rather than lose it
        old = root / f".{info.folder}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(staging, target)
    archive.unlink()


def _mkparent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def download(url: str, dest: Path, md5: str, progress: Progress | None = None,
             urlopen: Callable | None = None) -> None:
    """url -> dest via dest.part, resuming with an HTTP Range request if the partial file exists; the md5 is
    checked before the final rename, and a mismatching download is discarded."""
    urlopen = urlopen or urllib.request.urlopen
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not have:  # 416: nothing left to send, the partial file may be whole
            raise
        response = None
    if response is not None:
        with response:
            have = _stream(response, part, have, dest.name, progress)
    got = md5_of(part)
    if got != md5:
        part.unlink()
        raise TaskSpecError(f"checksum mismatch for {dest.name} from {url}: expected md5 {md5}, got {got}",
                            hint="the download was corrupted or the server sent other content; it was "
                                 "discarded, try again")
    os.replace(part, dest)


def _stream(response, part: Path, have: int, label: str, progress: Progress | None) -> int:
    """Append to (status 206) or restart (200: the server ignored Range) the partial file."""
    status = getattr(response, "status", None) or response.getcode()
    if status != 206:
        have = 0
    length = response.headers.get("Content-Length")
    total = have + int(length) if length is not None else None
    with open(part, "ab" if have else "wb") as out:
        for block in iter(lambda: response.read(CHUNK), b""):
            out.write(block)
            have += len(block)
            if progress:
                progress(label, have, total)
    return have


# --- what is on disk ---------------------------------------------------------------------------------------

@dataclass
class DatasetStatus:
    name: str
    path: Path
    state: str  # "verified", "rebuilt", "mismatch", "damaged", "unreadable", "incomplete", "missing"
    detail: str


def file_state(folder: Path, f: ds.FileInfo) -> str:
    """'verified' (the official bytes), 'content' (official contents, recompressed or gunzipped), 'mismatch',
    'damaged' (a truncated or corrupt gzip stream), 'unreadable' or 'missing'."""
    path = ds.locate(folder, f)
    if path is None:
        return "missing"
    try:
        if path.name == f.name and md5_of(path) == f.md5:
            return "verified"
        if f.raw_md5 and md5_of(path, gunzip=path.name.endswith(".gz")) == f.raw_md5:
            return "content"
    except ds.GZIP_ERRORS:
        return "damaged"
    except OSError:
        return "unreadable"
    return "mismatch"


def status(name: str, data_dir: str | os.PathLike | None = None) -> DatasetStatus:
    """Is the dataset present, and does it verify? Reads every file (about a second for all three)."""
    info = ds.dataset_info(name)
    root = ds.data_root(data_dir)
    folder = root / info.folder
    states = {f.name: file_state(folder, f) for f in info.files}
    missing = [n for n, s in states.items() if s == "missing"]
    bad = [n for n, s in states.items() if s in ("mismatch", "damaged", "unreadable")]
    broken = [f"{n} ({s})" for n, s in states.items() if s in ("damaged", "unreadable")]
    if len(missing) == len(states):
        return DatasetStatus(info.name, folder, "missing", f"fetch with `azc data fetch {info.name}`")
    if missing:
        return DatasetStatus(info.name, folder, "incomplete", "missing " + ", ".join(missing))
    if not bad:
        repacked = [n for n, s in states.items() if s == "content"]
        detail = "official checksums match" + (
            f" (uncompressed contents of {len(repacked)} repacked file(s))" if repacked else "")
        return DatasetStatus(info.name, folder, "verified", detail)
    if broken:
        return DatasetStatus(info.name, folder, "damaged",
                             f"{', '.join(broken)}: fetch again after deleting it (`azc data fetch {info.name}`)")
    if info is ds.CIFAR10:
        return cifar_rebuilt_status(folder, bad)
    return DatasetStatus(info.name, folder, "mismatch", "checksum mismatch: " + ", ".join(bad))


def cifar_rebuilt_status(folder: Path, bad: list[str]) -> DatasetStatus:
    """A copy rebuilt from other sources (e.g. the JPEG archive) cannot match the official bytes; accept it
    when the structure is right and the labels are the official sequence, and say that it is a rebuilt copy."""
    try:
        data = ds.load_cifar(folder)
    except TaskSpecError as exc:
        return DatasetStatus("cifar10", folder, "mismatch", f"{', '.join(bad)} unreadable: {exc.message}")
    shapes_ok = data.train_x.shape == (50000, 3072) and data.test_x.shape == (10000, 3072)
    labels_ok = (_sha256(data.train_y) == CIFAR_TRAIN_LABELS_SHA256
                 and _sha256(data.test_y) == CIFAR_TEST_LABELS_SHA256)
    if not (shapes_ok and labels_ok):
        return DatasetStatus("cifar10", folder, "mismatch",
                             "checksum mismatch and not the official structure/labels: " + ", ".join(bad))
    means = data.train_x.reshape(50000, 3, 1024).mean(axis=(0, 2)).round(2).tolist()
    return DatasetStatus("cifar10", folder, "rebuilt",
                         "present, rebuilt copy (not the official bytes): shapes and official labels verified, "
                         f"train channel means {means} (official 125.31, 122.95, 113.87)")


def _sha256(labels: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(labels, dtype=np.uint8).tobytes()).hexdigest()


def inventory(data_dir: str | os.PathLike | None = None) -> list[DatasetStatus]:
    """The status of every dataset; one that cannot even be examined says so instead of failing the list."""
    out = []
    for name in ds.DATASETS:
        try:
            out.append(status(name, data_dir))
        except (OSError, *ds.GZIP_ERRORS) as exc:
            folder = ds.data_root(data_dir) / ds.DATASETS[name].folder
            out.append(DatasetStatus(name, folder, "unreadable", f"cannot examine it: {exc}"))
    return out
