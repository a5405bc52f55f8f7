"""objload (cached objects linked without LLVM) and the host record: same code, same results, safe refusals."""

import ctypes
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("llvmlite")

from native_support import cache_dir  # noqa: F401 - a fresh object cache for this module

from azlang.backends.native import engine, hostrecord, objload

ROOT = Path(__file__).resolve().parent.parent
SYMS = ["t_switch", "t_copy", "t_count", "t_gauss"]
SWITCH = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_int64, ctypes.c_double)
COPY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
COUNT = ctypes.CFUNCTYPE(ctypes.c_int64)


def _module():
    """What the loader must get right: a jump table and a constant array (absolute addresses in read-only
    data), C library calls through our bound names, memcpy/memset calls, a writable global."""
    from llvmlite import ir

    from azlang.backends.native.context import declare_libm
    from azlang.backends.native.fills import build_module as gaussian_module
    from azlang.backends.native.irutil import F64, I64, PTR

    m = gaussian_module()
    m.get_global("azlang_gaussian_fill").name = "t_gauss"
    libm = declare_libm(m)
    table = ir.GlobalVariable(m, ir.ArrayType(F64, 5), "t_table")
    table.global_constant, table.linkage = True, "internal"
    table.initializer = ir.Constant(ir.ArrayType(F64, 5), [1.5, -2.25, 3e300, 0.1, -0.0])
    fn = ir.Function(m, ir.FunctionType(F64, [I64, F64]), "t_switch")
    k, x = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    out = fn.append_basic_block("out")
    default = fn.append_basic_block("default")
    sw = b.switch(k, default)
    results = []
    cases = [lambda b: b.call(libm["exp"], [x]), lambda b: b.call(libm["atan"], [x]),
             lambda b: b.call(libm["log"], [x]), lambda b: b.call(libm["cos"], [x]),
             lambda b: b.call(libm["sin"], [x]), lambda b: b.fmul(x, x)]
    for i, case in enumerate(cases):
        blk = fn.append_basic_block(f"case{i}")
        sw.add_case(i, blk)
        b.position_at_end(blk)
        slot = b.gep(table, [ir.Constant(I64, 0), ir.Constant(I64, i % 5)], inbounds=True,
                     source_etype=ir.ArrayType(F64, 5))
        results.append((b.fadd(case(b), b.load(slot, typ=F64)), blk))
        b.branch(out)
    b.position_at_end(default)
    b.branch(out)
    b.position_at_end(out)
    phi = b.phi(F64)
    for v, blk in results:
        phi.add_incoming(v, blk)
    phi.add_incoming(x, default)
    b.ret(phi)

    memcpy = m.declare_intrinsic("llvm.memcpy", [PTR, PTR, I64])
    memset = m.declare_intrinsic("llvm.memset", [PTR, I64])
    fn = ir.Function(m, ir.FunctionType(ir.VoidType(), [PTR, PTR, I64]), "t_copy")
    dst, src, n = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    b.call(memcpy, [dst, src, n, ir.Constant(ir.IntType(1), 0)])
    b.call(memset, [b.gep(dst, [n], source_etype=ir.IntType(8)), ir.Constant(ir.IntType(8), 7), n, ir.Constant(ir.IntType(1), 0)])
    b.ret_void()

    counter = ir.GlobalVariable(m, I64, "t_counter")
    counter.linkage, counter.initializer = "internal", ir.Constant(I64, 40)
    fn = ir.Function(m, ir.FunctionType(I64, []), "t_count")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    v = b.add(b.load(counter, typ=I64), ir.Constant(I64, 1))
    b.store(v, counter)
    b.ret(v)
    return m


@pytest.fixture(scope="module")
def both():
    """The test module's functions as LLVM's engine loaded them (compiled here) and as objload links them."""
    llvm_addrs = engine.load("test/objload", _module, SYMS)
    body = engine._read(engine._path("test/objload"))
    assert body is not None
    return llvm_addrs, objload.load(body, SYMS, engine._external)


