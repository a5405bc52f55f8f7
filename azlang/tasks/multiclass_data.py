"""Task stage: building projected 10-class tasks from image data (the data half of tasks/multiclass.py).

Kept apart from the evaluation contract in multiclass.py so that the evaluator does not import the dataset
machinery (and the projected-task module, which registers the builders, can import this lazily).
"""

from __future__ import annotations

import numpy as np

from azlang.errors import TaskSpecError
from azlang.rng import Rng, hash_mix
from azlang.tasks import cache
from azlang.tasks import datasets as ds
from azlang.tasks.multiclass import MULTICLASS, N_CLASSES, MulticlassTask
from azlang.tasks.projected import DEFAULT_F, PER_CLASS, SPLIT_SALT, project_split, stratified_split
from azlang.tasks.spec import TaskSpec
from azlang.tasks.task import Task


def class_pool(y: np.ndarray, per_class: int = PER_CLASS) -> np.ndarray:
    """Rows of the first `per_class` images of every class (all classes take the smallest count, so the
    pool stays balanced), in dataset order."""
    members = [np.flatnonzero(y == c) for c in range(N_CLASSES)]
    k = min(per_class, *(len(m) for m in members))
    if k == 0:
        raise TaskSpecError("a 10-class task needs images of every class in the training split")
    return np.sort(np.concatenate([m[:k] for m in members]))


def multiclass_arrays(data: ds.ImageData, F: int, data_seed: int, n_train: int | None, n_valid: int | None,
                      test: bool) -> dict[str, np.ndarray]:
    rows = class_pool(data.train_y)
    labels = data.train_y[rows].astype(np.float64)
    n_valid_pool = len(rows) // 10
    train, valid = stratified_split(labels, (len(rows) - n_valid_pool, n_valid_pool),
                                    Rng(hash_mix(SPLIT_SALT, data_seed)))
    if test:
        vx_raw, vy = data.test_x, data.test_y.astype(np.float64)
    else:
        vx_raw, vy = data.train_x[rows[valid]], labels[valid]
    return project_split(data, rows[train], labels[train], vx_raw, vy, F, data_seed, n_train, n_valid, test)


def build_multiclass(spec: TaskSpec, data_dir: str | None) -> list[Task]:
    """The D tasks of `DATASET:all[:F..][:N..][:V..][:E..][:D..][:S..]`, one projection per data seed."""
    spec = spec.with_defaults(F=DEFAULT_F)
    info = ds.dataset_info(spec.dataset)
    if spec.eval_type is not None:
        raise TaskSpecError(f"task spec {spec.text!r}: 10-class tasks are evaluated by accuracy of the argmax",
                            hint="drop the acc / rms option")
    if spec.F < N_CLASSES or spec.F > info.D:
        raise TaskSpecError(f"task spec {spec.text!r}: a 10-class task needs {N_CLASSES} <= F <= {info.D}",
                            hint="the 10 logits live in v1[0:10], so use F10 or more (F16 is the paper's)")
    root = ds.data_root(data_dir)
    if ds.missing_files(info, root):  # fetching (urllib) is loaded only when something is missing
        from azlang.tasks import download

        download.ensure(info, root)
    ident = ds.identity(info, root)
    data, tasks = None, []
    for i, (data_seed, param_seed) in enumerate(spec.seeds()):
        k = cache.key(kind=MULTICLASS, dataset=info.name, identity=ident, F=spec.F, N=spec.N, V=spec.V,
                      test=spec.test, seed=data_seed)
        cacheable = spec.F < info.D
        arrays = cache.load(k) if cacheable else None
        if arrays is None:
            data = data or ds.load(info, root)
            arrays = multiclass_arrays(data, spec.F, data_seed, spec.N, spec.V, spec.test)
            if cacheable:
                cache.store(k, arrays)
        name = spec.text if spec.D == 1 else f"{spec.text}#{i}"
        tasks.append(MulticlassTask(name, arrays["train_x"], arrays["train_y"], arrays["valid_x"],
                                    arrays["valid_y"], MULTICLASS, spec.E, data_seed, param_seed))
    return tasks
