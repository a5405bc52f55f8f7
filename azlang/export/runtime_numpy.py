"""Export stage: the helpers a NumPy export copies into its module (only those it uses), mirroring the reference
semantics of azlang/backends/semantics.py and azlang/rng.py operation for operation, so results are bit-identical.

Each top-level definition here is self-contained apart from `math`, `numpy as np` and other helpers of this file;
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


class SplitMix64:
    """azlang's random stream (azlang/rng.py): SplitMix64 with fixed float conversions and a Box-Muller
    Gaussian, so a model fitted here with `seed` draws exactly what `azc run --seed` draws."""

    def __init__(self, seed):
        self.state = int(seed) & 0xFFFFFFFFFFFFFFFF

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def uniform(self, low, high):
        """low when low >= high (drawing nothing), else low + (high - low) * u with u in (0, 1)."""
        if not low < high:
            return low
        return low + (high - low) * (((self.next_u64() >> 11) + 0.5) * 2.0**-53)

    def gaussian(self, mean, sd):
        u1 = ((self.next_u64() >> 11) + 0.5) * 2.0**-53
        u2 = (self.next_u64() >> 11) * 2.0**-53
        return mean + sd * (math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2))

    def uniform_array(self, low, high, shape):
        n = int(np.prod(shape))
        return np.array([self.uniform(low, high) for _ in range(n)], dtype=np.float64).reshape(shape)

    def gaussian_array(self, mean, sd, shape):
        n = int(np.prod(shape))
        return np.array([self.gaussian(mean, sd) for _ in range(n)], dtype=np.float64).reshape(shape)

    def shuffle(self, items):
        """Fisher-Yates: for i = n-1 .. 1 swap item i with item (next * (i + 1)) >> 64."""
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = (self.next_u64() * (i + 1)) >> 64
            out[i], out[j] = out[j], out[i]
        return out


def _epoch_orders(n, epochs, data_seed):
    """Example order of each epoch: the stored order first, then each epoch a shuffle of the previous one
    (seeded like azlang's tasks, so `data_seed` = the task's data seed reproduces an `azc run`)."""
    rng = SplitMix64((data_seed + 3274582109) % 2**32)
    orders = [list(range(n))]
    for _ in range(1, epochs):
        orders.append(rng.shuffle(orders[-1]))
    return orders
