"""The C math library the native engine binds: on glibc the very library find_library("m") names, opened by its
soname without running `ldconfig -p`; elsewhere find_library's answer as before."""

import ctypes
import ctypes.util
import sys

import pytest

from azlang.backends.native import engine


def _address(lib, name="exp"):
    return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value


def test_libm_is_find_librarys():
    name = ctypes.util.find_library("m")
    if name is None:
        pytest.skip("find_library finds no libm here")
    opened, found = engine._open_libm(), ctypes.CDLL(name)
    for fn in ("exp", "log", "sin"):
        assert _address(opened, fn) == _address(found, fn)


def test_glibc_soname_needs_no_search(monkeypatch):
    try:
        ctypes.CDLL(engine.GLIBC_LIBM)
    except OSError:
        pytest.skip("not glibc")
    if not sys.platform.startswith("linux"):
        pytest.skip("not Linux")

    def no_search(name):
        raise AssertionError("find_library was called")

    monkeypatch.setattr(ctypes.util, "find_library", no_search)
    assert _address(engine._open_libm()) == _address(ctypes.CDLL(engine.GLIBC_LIBM))


def test_elsewhere_find_library_decides(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    asked = []
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: asked.append(name) or engine.GLIBC_LIBM)
    try:
        engine._open_libm()
    except OSError:
        pass  # no such library on this machine: what matters is who named it
    assert asked == ["m"]
