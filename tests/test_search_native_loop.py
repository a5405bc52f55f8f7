"""The native exact-mode loop (search_loop) against the Python reference loop: identical islands, sweep by sweep.

For one seed and config both loops must give the same population (bytecode), fitnesses, counters (individuals,
train steps including probe steps, evaluations, FEC hits and misses, hurdle counters), final Rng state,
best-ever program and FEC cache contents (keys, fitnesses, use counts, in LRU order).
"""

import itertools
import math
import pickle
from dataclasses import replace

import numpy as np
import pytest

from azlang.rng import Rng
from azlang.search.config import MUTATIONS, ComponentConfig, MemoryConfig, override
from azlang.search.experiment import run_experiment
from azlang.search.fec import FecCache
from azlang.search.islands import IslandJob, build_island, new_state
from azlang.search.presets import demo_config
from azlang.search.tasksets import build, parse_all

native = pytest.importorskip("azlang.backends.native")
pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")

ALL_MUTATIONS = MUTATIONS  # every mutation type (docs/semantics.md, section 7.2)
# constants, index sets, random sets, matrix ops and the demo's arithmetic; 0 = NO_OP
RICH_OPS = (0, 56, 57, 58, 59, 60, 61, 62, 63, 64, 1, 2, 3, 4, 18, 23, 24, 27, 28, 31, 21, 14, 13, 19, 39, 44, 50)


def rich(**extra):
    """Every mutation type, size limits (and an unbounded component), random ops, small tasks."""
    cfg = override(
        demo_config(),
        {
            "evolution.population": 40,
            "evolution.tournament": 4,
            "evolution.mutations": ALL_MUTATIONS,
            "evolution.mutate_prob": 0.8,
            "tasks.search": ("linear:F4:D3:N20:V10", "teacher:F4:D1:N15:V10"),
            "fec.num_train_examples": 5,
            "fec.num_valid_examples": 4,
            "fec.cache_size": 300,
            "fec.forget_every": 3,
            **extra,
        },
    )
    return replace(
        cfg,
        memory=MemoryConfig(5, 4, 2),
        setup=ComponentConfig(RICH_OPS, 4, 2, 7),
        predict=ComponentConfig(RICH_OPS, 2, 1, 0),  # size_max unset: insertion unbounded
        learn=ComponentConfig(RICH_OPS + (23, 23), 5, 3, 9),
    )


def island(cfg, loop, state=None):
    cfg = override(cfg, {"evolution.loop": loop, "run.backend": "native"})
    specs = parse_all(cfg.tasks.search)
    state = state or new_state(cfg, 0, Rng(12345), len(build(specs)))
    return build_island(IslandJob(cfg, specs, [], state))


def run_both(cfg, sweeps):
    out = []
    for loop in ("python", "native"):
        isl = island(cfg, loop)
        with np.errstate(all="ignore"):
            isl.init_population()
            for _ in range(sweeps):
                isl.sweep()
        out.append(isl)
    assert type(out[1]).__name__ == "NativeIsland" and type(out[0]).__name__ == "Island"
    return out


def assert_same(py, nat):
    a, b = py.state, nat.state
    assert a.rng.state == b.rng.state
    assert (a.cursor, a.individuals) == (b.cursor, b.individuals)
    assert (a.counters.train_steps, a.counters.evaluations) == (b.counters.train_steps, b.counters.evaluations)
    assert a.fitnesses == b.fitnesses
    assert list(a.programs) == list(b.programs)
    assert a.best[0] == b.best[0] and a.best[1] == b.best[1]
    if a.cache is not None:
        assert (a.cache.hits, a.cache.misses) == (b.cache.hits, b.cache.misses)
        for x, y in zip(a.cache.export(), b.cache.export()):
            assert np.array_equal(x, y)
    if a.hurdle is not None:
        assert (a.hurdle.value, a.hurdle.tested, a.hurdle.passed) == (b.hurdle.value, b.hurdle.tested, b.hurdle.passed)


def test_demo_config_identical():
    py, nat = run_both(override(demo_config(), {"run.random_seed": 1, "fec.cache_size": 2000}), 3)
    assert_same(py, nat)
    assert _assert_look_ahead_in_the_list(nat.native.ctx) is not None  # walking ahead of the evictions
    assert py.state.cache.hits > 0 and py.state.individuals == 4000
    assert nat.native.ctx["MEMO_HITS"] > 0  # children reused the probe records of a slot other than their parent


def test_demo_config_from_linear_models_identical():
    """A population of working learners: most children train on all examples (the full-evaluation path)."""
    cfg = override(demo_config(), {"evolution.initial_population": "linear", "evolution.population": 300})
    py, nat = run_both(cfg, 6)
    assert_same(py, nat)
    assert py.state.counters.train_steps > 300 * 10 * 100  # at least Init trained on everything


