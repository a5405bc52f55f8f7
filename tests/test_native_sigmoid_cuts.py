"""The classification sigmoid's exact shortcuts (sigmoid_cuts.py): the validation threshold equals the bisection
on the generated code's exp and agrees with the sigmoid test; the dead-sigmoid scan (Python and native) agrees
with a direct reading of the program; and every native path stays bit-identical to the NumPy reference on
programs that read s1 in Learn, write it, read it in Predict first or never touch it, with NaN/inf logits,
odd labels and error limits below 1, without recording (where the training sigmoid is skipped)."""

import ctypes
import math
import random

import numpy as np
import pytest
from native_support import (  # noqa: F401  (autouse fixtures)
    cache_dir,
    diff_task,
    label_task,
    quiet,
    random_instruction,
    reference_batch,
    same_bits,
)

from azlang.backends import native
from azlang.backends.native import sigmoid_cuts as sc
from azlang.evaluate import EvalOptions
from azlang.ir.bytecode import to_bytecode
from azlang.ir.nodes import Instruction, MemoryShape, Program
from azlang.rng import Rng
from azlang.tasks.task import ACCURACY, Task

pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
SHAPE = MemoryShape(3, 3, 1)  # s0, s1, s2: random scalar instructions touch s1 often
F = 4
KINDS = ("learn reads s1 first", "dead", "predict reads s1 first", "predict never writes s1")
SEEN = dict.fromkeys(KINDS, 0)


def _engine_exp():
    from azlang.backends.native import engine

    addr = engine._libm_addresses()["exp"]
    return ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(addr)


# --- the validation threshold ----------------------------------------------------------------------------

def test_threshold_is_the_bisection_edge_and_matches_the_sigmoid_test():
    from azlang.backends.native import engine

    t = engine.sigmoid_threshold()
    if t is None:
        pytest.skip("this C library's exp gave no verifiable threshold: validation keeps calling exp")
    exp = _engine_exp()
    sig = sc.sigmoid_with(exp)
    assert t == sc.bisect_threshold(exp)
    assert 0.0 < t < 1e-15  # exp(-p) rounds to 1 - 2^-53 for tiny p > 0, and 1 + that rounds to 2: q = 0.5
    assert sig(t) > 0.5 and not sig(math.nextafter(t, -math.inf)) > 0.5
    k, g = sc._ordered(t), random.Random(7)
    dense = [sc._double(k + d) for d in range(-60000, 60001)] + [sc._double(d) for d in range(-20000, 20001)]
    wide = [g.uniform(-800.0, 800.0) for _ in range(20000)] + [g.gauss(0.0, 1e-14) for _ in range(20000)]
    for p in dense + wide + [math.inf, -math.inf, math.nan, 0.0, -0.0]:
        q = sig(p)
        assert (q > 0.5) == (p >= t) and not (q > 1.0 or q < 0.0), p


def test_verification_rejects_a_wrong_edge_and_a_non_monotone_exp():
    exp = _engine_exp()
    t = sc.bisect_threshold(exp)
    assert sc.verify(exp, t)
    assert not sc.verify(exp, math.nextafter(t, math.inf))
    assert not sc.verify(exp, math.nextafter(t, -math.inf))
    assert not sc.verify(exp, 0.0)

    def bumpy(x):  # sigmoid(p) < 0.5 for p in (2, 3): no single threshold describes it
        return 2.0 if -3.0 < x < -2.0 else exp(x)

    assert not sc.verify(bumpy, sc.bisect_threshold(bumpy))


# --- which programs have a dead training sigmoid ---------------------------------------------------------

def ins(op, out=0, in1=0, in2=0, args=()):
    return Instruction(op, out, in1, in2, args)


DOT = ins(27, 1, 0, 1)  # s1 = dot(v0, v1): the logit from the features
FILL = [ins(63, 1, 0, 0, (0.0, 1.0)), ins(56, 2, 0, 0, (0.25,))]  # v1 ~ N(0, 1), s2 = 0.25
SGD = [ins(2, 2, 0, 1), ins(18, 2, 2, 0), ins(23, 1, 1, 2)]  # s2 = s0 - s1; v2 = s2 * v0; v1 += v2


