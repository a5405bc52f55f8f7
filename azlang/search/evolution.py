"""Search stage: regularized evolution and random search (docs/semantics.md, section 8), one island at a time.

Exact mode (batch = 1) is the reference's loop: for slot i = 0..P-1, a tournament of T draws with
replacement over the whole current population (first drawn wins ties; slots < i already hold this sweep's
children), one Mutate, one evaluation, then the child overwrites slot i, the oldest member.

Batched mode (batch = B > 1) picks the parents of B consecutive slots from the population as it stands
before those B children are inserted, mutates all B, evaluates them in one backend call per stage and
inserts them in slot order. It differs from exact mode only in that a child cannot parent a sibling of
its own batch, and in the order of random draws; with B = 1 it is exact mode.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import numpy as np

from azlang.ir.bytecode import Bytecode
from azlang.rng import GAMMA, MASK64, MIX1, MIX2, Rng
from azlang.search.engine import Counters, SearchEvaluator
from azlang.search.fec import FecCache
from azlang.search.generate import Generator
from azlang.search.hurdles import Hurdle
from azlang.search.interrupt import poll
from azlang.search.mutate import Mutator
from azlang.search.watch import Watch


@dataclass
class IslandState:
    """Everything an island's future depends on: the checkpoint of one population (picklable, no code)."""

    island: int
    rng: Rng
    programs: list[Bytecode] = field(default_factory=list)
    fitnesses: list[float] = field(default_factory=list)
    cursor: int = 0  # the slot the next child goes to
    individuals: int = 0
    counters: Counters = field(default_factory=Counters)
    cache: FecCache | None = None
    hurdle: Hurdle | None = None
    best: tuple[float, Bytecode] | None = None  # best ever evaluated (random search's answer)
    watch: Watch | None = None  # acceptance threshold counts and hall of fame (search/watch.py)


def tournament(fitnesses: list[float], size: int, rng: Rng) -> int:
    """Index of the fittest of `size` uniform draws with replacement; the first drawn wins ties.

    The draws are Rng.below(n) inlined (SplitMix64 + multiply-shift): this runs once per child."""
    n, state = len(fitnesses), rng.state
    best, best_fit = -1, 0.0
    for _ in range(size):
        state = (state + GAMMA) & MASK64
        z = ((state ^ (state >> 30)) * MIX1) & MASK64
        z = ((z ^ (z >> 27)) * MIX2) & MASK64
        i = ((z ^ (z >> 31)) * n) >> 64
        if best < 0 or fitnesses[i] > best_fit:
            best, best_fit = i, fitnesses[i]
    rng.state = state
    return best


class Island:
    """One evolving population plus the machinery that advances it (generator, mutator, evaluator)."""

    def __init__(
        self,
        state: IslandState,
        population: int,
        tournament_size: int,
        algorithm: str,
        batch: int,
        generator: Generator,
        mutator: Mutator,
        evaluator: SearchEvaluator,
        initial: str,
        seeds: list[Bytecode],
    ):
        self.state, self.P, self.T, self.algorithm, self.batch = state, population, tournament_size, algorithm, batch
        self.gen, self.mutator, self.evaluator = generator, mutator, evaluator
        self.initial, self.seeds = initial, seeds

    # --- Init --------------------------------------------------------------------------------------------

    def initial_model(self, i: int) -> Bytecode:
        if self.initial == "seeds":
            return self.seeds[i % len(self.seeds)]
        return self.gen.model(self.initial, self.state.rng)

    def init_population(self) -> None:
        """P initial models, each passed through a zero-mutation Mutate (one draw) and evaluated, in order."""
        st = self.state
        while len(st.programs) < self.P:
            poll()  # between two individuals the state is whole: a stop request is honoured here
            model = self.mutator.mutate(self.initial_model(len(st.programs)), st.rng, zero=True)
            fit = self.evaluator.evaluate(model, st.rng)
            st.programs.append(model)
            st.fitnesses.append(fit)
            self._count(model, fit)
        if st.hurdle is not None:
            st.hurdle.update(st.fitnesses)

    def _count(self, bc: Bytecode, fit: float) -> None:
        st = self.state
        st.individuals += 1
        if st.best is None or fit > st.best[0]:
            st.best = (fit, bc)
        if st.watch is not None:
            st.watch.see(bc, fit)
        if st.hurdle is not None and st.individuals > self.P:
            st.hurdle.tick(lambda: st.fitnesses)

    # --- Run ---------------------------------------------------------------------------------------------

    def advance(self) -> None:
        """One step of an island's run between reports: fill the initial population, then sweep."""
        if len(self.state.programs) < self.P:
            self.init_population()
        else:
            self.sweep()

    def advance_until(self, individuals: int | None, stop_steps: int | None,
                      lines: tuple[int, int] | None = None) -> None:
        """advance() up to a horizon (Coordinator.horizon) that a native island may sweep to in one go; the Python
        loop reports after every sweep."""
        self.advance()

    def take_lines(self) -> list:
        """Progress lines taken since the last report (a native island's, see NativeIsland.advance_until)."""
        return []

    def sweep(self) -> None:
        """Refresh every slot once, starting at the cursor (a whole sweep when the cursor is 0)."""
        if self.batch > 1 or self.algorithm == "random":
            self._sweep_batched()
        else:
            self._sweep_exact()

    def _sweep_exact(self) -> None:
        st, rng, fits = self.state, self.state.rng, self.state.fitnesses
        mutate, evaluate, T = self.mutator.mutate, self.evaluator.evaluate, self.T
        while st.cursor < self.P:
            poll()
            parent = st.programs[tournament(fits, T, rng)]
            child = mutate(parent, rng)
            fit = evaluate(child, rng)
            st.programs[st.cursor], fits[st.cursor] = child, fit
            st.cursor += 1
            self._count(child, fit)
        st.cursor = 0

    def _children(self, n: int) -> list[Bytecode]:
        st = self.state
        if self.algorithm == "random":
            return [self.gen.random(st.rng) for _ in range(n)]
        parents = [st.programs[tournament(st.fitnesses, self.T, st.rng)] for _ in range(n)]
        return [self.mutator.mutate(p, st.rng) for p in parents]

    def _sweep_batched(self) -> None:
        st = self.state
        while st.cursor < self.P:
            poll()
            n = min(self.batch, self.P - st.cursor)
            children = self._children(n)
            for child, fit in zip(children, self.evaluator.evaluate_batch(children, st.rng)):
                st.programs[st.cursor], st.fitnesses[st.cursor] = child, fit
                st.cursor += 1
                self._count(child, fit)
        st.cursor = 0

    def observe_slots(self, start: int, n: int) -> None:
        """Show the watch the children a native chunk wrote into slots start..start+n-1, in order."""
        st = self.state
        if st.watch is not None and n > 0:
            st.watch.see_many(_Slots(st.programs, start), st.fitnesses[start:start + n])

    # --- results and migration ---------------------------------------------------------------------------

    def candidate(self) -> tuple[float, Bytecode]:
        """The fittest member of the population (first index wins ties); random search: the best ever."""
        st = self.state
        if self.algorithm == "random" and st.best is not None:
            return st.best
        i = max(range(len(st.fitnesses)), key=lambda k: (st.fitnesses[k], -k))
        return st.fitnesses[i], st.programs[i]

    def emigrants(self, fraction: float) -> list[tuple[float, Bytecode]]:
        """A random half (by default) of the population, without replacement."""
        st = self.state
        k = int(len(st.programs) * fraction)
        order = st.rng.permutation(len(st.programs))[:k].tolist()
        return [(st.fitnesses[i], st.programs[i]) for i in order]

    def immigrate(self, arrivals: list[tuple[float, Bytecode]]) -> None:
        """Arrivals replace the oldest members, exactly as new children would."""
        st = self.state
        for fit, bc in arrivals[: self.P]:
            st.programs[st.cursor], st.fitnesses[st.cursor] = bc, fit
            st.cursor = (st.cursor + 1) % self.P


