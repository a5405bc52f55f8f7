"""Task stage: projected binary classification tasks from real images and task sets (docs/semantics.md, section 13.3).

Per task (data seed s, class pair (p, n)):
  1. pool: the first 5000 training images of each class in dataset order (official TRAIN split), raw 0-255
     pixels; label 1 for p (the first class of `3v5`, the smaller id for drawn pairs), 0 for n;
  2. a stratified split of the pool into train / valid / held-out = 80 % / 10 % / 10 % (8000 / 1000 / 1000
     on the real datasets; smaller pools, e.g. in tests, scale down), by an Rng seeded from s;
  3. projection by a D x F Gaussian matrix seeded from s (none when F == D);
  4. standardisation with the training rows' mean and population std, applied to every split.
The task trains on the first N training rows and validates on the first V validation rows, or with the
`test` option on the official TEST split's images of the two classes, projected and standardised likewise.
Everything is exact and order-independent (see `projection_matrix`, `column_stats`), so a spec and seed
give bit-identical data on every machine.
"""

from __future__ import annotations

import numpy as np

from azlang.errors import TaskSpecError
from azlang.rng import Rng, hash_mix
from azlang.tasks import cache
from azlang.tasks import datasets as ds
from azlang.tasks.build import register
from azlang.tasks.spec import TaskSpec
from azlang.tasks.task import ACCURACY, RMS_ERROR, Task

PER_CLASS = 5000
DEFAULT_F = 16
# The reference's recommended split of the 45 pairs (task.proto): 9 held out for selection, 36 for search.
HELD_OUT_PAIRS = ((4, 6), (3, 5), (8, 9), (3, 8), (0, 9), (2, 9), (1, 8), (3, 6), (0, 5))
PAIR_SALT = 856572777  # the reference's HashMix salt for random pair choice
SPLIT_SALT = 3960511263  # ours: independent streams for the split and the projection of one data seed
PROJECTION_SALT = 1618033988
QUANTUM = 2.0**-20  # projection entries are rounded to multiples of this (see projection_matrix)


# --- pairs --------------------------------------------------------------------------------------------------

def candidate_pairs(part: str) -> list[tuple[int, int]]:
    """Lexicographic candidates: `search` = the 36 pairs not held out, `select` = the 9 held-out pairs."""
    pairs = [(i, j) for i in range(10) for j in range(i + 1, 10)]
    held = set(HELD_OUT_PAIRS)
    return [p for p in pairs if (p in held) == (part == "select")]


def draw_pair(part: str, data_seed: int) -> tuple[int, int]:
    """The reference's rule: an Rng seeded HashMix(856572777, data_seed) picks list[below(len)]."""
    pairs = candidate_pairs(part)
    return pairs[Rng(hash_mix(PAIR_SALT, data_seed)).below(len(pairs))]


def task_plan(spec: TaskSpec) -> list[tuple[str, tuple[int, int], int, int]]:
    """(name, (positive, negative), data seed, param seed) of each of the spec's D tasks."""
    plan = []
    for i, (data_seed, param_seed) in enumerate(spec.seeds()):
        pair = spec.pair or draw_pair(spec.part, data_seed)
        name = spec.text if spec.D == 1 else f"{spec.text}#{i}"
        if spec.pair is None:
            name += f"[{pair[0]}v{pair[1]}]"
        plan.append((name, pair, data_seed, param_seed))
    return plan


# --- pool and split -----------------------------------------------------------------------------------------

def class_pool(x: np.ndarray, y: np.ndarray, pair: tuple[int, int], per_class: int = PER_CLASS):
    """Row indices of the first `per_class` images of each class of the pair (dataset order) and their 1/0
    labels. With fewer images than that (test data), both classes take the smaller count, staying balanced."""
    pos, neg = (np.flatnonzero(y == c) for c in pair)
    k = min(per_class, len(pos), len(neg))
    if k == 0:
        raise TaskSpecError(f"class pair {pair[0]}v{pair[1]}: the training split has no images of class "
                            f"{pair[0] if len(pos) == 0 else pair[1]}")
    rows = np.sort(np.concatenate([pos[:k], neg[:k]]))
    return rows, (y[rows] == pair[0]).astype(np.float64)