def kind(program: Program) -> str:
    bc = to_bytecode(program)
    ns, np_, _ = bc.sizes
    p_read, p_writes = sc.s1_flow(bc.code[ns:ns + np_])
    l_read, l_writes = sc.s1_flow(bc.code[ns + np_:])
    if l_read:
        return KINDS[0]
    if l_writes or (p_writes and not p_read):
        return KINDS[1]
    return KINDS[2] if p_writes else KINDS[3]


HAND = {
    "learn reads s1 first": Program.of(FILL, [DOT], SGD),
    "learn reads s1 in place": Program.of(FILL, [DOT], [ins(1, 1, 1, 2)]),
    "learn writes s1 before reading it": Program.of(FILL, [ins(1, 2, 2, 2)], [ins(3, 1, 0, 2), ins(2, 2, 0, 1)]),
    "predict writes s1 first": Program.of(FILL, [DOT, ins(3, 1, 1, 2)], [ins(18, 2, 2, 0), ins(23, 1, 1, 2)]),
    "predict reads s1 first": Program.of(FILL, [ins(1, 1, 1, 2)], [ins(18, 2, 2, 0)]),
    "never touched": Program.of(FILL, [ins(27, 2, 0, 1)], [ins(18, 2, 2, 0), ins(23, 1, 1, 2)]),
    "NaN logits": Program.of(FILL, [ins(14, 1, 0), ins(27, 2, 0, 1), ins(4, 1, 2, 1)], [ins(1, 2, 2, 2)]),
    "inf logits": Program.of(FILL, [DOT, ins(4, 1, 1, 0)], [ins(19, 1, 2), ins(23, 1, 1, 2)]),
    "tiny logits": Program.of([ins(56, 2, 0, 0, (1e-16,))], [ins(1, 1, 2, 0)], []),  # 0 < p < t: class 0
    "huge logits": Program.of(FILL, [DOT, ins(13, 2, 2), ins(3, 1, 1, 2), ins(13, 1, 1)], [ins(1, 2, 2, 2)]),
}
EXPECTED = {"learn reads s1 first": KINDS[0], "learn reads s1 in place": KINDS[0],
            "learn writes s1 before reading it": KINDS[1], "predict writes s1 first": KINDS[1],
            "predict reads s1 first": KINDS[2], "never touched": KINDS[3]}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hand_programs_are_classified(name):
    bc = to_bytecode(HAND[name])
    assert kind(HAND[name]) == EXPECTED[name]
    assert sc.sigmoid_dead(bc.code, bc.sizes) == (EXPECTED[name] == "dead")


def random_programs(g: np.random.Generator, n: int) -> list[Program]:
    """Programs over s0..s2 (scalar ops mostly, so s1 is read and written often), predict/learn without draws."""
    plain = [o for o in range(1, 59) if o not in (56, 57, 58)] + [56, 57, 58] * 3
    scalar = [1, 2, 3, 4, 5, 6, 13, 14, 15, 27, 44, 47, 50, 21]
    out = []
    for k in range(n):
        ops = scalar if k % 3 else plain
        sizes = g.integers(0, 5, 3)
        comps = [[random_instruction(g, SHAPE, F, ops) for _ in range(s)] for s in sizes]
        out.append(Program.of(FILL + comps[0], comps[1], comps[2]))
    return out


def _dead_fn():
    """The native scan sigmoid_dead_ir compiled on its own: i64 f(code, ns, np, nl)."""
    from llvmlite import ir

    from azlang.backends.native import engine
    from azlang.backends.native.irutil import I64, PTR

    def build():
        m = ir.Module(name="test_sigmoid_dead")
        fn = ir.Function(m, ir.FunctionType(I64, [PTR, I64, I64, I64]), "azlang_test_sigmoid_dead")
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        b.ret(b.zext(sc.sigmoid_dead_ir(b, *fn.args), I64))
        return m

    addr = engine.load("test/sigmoid_dead", build, ["azlang_test_sigmoid_dead"])["azlang_test_sigmoid_dead"]
    return ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)(addr)


def test_native_scan_agrees_with_the_python_scan():
    fn, g, counts = _dead_fn(), np.random.default_rng(3), {True: 0, False: 0}
    for p in random_programs(g, 600) + list(HAND.values()):
        bc = to_bytecode(p)
        code = np.ascontiguousarray(bc.code, dtype=np.int32)
        dead = sc.sigmoid_dead(bc.code, bc.sizes)
        assert bool(fn(code.ctypes.data, *bc.sizes)) == dead, p
        counts[dead] += 1
    assert min(counts.values()) >= 100, counts


