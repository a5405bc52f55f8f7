"""The native FEC cache's export (search_fec._export, what checkpoints hold): entries oldest first, the same arrays as
the Python cache for every count (none, one, odd, even, full after evictions), and a list shorter than
C_COUNT is refused, not exported, and so is a longer one (nothing written past the arrays)."""

import numpy as np
import pytest

native = pytest.importorskip("azlang.backends.native")
pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")


def exported_pair(size: int, sweeps: int = 1):
    from test_search_native_loop import rich, run_both

    py, nat = run_both(rich(**{"fec.cache_size": size, "evolution.population": 12}), sweeps)
    return py.state.cache, nat.state.cache


@pytest.mark.parametrize("size", [2, 3, 4, 7, 300])
def test_export_equals_the_python_caches(size):
    py, nat = exported_pair(size)
    assert len(nat) == min(size, len(py)) and len(py) > 0
    for x, y in zip(nat.export(), py.export()):
        assert x.dtype == y.dtype and np.array_equal(x, y)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 16, 17])
def test_a_fresh_native_cache_gives_back_what_it_was_loaded_with(n):
    """Import then export: every small count (none, one, odd, even) through a cache of its own."""
    from azlang.backends.native import search_loop
    from azlang.backends.native.search_abi import Ctx
    from azlang.ir.nodes import MemoryShape
    from azlang.search.fec import FecCache
    from azlang.search.native_state import Cache

    rng = np.random.default_rng(n)
    keys = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    fits, uses = rng.random(n), rng.integers(1, 9, n)
    cache = Cache(Ctx(), 20, 0, search_loop.addresses(MemoryShape(4, 3, 1)))
    cache.load(FecCache.from_arrays(20, 0, keys, fits, uses))
    got = cache.arrays()
    assert [a.tolist() for a in got] == [keys.tolist(), fits.tolist(), uses.tolist()]


@pytest.mark.parametrize("size", [6, 7])
def test_a_list_shorter_than_the_count_is_refused(size):
    py, nat = exported_pair(size, 2)
    cache = nat._native
    n = cache.ctx["C_COUNT"]
    assert n == size
    cache.ctx["C_COUNT"] = n + 1  # (a count below the list's length would let the walk write past the arrays)
    with pytest.raises(AssertionError, match="disagree"):
        cache.arrays()
    cache.ctx["C_COUNT"] = n
    assert [a.tolist() for a in cache.arrays()] == [a.tolist() for a in py.export()]


@pytest.mark.parametrize("size", [6, 7])
def test_a_list_longer_than_the_count_is_refused_without_writing_past_the_arrays(size):
    py, nat = exported_pair(size, 2)
    cache = nat._native
    n = cache.ctx["C_COUNT"]
    for short in (0, 1, n - 1):
        keys, fits, uses = (np.full(n + 8, 7, dtype=t) for t in (np.uint64, np.float64, np.int64))
        got = cache._export(cache.ctx.a.ctypes.data, keys.ctypes.data, fits.ctypes.data, uses.ctypes.data, short)
        assert got == short + 1  # the list goes on: refused
        assert (keys[short:] == 7).all() and (fits[short:] == 7).all() and (uses[short:] == 7).all()
        cache.ctx["C_COUNT"] = short
        with pytest.raises(AssertionError, match="disagree"):
            cache.arrays()
    cache.ctx["C_COUNT"] = n
    assert [a.tolist() for a in cache.arrays()] == [a.tolist() for a in py.export()]
