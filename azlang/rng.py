"""Randomness: the one deterministic generator every backend reproduces bit for bit, and HashMix.

The generator is SplitMix64 (Steele, Lea, Flood 2014), a single uint64 of state:

    state += 0x9E3779B97F4A7C15
    z = state
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    return z ^ (z >> 31)                    (all arithmetic mod 2**64)

Conversions (a native backend must perform exactly these float operations, in this order):

    unit(z)    = (z >> 11) * 2**-53                 in [0, 1)
    open(z)    = ((z >> 11) + 0.5) * 2**-53         in (0, 1)
    uniform(lo, hi): if lo >= hi (or either is NaN): lo, drawing nothing (the reference's Abseil rule);
                     else lo + (hi - lo) * open(next)
    gaussian(mean, sd): u1 = open(next); u2 = unit(next)
                     g = sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2);  mean + sd * g
    below(n)   = (next * n) >> 64                   integer in [0, n)   (Lemire's multiply-shift)

`log` and `cos` are the C library's (Python's `math` module calls the same functions native code links to);
NumPy's own SIMD transcendentals are never used on this path because they may differ in the last bit.
Vector and matrix fills draw element by element in index order (matrices row-major).
"""

from __future__ import annotations

import math

import numpy as np

GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
MASK64 = (1 << 64) - 1
TWO_PI = 6.283185307179586
_SCALE = 2.0**-53

_U64 = np.uint64


def _mix(z):
    """SplitMix64's output function; works on Python ints (masked) and on uint64 arrays (wrapping)."""
    if isinstance(z, int):
        z = ((z ^ (z >> 30)) * MIX1) & MASK64
        z = ((z ^ (z >> 27)) * MIX2) & MASK64
        return z ^ (z >> 31)
    z = (z ^ (z >> _U64(30))) * _U64(MIX1)
    z = (z ^ (z >> _U64(27))) * _U64(MIX2)
    return z ^ (z >> _U64(31))


class Rng:
    """SplitMix64 stream. Pass one explicitly wherever randomness is needed; there is no global state."""

    __slots__ = ("state",)

    def __init__(self, seed: int):
        self.state = int(seed) & MASK64

    def __repr__(self) -> str:
        return f"Rng(state={self.state:#x})"

    def copy(self) -> Rng:
        return Rng(self.state)

    def next_u64(self) -> int:
        self.state = (self.state + GAMMA) & MASK64
        return _mix(self.state)

    def _next_array(self, n: int) -> np.ndarray:
        """The next n outputs at once (same values as n calls of next_u64)."""
        with np.errstate(over="ignore"):
            steps = np.arange(1, n + 1, dtype=_U64) * _U64(GAMMA)
            states = steps + _U64(self.state)
            out = _mix(states)
        self.state = (self.state + n * GAMMA) & MASK64
        return out

    def unit(self) -> float:
        return (self.next_u64() >> 11) * _SCALE

    def open(self) -> float:
        return ((self.next_u64() >> 11) + 0.5) * _SCALE

    def below(self, n: int) -> int:
        return (self.next_u64() * n) >> 64

    def below_array(self, n, k: int | None = None) -> np.ndarray:
        """k draws below n (or one below each bound of the array n) as int64, the same values as that many calls
        of below(): the high 64 bits of the 128-bit product, from 32-bit halves (exact while n < 2**32)."""
        bounds = np.asarray(n, dtype=np.int64) if k is None else np.full(k, n, dtype=np.int64)
        count = len(bounds)
        if count and (bounds.min() < 0 or bounds.max() >= 1 << 32):
            return np.array([self.below(int(b)) for b in bounds.tolist()], dtype=np.int64)
        z, b = self._next_array(count), bounds.astype(_U64)
        low = (z & _U64(0xFFFFFFFF)) * b  # < 2**64: both factors below 2**32
        high = (z >> _U64(32)) * b + (low >> _U64(32))  # <= (2**32 - 1) * b + b - 1 < 2**64
        return (high >> _U64(32)).astype(np.int64)

    def seed32(self) -> int:
        """A fresh uint32 seed in [2, 2**32 - 2], like the reference's UniformRandomSeed."""
        return 2 + self.below(2**32 - 3)

    def uniform(self, lo: float, hi: float) -> float:
        if not lo < hi:
            return lo
        return lo + (hi - lo) * self.open()

    def gaussian(self, mean: float, sd: float) -> float:
        u1 = self.open()
        u2 = self.unit()
        g = math.sqrt(-2.0 * math.log(u1)) * math.cos(TWO_PI * u2)
        return mean + sd * g

    def uniform_array(self, lo: float, hi: float, n: int) -> np.ndarray:
        if not lo < hi:
            return np.full(n, lo, dtype=np.float64)
        z = self._next_array(n)
        u = ((z >> _U64(11)).astype(np.float64) + 0.5) * _SCALE
        return lo + (hi - lo) * u

    def gaussian_array(self, mean: float, sd: float, n: int, *, short_native: bool = False) -> np.ndarray:
        """n Gaussians. `short_native` (task generation): short fills, too, go through the native loop once a
        long fill has loaded it (the NumPy reference interpreter's fills stay in Python below _NATIVE_MIN)."""
        if n >= (_NATIVE_MIN_LOADED if short_native and _NATIVE_LOADED else _NATIVE_MIN):
            out = _native_gaussians(self, mean, sd, n)
            if out is not None:
                return out
        z = self._next_array(2 * n).reshape(n, 2)
        u1 = ((z[:, 0] >> _U64(11)).astype(np.float64) + 0.5) * _SCALE
        u2 = (z[:, 1] >> _U64(11)).astype(np.float64) * _SCALE
        logs = np.fromiter(map(math.log, u1.tolist()), dtype=np.float64, count=n)
        coss = np.fromiter(map(math.cos, (TWO_PI * u2).tolist()), dtype=np.float64, count=n)
        g = np.sqrt(-2.0 * logs) * coss
        return mean + sd * g

    def permutation(self, n: int) -> np.ndarray:
        """Fisher-Yates shuffle of range(n): for i = n-1 .. 1 swap i with below(i + 1)."""
        return self.shuffle(np.arange(n))

    def shuffle(self, items: np.ndarray) -> np.ndarray:
        """Same draws as calling below(i + 1) for i = n-1 .. 1, taken as one block of outputs."""
        out = np.array(items, copy=True)
        n = len(out)
        if n < 2:
            return out
        perm = list(range(n))
        for i, j in zip(range(n - 1, 0, -1), self.below_array(np.arange(n, 1, -1)).tolist()):
            perm[i], perm[j] = perm[j], perm[i]
        return out[perm]