# --- bit-identity with the reference, nothing recorded ---------------------------------------------------

def odd_label_task(seed: int, n_train: int, n_valid: int, epochs: int = 1) -> Task:
    """Labels that are not 0/1 (2.5, -0.75, NaN) on some rows: the error check's bound then needs the sigmoid."""
    t = label_task(F, n_train, n_valid, seed, epochs)
    g = np.random.default_rng(seed + 99)
    ty, vy = t.train_y.copy(), t.valid_y.copy()
    for y in (ty, vy):
        pick = g.random(len(y))
        y[pick < 0.08] = 2.5
        y[(pick >= 0.08) & (pick < 0.14)] = -0.75
        y[(pick >= 0.14) & (pick < 0.16)] = np.nan
    return Task(f"odd{seed}", t.train_x, ty, t.valid_x, vy, ACCURACY, epochs, data_seed=seed)


def tasks(epochs: int = 1) -> list[Task]:
    return [label_task(F, 14, 6, 1, epochs), label_task(F, 14, 6, 2, epochs), odd_label_task(3, 14, 6, epochs),
            label_task(F, 14, 6, 4, epochs), label_task(F, 14, 6, 5, epochs, classify=False)]


PROGRAMS = list(HAND.values()) + random_programs(np.random.default_rng(11), 160)
OPTS = [EvalOptions(), EvalOptions(max_abs_error=0.6), EvalOptions(max_abs_error=1.0),
        EvalOptions(max_abs_error=0.3, max_train=9, max_valid=4), EvalOptions(max_abs_error=1e300, max_valid=0)]


def check(results, ref, what: str, programs=PROGRAMS) -> None:
    for p, (got, r) in enumerate(zip(results, ref)):
        assert got[1] == [t.train_steps for t in r.tasks], f"{what}: program {p} steps\n{programs[p]}"
        assert same_bits(got[0], [t.fitness for t in r.tasks]), f"{what}: program {p} fitness\n{programs[p]}"


@pytest.mark.parametrize("o", range(len(OPTS)))
@pytest.mark.parametrize("path", ["kernel", "groups", "lanes"])
def test_paths_match_reference_without_recording(path, o):
    from azlang.backends.native.lockstep import evaluate_lockstep

    opts, ts = OPTS[o], tasks(epochs=2 if o % 2 else 1)
    ref, state = reference_batch(PROGRAMS, ts, SHAPE, 17, opts)
    ev, rng = native.NativeEvaluator(ts, SHAPE), Rng(17)
    if path == "kernel":
        res = ev.evaluate_batch(PROGRAMS, rng, opts, lockstep=False)
        got = list(zip(res.fitness.tolist(), res.train_steps.tolist()))
    else:
        got = []
        for p in PROGRAMS:
            res = evaluate_lockstep(ev, p, rng, opts, soa=path == "groups")
            got.append((res.fitness[0].tolist(), res.train_steps[0].tolist()))
    check(got, ref, path)
    assert rng.state == state
    for p in PROGRAMS:
        SEEN[kind(p)] += 1


def test_logits_at_the_threshold_match_reference():
    """Validation logits t and the double below it (class 1 and class 0), in every native path."""
    from azlang.backends.native import engine
    from azlang.backends.native.lockstep import evaluate_lockstep

    t = engine.sigmoid_threshold() or sc.bisect_threshold(_engine_exp())
    progs = [Program.of([ins(56, 2, 0, 0, (v,))], [ins(1, 1, 2, 0)], [ins(5, 1, 1)])
             for v in (t, math.nextafter(t, -math.inf), 0.0, -0.0, 5e-324)]
    ts = tasks()
    ref, _ = reference_batch(progs, ts, SHAPE, 1, EvalOptions())
    assert len({r.fitness for r in ref}) > 1  # the two sides of the edge score differently
    ev = native.NativeEvaluator(ts, SHAPE)
    res = ev.evaluate_batch(progs, Rng(1), EvalOptions(), lockstep=False)
    check(list(zip(res.fitness.tolist(), res.train_steps.tolist())), ref, "kernel", progs)
    for soa in (True, False):
        got = [evaluate_lockstep(ev, p, Rng(1), soa=soa) for p in progs]
        check([(r.fitness[0].tolist(), r.train_steps[0].tolist()) for r in got], ref, f"soa={soa}", progs)