def split_sizes(n: int) -> tuple[int, int, int]:
    """(train, valid, held-out) = 80 / 10 / 10 % of the pool: 8000 / 1000 / 1000 for 10000 images."""
    tenth = n // 10
    return n - 2 * tenth, tenth, tenth


def _allocate(size: int, counts: np.ndarray) -> np.ndarray:
    """Split `size` over classes in proportion to their counts (largest remainder; ties to the lower class)."""
    exact = size * counts / counts.sum()
    out = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - out), kind="stable")
    out[order[: size - out.sum()]] += 1
    return out


def stratified_split(labels: np.ndarray, sizes: tuple[int, ...], rng: Rng) -> list[np.ndarray]:
    """Index arrays of the given sizes (summing to len(labels)) with class proportions kept in each: every
    class's indices are shuffled and dealt out in turn, then each part is shuffled (no class blocks, which
    would hurt SGD in epoch 0)."""
    classes = np.unique(labels)
    members = [np.flatnonzero(labels == c) for c in classes]
    counts = np.array([len(m) for m in members])
    alloc = np.stack([_allocate(s, counts) for s in sizes[1:]])  # later parts first; part 0 takes the rest
    alloc = np.vstack([counts - alloc.sum(axis=0), alloc])
    parts: list[list[np.ndarray]] = [[] for _ in sizes]
    for c, idx in enumerate(members):
        shuffled = idx[rng.permutation(len(idx))]
        bounds = np.cumsum(alloc[:, c])[:-1]
        for p, chunk in enumerate(np.split(shuffled, bounds)):
            parts[p].append(chunk)
    return [rng.shuffle(np.concatenate(p)) for p in parts]


# --- projection and standardisation -------------------------------------------------------------------------

def projection_matrix(D: int, F: int, data_seed: int) -> np.ndarray:
    """D x F, N(0, 1) entries drawn row-major, rounded to multiples of 2**-20. With integer pixels every
    product and partial sum of X @ R is then an exact float64 (|sum| < 3072 * 255 * 9 * 2**20 < 2**53), so the
    projection does not depend on the BLAS's summation order."""
    g = Rng(hash_mix(PROJECTION_SALT, data_seed)).gaussian_array(0.0, 1.0, D * F).reshape(D, F)
    return np.rint(g / QUANTUM) * QUANTUM