def _bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def test_linked_code_computes_what_llvm_loaded_code_computes(both):
    a, b = both
    assert a["t_switch"] != b["t_switch"]  # two copies of the code
    fa, fb = SWITCH(a["t_switch"]), SWITCH(b["t_switch"])
    rng = np.random.default_rng(5)
    xs = np.concatenate([rng.normal(scale=3, size=300), [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e308]])
    for k in range(-1, 8):
        for x in xs.tolist():
            assert _bits(fa(k, x)) == _bits(fb(k, x)), (k, x)


def test_linked_code_calls_memcpy_memset_and_keeps_its_own_writable_data(both):
    a, b = both
    src = np.arange(1000, dtype=np.uint8)
    for addrs in (a, b):
        dst = np.zeros(2000, dtype=np.uint8)
        COPY(addrs["t_copy"])(dst.ctypes.data, src.ctypes.data, 1000)
        assert (dst[:1000] == src).all() and (dst[1000:] == 7).all()
    ca, cb = COUNT(a["t_count"]), COUNT(b["t_count"])
    assert [ca(), ca(), cb(), cb(), cb()] == [41, 42, 41, 42, 43]  # each copy has its own counter


def test_linked_gaussian_fill_is_bit_identical(both):
    a, b = both
    proto = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_double, ctypes.c_double)
    outs = []
    for addrs in (a, b):
        out, state = np.empty(5000), np.array([123456789], dtype=np.uint64)
        proto(addrs["t_gauss"])(out.ctypes.data, len(out), state.ctypes.data, 0.5, 2.0)
        outs.append((out.view(np.uint64).copy(), int(state[0])))
    assert (outs[0][0] == outs[1][0]).all() and outs[0][1] == outs[1][1]


def test_code_pages_are_not_writable(both):
    _, b = both
    maps = Path("/proc/self/maps").read_text().splitlines()
    addr = b["t_switch"]
    for line in maps:
        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
        if lo <= addr < hi:
            assert line.split()[1].startswith("r-x")
            return
    pytest.fail("loaded code not found in the process's mappings")


def _object() -> bytes:
    return engine._read(engine._path("test/objload"))


def test_refusals_map_nothing_and_say_why(both):
    body = _object()
    mapped = len(objload._MAPPINGS)
    with pytest.raises(objload.Unsupported, match="not defined"):
        objload.load(body, ["no_such_function"], engine._external)
    with pytest.raises(objload.Unsupported, match="unresolved symbol"):
        objload.load(body, SYMS, lambda name: None)
    with pytest.raises(objload.Unsupported, match="ELF"):
        objload.load(b"\x7fELF" + b"\0" * 10, SYMS, engine._external)
    # the first relocation's type changed to one the loader does not link (R_X86_64_GOTPCREL)
    shdrs = objload._headers(body)
    rela = next(sh for sh in shdrs if sh[1] == objload.SHT_RELA and sh[5])
    bad = bytearray(body)
    info = struct.unpack_from("<Q", bad, rela[4] + 8)[0]
    struct.pack_into("<Q", bad, rela[4] + 8, (info & ~0xFFFFFFFF) | 9)
    with pytest.raises(objload.Unsupported, match="relocation type 9"):
        objload.load(bytes(bad), SYMS, engine._external)
    assert len(objload._MAPPINGS) == mapped  # a refused object leaves nothing mapped behind


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=8), st.booleans())
def test_damaged_objects_are_refused_or_linked_never_a_crash(both, edits, headers_only):
    """Any byte changed (in the header and tables, where the loader reads addresses and sizes): the loader
    links it or refuses it with Unsupported; nothing else escapes (the code is never run)."""
    body = bytearray(_object())
    shoff = struct.unpack_from("<Q", body, 0x28)[0]
    for at, value in edits:
        pos = at % 64 if headers_only and at % 2 else (shoff + at % (len(body) - shoff) if headers_only else at % len(body))
        body[pos] = value
    try:
        objload.load(bytes(body), SYMS, engine._external)
    except objload.Unsupported:
        pass


# --- the host record ---------------------------------------------------------------------------------