def test_fixed_point_is_the_iteration_limit():
    from azlang.backends.native import engine

    x = engine.sigmoid_fixed_point()
    if x is None:
        pytest.skip("this C library's sigmoid iteration did not settle: every training step calls exp")
    sig, y = sc.sigmoid_with(_engine_exp()), 0.0
    for _ in range(200):
        y = sig(y)
    assert x == y == sig(x) and abs(x - 0.659) < 1e-3
    assert sig(math.nextafter(x, 1.0)) != math.nextafter(x, 1.0)


@pytest.mark.parametrize("record", [False, True])
@pytest.mark.parametrize("limit", [100.0, 0.3, 0.4])
def test_logits_at_the_fixed_point_match_reference(record, limit):
    """Lanes whose logit is the sigmoid's fixed point skip exp and keep s1, recorded or not; their error check
    still runs (|1 - 0.659| > 0.3 stops a lane, 0.4 lets it train on); neighbours of the point take exp."""
    from azlang.backends.native import engine
    from azlang.backends.native.lockstep import evaluate_lockstep

    x = engine.sigmoid_fixed_point() or 0.6590460684074066
    near = [x, math.nextafter(x, 1.0), math.nextafter(x, 0.0), 0.0]
    progs = [Program.of([ins(56, 1, 0, 0, (v,))], [], []) for v in near]  # s1 <- sigmoid(s1) and nothing else
    progs += [Program.of([ins(56, 2, 0, 0, (v,))], [ins(1, 1, 2, 0)], [ins(18, 1, 1, 0)]) for v in near]
    progs += [Program.of([ins(56, 1, 0, 0, (v,))], [ins(27, 2, 0, 1)], SGD) for v in near]
    ts, opts = tasks(epochs=3), EvalOptions(max_abs_error=limit, record=record)
    ref, _ = reference_batch(progs, ts, SHAPE, 1, opts)
    ev = native.NativeEvaluator(ts, SHAPE)
    res = ev.evaluate_batch(progs, Rng(1), opts, lockstep=False)
    check(list(zip(res.fitness.tolist(), res.train_steps.tolist())), ref, "kernel", progs)
    for p, r in enumerate(ref):
        for a, b_ in zip(r.tasks, res.tasks[p] if record else []):
            assert diff_task(a, b_) is None, (p, diff_task(a, b_))
    for soa in (True, False):
        got = [evaluate_lockstep(ev, p, Rng(1), opts, soa=soa) for p in progs]
        check([(r.fitness[0].tolist(), r.train_steps[0].tolist()) for r in got], ref, f"soa={soa}", progs)
        for p, (r, g_) in enumerate(zip(ref, got)):
            for a, b_ in zip(r.tasks, g_.tasks[0] if record else []):
                assert diff_task(a, b_) is None, (soa, p, diff_task(a, b_))
    for p, r in zip(progs[:2], ref):
        jit = ev.evaluate(p, Rng(1), opts, tier="jit")
        assert same_bits([t.fitness for t in jit.tasks], [t.fitness for t in r.tasks])
        assert [t.train_steps for t in jit.tasks] == [t.train_steps for t in r.tasks]


def test_jit_matches_reference_without_recording():
    ts, opts = tasks(epochs=2), EvalOptions(max_abs_error=0.6)
    progs = [HAND[k] for k in ("learn reads s1 first", "learn writes s1 before reading it",
                               "predict writes s1 first", "predict reads s1 first", "never touched", "NaN logits",
                               "inf logits")]
    ref, _ = reference_batch(progs, ts, SHAPE, 5, opts)
    ev, rng = native.NativeEvaluator(ts, SHAPE), Rng(5)
    for p, r in zip(progs, ref):
        res = ev.evaluate(p, rng, opts, tier="jit")
        assert [t.train_steps for t in res.tasks] == [t.train_steps for t in r.tasks], p
        assert same_bits([t.fitness for t in res.tasks], [t.fitness for t in r.tasks]), p


def test_every_kind_was_compared():
    """Runs last in this file: the comparisons above covered every kind of program many times."""
    assert all(SEEN[k] >= 40 for k in KINDS), SEEN