@pytest.mark.parametrize("fec", [True, False])
@pytest.mark.parametrize("budget", [True, False])
def test_all_mutations_random_ops_fec_budget_identical(fec, budget):
    cfg = rich(
        **{"fec.enabled": fec, "budget.enabled": budget, "budget.baseline": "linear", "budget.threshold_factor": 3.0}
    )
    py, nat = run_both(cfg, 60)
    assert_same(py, nat)
    sizes = {bc.sizes for bc in py.state.programs}
    assert len(sizes) > 3  # insert/remove/trade were at work
    assert max(s[1] for s in sizes) >= 2


def test_long_probes_past_the_precomputed_position_keys_identical():
    """FEC probes of 200 + 100 examples: the native key hashes positions 1-256 from its table and the rest
    computed; the keys (and so hits, misses and the cache) equal the Python loop's."""
    from azlang.backends.native.search_fec import POSITION_KEYS

    cfg = rich(**{"fec.num_train_examples": 200, "fec.num_valid_examples": 100,
                  "tasks.search": ("linear:F4:D3:N220:V110",), "evolution.population": 20})
    assert 200 < POSITION_KEYS < 300
    py, nat = run_both(cfg, 8)
    assert_same(py, nat)
    assert py.state.cache.hits > 0 and py.state.cache.misses > 0


def test_immigrants_replace_slots_and_their_live_programs():
    """Programs written from Python (immigrants) replace a slot's program and drop its probe records and its
    kept live program; the immigrants get the best fitness so that they are chosen as parents right away."""
    py, nat = run_both(rich(), 10)
    assert_same(py, nat)
    immigrate_and_sweep((py, nat), list(py.state.programs)[::-1][:25], 15)
    assert_same(py, nat)


def immigrate_and_sweep(islands, donors, sweeps):
    """The donors into every island with the best fitness (chosen as parents right away), then `sweeps` sweeps."""
    for isl in islands:
        isl.immigrate([(2.0, bc) for bc in donors])
        with np.errstate(all="ignore"):
            for _ in range(sweeps):
                isl.sweep()


def test_tournament_keeps_nan_zero_sign_and_tie_rules():
    """Tournaments over fitnesses the search rarely makes: NaN first drawn (it stays the winner) or later (it never
    wins), -0.0 and +0.0 (equal: the first drawn wins), -inf and negatives. The native loop compares integer keys;
    it must pick the parents the Python loop picks."""
    py, nat = run_both(rich(**{"evolution.tournament": 8}), 2)
    odd = [math.nan, -0.0, 0.0, -0.0, -math.inf, 0.0, -1.0, math.nan, -0.0, 0.0, -5.0, 0.0]
    donors = list(py.state.programs)
    for isl in (py, nat):
        isl.immigrate([(odd[k % len(odd)], bc) for k, bc in enumerate(donors)])
        with np.errstate(all="ignore"):
            isl.sweep()  # every slot refreshed once: children of parents chosen among the odd fitnesses
    assert_same(py, nat)


def test_unbounded_insertion_grows_native_capacity():
    cfg = rich(**{"evolution.mutations": ("insert_instruction",) * 3 + ("alter_param",), "evolution.mutate_prob": 1.0})
    py, nat = run_both(cfg, 12)
    assert_same(py, nat)
    assert nat.native.pop.cap > 20  # grown from the initial capacity


def test_hurdles_median_and_noop_initial_population_identical():
    cfg = rich(
        **{
            "hurdles.enabled": True,
            "hurdles.task_fraction": 0.5,
            "hurdles.update_every": 7,
            "tasks.combination": "median",
            "evolution.initial_population": "noop",
        }
    )
    cfg = override(cfg, {"tasks.search": ("linear:F4:D3:N20:V10", "teacher:F4:D2:N15:V10")})
    py, nat = run_both(cfg, 8)
    assert_same(py, nat)
    assert 0 < py.state.hurdle.passed < py.state.hurdle.tested


def test_random_search_identical():
    py, nat = run_both(rich(**{"evolution.algorithm": "random"}), 5)
    assert_same(py, nat)
    assert py.candidate()[1] == nat.candidate()[1]


def test_state_pickles_to_plain_objects_and_resumes_identically():
    cfg = rich()
    nat = island(cfg, "native")
    with np.errstate(all="ignore"):
        nat.init_population()
        nat.sweep()
    state = pickle.loads(pickle.dumps(nat.state))
    assert type(state.programs) is list and type(state.cache) is FecCache
    assert list(state.programs) == list(nat.state.programs)
    assert state.cache.entries == nat.state.cache.entries
    resumed = island(cfg, "native", state)
    py = island(cfg, "python", pickle.loads(pickle.dumps(nat.state)))
    with np.errstate(all="ignore"):
        for isl in (py, resumed):
            isl.sweep()
            isl.sweep()
    assert_same(py, resumed)


