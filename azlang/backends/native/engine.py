"""Native stage: the process's one MCJIT engine, its optimisation pipeline and the on-disk object cache.

llvmlite 0.50: an execution engine owns its target machine and a second engine on the same machine
crashes, so every module of the process goes into one engine created lazily here. Compiled objects are
written to `$AZLANG_CACHE_DIR` (default: the user cache dir, `~/.cache/azlang/native`) through the
engine's object-cache hook; a later process loads the object file directly, without building or
optimising IR. Cache keys include a hash of this package's source, LLVM's version and the host CPU, so
a stale or foreign object is never loaded; files carry a checksum and are written atomically. The verdicts on
the C library's exp that start-up needs (libm_verdicts.py) are kept in the same directory.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import os
import sys
import threading
import time
from pathlib import Path

from azlang.backends.native import hostrecord, libm_core, libm_verdicts, objload
from azlang.backends.native.layout import LIBM, libm_symbol

_LOCK = threading.RLock()
_STATE: dict = {}
STATS = {"compiled": 0, "loaded": 0, "refused": 0, "compile_s": 0.0, "load_s": 0.0}


def cache_dir() -> Path:
    env = os.environ.get("AZLANG_CACHE_DIR")
    if env:
        return Path(env) / "native"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "azlang" / "native"


def _source_hash() -> str:
    """Changes whenever the code generator changes, so cached objects never outlive their generator."""
    h = hashlib.sha256()
    for p in sorted(Path(__file__).parent.glob("*.py")):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def _libm_addresses() -> dict[str, int]:
    """The C library functions generated code calls, as this process's engine binds them."""
    return dict(state()["libm"])


GLIBC_LIBM = "libm.so.6"  # glibc's libm soname (since glibc 2.0): what find_library("m") names there


def _open_libm() -> ctypes.CDLL:
    """The C math library: glibc's by its soname when it opens, which is what ctypes.util.find_library("m")
    answers on glibc (after running `ldconfig -p`, ~4 ms of every native start-up); elsewhere (musl, macOS)
    whatever find_library finds, as before."""
    if sys.platform.startswith("linux"):
        try:
            return ctypes.CDLL(GLIBC_LIBM)
        except OSError:  # not glibc
            pass
    return ctypes.CDLL(ctypes.util.find_library("m") or GLIBC_LIBM)


def _bind_libm(context: list[str]) -> tuple[dict[str, int], libm_verdicts.Verdicts]:
    """The C library's addresses (exp: its core, past glibc's errno wrapper, where the two give the same bits)
    and the verdicts on that exp, from the verdict cache beside the objects (libm_verdicts.py)."""
    libm = _open_libm()
    out = {name: ctypes.cast(getattr(libm, name), ctypes.c_void_p).value for name in LIBM}
    core = libm_core.core_address(libm)
    verdicts = libm_verdicts.resolve(out["exp"], core, context, cache_dir())
    if verdicts.core_ok:
        out["exp"] = core
    return out, verdicts


def _init() -> dict:
    """The process's native state. From the host record when there is one (no LLVM: cached objects are linked
    by objload.py), else from LLVM, which then answers the record's questions for the next process."""
    facts = _recorded_facts()
    if facts is not None:
        return _state_for(facts)
    parts = _llvm_parts()
    st = _state_for(parts["facts"])
    _attach(st, parts)
    return st


def _state_for(facts: dict) -> dict:
    """Cache salt, C library bindings and sigmoid verdicts for a host LLVM described as `facts`."""
    source = _source_hash()
    addresses, verdicts = _bind_libm([source, facts["cpu"], facts["features"]])
    # generated code compares logits with these two: part of the cache key
    cut, fixed = verdicts.threshold, verdicts.fixed_point
    return {"pending": {}, "loaded": {}, "sigmoid_threshold": cut, "sigmoid_fixed_point": fixed,
            "libm": addresses, "facts": facts,
            "salt": "|".join([source, facts["llvm_version"], facts["triple"], facts["cpu"], facts["features"],
                              repr(cut), repr(fixed)])}


def _llvm_parts() -> dict:
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    cpu, features = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
    tm = llvm.Target.from_default_triple().create_target_machine(cpu=cpu, features=features, opt=3,
                                                                 codemodel="jitdefault")
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
    facts = {"cpu": cpu, "features": features, "llvm_version": str(llvm.llvm_version_info),
             "triple": llvm.get_process_triple()}
    return {"llvm": llvm, "tm": tm, "engine": engine, "facts": facts}


def _attach(st: dict, parts: dict) -> None:
    """LLVM's engine joins the state (bound to the same C library addresses); the host record is (re)written."""
    if parts["facts"] != st["facts"]:  # a record LLVM contradicts: LLVM's answers hold from now on
        st.update({k: v for k, v in _state_for(parts["facts"]).items() if k not in ("pending", "loaded")})
    llvm = parts["llvm"]
    for name, addr in st["libm"].items():
        llvm.add_symbol(libm_symbol(name), addr)
    parts["engine"].set_object_cache(_notify, _getbuffer)
    st.update(llvm=llvm, tm=parts["tm"], engine=parts["engine"])
    hostrecord.write(cache_dir(), parts["facts"])


