"""Evolution bookkeeping, selection, determinism, hurdles, random search (docs/semantics.md, sections 8, 11 and 12)."""

from dataclasses import replace

import pytest

from azlang.rng import Rng
from azlang.search.config import ComponentConfig, MemoryConfig, override
from azlang.search.evolution import tournament
from azlang.search.experiment import run_experiment
from azlang.search.hurdles import Hurdle, percentile_of_unique
from azlang.search.islands import IslandJob, build_island, new_state
from azlang.search.presets import demo_config
from azlang.search.tasksets import parse_all

SMALL = {
    "evolution.population": 20,
    "evolution.tournament": 4,
    "stop.max_individuals": 200,
    "stop.max_experiments": 1,
    "tasks.search": ("linear:F4:D3:N20:V20",),
    "tasks.select": ("linear:F4:D3:N50:V20",),
    "tasks.final": ("linear:F4:D2:N50:V20:S77:P88",),
    "run.random_seed": 5,
    "run.backend": "numpy",
    "run.progress_every": 20,
}


def small(**extra):
    return override(demo_config(), {**SMALL, **extra})


def test_bookkeeping_counts_init_and_whole_sweeps():
    """P=5, T=2, 2 NN tasks x 1000 train, no FEC: Init = 10,000 steps; each sweep 10,000 more."""
    cfg = override(
        demo_config(),
        {
            "evolution.population": 5,
            "evolution.tournament": 2,
            "fec.enabled": False,
            "tasks.search": ("teacher:F4:D2:N1000:V10",),
            "tasks.max_abs_error": 1e9,
            "evolution.initial_population": "noop",
            "run.backend": "numpy",
        },
    )
    cfg = replace(
        cfg,
        setup=ComponentConfig((56,), 1),
        predict=ComponentConfig((1,), 1),
        learn=ComponentConfig((1,), 1),
        memory=MemoryConfig(4, 3, 1),
    )
    state = new_state(cfg, 0, Rng(1), 2)
    isl = build_island(IslandJob(cfg, parse_all(cfg.tasks.search), [], state))
    isl.init_population()
    assert state.individuals == 5 and state.counters.train_steps == 10000
    isl.sweep()
    isl.sweep()
    assert state.counters.train_steps == 30000
    result = run_experiment(
        override(cfg, {"stop.max_train_steps": 30000, "stop.max_experiments": 1, "run.random_seed": 1})
    )
    assert result.individuals == 15 and result.train_steps == 30000
    result = run_experiment(
        override(cfg, {"stop.max_train_steps": 30001, "stop.max_experiments": 1, "run.random_seed": 1})
    )
    assert result.individuals == 20  # stops only between sweeps, rounded up to a whole sweep


def test_tournament_draws_with_replacement_first_drawn_wins_ties():
    fits = [0.5, 0.9, 0.9, 0.1]
    rng = Rng(3)
    copy = rng.copy()
    draws = [copy.below(4) for _ in range(3)]
    expected = max(draws, key=lambda i: (fits[i], -draws.index(i)))
    assert tournament(fits, 3, rng) == expected
    wins = {tournament([0.7] * 4, 4, Rng(s)) for s in range(50)}
    assert wins == {0, 1, 2, 3}  # ties: whichever was drawn first


def test_same_seed_same_run_different_seed_different_run():
    a, b = run_experiment(small()), run_experiment(small())
    c = run_experiment(small(**{"run.random_seed": 6}))
    assert a.text == b.text and a.select_fitness == b.select_fitness and a.final_fitness == b.final_fitness
    assert a.train_steps == b.train_steps
    assert (c.text, c.train_steps) != (a.text, a.train_steps)


def test_batched_mode_with_batch_one_is_exact_mode():
    assert run_experiment(small(**{"evolution.batch": 1})).text == run_experiment(small()).text
    batched = run_experiment(small(**{"evolution.batch": 10}))
    assert batched.individuals == 200 and batched.text


def test_random_search_baseline_runs_and_reports_best_ever():
    r = run_experiment(small(**{"evolution.algorithm": "random"}))
    assert r.individuals == 200 and r.search_fitness is not None


def test_progress_callback_and_protocol_events():
    events = []
    r = run_experiment(small(**{"stop.max_experiments": 2}), progress=events.append)
    assert events[0]["event"] == "notice" and events[0]["what"] == "start"
    events = [e for e in events if e["event"] != "notice"]  # start / final evaluation: for displays
    kinds = [e["event"] for e in events]
    assert kinds[0] == "progress" and kinds.count("experiment") == 2 and kinds[-1] == "done"
    assert len(r.experiments) == 2 and r.select_fitness == max(e.select_fitness for e in r.experiments)
    first = events[0]
    assert first["individuals"] == 20 and 0 <= first["fec_hit_rate"] <= 1


def test_sufficient_fitness_stops_the_experiments():
    r = run_experiment(small(**{"stop.max_experiments": 0, "stop.sufficient_fitness": 0.0}))
    assert r.stopped_by == "sufficient_fitness" and len(r.experiments) == 1


def test_hurdle_percentile_definition():
    assert percentile_of_unique([0.1, 0.1, 0.2, 0.3, 0.4, 0.4], 75) == 0.3  # unique [.1,.2,.3,.4], floor(2.25)
    assert percentile_of_unique([], 75) == float("-inf")
    h = Hurdle(10, 0.3, 75, 5)
    assert h.k == 3 and h.passes(-1.0)  # -inf until the first update
    h.update([0.1, 0.2, 0.3, 0.4, 0.5])
    assert not h.passes(0.39) and h.passes(0.4) and h.pass_rate == 2 / 3


def test_hurdles_run_and_report_pass_rate():
    events = []
    r = run_experiment(
        small(**{"hurdles.enabled": True, "tasks.search": ("linear:F4:D4:N20:V20",)}), progress=events.append
    )
    rates = [e["hurdle_pass_rate"] for e in events if e["event"] == "progress" and e["hurdle_pass_rate"] is not None]
    assert rates and all(0 <= x <= 1 for x in rates) and r.individuals == 200


@pytest.mark.parametrize("workers", [2])
def test_islands_in_process_migrate_and_finish(workers):
    from azlang.search.executors import InProcessExecutor

    r = run_experiment(small(**{"run.workers": workers, "run.migrate_every": 40}), executor=InProcessExecutor())
    assert r.individuals >= 200 and r.text


def test_random_search_has_its_own_stream_but_one_seed_gives_one_run():
    """An evolution run and its random-search twin with one seed must not draw the same initial programs
    (docs/semantics.md, section 5.2): their first progress lines (the initial population) differ."""
    from azlang.search.seeds import RANDOM_SEARCH_STREAM, experiment_rng

    extra = {"evolution.initial_population": "random", "stop.max_individuals": 20, "tasks.randomize_seeds": False}
    lines = {}
    for algorithm in ("evolution", "random", "random"):
        events = []
        run_experiment(small(**extra, **{"evolution.algorithm": algorithm}), progress=events.append)
        first = next(e for e in events if e["event"] == "progress")
        lines.setdefault(algorithm, []).append((first["best"], first["mean"], first["stdev"]))
    assert lines["random"][0] == lines["random"][1]  # reproducible per seed
    assert lines["evolution"][0] != lines["random"][0]  # not the same initial population
    assert experiment_rng(5, "evolution").state == 5
    assert experiment_rng(5, "random").state not in (5, 5 ^ RANDOM_SEARCH_STREAM)
    assert experiment_rng(5, "random").state == experiment_rng(5, "random").state