def test_run_experiment_uses_native_loop_with_same_result():
    base = {"stop.max_individuals": 3000, "stop.max_experiments": 1, "run.random_seed": 3, "run.progress_every": 10**9}
    cfg = override(demo_config(), {**base, "evolution.population": 200})
    results = [run_experiment(override(cfg, {"evolution.loop": loop})) for loop in ("python", "auto")]
    a, b = results
    assert (a.individuals, a.train_steps, a.search_fitness, a.select_fitness) == (
        b.individuals,
        b.train_steps,
        b.search_fitness,
        b.select_fitness,
    )
    assert a.text == b.text


def test_loop_native_refuses_batched_sweeps():
    from azlang.errors import ConfigError

    with pytest.raises(ConfigError):
        island(rich(**{"evolution.batch": 4}), "native")
    assert type(island(rich(**{"evolution.batch": 4}), "auto")).__name__ == "Island"


def _checked_run(cfg, sweeps):
    """The native loop with DEAD_CHECK on: every child taking the dead-edit shortcut is also dce'd, and a
    difference (live program or register sets) is counted in DEAD_BAD."""
    nat = island(cfg, "native")
    with np.errstate(all="ignore"):
        nat.init_population()
        nat._attach()
        nat.native.ctx["DEAD_CHECK"] = 1
        for _ in range(sweeps):
            nat.sweep()
    return nat


@pytest.mark.parametrize("cfg", [
    override(demo_config(), {"run.random_seed": 1}),
    rich(),
    rich(**{"evolution.mutations": ("alter_param", "randomize_instruction"), "evolution.mutate_prob": 1.0}),
], ids=["demo", "rich", "in-place-edits"])
def test_dead_edit_shortcut_gives_the_live_program_dce_gives(cfg):
    """A child whose mutation left nothing live changed skips dce and reuses its parent's live program: checked
    against dce itself on every such child (ops writing one element, random ops, NO_OPs, size limits), and the
    run is the Python loop's."""
    nat = _checked_run(cfg, 8)
    ctx = nat.native.ctx
    assert ctx["DEAD_EDITS"] > 0.1 * nat.state.individuals  # the shortcut is taken, often
    assert ctx["DEAD_BAD"] == 0
    py, _ = run_both(cfg, 8)
    assert_same(py, nat)


def test_checkpoint_of_a_native_population_is_that_of_its_programs():
    """checkpoint.to_data packs a native population from its arrays (ProgramsView.packed): the same record, to
    the byte, as packing the list of its programs, and it decodes to those programs (sizes differing by slot)."""
    from azlang.search import checkpoint, datacodec

    _, nat = run_both(rich(), 6)
    view = nat.state.programs
    assert type(view).__name__ == "ProgramsView" and len({bc.sizes for bc in view}) > 3
    fast = datacodec.encode(checkpoint.to_data(view))
    assert fast == datacodec.encode(checkpoint.to_data(list(view)))
    assert checkpoint.from_data(datacodec.decode(fast)) == list(view)
    back = pickle.loads(pickle.dumps(view))  # a worker's final state on its way to the coordinator
    assert type(back) is list and back == list(view)


@pytest.mark.parametrize("size,forget,tasks,sweeps", [(24, 2, 12, 40), (24, 0, 12, 40), (500, 0, 40, 20)])
def test_lookups_at_the_positions_stage_found_identical(size, forget, tasks, sweeps):
    """Tasks of one shape and no random op: `stage` finds every task's cache position before the lockstep
    calls, and task_fitness looks up (and inserts) there unless the table changed since: an insert, an eviction,
    a forgotten entry's deletion shifting its probe chain. A cache of two children's tasks that forgets on the
    second use (or never) makes deletions happen between the tasks of one child; 40 tasks a child filling a
    cache of 500 make two of a child's new keys meet at one empty position."""
    cfg = override(demo_config(), {"run.random_seed": 3, "evolution.population": 60, "fec.cache_size": size,
                                   "fec.forget_every": forget, "tasks.search": (f"linear:F4:D{tasks}:N20:V10",)})
    py, nat = run_both(cfg, sweeps)
    assert_same(py, nat)
    assert nat.native.ctx["C_GEN"] > 0 and py.state.cache.hits > 5000
    _assert_look_ahead_in_the_list(nat.native.ctx)


