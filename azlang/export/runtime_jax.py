"""Export stage: the helpers a JAX export copies in: float64 arrays (x64 mode), and azlang's random stream
(SplitMix64) in uint64 arithmetic, carried in the memory as `rng`, so jit, scan and vmap can draw."""

import jax.numpy as jnp
import numpy as np

_GAMMA = 0x9E3779B97F4A7C15


def _sigmoid(z):
    return 1.0 / (1.0 + jnp.exp(-z))


def _std(x):
    """sqrt(E[x^2] - E[x]^2) without clamping (NaN when rounding makes the variance negative)."""
    mean = jnp.sum(x) / x.size
    return jnp.sqrt(jnp.sum(x * x) / x.size - mean * mean)


def _row_std(m):
    mean = jnp.sum(m, 1) / m.shape[1]
    return jnp.sqrt(jnp.sum(m * m, 1) / m.shape[1] - mean * mean)


def _f32(x):
    """Constants of index-set and random ops are stored as float32, like the reference."""
    return float(np.float32(x))


def _index(F, fraction):
    """A position given as a fraction of the feature count, rounded as the reference does."""
    return int(np.float32(F) * np.float32(fraction))


def _draw(m, n):
    """The next n SplitMix64 outputs; advances m["rng"]."""
    state = m["rng"]
    with_steps = state + jnp.arange(1, n + 1, dtype=jnp.uint64) * jnp.uint64(_GAMMA)
    z = with_steps
    z = (z ^ (z >> jnp.uint64(30))) * jnp.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> jnp.uint64(27))) * jnp.uint64(0x94D049BB133111EB)
    m["rng"] = state + jnp.uint64(n) * jnp.uint64(_GAMMA)
    return z ^ (z >> jnp.uint64(31))


def _uniform(m, low, high, shape):
    """low when low >= high (drawing nothing), else low + (high - low) * u with u in (0, 1)."""
    if not low < high:
        return jnp.full(shape, low, dtype=jnp.float64)
    n = 1
    for d in shape:
        n *= d
    u = ((_draw(m, n) >> jnp.uint64(11)).astype(jnp.float64) + 0.5) * 2.0**-53
    return (low + (high - low) * u).reshape(shape)


def _gaussian(m, mean, sd, shape):
    n = 1
    for d in shape:
        n *= d
    z = (_draw(m, 2 * n) >> jnp.uint64(11)).astype(jnp.float64).reshape(n, 2)
    u1, u2 = (z[:, 0] + 0.5) * 2.0**-53, z[:, 1] * 2.0**-53
    g = jnp.sqrt(-2.0 * jnp.log(u1)) * jnp.cos(6.283185307179586 * u2)
    return (mean + sd * g).reshape(shape)
