"""The exp core (libm_core.py): when the generated code calls glibc's exp past its errno wrapper, it returns
exactly the bits of the C library's `exp`, over the probe set and over any double hypothesis draws."""

import ctypes
import ctypes.util
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azlang.backends.native import libm_core

LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
EXP = libm_core._F(ctypes.cast(LIBM.exp, ctypes.c_void_p).value)
CORE = libm_core.exp_core(LIBM)


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def test_probes_span_the_domain():
    xs = libm_core.probes()
    assert min(x for x in xs if not math.isnan(x)) == -math.inf and max(xs) == math.inf
    assert any(math.isnan(x) for x in xs) and any(0 < abs(x) < 2.2250738585072014e-308 for x in xs)
    assert any(EXP(x) == math.inf for x in xs if math.isfinite(x)) and any(EXP(x) == 0.0 for x in xs)


def test_same_bits_tells_functions_apart():
    xs = libm_core.probes()
    assert libm_core.same_bits(EXP, EXP, xs)
    assert not libm_core.same_bits(EXP, lambda x: EXP(x) * (1.0 + 2.0**-52), xs)


def test_the_engine_binds_exp_to_the_core_or_to_exp():
    from azlang.backends.native import engine

    assert engine._libm_addresses()["exp"] in {CORE, ctypes.cast(LIBM.exp, ctypes.c_void_p).value}


@pytest.mark.skipif(CORE is None, reason="no glibc exp core here: the generated code calls exp itself")
@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True) | st.floats(-800.0, 800.0))
def test_core_returns_the_bits_of_exp(x):
    assert bits(libm_core._F(CORE)(x)) == bits(EXP(x))