def test_host_record_round_trip_and_damage(tmp_path):
    if hostrecord.fingerprint() is None:
        pytest.skip("no fingerprint on this platform")
    facts = {"cpu": "x", "features": "+a,-b", "llvm_version": "(1, 2, 3)", "triple": "t"}
    assert hostrecord.read(tmp_path) is None
    hostrecord.write(tmp_path, facts)
    assert hostrecord.read(tmp_path) == facts
    (path,) = tmp_path.glob("host-*.json")
    assert path.name == f"host-{hostrecord.fingerprint()}.json"
    for damaged in ("{", "[]", json.dumps({**facts, "cpu": 3}), json.dumps({"cpu": "x"}), ""):
        path.write_text(damaged)
        assert hostrecord.read(tmp_path) is None
    (tmp_path / "host-0123.json").write_text(json.dumps(facts))  # another host's record is not this one's
    path.unlink()
    assert hostrecord.read(tmp_path) is None


def test_recorded_facts_are_what_llvm_answers():
    st = engine.llvm_state()
    llvm = st["llvm"]
    assert st["facts"] == {"cpu": llvm.get_host_cpu_name(), "features": llvm.get_host_cpu_features().flatten(),
                           "llvm_version": str(llvm.llvm_version_info), "triple": llvm.get_process_triple()}
    assert all(v in st["salt"] for v in st["facts"].values())


# --- whole runs: the loader, LLVM's engine and a fresh compile give the same results ----------------------

_RUN = """
import json, sys
import numpy as np
from native_support import random_program
from azlang.backends.native import NativeEvaluator, engine
from azlang.ir.nodes import MemoryShape
from azlang.rng import Rng
from azlang.search.config import override
from azlang.search.islands import IslandJob, build_island, new_state
from azlang.search.presets import demo_config
from azlang.search.tasksets import build, parse_all
from azlang.tasks import synthetic
shape, g = MemoryShape(4, 3, 2), np.random.default_rng(7)
ev = NativeEvaluator([synthetic.linear(4, 30, 10, s, s) for s in range(5)], shape)
fits = [ev.evaluate(random_program(g, shape, (3, 4, 5)), Rng(i)).fitness.hex() for i in range(40)]
cfg = override(demo_config(), {"evolution.loop": "native", "run.backend": "native", "evolution.population": 50})
specs = parse_all(cfg.tasks.search)
isl = build_island(IslandJob(cfg, specs, [], new_state(cfg, 0, Rng(3), len(build(specs)))))
with np.errstate(all="ignore"):
    isl.init_population()
    for _ in range(4):
        isl.sweep()
fits += [x.hex() for x in isl.state.fitnesses]
print(json.dumps({"fits": fits, "stats": engine.STATS, "llvm": "llvmlite.binding" in sys.modules}))
"""


_REFUSE = """
from azlang.backends.native import objload
def refuse(*args):
    raise objload.Unsupported("test")
objload.load = refuse
"""


def test_processes_with_and_without_llvm_agree(tmp_path):
    env = dict(os.environ, AZLANG_CACHE_DIR=str(tmp_path), PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}")
    env.pop("AZLANG_NATIVE_LOADER", None)

    def run(preamble="", **extra):
        p = subprocess.run([sys.executable, "-c", preamble + _RUN], env={**env, **extra}, capture_output=True, check=False,
                           text=True)
        assert p.returncode == 0, p.stderr[-3000:]
        return json.loads(p.stdout)

    cold, warm, via_llvm = run(), run(), run(AZLANG_NATIVE_LOADER="llvm")
    refused = run(_REFUSE)  # every object refused by the loader: LLVM's engine loads it instead
    assert cold["stats"]["compiled"] > 0 and cold["llvm"]
    assert warm["stats"]["compiled"] == 0 and warm["stats"]["refused"] == 0 and warm["stats"]["loaded"] > 0
    if hostrecord.fingerprint() is not None:
        assert not warm["llvm"]  # no LLVM in a warm process
    assert via_llvm["llvm"] and via_llvm["stats"]["compiled"] == 0
    assert refused["llvm"] and refused["stats"]["refused"] == refused["stats"]["loaded"] > 0
    assert cold["fits"] == warm["fits"] == via_llvm["fits"] == refused["fits"]
