"""Backend stage: scalar and reduction rules shared by the NumPy interpreter (and mirrored by native code).

Reductions are defined as strictly sequential sums in index order starting from the first element
(row-major for matrices), the order a simple native loop takes; `np.cumsum` computes exactly that.
Scalar transcendental functions are the C library's (via `math`), with IEEE results where `math` raises.
"""

from __future__ import annotations

import math

import numpy as np

NAN = float("nan")
INF = float("inf")


def div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)


def _ieee(fn, domain_value):
    """Wrap a `math` function: NaN stays NaN; a domain error gives `domain_value(x)`; overflow gives inf."""

    def wrapped(x: float) -> float:
        try:
            return fn(x)
        except ValueError:
            return domain_value(x)
        except OverflowError:
            return INF

    wrapped.__name__ = fn.__name__
    return wrapped


def _log_domain(x: float) -> float:
    return -INF if x == 0.0 else NAN


sin = _ieee(math.sin, lambda x: NAN)
cos = _ieee(math.cos, lambda x: NAN)
tan = _ieee(math.tan, lambda x: NAN)
asin = _ieee(math.asin, lambda x: NAN)
acos = _ieee(math.acos, lambda x: NAN)
atan = _ieee(math.atan, lambda x: NAN)
exp = _ieee(math.exp, lambda x: NAN)
log = _ieee(math.log, _log_domain)
sqrt = _ieee(math.sqrt, lambda x: NAN)


def sigmoid(z: float) -> float:
    """1 / (1 + exp(-z)), the reference's normalisation for classification."""
    return div(1.0, 1.0 + exp(-z))


def heaviside_scalar(x: float) -> float:
    return 1.0 if x >= 0.0 else 0.0


def smin(a: float, b: float) -> float:
    return b if b < a else a


def smax(a: float, b: float) -> float:
    return b if a < b else a


def seqsum(x: np.ndarray) -> float:
    """Sequential sum of all elements in row-major order."""
    return float(np.cumsum(x.ravel())[-1])


def seqsum_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """Sequential sums along one axis of a matrix (each output sums in index order)."""
    return np.take(np.cumsum(x, axis=axis), -1, axis=axis)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    return seqsum(a * b)


def matvec(m: np.ndarray, x: np.ndarray) -> np.ndarray:
    return seqsum_axis(m * x[None, :], axis=1)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """out[i, j] = sum_k a[i, k] * b[k, j], summed sequentially over k."""
    F = a.shape[0]
    if F <= 64:
        return np.cumsum(a[:, :, None] * b[None, :, :], axis=1)[:, -1, :]
    out = np.empty_like(a)
    for i in range(F):
        out[i] = np.cumsum(a[i][:, None] * b, axis=0)[-1]
    return out


def std_of(x: np.ndarray) -> float:
    n = float(x.size)
    mean = seqsum(x) / n
    return sqrt(seqsum(x * x) / n - mean * mean)


def row_std(m: np.ndarray) -> np.ndarray:
    F = float(m.shape[1])
    mean = seqsum_axis(m, 1) / F
    with np.errstate(invalid="ignore"):
        return np.sqrt(seqsum_axis(m * m, 1) / F - mean * mean)
