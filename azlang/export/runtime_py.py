"""Export stage: pure-Python helpers every export copies in (NumPy, torch, JAX): azlang's random stream (SplitMix64,
azlang/rng.py) and the epoch orders of its tasks, so fits draw and visit examples exactly as azlang does."""

import math


class SplitMix64:
    """azlang's random stream: SplitMix64 with fixed float conversions and a Box-Muller Gaussian."""

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
