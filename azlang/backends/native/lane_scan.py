"""Native stage: what a lockstep call needs to know of its program, in one pass over the bytecode (lanes_simd.py).

A lane group call used to walk the program once per question (a random op in setup, predict or learn reading
v0, predict writing v0, the flow of s1 for the dead-sigmoid cut); one walk with one table lookup per row now
answers them all, and also whether any row touches a matrix (the group memory's matrix bank is zeroed only
then) and whether predict reads s0 (a step need not clear s0 otherwise). Each answer is the same as its own
scan's (skeleton.has_random, lane_groups.reads_v0, skeleton.writes_v0, sigmoid_cuts.sigmoid_dead_ir):
tests/test_native_lane_scan.py checks them side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir

from azlang.backends.native.irutil import I32
from azlang.backends.native.sigmoid_cuts import S1
from azlang.ir.ops import MATRIX, OPS, SCALAR, VECTOR

I1, I8 = ir.IntType(1), ir.IntType(8)
# per op, bits in the order of a row's register tests (scan_program): in1, in2, out a vector; in1, in2, out a
# scalar; a random op; an op with a matrix operand
IN1_V, IN2_V, OUT_V, IN1_S, IN2_S, OUT_S, RANDOM, MAT = (1 << k for k in range(8))


def _bits(o) -> int:
    ins = list(o.ins) + [None] * (2 - len(o.ins))
    kinds = (ins[0], ins[1], o.out)
    return (sum(1 << k for k, kind in enumerate(kinds) if kind == VECTOR)
            | sum(8 << k for k, kind in enumerate(kinds) if kind == SCALAR)
            | (RANDOM if o.is_random else 0) | (MAT if MATRIX in kinds else 0))


OP_BITS = [_bits(o) for o in OPS]


@dataclass
class ProgramFacts:
    """i1 answers about one program (setup rows [0, ns), predict [ns, ns + np), learn after)."""

    setup_random: ir.Value  # a setup row draws (setups then run lane after lane)
    reads_v0: ir.Value  # a predict or learn row reads v0 (else the features need not be loaded)
    predict_writes_v0: ir.Value  # a predict row writes v0 (else learn sees the features predict saw)
    sigmoid_dead: ir.Value  # sigmoid_cuts.sigmoid_dead: learn never sees the squashed prediction
    uses_matrix: ir.Value  # a row reads or writes a matrix
    predict_reads_s0: ir.Value  # a predict row reads s0 (else predict cannot tell the 0 it is given from the label)


def _table(module: ir.Module) -> ir.GlobalVariable:
    try:
        return module.get_global("azlang_op_facts")
    except KeyError:
        ty = ir.ArrayType(I8, len(OP_BITS))
        table = ir.GlobalVariable(module, ty, "azlang_op_facts")
        table.initializer, table.global_constant, table.linkage = ir.Constant(ty, OP_BITS), True, "internal"
        return table


def _op_bits(f, table, op):
    b = f.b
    return b.zext(b.load(b.gep(table, [ir.Constant(I32, 0), op], source_etype=table.value_type), typ=I8), I32)


def _component(f, table, code, start, n):
    """(OR over rows [start, start + n) of the op's bits kept where the row's register is v0 (vector bits) or
    s1 (scalar bits), s1 read before written, s0 read) as i32s: one vector load and two compares per row."""
    b = f.b
    v4 = ir.VectorType(I32, 4)
    acc, first, s0 = f.var(ir.Constant(I32, 0)), f.var(ir.Constant(I32, 0)), f.var(ir.Constant(I32, 0))
    with f.loop(f.add(start, n), start) as r:
        row = b.load(f.gep(code, f.mul(r, 4), I32), typ=v4, align=4)  # op, in1, in2, out
        zero = b.zext(b.bitcast(b.icmp_unsigned("==", row, ir.Constant(v4, [0] * 4)), ir.IntType(4)), I32)
        zero_regs = b.lshr(zero, ir.Constant(I32, 1))  # in1, in2, out: register 0
        s1 = b.zext(b.bitcast(b.icmp_unsigned("==", row, ir.Constant(v4, [S1] * 4)), ir.IntType(4)), I32)
        regs = b.or_(b.or_(zero_regs, b.shl(b.lshr(s1, ir.Constant(I32, 1)), ir.Constant(I32, 3))),
                     ir.Constant(I32, RANDOM | MAT))
        op_bits = _op_bits(f, table, b.extract_element(row, ir.Constant(I32, 0)))
        bits = b.and_(op_bits, regs)
        s0.set(b.or_(s0.get(), b.and_(op_bits, b.shl(zero_regs, ir.Constant(I32, 3)))))  # scalar bits where s0
        read = b.or_(b.lshr(bits, ir.Constant(I32, 3)), b.lshr(bits, ir.Constant(I32, 4)))  # in1 or in2 is s1
        unwritten = b.not_(b.lshr(acc.get(), ir.Constant(I32, 5)))  # no earlier row wrote s1
        first.set(b.or_(first.get(), b.and_(b.and_(read, unwritten), ir.Constant(I32, 1))))
        acc.set(b.or_(acc.get(), bits))
    return acc.get(), first.get(), s0.get()


def scan_program(f, code, ns, np_, nl) -> ProgramFacts:
    """ProgramFacts of the ns + np_ + nl int32 rows (op, in1, in2, out) at `code`: setup by its ops alone, then
    predict and learn by their ops and registers."""
    b = f.b
    table = _table(b.module)
    setup = f.var(ir.Constant(I32, 0))
    with f.loop(ns) as r:
        setup.set(b.or_(setup.get(), _op_bits(f, table, f.ld(code, f.mul(r, 4), I32))))
    p, p_read, p_s0 = _component(f, table, code, ns, np_)
    lrn, l_read, _ = _component(f, table, code, f.add(ns, np_), nl)

    def has(x, bit):
        return b.icmp_unsigned("!=", b.and_(x, ir.Constant(I32, bit)), ir.Constant(I32, 0))

    pl = b.or_(p, lrn)
    dead = b.and_(b.not_(has(l_read, 1)), b.or_(has(lrn, OUT_S), b.and_(has(p, OUT_S), b.not_(has(p_read, 1)))))
    return ProgramFacts(has(setup.get(), RANDOM), has(pl, IN1_V | IN2_V), has(p, OUT_V), dead,
                        has(b.or_(setup.get(), pl), MAT), has(p_s0, IN1_S | IN2_S))
