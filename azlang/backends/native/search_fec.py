"""Native stage: the FEC key (azlang.search.fec's 64-bit hash) and the LRU cache in native memory.

The cache is azlang.search.fec.FecCache with the same observable behaviour: an open-addressing table
(linear probing, backward-shift deletion) from key to entry, entries on a doubly linked list in LRU
order (head = least recently used), a free list, hit and miss counters, and `forget_every`.

Layout, for the memory system (the cache is megabytes, touched at random): a table slot holds the key beside
its entry index (16 bytes), so a probe reads one cache line; an entry is 32 bytes, one line with all its
fields: key, fitness bits, uses (int64), then prev and next (int32: capacity < 2**31).
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native.irutil import F64, I1, I32, I64, PTR
from azlang.backends.native.search_abi import C_ENTRY_WORDS as ENTRY_WORDS
from azlang.backends.native.search_abi import C_LINKS
from azlang.backends.native.search_emit import Fn, Lib, c64, cf, table, val
from azlang.backends.native.search_gen import mix
from azlang.backends.native.skeleton import prefetch
from azlang.rng import GAMMA, MASK64, _mix

VOID = ir.VoidType()


def combine(b: ir.IRBuilder, h, x):
    """fec.combine: mix((h ^ x) + GAMMA)."""
    return mix(b, b.add(b.xor(h, x), c64(GAMMA)))


POSITION_KEYS = 256  # mix(i * GAMMA) for positions i = 1..256 (every FEC probe of the configs we ship) precomputed


def _signed(x: int) -> int:
    return x - (1 << 64) if x >= 1 << 63 else x


def build_hash(lib: Lib) -> None:
    """errors_hash(rec_train, n_train, rec_valid, n_valid) -> the key before task index and budget."""
    f = Fn(lib.module, "errors_hash", I64, [PTR, I64, PTR, I64])
    rt, nt, rv, nv = f.args
    b = f.b
    acc = f.var(c64(0))
    keys = table(lib.module, "fec_position_keys", [_signed(_mix((i + 1) * GAMMA & MASK64)) for i in range(POSITION_KEYS)])

    def term(buf, i, key):
        e = b.fadd(f.ld(buf, i, F64), cf(0.0))  # -0.0 -> +0.0, like the Python key
        acc.set(b.add(acc.get(), mix(b, b.xor(b.bitcast(e, I64), key))))

    def add_all(buf, n, first):
        # positions in the table first, in a loop without a branch (LLVM vectorises it), then any beyond it
        room = f.sub(c64(POSITION_KEYS), first)
        known = f.sel(f.lt(room, 0), 0, f.sel(f.lt(n, room), n, room))
        with f.loop(known) as i:
            term(buf, i, f.const(keys, f.add(i, first)))
        with f.loop(n, known) as i:
            term(buf, i, mix(b, b.mul(f.add(f.add(i, first), 1), c64(GAMMA))))

    # valid errors stored right after the train errors (the lanes' probe rows): one run of nt + nv
    after = b.icmp_unsigned("==", b.ptrtoint(rv, I64), f.add(b.ptrtoint(rt, I64), f.mul(nt, 8)))
    with f.if_else(after) as (one, two):
        with one:
            add_all(rt, f.add(nt, nv), c64(0))
        with two:
            add_all(rt, nt, c64(0))
            add_all(rv, nv, nt)
    f.ret(combine(b, combine(b, acc.get(), nt), nv))
    lib.errors_hash = f.finish()


KEY, FIT, USES, LINKS = range(ENTRY_WORDS)
assert LINKS == C_LINKS


class Cache:
    """Accessors for the cache arrays inside one function."""

    def __init__(self, f: Fn):
        self.f = f
        self.table, self.ent = f.cxp("C_TABLE"), f.cxp("C_ENT")
        self.mask = f.cx("C_MASK")

    def slot(self, pos):
        """The entry at table position `pos`, or -1."""
        return self.f.ld(self.table, self.f.add(self.f.mul(pos, 2), 1))

    def slot_key(self, pos):
        return self.f.ld(self.table, self.f.mul(pos, 2))

    def set_slot(self, pos, key, e) -> None:
        self.f.st(self.table, self.f.mul(pos, 2), key)
        self.f.st(self.table, self.f.add(self.f.mul(pos, 2), 1), e)

    def clear_slot(self, pos) -> None:
        self.f.st(self.table, self.f.add(self.f.mul(pos, 2), 1), c64(-1))

    def entry_ptr(self, e):
        return self.f.gep(self.ent, self.f.mul(e, ENTRY_WORDS), I64)

    def slot_ptr(self, pos):
        return self.f.gep(self.table, self.f.mul(pos, 2), I64)

    def _word(self, e, k):
        return self.f.add(self.f.mul(e, ENTRY_WORDS), k)

    def get(self, e, k, ty=I64):
        return self.f.ld(self.ent, self._word(e, k), ty)

    def put(self, e, k, v, ty=None) -> None:
        self.f.st(self.ent, self._word(e, k), v, ty)

    def _link(self, e, side):
        return self.f.add(self.f.mul(e, 2 * ENTRY_WORDS), 2 * LINKS + side)

    def prev(self, e):
        return self.f.b.sext(self.f.ld(self.ent, self._link(e, 0), I32), I64)

    def next(self, e):
        return self.f.b.sext(self.f.ld(self.ent, self._link(e, 1), I32), I64)

    def set_prev(self, e, v) -> None:
        self.f.st(self.ent, self._link(e, 0), self.f.b.trunc(val(v), I32), I32)

    def set_next(self, e, v) -> None:
        self.f.st(self.ent, self._link(e, 1), self.f.b.trunc(val(v), I32), I32)

    def home(self, key):
        return self.f.b.and_(key, self.mask)

    def step(self, pos):
        return self.f.b.and_(self.f.add(pos, 1), self.mask)


def build_cache(lib: Lib) -> None:
    m = lib.module
    for name, ret, args, body in (
        ("cache_find", I64, [I64], _find),
        ("cache_unlink", VOID, [I64], _unlink),
        ("cache_push_back", VOID, [I64], _push_back),
        ("cache_table_delete", VOID, [I64], _table_delete),
        ("cache_remove", VOID, [I64, I64], _remove),
        ("cache_lookup_at", I1, [I64, I64, PTR], _lookup_at),
        ("cache_insert_at", VOID, [I64, F64, I64], _insert_at),
        ("cache_insert", VOID, [I64, F64], _insert),
    ):
        f = Fn(m, name, ret, args)
        body(f, lib, Cache(f), *f.args)
        setattr(lib, name, f.finish())
    f = Fn(m, "azlang_search_cache_import", VOID, [PTR, PTR, PTR, I64], export=True)
    _import(f, lib, *f.args)
    f.finish()
    f = Fn(m, "azlang_search_cache_export", I64, [PTR, PTR, PTR, I64], export=True)
    _export(f, lib, *f.args)
    f.finish()


def _find(f: Fn, lib: Lib, c: Cache, key) -> None:
    """The table position holding `key`, or the empty position where it would go."""
    pos = f.var(c.home(key))
    with f.forever():
        e = c.slot(pos.get())
        with f.if_(f.lt(e, 0)):
            f.brk()
        with f.if_(f.eq(c.slot_key(pos.get()), key)):
            f.brk()
        pos.set(c.step(pos.get()))
    f.ret(pos.get())


def _unlink(f: Fn, lib: Lib, c: Cache, e) -> None:
    with f.if_(f.eq(e, f.cx("C_AHEAD"))):  # the eviction look-ahead leaves the list with it: start it afresh
        f.cx_set("C_AHEAD", -1)
    p, n = c.prev(e), c.next(e)
    with f.if_else(f.lt(p, 0)) as (first, middle):
        with first:
            f.cx_set("C_HEAD", n)
        with middle:
            c.set_next(p, n)
    with f.if_else(f.lt(n, 0)) as (last, middle):
        with last:
            f.cx_set("C_TAIL", p)
        with middle:
            c.set_prev(n, p)


def _push_back(f: Fn, lib: Lib, c: Cache, e) -> None:
    tail = f.cx("C_TAIL")
    c.set_prev(e, tail)
    c.set_next(e, -1)
    with f.if_else(f.lt(tail, 0)) as (empty, other):
        with empty:
            f.cx_set("C_HEAD", e)
        with other:
            c.set_next(tail, e)
    f.cx_set("C_TAIL", e)


def _table_delete(f: Fn, lib: Lib, c: Cache, pos) -> None:
    """Linear-probing deletion by backward shift: later entries move into the hole when allowed."""
    b = f.b
    f.cx_add("C_GEN", 1)  # entries may move: positions found before are stale
    hole, j = f.var(pos), f.var(pos)
    c.clear_slot(pos)
    with f.forever():
        j.set(c.step(j.get()))
        e = c.slot(j.get())
        with f.if_(f.lt(e, 0)):
            f.brk()
        key = c.slot_key(j.get())
        k, i, jj = c.home(key), hole.get(), j.get()
        # the entry at j may fill the hole i unless its home k lies cyclically in (i, j]
        in_range = b.select(f.le(i, jj), b.and_(f.lt(i, k), f.le(k, jj)), b.or_(f.lt(i, k), f.le(k, jj)))
        with f.if_(b.not_(in_range)):
            c.set_slot(i, key, e)
            c.clear_slot(jj)
            hole.set(jj)


def _remove(f: Fn, lib: Lib, c: Cache, e, pos) -> None:
    f.call(lib.cache_table_delete, pos)
    f.call(lib.cache_unlink, e)
    c.set_next(e, f.cx("C_FREE"))
    f.cx_set("C_FREE", e)
    f.cx_add("C_COUNT", -1)


def _lookup_at(f: Fn, lib: Lib, c: Cache, key, pos, out) -> None:
    """FecCache.lookup with `pos` = cache_find(key), found while the table has not changed since (C_GEN): the
    fitness through `out` and true on a hit (use counted, maybe forgotten)."""
    e = c.slot(pos)
    with f.if_(f.lt(e, 0)):
        f.cx_add("C_MISSES", 1)
        f.ret(ir.Constant(I1, 0))
    f.cx_add("C_HITS", 1)
    f.st(out, 0, c.get(e, FIT, F64), F64)
    uses = f.add(c.get(e, USES), 1)
    c.put(e, USES, uses)
    forget = f.cx("C_FORGET")
    with f.if_else(f.b.and_(f.ne(forget, 0), f.b.icmp_signed(">=", uses, forget))) as (drop, keep):
        with drop:
            f.call(lib.cache_remove, e, pos)
        with keep:
            f.call(lib.cache_unlink, e)
            f.call(lib.cache_push_back, e)
    f.ret(ir.Constant(I1, 1))


def _insert(f: Fn, lib: Lib, c: Cache, key, fit) -> None:
    """FecCache.insert: (fitness, 1 use) as most recent; the LRU entry goes when over capacity."""
    f.call(lib.cache_insert_at, key, fit, f.call(lib.cache_find, key))
    f.ret()


def _insert_at(f: Fn, lib: Lib, c: Cache, key, fit, pos) -> None:
    """cache_insert with `pos` = cache_find(key), found while the table has not changed since (C_GEN)."""
    e = c.slot(pos)
    with f.if_(f.b.icmp_signed(">=", e, c64(0))):
        c.put(e, FIT, fit, F64)
        c.put(e, USES, c64(1))
        f.call(lib.cache_unlink, e)
        f.call(lib.cache_push_back, e)
        f.ret()
    at = f.var(pos)
    with f.if_(f.eq(f.cx("C_COUNT"), f.cx("C_CAPACITY"))):  # evict first: the new entry is never the oldest
        old = f.cx("C_HEAD")
        _look_ahead(f, c, old)
        f.call(lib.cache_remove, old, f.call(lib.cache_find, c.get(old, KEY)))
        at.set(f.call(lib.cache_find, key))  # the deletion may have shifted the probe chain
    e = f.cx("C_FREE")
    f.cx_set("C_FREE", c.next(e))
    f.cx_add("C_GEN", 1)
    c.set_slot(at.get(), key, e)
    c.put(e, KEY, key)
    c.put(e, FIT, fit, F64)
    c.put(e, USES, c64(1))
    f.call(lib.cache_push_back, e)
    f.cx_add("C_COUNT", 1)


AHEAD = 24  # evictions between asking for an LRU entry's cache lines and evicting it


def _look_ahead(f: Fn, c: Cache, old) -> None:
    """Hints only: an eviction reads the LRU entry, its key's table line (and maybe the next, shifting the probe
    chain back) and relinks the entry after it, lines nobody touched for long. C_AHEAD walks the LRU list
    AHEAD entries in front of the evictions, one step per eviction: each step reads the entry it stands on
    (asked for one step earlier), asks for its table lines and for the next entry. A child missing on every
    task evicts one entry per task in a burst, so the lines must be asked for evictions ahead. Started afresh
    from the entry being evicted (a serial walk) when it has none or the evictions reached it; _unlink drops
    it when its entry leaves the list otherwise (a hit moves it to the back, or it is forgotten)."""
    b = f.b
    ahead = f.var(f.cx("C_AHEAD"))

    def step():
        here = ahead.get()
        nxt = c.next(here)
        with f.if_(f.le(0, nxt)):
            home = c.home(c.get(here, KEY))
            prefetch(b, c.slot_ptr(home))
            prefetch(b, c.slot_ptr(c.step(f.add(home, 3))))
            prefetch(b, c.entry_ptr(nxt))
            ahead.set(nxt)

    with f.if_else(b.or_(f.lt(ahead.get(), 0), f.eq(ahead.get(), old))) as (afresh, on):
        with afresh:
            ahead.set(old)
            with f.loop(c64(AHEAD)):
                step()
        with on:
            step()
    f.cx_set("C_AHEAD", ahead.get())


def _import(f: Fn, lib: Lib, keys, fits, uses, n) -> None:
    """Insert entries oldest first, then restore their use counts (hit counters stay as they are)."""
    c = Cache(f)
    with f.loop(n) as i:
        f.call(lib.cache_insert, f.ld(keys, i), f.ld(fits, i, F64))
        c.put(f.cx("C_TAIL"), USES, f.ld(uses, i))


def _export(f: Fn, lib: Lib, keys, fits, uses, room) -> None:
    """Entries oldest first, `room` at most; returns how many, or room + 1 when the list holds more (nothing is
    written past the arrays: the caller refuses a count its list does not match)."""
    c = Cache(f)
    e, i = f.var(f.cx("C_HEAD")), f.var(c64(0))
    with f.forever():
        with f.if_(f.lt(e.get(), 0)):
            f.brk()
        with f.if_(f.eq(i.get(), room)):
            f.ret(f.add(room, 1))
        cur, k = e.get(), i.get()
        f.st(keys, k, c.get(cur, KEY))
        f.st(fits, k, c.get(cur, FIT, F64), F64)
        f.st(uses, k, c.get(cur, USES))
        i.set(f.add(k, 1))
        e.set(c.next(cur))
    f.ret(i.get())
