"""Native stage: the batch driver, one small module per process: every program on every task in one call.

Programs run in order and, within a program, tasks in collection order, all drawing from the one RNG
state, exactly like calling azlang.evaluate.evaluate for each program in turn with one Rng. Each task row
names the function for its F, so tasks of different feature sizes mix freely in one batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azlang.backends.native import abi, engine

if TYPE_CHECKING:
    from llvmlite import ir

SYMBOL = "azlang_batch"


def for_count(b: ir.IRBuilder, n, name: str, body) -> None:
    """for j in [0, n) with a runtime trip count."""
    from azlang.backends.native.irutil import I64, i64  # code generation only (llvmlite.ir): see build_module

    pre = b.block
    head, loop, done = (b.function.append_basic_block(f"{name}.{x}") for x in ("head", "body", "done"))
    b.branch(head)
    b.position_at_end(head)
    j = b.phi(I64)
    j.add_incoming(i64(0), pre)
    b.cbranch(b.icmp_signed("<", j, n), loop, done)
    b.position_at_end(loop)
    body(j)
    j.add_incoming(b.add(j, i64(1)), b.block)
    b.branch(head)
    b.position_at_end(done)


def build_module() -> ir.Module:
    """The driver's IR: built on an object-cache miss only, so running cached code does not import llvmlite.ir."""
    from llvmlite import ir

    from azlang.backends.native.irutil import I64, at, i64

    module = ir.Module(name=SYMBOL)
    fn = ir.Function(module, abi.BATCH_FN_TYPE, SYMBOL)
    (n_prog, progs, code, data, n_tasks, tasks, opts, rng, mem_ws, scratch, fitness, stats, rec_train, rec_valid,
     rec_mem) = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))

    def slot(table, k):
        return b.load(at(b, table, k), typ=I64)

    def offset(base, p, stride_slot, row, off_slot):
        """base + p * opts[stride] + row[off], in doubles (record buffers of program p, task row)."""
        return at(b, base, b.add(b.mul(p, slot(opts, stride_slot)), slot(row, off_slot)))

    record = b.icmp_signed("!=", slot(opts, abi.OPT_RECORD), i64(0))

    def program(p):
        prow = at(b, progs, b.mul(p, i64(4)))
        start, ns, np_, nl = (slot(prow, k) for k in range(4))
        pcode = b.gep(code, [b.mul(start, i64(4))], source_etype=ir.IntType(32))
        pdata = at(b, data, b.mul(start, i64(3)))

        def task(t):
            row = at(b, tasks, b.mul(t, i64(abi.TASK_SLOTS)))
            cell = b.add(b.mul(p, n_tasks), t)
            mem = b.select(record, offset(rec_mem, p, abi.OPT_MEM_STRIDE, row, abi.TASK_MEM_OFF), mem_ws)
            rt = offset(rec_train, p, abi.OPT_REC_TRAIN_STRIDE, row, abi.TASK_REC_TRAIN_OFF)
            rv = offset(rec_valid, p, abi.OPT_REC_VALID_STRIDE, row, abi.TASK_REC_VALID_OFF)
            st = b.gep(stats, [b.mul(cell, i64(abi.STAT_SLOTS))], source_etype=I64)
            fptr = b.inttoptr(slot(row, abi.TASK_FN), abi.TASK_FN_TYPE.as_pointer())  # typed: llvmlite needs it
            fit = b.call(fptr, [pcode, pdata, ns, np_, nl, row, opts, rng, mem, scratch, st, rt, rv])
            b.store(fit, at(b, fitness, cell), align=8)

        for_count(b, n_tasks, "task", task)

    for_count(b, n_prog, "prog", program)
    b.ret_void()
    return module


def batch_address() -> int:
    return engine.load("driver", build_module, [SYMBOL])[SYMBOL]