# Long fills (task features) go through the native loop when llvmlite works here: the same draws, the same
# float operations and the same C library log/cos, about 20x faster than calling math.log/math.cos per element.
# A short fill alone would not pay for setting LLVM up, but once a long one has loaded the loop, task generation's
# short fills use it too (a few microseconds a call against 15 us plus 0.1 us an element in Python: select and
# final tasks' validation sets and weights).
_NATIVE_MIN = 2048
_NATIVE_MIN_LOADED = 1
_NATIVE_LOADED: list = []
_NATIVE_BROKEN: list = []


def _native_gaussians(rng: Rng, mean: float, sd: float, n: int) -> np.ndarray | None:
    if _NATIVE_BROKEN:
        return None
    try:
        from azlang.backends.native.fills import gaussian_fill

        out, rng.state = gaussian_fill(rng.state, mean, sd, n)
        _NATIVE_LOADED[:] = [True]
        return out
    except Exception:  # noqa: BLE001 - no usable LLVM here: the Python loop gives the same numbers
        _NATIVE_BROKEN.append(True)
        return None


# --- HashMix: the reference's seed-derivation hash (docs/semantics.md, section 5.3) ------------------------

_SHIFTS = ((43, 9, 8), (38, 23, 5), (35, 49, 11), (12, 18, 22))


def _mix_round(seed: int, x: int) -> int:
    a, b, c = 0x9E3779B9, seed, x
    for k1, k2, k3 in _SHIFTS:
        a = (a - b - c) & MASK64
        a ^= c >> k1
        b = (b - c - a) & MASK64
        b = (b ^ (a << k2)) & MASK64
        c = (c - a - b) & MASK64
        c ^= b >> k3
    return c


def hash_mix(*values: int) -> int:
    """HashMix(a, b, ...): start from 42, one mix round per uint32 input, return the low 32 bits."""
    seed = 42
    for x in values:
        seed = _mix_round(seed, int(x) & 0xFFFFFFFF)
    return seed & 0xFFFFFFFF
