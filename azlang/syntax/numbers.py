"""Syntax stage: number literals, read exactly and written in the shortest form that reads back the same."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from azlang.ir.nodes import Index

# Longer literals are refused: 800 significant digits already pin any double or float32 exactly, and the
# exact reading below (and int()) would otherwise grow with the text (int() refuses over 4300 digits).
MAX_LITERAL_CHARS = 800


def is_integer_text(text: str) -> bool:
    """`5` is an integer literal; `5.0`, `5e0` and `.5` are decimals (an index reads them as fractions)."""
    return text.isdigit()


def read_double(text: str, negative: bool = False) -> float:
    value = float(text)  # Python's float() is correctly rounded
    return -value if negative else value


def read_float32(text: str, negative: bool = False) -> float:
    """The float32 nearest to the decimal text itself.

    Going through a double first could round twice and miss by one ulp, which would break
    `parse(print(p)) == p` for the rare shortest forms that sit next to a float32 rounding boundary.
    """
    double = float(text)
    if double == 0.0 or math.isinf(double):
        # 0 stays 0 and overflow stays inf in float32 too; skipping the exact fraction keeps `1e9999999` instant
        # (its Fraction would have ten million digits). The caller reports inf as out of range.
        return -double if negative else double
    with np.errstate(over="ignore"):
        guess = np.float32(double)
        if not np.isfinite(guess):
            return -math.inf if negative else math.inf
    exact = Fraction(text)  # finite nonzero double: the decimal exponent is within about +-400, so this is cheap
    with np.errstate(over="ignore"):
        candidates = (np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf)))
    best = min((c for c in candidates if np.isfinite(c)), key=lambda c: (abs(Fraction(float(c)) - exact), _odd(c)))
    value = float(best)
    return -value if negative else value


def _odd(x: np.float32) -> int:
    # Ties go to the float32 whose last mantissa bit is 0, as IEEE round-to-nearest-even does.
    return int(np.array(x, dtype=np.float32).view(np.uint32)) & 1


def _finite(x: float) -> float:
    if not math.isfinite(x):
        raise ValueError(f"{x!r} has no .az literal (inf and nan are not literals)")
    return x


def format_double(x: float) -> str:
    """Shortest text reading back to the same double: Python's repr, which always shows `.` or `e`."""
    return repr(float(_finite(x)))


def format_float32(x: float) -> str:
    """Shortest text reading back (as float32) to the same float32, as NumPy prints np.float32."""
    return str(np.float32(_finite(x)))


def format_index(index: Index) -> str:
    """Integer indices as integers; fractions positionally, always with a decimal point (`0.6875`, `0.0`)."""
    if not index.fraction:
        return str(int(index.value))
    return np.format_float_positional(np.float32(_finite(index.value)), unique=True, trim="0")
