"""The lane groups' one-pass program scan (lane_scan.py) and their memory zeroing (lanes_simd.zero_groups).

The scan must give what each scan it replaces gives, on any bytecode; the lockstep results must not depend on
what the memory held before the call (a program that touches no matrix leaves that bank unzeroed)."""

import ctypes

import numpy as np
import pytest
from native_support import cache_dir, label_task, quiet, random_program, reference_batch, same_bits  # noqa: F401

from azlang.backends import native
from azlang.evaluate import EvalOptions
from azlang.ir.nodes import MemoryShape
from azlang.ir.ops import MATRIX, OPS, SCALAR, VECTOR
from azlang.rng import Rng
from azlang.tasks import synthetic

pytestmark = pytest.mark.skipif(not native.available(), reason="llvmlite cannot JIT here")
FACTS = ("setup_random", "reads_v0", "predict_writes_v0", "sigmoid_dead", "uses_matrix", "predict_reads_s0")
OLD = 4  # the first four facts each had a scan of their own before


def _scan_module():
    from llvmlite import ir

    from azlang.backends.native.irutil import I32, I64, PTR
    from azlang.backends.native.lane_groups import reads_v0
    from azlang.backends.native.lane_scan import scan_program
    from azlang.backends.native.search_emit import Fn
    from azlang.backends.native.sigmoid_cuts import sigmoid_dead_ir
    from azlang.backends.native.skeleton import has_random, writes_v0

    m = ir.Module(name="test_lane_scan")
    f = Fn(m, "scan_both", ir.VoidType(), [I64, I64, I64, I64], export=True)  # ctx: the code
    ns, np_, nl, out = f.args
    b, code = f.b, f.ctx
    out = b.inttoptr(out, PTR)
    facts = scan_program(f, code, ns, np_, nl)
    pcode = f.gep(code, f.mul(ns, 4), I32)
    old = (has_random(b, code, ns), reads_v0(f, pcode, f.add(np_, nl)), writes_v0(b, pcode, np_),
           sigmoid_dead_ir(b, code, ns, np_, nl))
    for k, v in enumerate([getattr(facts, name) for name in FACTS] + list(old)):
        f.st(out, k, b.zext(v, I64))
    f.finish()
    return m


def _truth(code: np.ndarray, ns: int, np_: int) -> list[bool]:
    from azlang.backends.native.sigmoid_cuts import sigmoid_dead

    ops = [OPS[int(r[0])] for r in code]
    kinds = [list(o.ins) + [None] * (2 - len(o.ins)) for o in ops]
    rows = list(zip(ops, kinds, code))
    return [any(o.is_random for o, _, _ in rows[:ns]),
            any((k[0] == VECTOR and r[1] == 0) or (k[1] == VECTOR and r[2] == 0) for _, k, r in rows[ns:]),
            any(o.out == VECTOR and r[3] == 0 for o, _, r in rows[ns:ns + np_]),
            sigmoid_dead(code, (ns, np_, len(code) - ns - np_)),
            any(MATRIX in (o.out, *o.ins) for o in ops),
            any((k[0] == SCALAR and r[1] == 0) or (k[1] == SCALAR and r[2] == 0) for _, k, r in rows[ns:ns + np_])]


def test_one_pass_scan_matches_each_scan_on_random_bytecode():
    from azlang.backends.native import engine

    fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)(
        engine.load("test/lane_scan", _scan_module, ["scan_both"])["scan_both"])
    g = np.random.default_rng(7)
    seen = np.zeros(len(FACTS), dtype=int)
    for _ in range(3000):
        ns, np_, nl = (int(x) for x in g.integers(0, 6, size=3))
        code = np.zeros((max(1, ns + np_ + nl), 4), dtype=np.int32)
        code[:, 0] = g.integers(1, len(OPS), size=len(code))
        code[:, 1:] = g.integers(0, 3, size=(len(code), 3))  # register 0 (v0) and 1 (s1) often
        code = code[:ns + np_ + nl] if ns + np_ + nl else code[:0]
        out = np.zeros(len(FACTS) + OLD, dtype=np.int64)
        fn(code.ctypes.data if len(code) else 0, ns, np_, nl, out.ctypes.data)
        truth = _truth(code, ns, np_)
        assert out[:len(FACTS)].astype(bool).tolist() == truth, (code.tolist(), ns, np_, nl)
        assert out[len(FACTS):].astype(bool).tolist() == truth[:OLD]  # the scans it replaces agree
        seen += truth
    assert seen.min() > 100 and seen.max() < 2900  # every answer is often true and often false


@pytest.mark.parametrize("shape,F", [(MemoryShape(4, 3, 1), 4), (MemoryShape(5, 5, 2), 3)])
@pytest.mark.parametrize("probe", [False, True])
def test_results_do_not_depend_on_what_the_memory_held(shape, F, probe, monkeypatch):
    """Every work buffer of the call (memory, scratch, records) filled with NaN, 1e308 and other garbage
    first: the groups read only what they zero or write, with and without matrices in the program, recorded
    (final memory and errors returned) or not."""
    from test_native_lanes import PLAIN_OPS, lockstep_programs

    from azlang.backends.native import pack
    from azlang.backends.native.lockstep import evaluate_lockstep

    tasks = [synthetic.linear(F, 9, 5, k, k + 1) if k % 2 else label_task(F, 9, 5, seed=k) for k in range(6)]
    g = np.random.default_rng(F)
    no_matrix = [o.id for o in OPS if o.id in PLAIN_OPS and MATRIX not in (o.out, *o.ins)]
    programs = lockstep_programs(g, shape, F, 12) + [random_program(g, shape, sizes=(5, 4, 5), F_min=F, ops=no_matrix,
                                                                    seed_fills=0) for _ in range(12)]
    ev = native.NativeEvaluator(tasks, shape)
    clean = pack.aligned
    junk = np.array([np.nan, 1e308, -3.5, 5e-324, np.inf, 0.25])
    monkeypatch.setattr(pack, "aligned", lambda n: np.resize(junk, len(clean(n))).copy())
    dirty = pack.aligned(10)
    assert np.isnan(dirty[0]) and dirty[1] == 1e308  # the patch is what lane_call allocates with
    for opts in (EvalOptions(record=True), EvalOptions()):
        ref, _ = reference_batch(programs, tasks, shape, 3, opts)
        rng = Rng(3)
        for prog, r in zip(programs, ref):
            res = evaluate_lockstep(ev, prog, rng, opts, probe=probe)
            assert res.train_steps[0].tolist() == [t.train_steps for t in r.tasks], prog
            assert same_bits(res.fitness[0], [0.0 if probe else t.fitness for t in r.tasks]), prog
            for a, b in zip(r.tasks, res.tasks[0] if opts.record else []):
                assert same_bits(a.train_errors, b.train_errors) and same_bits(a.valid_errors, b.valid_errors)
                for bank in ("s", "v", "m") if not probe else ():
                    assert same_bits(a.memory[bank], b.memory[bank]), (bank, prog)