def _assert_look_ahead_in_the_list(ctx):
    """The eviction look-ahead (C_AHEAD, hints only) stands on an entry of the LRU list, or has none: an entry it
    stood on that left the list (moved back on a hit, forgotten, evicted) must not leave it walking free ones."""
    from azlang.backends.native.search_fec import AHEAD

    links = ctx.keep["C_ENT"][:, 3:].view(np.int32)  # (prev, next) per entry
    order, e = [], ctx["C_HEAD"]
    while e >= 0:
        order.append(e)
        e = int(links[e, 1])
    assert len(order) == ctx["C_COUNT"] and (ctx["C_AHEAD"] == -1 or ctx["C_AHEAD"] in order)
    at = order.index(ctx["C_AHEAD"]) if ctx["C_AHEAD"] >= 0 else None
    assert at is None or at <= AHEAD  # never further ahead of the evictions than it walks
    return at


_TIMES = ("time", "individuals_per_s", "eta", "timed")


def _lines_and_reports(cfg, loop):
    """Progress records (times left out) and the number of island reports the coordinator received."""
    from azlang.search import islands

    records, received = [], []
    original = islands.Coordinator.receive

    def receive(self, rep):
        received.append(rep.individuals)
        return original(self, rep)

    islands.Coordinator.receive = receive
    try:
        result = run_experiment(override(cfg, {"evolution.loop": loop}), progress=records.append)
    finally:
        islands.Coordinator.receive = original
    lines = [{k: v for k, v in r.items() if k not in _TIMES} for r in records if r["event"] in ("progress", "done")]
    return result, lines, received


@pytest.mark.parametrize("stops", [
    {"stop.max_train_steps": 123_457},  # a budget reached mid-sweep: the stop comes at that sweep's end
    {"stop.max_individuals": 1_030},  # not a whole number of sweeps
    {"stop.max_train_steps": 80_000, "hurdles.enabled": True, "hurdles.update_every": 70},
    {"stop.max_train_steps": 60_000, "evolution.algorithm": "random"},
], ids=["steps", "individuals", "hurdles", "random-search"])
@pytest.mark.parametrize("rows", [256, 2])
def test_sweeps_without_reports_decide_what_the_reports_would(stops, rows, monkeypatch):
    """A lone native island sweeps to the next decision in one go (the stops), taking the counted progress lines
    on the way: the same lines, stop point and result as the Python loop reporting after every sweep, in one
    report per native call: at the stop, or when `rows` lines wait (time-based returns turned off here)."""
    from azlang.search import native_island

    monkeypatch.setattr(native_island, "REPORT_SECONDS", 1e9)
    monkeypatch.setattr(native_island, "LINE_ROWS", rows)
    monkeypatch.setattr(native_island, "MIN_CHUNK", 400)  # 10 sweeps a call, whatever the clock says
    monkeypatch.setattr(native_island, "MAX_CHUNK", 400)
    cfg = rich(**{"run.random_seed": 5, "stop.max_experiments": 1, "run.progress_every": 130,
                  "run.progress_seconds": 0.0, "stop.max_train_steps": 10**9, **stops})
    (a, lines_a, reports_a), (b, lines_b, reports_b) = (_lines_and_reports(cfg, loop) for loop in ("python", "native"))
    assert lines_a == lines_b and len(lines_a) > 5
    assert (a.individuals, a.train_steps, a.search_fitness, a.text) == (b.individuals, b.train_steps, b.search_fitness,
                                                                       b.text)
    assert reports_a == list(range(40, a.individuals + 1, 40))  # the Python loop: after every sweep of P = 40
    # the native loop: Init's sweep, the sweep of the first line, then a report after each call that took lines
    # (ending at that sweep's end, before any poll), when `rows` lines wait, and at the stop
    calls = -(-a.individuals // min(400, stops.get("hurdles.update_every", 400)))  # chunks end at hurdle updates
    assert len(reports_b) <= 3 + calls + len(lines_b) // rows < len(reports_a)
    if rows > len(lines_b):
        assert len(reports_b) < len(lines_b)


def test_native_line_times_are_when_the_lines_were_taken(monkeypatch):
    """Lines taken natively carry the clock of their sweep end (time.monotonic's): increasing, after the call
    began and before their report."""
    import time

    from azlang.search import islands, native_island

    monkeypatch.setattr(native_island, "REPORT_SECONDS", 1e9)
    seen, original = [], islands.Coordinator.receive

    def receive(self, rep):
        seen.append((time.monotonic(), [line.at for line in rep.lines]))
        return original(self, rep)

    monkeypatch.setattr(islands.Coordinator, "receive", receive)
    cfg = rich(**{"run.random_seed": 5, "stop.max_experiments": 1, "run.progress_every": 130,
                  "run.progress_seconds": 0.0, "stop.max_train_steps": 10**9, "stop.max_individuals": 2_030})
    started = time.monotonic()
    run_experiment(override(cfg, {"evolution.loop": "native"}), progress=lambda r: None)
    times = [at for _, ats in seen for at in ats]
    assert len(times) > 5 and started < times[0] and all(x < y for x, y in itertools.pairwise(times))
    assert all(at <= got for got, ats in seen for at in ats)
