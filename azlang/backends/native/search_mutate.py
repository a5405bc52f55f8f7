"""Native stage: Mutate(parent) -> child in IR, action for action and draw for draw as azlang.search.mutate.

The child lives in the context's child buffers (CH_CODE, CH_DATA, CH_SIZES: rows setup, predict, learn)
and is changed in place; inserting shifts the following rows up by one, removing shifts them down.
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native.irutil import F64, I32, I64, PTR
from azlang.backends.native.search_emit import Fn, Lib
from azlang.backends.native.search_gen import Child
from azlang.search.mutate import (
    ALTER_PARAM,
    INSERT,
    RANDOMIZE_ALGORITHM,
    RANDOMIZE_COMPONENT,
    RANDOMIZE_INSTRUCTION,
    REMOVE,
    TRADE,
)

VOID = ir.VoidType()
# CH_EDIT after mutate: the child is the parent (EDIT_NONE), or differs in one row rewritten in place (its index,
# >= 0), or may differ anywhere (EDIT_ANY); search_loop's dead-edit shortcut reads it
EDIT_ANY, EDIT_NONE = -1, -2


def build_mutate(lib: Lib) -> None:
    _build_component(lib)
    _build_alter(lib)
    _build_rows(lib)
    f = Fn(lib.module, "mutate", VOID, [I64])  # zero: Init's zero-mutation Mutate (only the coin is drawn)
    _mutate(f, lib, f.args[0])
    lib.mutate = f.finish()


def _build_component(lib: Lib) -> None:
    f = Fn(lib.module, "component", I64, [])  # Mutator._component: -1 when nothing is mutable
    n = f.cx("N_MUTABLE")
    with f.if_(f.eq(n, 0)):
        f.ret(-1)
    mutable = f.cxp("MUTABLE")
    with f.if_(f.eq(n, 1)):
        f.ret(f.ld(mutable, 0))
    f.ret(f.ld(mutable, f.call(lib.below, n)))
    lib.component = f.finish()


def _build_alter(lib: Lib) -> None:
    f = Fn(lib.module, "alter_data", VOID, [I64, PTR])
    _alter_data(f, lib, *f.args)
    lib.alter_data = f.finish()
    f = Fn(lib.module, "alter_row", VOID, [PTR, PTR])
    _alter_row(f, lib, *f.args)
    lib.alter_row = f.finish()


def _alter_row(f: Fn, lib: Lib, crow, drow) -> None:
    """Mutator.alter_row: one parameter of one instruction; a NO_OP draws nothing."""
    b = f.b
    op = b.sext(f.ld(crow, 0, I32), I64)
    kind = f.const(lib.op_class, op)
    with f.if_(f.eq(kind, 0)):
        f.ret()

    def put(field, value):
        f.st(crow, field, b.trunc(value, I32), I32)

    with f.if_(f.eq(kind, 1)):
        with f.if_else(f.eq(f.call(lib.below, 2), 0)) as (out, data):
            with out:
                put(3, f.call(lib.gen_out, f.const(lib.op_out, op)))
            with data:
                f.call(lib.alter_data, op, drow)
        f.ret()
    choice = f.call(lib.below, kind)
    with f.if_(f.eq(choice, f.sub(kind, 1))):
        put(3, f.call(lib.gen_out, f.const(lib.op_out, op)))
        f.ret()
    with f.if_else(f.eq(choice, 0)) as (first, second):
        with first:
            put(1, f.call(lib.gen_in, f.const(lib.op_in1, op)))
        with second:
            put(2, f.call(lib.gen_in, f.const(lib.op_in2, op)))


def _alter_data(f: Fn, lib: Lib, op, d) -> None:
    """Mutator.alter_data (docs/semantics.md, section 7.3)."""
    b = f.b

    def get(k):
        return f.ld(d, k, F64)

    def put(k, v):
        f.st(d, k, v, F64)

    def coin():
        return f.eq(f.call(lib.below, 2), 0)

    def const():
        put(0, f.call(lib.lsof_d, get(0)))

    def vset():
        with f.if_else(coin()) as (index, value):
            with index:
                put(0, f.call(lib.unit_f32))
            with value:
                put(1, f.call(lib.lsof_f, get(1)))

    def mset():
        k = f.call(lib.below, 3)
        with f.if_(f.eq(k, 2)):
            put(2, f.call(lib.lsof_f, get(2)))
        with f.if_(f.eq(k, 0)):
            put(0, f.call(lib.unit_f32))
        with f.if_(f.eq(k, 1)):
            put(1, f.call(lib.unit_f32))

    def gaussian():
        with f.if_else(coin()) as (mean, sd):
            with mean:
                put(0, f.call(lib.lsof_f, get(0)))
            with sd:
                put(1, f.call(lib.log_scale_f, get(1)))

    def uniform():
        with f.if_else(coin()) as (low, high):
            with low:
                put(0, f.call(lib.lsof_f, get(0)))
            with high:
                put(1, f.call(lib.lsof_f, get(1)))
        d0, d1 = get(0), get(1)
        put(0, b.select(b.fcmp_ordered("<", d1, d0), d1, d0))  # Python's min(d0, d1)
        put(1, b.select(b.fcmp_ordered(">", d1, d0), d1, d0))  # Python's max(d0, d1)

    cases = {56: const, 57: vset, 58: mset, 59: uniform, 60: uniform, 61: uniform}
    cases.update({62: gaussian, 63: gaussian, 64: gaussian})
    f.switch(op, cases)


def _build_rows(lib: Lib) -> None:
    f = Fn(lib.module, "insert_row", I64, [I64, I64])  # (component, position) -> row index of the new row
    ch = Child(f)
    c, pos = f.args
    at = f.add(ch.start(c), pos)
    with f.loop_down(f.sub(ch.total(), at)) as k:  # rows at .. total-1 move up, last first
        r = f.add(at, k)
        ch.copy_row(f.add(r, 1), r)
    ch.set_size(c, f.add(ch.size(c), 1))
    f.ret(at)
    lib.insert_row = f.finish()

    f = Fn(lib.module, "delete_row", VOID, [I64, I64])
    ch = Child(f)
    c, pos = f.args
    at = f.add(ch.start(c), pos)
    with f.loop(f.sub(ch.total(), 1), at) as r:
        ch.copy_row(r, f.add(r, 1))
    ch.set_size(c, f.sub(ch.size(c), 1))
    lib.delete_row = f.finish()


def _regenerate(f: Fn, lib: Lib, ch: Child, c) -> None:
    start = ch.start(c)
    with f.loop(ch.size(c)) as k:
        r = f.add(start, k)
        f.call(lib.instruction, c, ch.crow(r), ch.drow(r))


def _mutate(f: Fn, lib: Lib, zero) -> None:
    """Mutator.mutate: the coin (when mutate_prob < 1), then one action chosen uniformly."""
    b = f.b
    f.cx_set("CH_EDIT", EDIT_NONE)
    with f.if_(f.flag(f.cx("PROB_LT1"))), f.if_(b.not_(b.fcmp_ordered("<", f.call(lib.unit_f32), f.cxf("PROB")))):
        f.ret()
    with f.if_(f.flag(zero)):
        f.ret()
    n, actions = f.cx("N_ACTIONS"), f.cxp("ACTIONS")
    action = f.var(f.ld(actions, 0))
    with f.if_(f.lt(1, n)):
        action.set(f.ld(actions, f.call(lib.below, n)))
    ch = Child(f)

    def reshaped(action):  # rows may move or change anywhere: the child needs its own dce
        def run():
            f.cx_set("CH_EDIT", EDIT_ANY)
            action(f, lib, ch)

        return run

    cases = {
        ALTER_PARAM: lambda: _alter_param(f, lib, ch),
        RANDOMIZE_INSTRUCTION: lambda: _randomize_instruction(f, lib, ch),
        RANDOMIZE_COMPONENT: reshaped(_randomize_component),
        INSERT: reshaped(_insert),
        REMOVE: reshaped(_remove),
        TRADE: reshaped(_trade),
        RANDOMIZE_ALGORITHM: reshaped(_randomize_algorithm),
    }
    f.switch(action.get(), cases)  # IDENTITY: the default, no change


def _component_nonempty(f: Fn, lib: Lib, ch: Child):
    """The chosen component, returning from the action when there is none or it is empty."""
    c = f.call(lib.component)
    with f.if_(f.lt(c, 0)):
        f.ret()
    with f.if_(f.eq(ch.size(c), 0)):
        f.ret()
    return c


def _alter_param(f, lib, ch) -> None:
    c = _component_nonempty(f, lib, ch)
    r = f.add(ch.start(c), f.call(lib.below, ch.size(c)))
    f.cx_set("CH_EDIT", r)
    f.call(lib.alter_row, ch.crow(r), ch.drow(r))


def _randomize_instruction(f, lib, ch) -> None:
    c = _component_nonempty(f, lib, ch)
    r = f.add(ch.start(c), f.call(lib.below, ch.size(c)))
    f.cx_set("CH_EDIT", r)
    f.call(lib.instruction, c, ch.crow(r), ch.drow(r))


def _randomize_component(f, lib, ch) -> None:
    _regenerate(f, lib, ch, _component_nonempty(f, lib, ch))


def _randomize_algorithm(f, lib, ch) -> None:
    mutable = f.cxp("MUTABLE")
    with f.loop(f.cx("N_MUTABLE")) as k:
        c = f.ld(mutable, k)
        with f.if_(f.ne(ch.size(c), 0)):
            _regenerate(f, lib, ch, c)


def _insert(f, lib, ch) -> None:
    c = f.call(lib.component)
    with f.if_(f.lt(c, 0)):
        f.ret()
    size, top = ch.size(c), f.ld(f.cxp("SMAX"), c)
    with f.if_(f.b.and_(f.ne(top, 0), f.b.icmp_signed(">=", size, f.sub(top, 1)))):
        f.ret()  # the reference's quirk: reachable maximum is max - 1; unset (0) = unbounded
    r = f.call(lib.insert_row, c, f.call(lib.below, f.add(size, 1)))
    f.call(lib.instruction, c, ch.crow(r), ch.drow(r))


def _remove(f, lib, ch) -> None:
    c = _component_nonempty(f, lib, ch)
    with f.if_(f.le(ch.size(c), f.ld(f.cxp("SMIN"), c))):
        f.ret()
    f.call(lib.delete_row, c, f.call(lib.below, ch.size(c)))


def _trade(f, lib, ch) -> None:
    c = f.call(lib.component)
    with f.if_(f.lt(c, 0)):
        f.ret()
    r = f.call(lib.insert_row, c, f.call(lib.below, f.add(ch.size(c), 1)))
    f.call(lib.instruction, c, ch.crow(r), ch.drow(r))
    f.call(lib.delete_row, c, f.call(lib.below, ch.size(c)))