class _Slots:
    """Lazy view of population slots from `start` on (a native population builds bytecode on access)."""

    def __init__(self, programs, start: int):
        self.programs, self.start = programs, start

    def __getitem__(self, j: int) -> Bytecode:
        return self.programs[self.start + j]


def population_stats(fitnesses) -> tuple[float, float, float]:
    """(mean, stdev, best) like the reference's progress line: stdev = sqrt(max(0, E[f^2] - E[f]^2)).
    A list of floats, or an array of them (a native population's snapshot): the same floats, added alike."""
    if hasattr(fitnesses, "cumsum"):  # an array
        return _array_stats(fitnesses)
    squares = map(operator.mul, fitnesses, fitnesses)
    n = len(fitnesses)
    if n == 0:
        return 0.0, 0.0, 0.0
    mean = sum(fitnesses) / n
    sq = sum(squares) / n  # the same products added in the same order
    return _plain_nans((mean, math.sqrt(max(0.0, sq - mean * mean)), max(fitnesses)))


def _plain_nans(stats: tuple[float, float, float]) -> tuple[float, float, float]:
    """NaNs as math.nan: which NaN an addition of two passes on is the compiler's choice (and nothing shows it)."""
    return tuple(math.nan if math.isnan(x) else x for x in stats)


def _array_stats(f) -> tuple[float, float, float]:
    """population_stats of a float64 array without a float object per member (a progress line's cost). Python's
    sum is 0.0 + f[0] + f[1] + ..., left to right: a cumulative sum's last term is that without the leading
    0.0, which changes nothing once a term is not a zero, and a final + 0.0 gives an all-zero sum Python's
    +0.0. Python's max keeps the first member no later one exceeds: NumPy's max is that value unless a NaN
    (where the first member decides) or a zero (signed: the first of the zeros) is the answer; those go the
    list way."""
    n = len(f)
    if n == 0:
        return 0.0, 0.0, 0.0
    f = f.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):  # inf - inf and overflowing squares: the floats Python's sum makes, silently
        total, squares = float(f.cumsum()[-1]), float((f * f).cumsum()[-1])
    best = float(f.max())
    if math.isnan(best) or best == 0.0:  # a NaN somewhere, or a zero maximum
        best = max(f.tolist())
    return stats_of_sums(total, squares, best, n)


def stats_of_sums(total: float, squares: float, best: float, n: int) -> tuple[float, float, float]:
    """(mean, stdev, best) from the sum and the sum of squares of n > 0 fitnesses added left to right without
    the leading 0.0 (a cumulative sum's last term; the native loop's progress lines add them alike)."""
    mean = (total + 0.0) / n
    sq = (squares + 0.0) / n
    return _plain_nans((mean, math.sqrt(max(0.0, sq - mean * mean)), best))