def _llvm_only() -> bool:
    """AZLANG_NATIVE_LOADER=llvm: every object goes through LLVM's engine (no host record, no objload)."""
    return os.environ.get("AZLANG_NATIVE_LOADER") == "llvm"


def _recorded_facts() -> dict | None:
    return None if _llvm_only() else hostrecord.read(cache_dir())


def state() -> dict:
    with _LOCK:
        if not _STATE:
            _STATE.update(_init())
        return _STATE


def llvm_state() -> dict:
    """state() with LLVM's engine and target machine in it (created on first need: a compile, an object the
    loader refuses, assembly for inspection)."""
    with _LOCK:
        st = state()
        if "engine" not in st:
            _attach(st, _llvm_parts())
        return st


def sigmoid_threshold() -> float | None:
    """The double t with sigmoid(p) > 0.5 exactly when p >= t for this process's exp (sigmoid_cuts.py), or None
    when it could not be verified (generated code then calls exp)."""
    return state()["sigmoid_threshold"]


def sigmoid_fixed_point() -> float | None:
    """The double x with sigmoid(x) == x for this process's exp (sigmoid_cuts.py), or None."""
    return state()["sigmoid_fixed_point"]


def _path(key: str) -> Path:
    digest = hashlib.sha256((state()["salt"] + "|" + key).encode()).hexdigest()[:32]
    return cache_dir() / f"{digest}.o"


def _read(path: Path) -> bytes | None:
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    body = blob[32:]
    return body if len(blob) > 32 and hashlib.sha256(body).digest() == blob[:32] else None


def _write(path: Path, body: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(hashlib.sha256(body).digest() + body)
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs a recompile next time


def _notify(module, buffer: bytes) -> None:
    path = _STATE["pending"].get(module.name)
    if path is not None:
        _write(path, buffer)


def _getbuffer(module):
    path = _STATE["pending"].get(module.name)
    return _read(path) if path is not None else None


def _optimise(mod, tm) -> None:
    llvm = llvm_state()["llvm"]
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pto.loop_unrolling = True
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)


def load(key: str, build, symbols: list[str]) -> dict[str, int]:
    """Addresses of `symbols` from the module named by `key`: already loaded, from disk, or compiled.

    `build()` returns the llvmlite.ir.Module; it is only called on a cache miss. A cached object is linked
    by objload.py (no LLVM in the process) unless the loader refuses it; then LLVM's engine loads it.
    """
    with _LOCK:
        st = state()
        if key in st["loaded"]:
            return st["loaded"][key]
        t0 = time.perf_counter()
        body = _read(_path(key))
        addrs = _link(body, symbols) if body is not None else None
        if addrs is None:
            addrs, body = _through_llvm(key, build, symbols)
        if body is not None:
            STATS["loaded"] += 1
            STATS["load_s"] += time.perf_counter() - t0
        else:
            STATS["compiled"] += 1
            STATS["compile_s"] += time.perf_counter() - t0
        st["loaded"][key] = addrs
        return addrs


def _link(body: bytes, symbols: list[str]) -> dict[str, int] | None:
    if _llvm_only():
        return None
    try:
        return objload.load(body, symbols, _external)
    except objload.Unsupported:
        STATS["refused"] += 1
        return None


def _external(name: str) -> int | None:
    """What LLVM's engine binds a name to: our symbols (the C library functions as bound here, _attach) first,
    then the process's (memcpy, memset)."""
    ours = {libm_symbol(lib_name): addr for lib_name, addr in state()["libm"].items()}
    if name in ours:
        return ours[name]
    try:
        return ctypes.cast(getattr(_process(), name), ctypes.c_void_p).value
    except AttributeError:
        return None


@functools.cache
def _process() -> ctypes.CDLL:
    return ctypes.CDLL(None)


def _through_llvm(key: str, build, symbols: list[str]) -> tuple[dict[str, int], bytes | None]:
    """LLVM's engine loads the cached object (read again: LLVM's answers may have changed the salt) or
    compiles the module; (addresses, the object's bytes or None when compiled)."""
    st = llvm_state()
    llvm, engine, path = st["llvm"], st["engine"], _path(key)
    body = _read(path)
    if body is not None:
        engine.add_object_file(llvm.ObjectFileRef.from_data(body))
        engine.finalize_object()
    else:
        mod = llvm.parse_assembly(str(build()))
        mod.name = key
        mod.verify()
        _optimise(mod, st["tm"])
        st["pending"][key] = path
        engine.add_module(mod)
        engine.finalize_object()
    addrs = {s: engine.get_function_address(s) for s in symbols}
    if not all(addrs.values()):
        raise RuntimeError(f"native module {key!r} lacks symbols {[s for s, a in addrs.items() if not a]}")
    return addrs, body


def asm(ir_module) -> str:
    """Assembly of an IR module after optimisation (for inspection and profiling)."""
    st = llvm_state()
    mod = st["llvm"].parse_assembly(str(ir_module))
    _optimise(mod, st["tm"])
    return st["tm"].emit_assembly(mod)
