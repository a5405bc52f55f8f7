"""Export stage: the helpers a PyTorch export copies in (float64 tensors; scalars are 0-d tensors)."""

import torch


def _s(x):
    """A scalar register value."""
    return torch.tensor(float(x), dtype=torch.float64)


def _sigmoid(z):
    return 1.0 / (1.0 + torch.exp(-z))


def _std(x):
    """sqrt(E[x^2] - E[x]^2) without clamping (NaN when rounding makes the variance negative)."""
    mean = torch.sum(x) / x.numel()
    return torch.sqrt(torch.sum(x * x) / x.numel() - mean * mean)


def _row_std(m):
    mean = torch.sum(m, 1) / m.shape[1]
    return torch.sqrt(torch.sum(m * m, 1) / m.shape[1] - mean * mean)


def _f32(x):
    """Constants of index-set and random ops are stored as float32, like the reference."""
    return torch.tensor(float(x), dtype=torch.float32).item()


def _index(F, fraction):
    """A position given as a fraction of the feature count, rounded as the reference does."""
    return int((torch.tensor(float(F), dtype=torch.float32) * torch.tensor(fraction, dtype=torch.float32)).item())


def _fill(rng, draw, a, b, shape):
    """A vector or matrix of draws, element by element in index order (row-major)."""
    n = 1
    for d in shape:
        n *= d
    return torch.tensor([getattr(rng, draw)(a, b) for _ in range(n)], dtype=torch.float64).reshape(shape)
