"""Native stage: the C library's exp entered at its core, past glibc's errno wrapper, where that is the same.

glibc (2.29 on) exports `exp` as a wrapper: it calls the exp core (also exported, as the compatibility symbol
`__exp_finite@GLIBC_2.15`, an IFUNC resolving to the same code the wrapper calls), returns the core's result
unchanged and only looks at it to set errno on overflow/underflow. Generated code never reads errno, so calling
the core directly gives the same bits one call and a few branches cheaper per sigmoid (the lockstep's hottest
libm call). It is used only when found and when it returns the same bits as `exp` on a probe set spanning
the whole domain (overflow, underflow, subnormals, infinities, NaN); anywhere else `exp` stays as it was. The
verdict is kept on disk per C library and CPU (libm_verdicts.py).
"""

from __future__ import annotations

import ctypes
import math
import random
import struct

_F = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)


def probes() -> list[float]:
    """Inputs covering exp's whole domain: a dense grid, seeded random points, the edges and the specials."""
    g = random.Random(2029)
    xs = [k / 4.0 for k in range(-3200, 3201)]
    xs += [g.uniform(-750.0, 712.0) for _ in range(2000)] + [g.gauss(0.0, 3.0) for _ in range(2000)]
    xs += [math.ldexp(g.random(), -g.randrange(0, 1075)) * g.choice((1, -1)) for _ in range(1000)]
    xs += [0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan, 709.782712893384, 709.7827128933841,
           -708.3964185322641, -745.1332191019411, -745.1332191019412, 5e-324, -5e-324, 2.2250738585072014e-308]
    return xs


def same_bits(f, g, xs) -> bool:
    pack = struct.Struct("<d").pack
    return all(pack(f(x)) == pack(g(x)) for x in xs)


def core_address(libm: ctypes.CDLL) -> int | None:
    """The address of glibc's exp core (unchecked), or None where there is none."""
    try:
        dlvsym = ctypes.CDLL(None).dlvsym
    except (OSError, AttributeError):
        return None
    dlvsym.restype, dlvsym.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    return dlvsym(libm._handle, b"__exp_finite", b"GLIBC_2.15") or None


def exp_core(libm: ctypes.CDLL) -> int | None:
    """The address of glibc's exp core when it returns exactly what `exp` returns, else None."""
    addr = core_address(libm)
    if not addr:
        return None
    exp = _F(ctypes.cast(libm.exp, ctypes.c_void_p).value)
    return addr if same_bits(_F(addr), exp, probes()) else None
