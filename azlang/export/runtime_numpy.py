"""Export stage: the helpers a NumPy export copies into its module (only those it uses), mirroring the reference
semantics of azlang/backends/semantics.py and azlang/rng.py operation for operation, so results are bit-identical.

Each top-level definition here is self-contained apart from `math`, `numpy as np`, other helpers of this file
and runtime_py.py's (the random stream and the epoch orders, shared with the torch and JAX exports);
codegen copies the source text of the ones a program needs (tests check them against the interpreter).
"""

import math

import numpy as np

_NAN = float("nan")
_INF = float("inf")


def _div(a, b):
    """a / b on Python floats with IEEE results where Python raises."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _ieee(fn, on_domain_error):
    """A `math` function with IEEE results: NaN for domain errors (log(0) = -inf), inf on overflow."""

    def wrapped(x):
        try:
            return fn(x)
        except ValueError:
            return on_domain_error(x)
        except OverflowError:
            return _INF

    return wrapped


_sin = _ieee(math.sin, lambda x: _NAN)
_cos = _ieee(math.cos, lambda x: _NAN)
_tan = _ieee(math.tan, lambda x: _NAN)
_arcsin = _ieee(math.asin, lambda x: _NAN)
_arccos = _ieee(math.acos, lambda x: _NAN)
_arctan = _ieee(math.atan, lambda x: _NAN)
_exp = _ieee(math.exp, lambda x: _NAN)
_log = _ieee(math.log, lambda x: -_INF if x == 0.0 else _NAN)
_sqrt = _ieee(math.sqrt, lambda x: _NAN)


def _sigmoid(z):
    """1 / (1 + exp(-z)): what s1 becomes on classification tasks during training."""
    return _div(1.0, 1.0 + _exp(-z))


def _min(a, b):
    """Scalar minimum, the reference's way: b if b < a else a (so minimum(NaN, 1) is NaN)."""
    return b if b < a else a


def _max(a, b):
    return b if a < b else a


def _seqsum(x):
    """Sum of all elements strictly in index order (row-major), as the reference's loops add them."""
    return float(np.cumsum(x.ravel())[-1])


def _seqsum_axis(x, axis):
    return np.take(np.cumsum(x, axis=axis), -1, axis=axis)


def _dot(a, b):
    return _seqsum(a * b)


def _norm(x):
    return _sqrt(_seqsum(x * x))


def _mean(x):
    return _seqsum(x) / float(x.size)


def _std(x):
    """sqrt(E[x^2] - E[x]^2) without clamping: slightly negative variances give NaN, like the reference."""
    n = float(x.size)
    mean = _seqsum(x) / n
    return _sqrt(_seqsum(x * x) / n - mean * mean)


def _row_std(m):
    F = float(m.shape[1])
    mean = _seqsum_axis(m, 1) / F
    return np.sqrt(_seqsum_axis(m * m, 1) / F - mean * mean)


def _matvec(m, x):
    return _seqsum_axis(m * x[None, :], axis=1)


def _matmul(a, b):
    """out[i, j] = sum over k of a[i, k] * b[k, j], added in order of k."""
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = np.cumsum(a[i][:, None] * b, axis=0)[-1]
    return out


def _heaviside(x):
    """Vectors and matrices: 1 where x > 0, else 0 (so 0 at 0; the scalar heaviside gives 1 at 0)."""
    return (x > 0.0).astype(np.float64)


def _f32(x):
    """Constants of index-set and random ops are stored as float32, like the reference."""
    return float(np.float32(x))


def _index(F, fraction):
    """A position given as a fraction of the feature count (what mutation writes), as the reference rounds it."""
    return int(np.float32(F) * np.float32(fraction))


def _uniform_array(rng, low, high, shape):
    """Element by element in row-major order, as azlang fills vectors and matrices (rng: runtime_py's SplitMix64)."""
    n = int(np.prod(shape))
    return np.array([rng.uniform(low, high) for _ in range(n)], dtype=np.float64).reshape(shape)


def _gaussian_array(rng, mean, sd, shape):
    n = int(np.prod(shape))
    return np.array([rng.gaussian(mean, sd) for _ in range(n)], dtype=np.float64).reshape(shape)