def column_stats(x: np.ndarray, quantum: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and population std of x, whose entries are integer multiples of `quantum`, computed
    exactly in integers and rounded once, so they are the same on every machine. A constant column gets std 1
    (as scikit-learn's StandardScaler does), e.g. MNIST's always-black corner pixels."""
    k = np.rint(x / quantum).astype(np.int64)
    n = len(k)
    s1 = k.sum(axis=0)  # |k| < 2**44 and n < 2**13: fits int64
    s2 = _sum_squares(k)
    mean = np.array([int(a) / n * quantum for a in s1])
    var = np.array([(n * int(b) - int(a) ** 2) / (n * n) * quantum * quantum for a, b in zip(s1, s2)])
    std = np.sqrt(var)
    return mean, np.where(std > 0.0, std, 1.0)


def _sum_squares(k: np.ndarray) -> list[int]:
    """Exact column sums of k*k for |k| < 2**44 (k*k itself would overflow int64): with k = a * 2**24 + b,
    0 <= b < 2**24, every partial sum below fits int64, and Python integers put them together."""
    a, b = k >> 24, k & (2**24 - 1)
    aa, ab, bb = (a * a).sum(axis=0), (a * b).sum(axis=0), (b * b).sum(axis=0)
    return [(int(x) << 48) + (int(y) << 25) + int(z) for x, y, z in zip(aa, ab, bb)]


def projected_arrays(data: ds.ImageData, pair: tuple[int, int], F: int, data_seed: int, n_train: int | None,
                     n_valid: int | None, test: bool) -> dict[str, np.ndarray]:
    """train_x, train_y, valid_x, valid_y of one task (float64)."""
    rows, labels = class_pool(data.train_x, data.train_y, pair)
    train, valid, _ = stratified_split(labels, split_sizes(len(rows)), Rng(hash_mix(SPLIT_SALT, data_seed)))
    if test:
        vrows = np.flatnonzero(np.isin(data.test_y, pair))
        vx_raw, vy = data.test_x[vrows], (data.test_y[vrows] == pair[0]).astype(np.float64)
    else:
        vx_raw, vy = data.train_x[rows[valid]], labels[valid]
    return project_split(data, rows[train], labels[train], vx_raw, vy, F, data_seed, n_train, n_valid, test)


def project_split(data, train_rows: np.ndarray, train_y: np.ndarray, vx_raw: np.ndarray, vy: np.ndarray, F: int,
                  data_seed: int, n_train: int | None, n_valid: int | None, test: bool) -> dict[str, np.ndarray]:
    """The common tail of every projected task (binary and 10-class): take N and V, project the training
    pixels to F with the data seed's matrix, and standardise both splits by the training columns' stats."""
    n_train = _take(n_train, len(train_rows), "N", "training")
    n_valid = _take(n_valid, len(vy), "V", "test" if test else "validation")
    D = data.train_x.shape[1]
    R = projection_matrix(D, F, data_seed) if F < D else None
    tx = _project(data.train_x[train_rows], R)
    mean, std = column_stats(tx, QUANTUM if R is not None else 1.0)
    vx = _project(vx_raw[:n_valid], R)
    return {"train_x": (tx[:n_train] - mean) / std, "train_y": train_y[:n_train],
            "valid_x": (vx - mean) / std, "valid_y": vy[:n_valid]}


def _project(pixels: np.ndarray, R: np.ndarray | None, block: int = 1024) -> np.ndarray:
    """pixels (uint8) as float64, times R if given. Converted block by block into one reused buffer: a
    full float64 copy of 8000 x 3072 pixels costs more (in page faults) than the product itself."""
    if R is None:
        return pixels.astype(np.float64)
    out = np.empty((len(pixels), R.shape[1]))
    buf = np.empty((min(block, len(pixels)), pixels.shape[1]))
    for start in range(0, len(pixels), block):
        chunk = pixels[start:start + block]
        buf[: len(chunk)] = chunk
        np.matmul(buf[: len(chunk)], R, out=out[start:start + len(chunk)])
    return out


def _take(asked: int | None, available: int, letter: str, what: str) -> int:
    if asked is None:
        return available
    if asked > available:
        raise TaskSpecError(f"{letter}{asked} asks for more {what} examples than the task has ({available})",
                            hint=f"use {letter}{available} or fewer")
    return asked


# --- the builder --------------------------------------------------------------------------------------------

def _check(spec: TaskSpec, info: ds.DatasetInfo) -> None:
    if spec.eval_type == RMS_ERROR:
        raise TaskSpecError(f"task spec {spec.text!r}: projected binary tasks are evaluated by accuracy")
    if spec.F > info.D:
        raise TaskSpecError(f"task spec {spec.text!r}: F{spec.F} is more than the {info.D} pixels of "
                            f"{info.name}", hint=f"F{info.D} uses the pixels unprojected")


@register("cifar", "mnist", "fashion")
def build_projected(spec: TaskSpec, data_dir: str | None) -> list[Task]:
    from azlang.tasks.multiclass import is_multiclass_spec

    if is_multiclass_spec(spec):  # 10 classes: vector labels (azlang/tasks/multiclass.py)
        from azlang.tasks.multiclass_data import build_multiclass

        return build_multiclass(spec, data_dir)
    spec = spec.with_defaults(F=DEFAULT_F)
    info = ds.dataset_info(spec.dataset)
    _check(spec, info)
    plan = task_plan(spec)
    root = ds.data_root(data_dir)
    if ds.missing_files(info, root):  # fetching (urllib) is loaded only when something is missing
        from azlang.tasks import download

        download.ensure(info, root)
    ident = ds.identity(info, root)
    data = None
    tasks = []
    for name, pair, data_seed, param_seed in plan:
        k = cache.key(dataset=info.name, identity=ident, pair=pair, F=spec.F, N=spec.N, V=spec.V,
                      test=spec.test, seed=data_seed)
        cacheable = spec.F < info.D  # unprojected tasks would take ~200 MB each on disk; they build fast
        arrays = cache.load(k) if cacheable else None
        if arrays is None:
            data = data or ds.load(info, root)
            arrays = projected_arrays(data, pair, spec.F, data_seed, spec.N, spec.V, spec.test)
            if cacheable:
                cache.store(k, arrays)
        tasks.append(Task(name, arrays["train_x"], arrays["train_y"], arrays["valid_x"], arrays["valid_y"],
                          ACCURACY, spec.E, data_seed, param_seed))
    return tasks
