"""Task stage: synthetic regression tasks and the unit-test tasks (docs/semantics.md, section 13.2)."""

from __future__ import annotations

import numpy as np

from azlang.backends.native.pack import aligned
from azlang.rng import Rng
from azlang.tasks.task import RMS_ERROR, Task

# Seed offsets of the reference's task generators (docs/semantics.md, section 13.2).
LINEAR_DATA, LINEAR_PARAM = 939723201, 997958712
TEACHER_DATA, TEACHER_PARAM = 865546086, 174299604


def _rng(seed: int, offset: int) -> Rng:
    return Rng((seed + offset) % 2**32)


def _features(rng: Rng, n_train: int, n_valid: int, F: int) -> tuple[np.ndarray, np.ndarray]:
    """i.i.d. N(0, 1): all training vectors first, then all validation vectors, element by element."""
    train = rng.gaussian_array(0.0, 1.0, n_train * F, short_native=True).reshape(n_train, F)
    valid = rng.gaussian_array(0.0, 1.0, n_valid * F, short_native=True).reshape(n_valid, F)
    return train, valid


def _rowdot(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x @ w summed sequentially, so labels are the same on every machine: per row
    ((x0 w0 + x1 w1) + x2 w2) + ..., the same additions in the same order as the last column of
    np.cumsum(x * w, axis=1), summed a column at a time (a few whole-column ufunc calls, not an
    (n, F) cumsum: ~3.5x faster on the select and final sets' 1000 x 4 tasks)."""
    p = x * w[None, :]  # the products as the cumsum formula takes them (a scalar factor can flip a NaN's sign)
    acc = p[:, 0]
    for j in range(1, p.shape[1]):
        acc = acc + p[:, j]  # not in place: NumPy takes a one-row `acc += ...` as a reduction (which NaN wins differs)
    return acc


def linear(F: int, n_train: int, n_valid: int, data_seed: int, param_seed: int, epochs: int = 1,
           name: str = "linear", bias: bool = False) -> Task:
    """y = w.x with w ~ N(0, 1)^F (and with `bias`, the paper's affine y = w.x + a, a ~ N(0, 1))."""
    tx, vx = _features(_rng(data_seed, LINEAR_DATA), n_train, n_valid, F)
    prng = _rng(param_seed, LINEAR_PARAM)
    w = prng.gaussian_array(0.0, 1.0, F, short_native=True)
    a = prng.gaussian(0.0, 1.0) if bias else 0.0
    return Task(name, tx, _plus(_rowdot(tx, w), a), vx, _plus(_rowdot(vx, w), a), RMS_ERROR, epochs, data_seed,
                param_seed)


def _plus(y: np.ndarray, a: float) -> np.ndarray:
    """y + a, written into an array that starts on a 64-byte boundary, as the features from the native Gaussian fill
    do (backends/native/fills.py): the native evaluator then takes the labels in place rather than copy them."""
    return np.add(y, a, out=aligned(len(y), zeroed=False))


def teacher_weights(F: int, param_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """W (F x F, rows 0 and 2 zeroed) and u (u0 = u2 = 0) of the random ReLU teacher network."""
    prng = _rng(param_seed, TEACHER_PARAM)
    W = prng.gaussian_array(0.0, 1.0, F * F, short_native=True).reshape(F, F)
    W[[0, 2], :] = 0.0
    u = prng.gaussian_array(0.0, 1.0, F, short_native=True)
    u[[0, 2]] = 0.0
    return W, u


def _teacher_labels(x: np.ndarray, W: np.ndarray, u: np.ndarray) -> np.ndarray:
    hidden = np.cumsum(x[:, None, :] * W[None, :, :], axis=2)[:, :, -1]
    relu = np.where(hidden > 0.0, hidden, 0.0)
    return _rowdot(relu, u)


def teacher(F: int, n_train: int, n_valid: int, data_seed: int, param_seed: int, epochs: int = 1,
            name: str = "teacher") -> Task:
    """y = u . relu(W x), the reference's 2-layer NN regression task."""
    if F < 4:
        raise ValueError("the teacher network needs F >= 4")
    tx, vx = _features(_rng(data_seed, TEACHER_DATA), n_train, n_valid, F)
    W, u = teacher_weights(F, param_seed)
    return Task(name, tx, _teacher_labels(tx, W, u), vx, _teacher_labels(vx, W, u), RMS_ERROR, epochs,
                data_seed, param_seed)


def constant(value: float, F: int, n_train: int, n_valid: int, eval_type: str = RMS_ERROR, epochs: int = 1,
             name: str = "const") -> Task:
    """All features and labels equal `value`: the reference's zeros and ones tasks."""
    return Task(name, np.full((n_train, F), value), np.full(n_train, value), np.full((n_valid, F), value),
                np.full(n_valid, value), eval_type, epochs)


def increment(F: int, n_train: int, n_valid: int, delta: float = 1.0, epochs: int = 1,
              name: str = "increment") -> Task:
    """Example k has every feature and the label equal to k * delta; validation restarts at k = 0."""
    tk = np.arange(n_train) * delta
    vk = np.arange(n_valid) * delta
    return Task(name, np.repeat(tk[:, None], F, axis=1), tk, np.repeat(vk[:, None], F, axis=1), vk,
                RMS_ERROR, epochs)


def fixed(train: list[tuple[list[float], float]], valid: list[tuple[list[float], float]],
          eval_type: str = RMS_ERROR, epochs: int = 1, name: str = "fixed") -> Task:
    """Explicit examples, as the reference's unit_test_fixed_task."""
    tx, ty = zip(*train)
    vx, vy = zip(*valid)
    return Task(name, np.array(tx), np.array(ty), np.array(vx), np.array(vy), eval_type, epochs)
