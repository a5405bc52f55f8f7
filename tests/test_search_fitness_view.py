"""state.fitnesses of a native island is a FitnessView over the FIT array: it reads, writes, compares, pickles and
checkpoints as the list of floats the Python loop keeps, and a report's snapshot does not move with the island."""

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azlang.rng import Rng
from azlang.search import checkpoint, datacodec
from azlang.search.config import override
from azlang.search.evolution import IslandState, population_stats
from azlang.search.islands import IslandJob, build_island, new_state, state_report
from azlang.search.native_state import FitnessView, pick
from azlang.search.presets import demo_config
from azlang.search.tasksets import build, parse_all

native = pytest.importorskip("azlang.backends.native")
needs_jit = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")

VALUES = [0.25, -1.5, math.inf, 0.1 + 0.2, 1e-300, 0.0]


def test_view_reads_like_the_list():
    view, ref = FitnessView(np.array(VALUES)), list(VALUES)
    assert len(view) == len(ref) and list(view) == ref and view == ref and ref == view
    assert all(type(v) is float for v in view)
    for i in range(-len(ref), len(ref)):
        assert view[i] == ref[i] and type(view[i]) is float
    for s in (slice(1, 4), slice(None, None, 2), slice(-3, None), slice(5, 2)):
        assert view[s] == ref[s] and isinstance(view[s], list)
    with pytest.raises(IndexError):
        view[len(ref)]
    assert sorted(view) == sorted(ref) and max(view) == max(ref) and repr(view) == repr(ref)
    assert view != [*ref, 1.0] and view == FitnessView(np.array(VALUES))
    assert pick(view, [4, 0, 4]) == pick(ref, [4, 0, 4]) == [ref[4], ref[0], ref[4]]


def test_view_writes_through_and_pickles_as_a_list():
    fit = np.array(VALUES)
    view = FitnessView(fit)
    view[1] = 7.5
    view[-1] = math.nan
    assert fit[1] == 7.5 and math.isnan(fit[-1])
    back = pickle.loads(pickle.dumps(view))
    assert type(back) is list and back[:5] == [0.25, 7.5, math.inf, 0.1 + 0.2, 1e-300] and math.isnan(back[5])


def test_checkpoint_of_a_view_is_the_lists():
    """The same checkpoint bytes whether the island's fitnesses are the view or the list it stands for."""
    states = [IslandState(0, Rng(3), [], fits, 2, 17) for fits in (FitnessView(np.array(VALUES)), list(VALUES))]
    encoded = [checkpoint.encode_state(s) for s in states]
    assert encoded[0] == encoded[1]
    assert checkpoint.from_data(datacodec.decode(encoded[0])).fitnesses == VALUES


@pytest.mark.parametrize("seed", range(5))
def test_population_stats_of_a_snapshot_equals_the_lists(seed):
    """The same three floats, bit for bit, from the array (squares made by NumPy) as from the list."""
    rng = np.random.default_rng(seed)
    fits = (rng.random(1000) * rng.choice([1e-300, 1e-3, 1.0, 1e3, 1e150], 1000)).tolist()
    fits[rng.integers(1000)] = -0.0
    def bits(stats):
        return np.array(stats).tobytes()

    assert bits(population_stats(np.array(fits))) == bits(population_stats(fits))
    assert bits(population_stats(FitnessView(np.array(fits)))) == bits(population_stats(fits))
    specials = ([math.inf, 1.0], [math.nan, 0.5], [0.5, math.nan], [0.0, -0.0], [-0.0, 0.0], [-0.0, -0.0], [-0.0],
                [5e-324, 1e-310], [-0.0, 1.0, -1.0], [math.inf, -math.inf, 2.0], [-math.inf, -0.0], [1e308, 1e308],
                [-1.0, -0.0, -2.0], [math.nan], [-3.0, -1.0], [0.1] * 7)
    for special in specials:
        a, b = population_stats(np.array(special)), population_stats(list(special))
        assert bits(a) == bits(b)
    assert population_stats(np.array([])) == (0.0, 0.0, 0.0)


@needs_jit
def test_native_island_state_and_reports():
    cfg = override(demo_config(), {"run.random_seed": 1, "evolution.population": 60, "evolution.loop": "native",
                                   "run.backend": "native"})
    specs = parse_all(cfg.tasks.search)
    isl = build_island(IslandJob(cfg, specs, [], new_state(cfg, 0, Rng(9), len(build(specs)))))
    with np.errstate(all="ignore"):
        isl.init_population()
        isl.sweep()
    st = isl.state
    assert isinstance(st.fitnesses, FitnessView) and st.fitnesses.fit is isl.native.pop.fit
    before = list(st.fitnesses)
    rep = state_report(st)
    expected = population_stats(before)
    isl.immigrate([(123.0, st.programs[0])])  # writes the population after the report was taken
    assert st.fitnesses[0] == 123.0 and isl.native.pop.fit[0] == 123.0
    assert rep.fitnesses_stats == expected  # the report keeps the fitnesses at its boundary
    assert pickle.loads(pickle.dumps(rep)).fitnesses_stats == expected
    with np.errstate(all="ignore"):
        isl.sweep()  # push keeps the written fitness: the array is the state
    assert st.individuals == 3 * 60 - 1 and isinstance(st.fitnesses, FitnessView)  # the sweep went on from slot 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
                | st.sampled_from([0.0, -0.0, 1.0, -1.0, math.nan, math.inf]), max_size=40))
def test_population_stats_of_any_array_equals_the_lists(fits):
    with np.errstate(all="ignore"):
        assert np.array(population_stats(np.array(fits, dtype=np.float64))).tobytes() == \
            np.array(population_stats(list(fits))).tobytes()
