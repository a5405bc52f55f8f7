"""Task stage: one task's data (train, valid, epoch orders), independent of how it was made."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from azlang.rng import Rng

RMS_ERROR = "rms"
ACCURACY = "accuracy"
EPOCH_SHUFFLE_OFFSET = 3274582109  # the reference's seed offset for epoch permutations


def epoch_orders(n_train: int, epochs: int, data_seed: int) -> np.ndarray:
    """(epochs, n_train) example orders: epoch 0 in stored order, each later one a shuffle of the previous."""
    rng = Rng((data_seed + EPOCH_SHUFFLE_OFFSET) % 2**32)
    orders = [np.arange(n_train, dtype=np.int64)]
    for _ in range(1, epochs):
        orders.append(rng.shuffle(orders[-1]))
    return np.stack(orders)


@dataclass(eq=False)
class Task:
    """Features are float64 (n, F); labels float64 (n,). Binary labels are 0.0 / 1.0."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    valid_x: np.ndarray
    valid_y: np.ndarray
    eval_type: str = RMS_ERROR
    epochs: int = 1
    data_seed: int = 0
    param_seed: int = 0
    orders: np.ndarray = field(default=None, repr=False)
    transform: object = field(default=None, repr=False)  # own data: what was done to the features (tabular.py)

    def __post_init__(self):
        for name in ("train_x", "valid_x"):
            setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float64))
        for name in ("train_y", "valid_y"):
            setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float64).reshape(-1))
        if self.orders is None:
            self.orders = epoch_orders(len(self.train_y), self.epochs, self.data_seed)
        if len(self.train_y) < 1 or len(self.valid_y) < 1:
            raise ValueError(f"task {self.name}: needs at least one training and one validation example")

    @classmethod
    def from_arrays(cls, X_train, y_train, X_valid=None, y_valid=None, kind: str | None = None, **options) -> Task:
        """A task from arrays: kind "regression" or "classification" (0/1 labels; default: classification when
        every label is 0 or 1). Without X_valid the rows are split (`valid_fraction`, `seed`); options `name`,
        `epochs`, `F` (projection), `standardize` as for csv/npz specs (azlang/tasks/tabular.py)."""
        from azlang.tasks.tabular import from_arrays

        return from_arrays(X_train, y_train, X_valid, y_valid, kind, **options)

    @property
    def F(self) -> int:
        return self.train_x.shape[1]

    @property
    def n_train(self) -> int:
        return len(self.train_y)

    @property
    def n_valid(self) -> int:
        return len(self.valid_y)

    def train_sequence(self) -> np.ndarray:
        """Indices of every training step over all epochs, in the order they are visited."""
        return self.orders.reshape(-1)
