"""The FEC key, the LRU cache and the search evaluator around them (docs/semantics.md, section 9)."""

import math

import pytest

from azlang.ir.bytecode import from_bytecode
from azlang.rng import Rng
from azlang.search.backends import NumpyEvaluator
from azlang.search.engine import SearchEvaluator
from azlang.search.fec import FecCache, fec_key
from azlang.search.generate import Generator
from azlang.search.islands import shape_of
from azlang.search.presets import demo_config
from azlang.search.tasksets import build, parse_all


def filled(capacity, keys, forget_every=0):
    cache = FecCache(capacity, forget_every)
    for k in keys:
        cache.insert(k, float(k))
    return cache


def test_lru_evicts_least_recently_inserted():
    cache = filled(5, [5, 2, 4, 1, 3, 6, 7])
    assert 5 not in cache and 2 not in cache and all(k in cache for k in (1, 3, 4, 6, 7))


def test_lru_hits_refresh_recency():
    cache = filled(5, [5, 2, 4, 1, 3])
    assert cache.lookup(5) == 5.0 and cache.lookup(4) == 4.0
    cache.insert(6, 6.0)
    cache.insert(7, 7.0)
    assert 1 not in cache and 2 not in cache and all(k in cache for k in (3, 4, 5, 6, 7))


def test_forget_every_zero_keeps_entries_forever():
    cache = filled(5, [1])
    assert all(cache.lookup(1) == 1.0 for _ in range(1000))


def test_forget_every_erases_after_that_many_uses():
    cache = filled(5, [1], forget_every=3)  # insert counts as use 1
    assert cache.lookup(1) == 1.0 and cache.lookup(1) == 1.0  # uses 2 and 3: erased right after
    assert cache.lookup(1) is None and cache.hits == 2 and cache.misses == 1


def test_cache_rejects_bad_parameters():
    with pytest.raises(ValueError):
        FecCache(1)
    with pytest.raises(ValueError):
        FecCache(10, forget_every=1)


def test_key_is_exact_and_covers_every_part():
    base = fec_key([0.6, 0.0], [0.5], 3, 1000)
    assert base == fec_key([0.6, 0.0], [0.5], 3, 1000)
    assert base == fec_key([0.6, -0.0], [0.5], 3, 1000)  # -0 hashes like +0
    for other in (
        fec_key([0.601, 0.0], [0.5], 3, 1000),
        fec_key([0.6, 0.0001], [0.5], 3, 1000),
        fec_key([0.6, 0.0], [0.5], 30, 1000),
        fec_key([0.6, 0.0], [0.5], 3, 1001),
        fec_key([0.6], [0.0, 0.5], 3, 1000),
        fec_key([0.6, 0.0], [], 3, 1000),
        fec_key([0.6, 0.0], [0.5 + 1e-16], 3, 1000),
    ):
        assert other != base
    weird = fec_key([math.inf, math.nan], [], 0, 0)
    assert weird == fec_key([math.inf, math.nan], [], 0, 0) and hash(weird) == hash(
        fec_key([math.inf, math.nan], [], 0, 0)
    )


def _evaluator(cache):
    cfg = demo_config()
    tasks = build(parse_all(["linear:F4:D3:N20:V20"]))
    backend = NumpyEvaluator(tasks, shape_of(cfg), 100.0)
    return SearchEvaluator(backend, [t.n_train for t in tasks], cache=cache), backend, tasks


def test_fec_hit_returns_cached_fitness_and_probe_steps_count():
    ev, _, _ = _evaluator(FecCache(100, 0))
    gen, rng = Generator(demo_config()), Rng(1)
    prog = gen.random(rng)
    first = ev.evaluate(prog, rng)
    steps_after_first = ev.counters.train_steps
    assert steps_after_first <= 3 * (10 + 20)  # 10 probe steps + <= 20 full steps per task
    second = ev.evaluate(prog, rng)
    assert second == first and ev.cache.hits == 3
    assert ev.counters.train_steps - steps_after_first <= 3 * 10  # only the probes ran


def test_fec_fitness_equals_plain_evaluation():
    ev, _, _ = _evaluator(FecCache(100, 0))
    plain, _, _ = _evaluator(None)
    gen, rng = Generator(demo_config()), Rng(2)
    for _ in range(5):
        prog = gen.random(rng)
        assert ev.evaluate(prog, Rng(9)) == plain.evaluate(prog, Rng(9))
    assert from_bytecode(prog).size() == 20
