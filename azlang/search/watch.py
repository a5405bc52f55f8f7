"""Search stage: what the paper counts as the search runs: programs passing an acceptance threshold (how
many, and the first one found) and a hall of fame of the top-k distinct programs, per island and experiment.

Every evaluated child is shown to `Watch.see` (the Python loop per child; the native loop per chunk, from
the population slots the chunk wrote, which hold exactly its children in order). Distinct means a different
sha256 of the canonical text after dce and canon. Canonical hashing costs milliseconds, far more than a native
child, so during the search the hall is a buffer of the 2k fittest programs with different fitnesses, keyed
by their raw bytecode (a child whose fitness equals a buffered one's exactly is taken to be that program: the
same program always scores the same unless it draws random numbers; on accuracy tasks a distinct program with
the very same accuracy is not listed, the first found is kept), and `merge` hashes the buffers canonically at
the end of the experiment and keeps the top k distinct ones.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from azlang.ir.bytecode import Bytecode, from_bytecode


@dataclass
class Watch:
    """Plain data (checkpointed with the island): the threshold, its counters and the hall of fame."""

    threshold: float = math.inf  # a fitness; inf = not counting
    k: int = 0  # hall of fame size; 0 = off (the buffer holds up to 2k programs)
    reference_done: bool = False  # the threshold was computed from acceptance.reference
    seen: int = 0
    passed: int = 0
    first: tuple[int, float, Bytecode] | None = None  # (individual number on this island, fitness, program)
    hall: dict[bytes, tuple[float, int, Bytecode]] = field(default_factory=dict)  # raw key -> (fitness, individual, bc)

    def see(self, bc: Bytecode, fit: float) -> None:
        self.seen += 1
        if fit >= self.threshold:
            self.passed += 1
            if self.first is None:
                self.first = (self.seen, fit, bc)
        if self.k and self._may_enter(fit):
            self._enter(bc, fit)

    def see_many(self, programs, fitnesses: list[float]) -> None:
        """A chunk of children in evaluation order, with exactly the effect of `see` on each in turn.
        `programs` is indexed lazily: only the first passing child and hall entrants are read. The hall's
        minimum only rises within a chunk, so children at or below its value at the start are skipped."""
        base, f = self.seen, np.asarray(fitnesses, dtype=np.float64)
        hits = np.flatnonzero(f >= self.threshold)
        self.passed += len(hits)
        if self.first is None and len(hits):
            j = int(hits[0])
            self.first = (base + j + 1, float(f[j]), programs[j])
        if self.k:
            full = len(self.hall) >= 2 * self.k
            cutoff = min(v[0] for v in self.hall.values()) if full else -math.inf
            for j in np.flatnonzero(f > cutoff).tolist():
                self.seen = base + j + 1
                if self._may_enter(float(f[j])):
                    self._enter(programs[j], float(f[j]))
        self.seen = base + len(f)

    def _may_enter(self, fit: float) -> bool:
        if fit != fit:
            return False
        if any(fit == f for f, _, _ in self.hall.values()):
            return False
        return len(self.hall) < 2 * self.k or fit > min(f for f, _, _ in self.hall.values())

    def _enter(self, bc: Bytecode, fit: float) -> None:
        key = raw_key(bc)
        old = self.hall.get(key)
        if old is not None and old[0] >= fit:
            return
        self.hall[key] = (fit, self.seen, bc)
        if len(self.hall) > 2 * self.k:
            worst = min(self.hall, key=lambda h: (self.hall[h][0], -self.hall[h][1]))
            del self.hall[worst]


def raw_key(bc: Bytecode) -> bytes:
    """A cheap identity of the exact bytecode (sizes, rows, constants)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(tuple(bc.sizes)).encode())
    h.update(np.ascontiguousarray(bc.code).tobytes())
    h.update(np.ascontiguousarray(bc.data).tobytes())
    return h.digest()


def program_hash(bc: Bytecode, multiclass: bool = False) -> str:
    """sha256 of the canonical text after dead-code elimination (random draws kept: fitness-exact;
    `multiclass`: the prediction is the logit vector v1, see passes/dce.py)."""
    from azlang.passes.canon import canonical_hash
    from azlang.passes.dce import eliminate

    return canonical_hash(eliminate(from_bytecode(bc), multiclass=multiclass))


def merge(watches: list[Watch | None], k: int, multiclass: bool = False) -> dict:
    """One experiment's counts over its islands, as plain JSON-ready data (programs as dce'd text; `multiclass`
    for 10-class search tasks, whose programs predict v1: plain dce would drop their whole network)."""
    ws = [(i, w) for i, w in enumerate(watches) if w is not None]
    if not ws:
        return {}
    firsts = [(w.first[0], i, w.first[1], w.first[2]) for i, w in ws if w.first is not None]
    first = min(firsts, key=lambda f: (f[0], f[1])) if firsts else None
    thresholds = sorted({w.threshold for _, w in ws})
    hall: dict[str, tuple[float, int, int, Bytecode]] = {}
    entries = [(fit, i, n, bc) for i, w in ws for fit, n, bc in w.hall.values()]
    for fit, i, n, bc in sorted(entries, key=lambda e: (-e[0], e[2], e[1])):  # best first, then first found
        hall.setdefault(program_hash(bc, multiclass), (fit, i, n, bc))
    top = sorted(hall.items(), key=lambda kv: (-kv[1][0], kv[1][2], kv[1][1]))[:k]
    return {
        "threshold": thresholds[0] if len(thresholds) == 1 else thresholds,
        "evaluated": sum(w.seen for _, w in ws),
        "passed": sum(w.passed for _, w in ws),
        "first_pass": None if first is None else {
            "individual": first[0], "island": first[1], "fitness": first[2], "text": _dce_text(first[3], multiclass)},
        "hall_of_fame": [{"fitness": fit, "island": i, "individual": n, "hash": h[:16], "text": _dce_text(bc, multiclass)}
                         for h, (fit, i, n, bc) in top],
    }


def _dce_text(bc: Bytecode, multiclass: bool = False) -> str:
    from azlang.passes.dce import eliminate
    from azlang.syntax import print_program

    return print_program(eliminate(from_bytecode(bc), multiclass=multiclass))


def task_metrics(tasks, results) -> list[dict]:
    """The raw metric per task (RMS or accuracy) beside the fitness: what the summaries report."""
    from azlang.fitness import raw_metric

    out = []
    for t, r in zip(tasks, results):
        metric, value = raw_metric(r.fitness, t.eval_type)
        out.append({"task": t.name, "fitness": r.fitness, metric: value})
    return out
