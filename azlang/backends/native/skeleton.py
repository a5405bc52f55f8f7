"""Native stage: the evaluation loop of azlang.evaluate (docs/semantics.md, section 3) as one IR function per task.

Both tiers share it; they differ only in how a component (setup, predict, learn) is run: the kernel calls
its bytecode interpreter, the program JIT pastes the component's straight-line code. Loop state lives in
allocas that LLVM promotes to registers.
"""

from __future__ import annotations

import math

from llvmlite import ir

from azlang.backends.native import abi, engine
from azlang.backends.native.context import Cx, Layout, declare_libm
from azlang.backends.native.irutil import F64, I1, I32, I64, at, f64, for_chunks, i64, load, load1, store
from azlang.backends.native.sigmoid_cuts import class_error_cut, sigmoid_dead_ir, train_cuts
from azlang.fitness import TWO_OVER_PI
from azlang.ir.ops import OPS, VECTOR


class Loop:
    """A counted loop `for j in [0, n)` whose body may leave early through `exit_to`."""

    def __init__(self, b: ir.IRBuilder, n, name: str):
        self.b = b
        self.head = b.append_basic_block(f"{name}.head")
        self.body = b.append_basic_block(f"{name}.body")
        self.done = b.append_basic_block(f"{name}.done")
        self.pre = b.block
        b.branch(self.head)
        b.position_at_end(self.head)
        self.j = b.phi(I64, name=name)
        self.j.add_incoming(i64(0), self.pre)
        b.cbranch(b.icmp_signed("<", self.j, n), self.body, self.done)
        b.position_at_end(self.body)

    def next(self) -> None:
        b = self.b
        self.j.add_incoming(b.add(self.j, i64(1)), b.block)
        b.branch(self.head)
        b.position_at_end(self.done)


class Task:
    """Emits one task-evaluation function; `run(cx, component)` emits the execution of a component."""

    def __init__(self, module: ir.Module, name: str, layout: Layout, run, keeps_v0: bool | None = None,
                 sigmoid_dead: bool | None = None):
        self.fn = ir.Function(module, abi.TASK_FN_TYPE, name)
        for k in abi.TASK_NOALIAS:
            self.fn.args[k].add_attribute("noalias")
        self.layout, self.run_component = layout, run
        self.static_keeps_v0 = keeps_v0  # known when the program is (the JIT); else found from the bytecode
        self.static_sigmoid_dead = sigmoid_dead  # likewise (sigmoid_cuts.py)
        self.b = ir.IRBuilder(self.fn.append_basic_block("entry"))
        (self.code, self.data, self.ns, self.np, self.nl, self.task, self.opts, rng, mem, scratch, self.stats,
         self.rec_train, self.rec_valid) = self.fn.args
        self.cx = Cx(self.b, layout, mem, scratch, rng, declare_libm(module))
        self.cx.task = self

    # --- small accessors -----------------------------------------------------------------------------

    def slot(self, table, k: int):
        return self.b.load(at(self.b, table, k), typ=I64)

    def ptr(self, k: int):
        return self.b.inttoptr(self.slot(self.task, k), ir.PointerType())

    def bump(self, stat: int):
        """stats[stat] += 1, returning the old value."""
        b, p = self.b, at(self.b, self.stats, stat)
        old = b.load(p, typ=I64)
        b.store(b.add(old, i64(1)), p)
        return old

    def set_s(self, addr: int, value) -> None:
        self.b.store(value, at(self.b, self.cx.mem, addr), align=8)

    def s(self, addr: int):
        return load1(self.b, self.cx.mem, addr)

    def load_features(self, x) -> None:
        b, v0 = self.b, at(self.b, self.cx.mem, self.layout.v_off)
        for_chunks(b, self.layout.F, lambda off, w: store(b, load(b, x, off, w), v0, off))

    def sigmoid(self, z):
        return sigmoid(self.cx, z)

    def record(self, flag, buf, stat: int, value) -> None:
        b = self.b
        with b.if_then(flag):
            b.store(value, at(b, buf, self.bump(stat)), align=8)

    def bad(self, err, limit):
        return bad(self.b, err, limit)

    # --- the loop ------------------------------------------------------------------------------------

    def build(self) -> ir.Function:
        b, lay = self.b, self.layout
        self.limit = b.bitcast(self.slot(self.opts, abi.OPT_MAX_ABS_ERROR), F64)
        self.recording = b.icmp_signed("!=", self.slot(self.opts, abi.OPT_RECORD), i64(0))
        self.classify = b.icmp_signed("!=", self.slot(self.task, abi.TASK_CLASSIFY), i64(0))
        self.F = i64(lay.F)
        b.call(self.fn.module.declare_intrinsic("llvm.memset", [ir.PointerType(), I64]),
               [self.cx.mem, ir.Constant(ir.IntType(8), 0), i64(lay.size * 8), ir.Constant(I1, 0)])
        self.run_component(self.cx, "setup")
        if self.static_keeps_v0 is None:
            pcode = b.gep(self.code, [b.mul(self.ns, i64(4))], source_etype=I32)
            self.keeps_v0 = b.not_(writes_v0(b, pcode, self.np))
        else:
            self.keeps_v0 = ir.Constant(I1, int(self.static_keeps_v0))
        if self.static_sigmoid_dead is None:
            dead = sigmoid_dead_ir(b, self.code, self.ns, self.np, self.nl)
        else:
            dead = ir.Constant(I1, int(self.static_sigmoid_dead))
        self.sigmoid_dead = b.and_(b.and_(dead, self.classify), b.not_(self.recording))  # recorded: exact path
        n_train = self.slot(self.task, abi.TASK_N_TRAIN)
        total = self.total = b.mul(n_train, self.slot(self.task, abi.TASK_EPOCHS))
        max_train = self.slot(self.opts, abi.OPT_MAX_TRAIN)
        capped = b.select(b.icmp_signed("<", max_train, total), max_train, total)
        remaining = b.select(b.icmp_signed("<", max_train, i64(0)), total, capped)
        self.pos, self.rem, self.best = (b.alloca(I64), b.alloca(I64), b.alloca(F64))
        b.store(i64(0), self.pos)
        b.store(remaining, self.rem)
        b.store(f64(0.0), self.best)
        self.epochs(n_train)
        b.ret(b.load(self.best, typ=F64))
        return self.fn

    def epochs(self, per_epoch) -> None:
        b = self.b
        head, body, end = (b.append_basic_block(n) for n in ("epoch.head", "epoch.body", "epoch.end"))
        b.branch(head)
        b.position_at_end(head)
        rem = b.load(self.rem, typ=I64)
        b.cbranch(b.icmp_signed(">", rem, i64(0)), body, end)
        b.position_at_end(body)
        k = b.select(b.icmp_signed("<", per_epoch, rem), per_epoch, rem)
        self.train(k, end)  # leaves through `end` on a failed step: best stays what it was
        b.store(b.add(b.load(self.pos, typ=I64), k), self.pos)
        b.store(b.sub(b.load(self.rem, typ=I64), per_epoch), self.rem)
        v, best = self.validate(), b.load(self.best, typ=F64)
        b.store(b.select(b.fcmp_ordered(">", v, best), v, best), self.best)  # Python's max(best, v)
        b.branch(head)
        b.position_at_end(end)

    def train(self, k, fail) -> None:
        b, cx = self.b, self.cx
        seq, pos = self.ptr(abi.TASK_SEQUENCE), b.load(self.pos, typ=I64)
        tx, ty = self.ptr(abi.TASK_TRAIN_X), self.ptr(abi.TASK_TRAIN_Y)
        loop = Loop(b, k, "train")
        idx = b.load(at(b, seq, b.add(pos, loop.j)), typ=I64)
        x, y = at(b, tx, b.mul(idx, self.F)), load1(b, ty, idx)
        self.bump(abi.STAT_STEPS)
        ahead = b.add(b.add(pos, loop.j), i64(PREFETCH_AHEAD))
        with b.if_then(b.icmp_signed("<", ahead, self.total)):  # examples come in random order: ask early
            nxt = b.load(at(b, seq, ahead), typ=I64)
            prefetch_row(b, at(b, tx, b.mul(nxt, self.F)), self.layout.F)
            prefetch(b, at(b, ty, nxt))
        self.load_features(x)
        self.set_s(0, f64(0.0))
        self.run_component(cx, "predict")
        # a dead sigmoid whose error check cannot fail is skipped (sigmoid_cuts.py); s1 keeps the logit
        skip, squash = train_cuts(b, self.classify, self.sigmoid_dead, y, self.s(1), self.limit,
                                  engine.sigmoid_fixed_point())
        with b.if_then(squash):
            self.set_s(1, self.sigmoid(self.s(1)))
        err = cx.fabs(b.fsub(y, self.s(1)))
        ok = b.append_basic_block("train.ok")
        b.cbranch(b.and_(b.not_(skip), self.bad(err, self.limit)), fail, ok)
        b.position_at_end(ok)
        self.record(self.recording, self.rec_train, abi.STAT_REC_TRAIN, err)
        with b.if_then(b.not_(self.keeps_v0)):  # learn sees the features again, as predict saw them
            self.load_features(x)
        self.set_s(0, y)
        self.run_component(cx, "learn")
        loop.next()

    def validate(self):
        b = self.b
        n_valid = self.slot(self.task, abi.TASK_N_VALID)
        max_valid = self.slot(self.opts, abi.OPT_MAX_VALID)
        capped = b.select(b.icmp_signed("<", max_valid, n_valid), max_valid, n_valid)
        n = b.select(b.icmp_signed("<", max_valid, i64(0)), n_valid, capped)
        vx, vy = self.ptr(abi.TASK_VALID_X), self.ptr(abi.TASK_VALID_Y)
        loss = b.alloca(F64)
        b.store(f64(0.0), loss)
        out = b.append_basic_block("valid.out")
        failed = b.append_basic_block("valid.failed")
        loop = Loop(b, n, "valid")
        self.load_features(at(b, vx, b.mul(loop.j, self.F)))
        self.set_s(0, f64(0.0))
        self.run_component(self.cx, "predict")
        y, p = load1(b, vy, loop.j), self.s(1)
        e = self.valid_error(y, p)
        ok = b.append_basic_block("valid.ok")
        b.cbranch(self.bad(self.cx.fabs(e), self.limit), failed, ok)
        b.position_at_end(ok)
        self.record(self.recording, self.rec_valid, abi.STAT_REC_VALID, self.cx.fabs(e))
        term = b.select(self.classify, e, b.fmul(e, e))
        b.store(b.fadd(b.load(loss, typ=F64), term), loss)
        loop.next()
        result = self.fitness(b.load(loss, typ=F64), b.sitofp(n_valid, F64))
        done = b.block
        b.branch(out)
        b.position_at_end(failed)
        b.branch(out)
        b.position_at_end(out)
        phi = b.phi(F64)
        phi.add_incoming(result, done)
        phi.add_incoming(f64(0.0), failed)
        return phi

    def valid_error(self, y, p):
        """azlang.evaluate._valid_error; the sigmoid is only computed on classification tasks."""
        b = self.b
        with b.if_else(self.classify) as (then, otherwise):
            with then:
                ce, cb = self.class_error(y, p), b.block
            with otherwise:
                re_, rb = b.fsub(y, p), b.block
        phi = b.phi(F64)
        phi.add_incoming(ce, cb)
        phi.add_incoming(re_, rb)
        return phi

    def class_error(self, y, p):
        return class_error(self.cx, y, p)

    def fitness(self, loss, n):
        return fitness(self.cx, loss, n, self.classify)


# --- pieces shared with the lockstep skeleton (lanes.py) ---------------------------------------------------

PREFETCH_AHEAD = 4  # train steps


def prefetch(b: ir.IRBuilder, p) -> None:
    """A hint to load the cache line at p (llvm.prefetch: read, keep in all levels, data)."""
    try:
        fn = b.module.get_global("llvm.prefetch.p0")
    except KeyError:
        fn = ir.Function(b.module, ir.FunctionType(ir.VoidType(), [ir.PointerType(), I32, I32, I32]),
                         "llvm.prefetch.p0")
    b.call(fn, [p, ir.Constant(I32, 0), ir.Constant(I32, 3), ir.Constant(I32, 1)])


def prefetch_row(b: ir.IRBuilder, x, F: int) -> None:
    """Prefetch every cache line of a row of F doubles at x (a row may straddle lines)."""
    for off in sorted({*range(0, 8 * F, 64), 8 * F - 1}):
        prefetch(b, b.gep(x, [i64(off)], source_etype=ir.IntType(8)) if off else x)


_WRITES_VECTOR = [int(o.out == VECTOR) for o in OPS]  # ops whose output register, when 0, is v0
_RANDOM = [int(o.is_random) for o in OPS]


def writes_v0(b: ir.IRBuilder, code, n):
    """True when one of the n bytecode rows at `code` writes v0 (else v0 still holds the features after them)."""
    return _scan(b, code, n, "azlang_writes_vector", _WRITES_VECTOR, out_zero=True)


def has_random(b: ir.IRBuilder, code, n):
    """True when one of the n bytecode rows at `code` is a random op."""
    return _scan(b, code, n, "azlang_random_ops", _RANDOM, out_zero=False)


def _scan(b: ir.IRBuilder, code, n, name: str, flags: list[int], out_zero: bool):
    """OR over the rows of flags[op] (and, with out_zero, of out == 0)."""
    try:
        table = b.module.get_global(name)
    except KeyError:
        ty = ir.ArrayType(ir.IntType(8), len(flags))
        table = ir.GlobalVariable(b.module, ty, name)
        table.initializer = ir.Constant(ty, flags)
        table.global_constant = True
        table.linkage = "internal"
    acc = b.alloca(I1)
    b.store(ir.Constant(I1, 0), acc)
    loop = Loop(b, n, name)
    row = b.gep(code, [b.mul(loop.j, i64(4))], source_etype=I32)
    op = b.sext(b.load(row, typ=I32), I64)
    flag = b.load(b.gep(table, [ir.Constant(I32, 0), op], source_etype=table.value_type), typ=ir.IntType(8))
    hit = b.icmp_signed("!=", flag, ir.Constant(ir.IntType(8), 0))
    if out_zero:
        hit = b.and_(hit, b.icmp_signed("==", b.load(b.gep(row, [i64(3)], source_etype=I32), typ=I32),
                                        ir.Constant(I32, 0)))
    b.store(b.or_(b.load(acc, typ=I1), hit), acc)
    loop.next()
    return b.load(acc, typ=I1)

def sigmoid(cx: Cx, z):
    b = cx.b
    return b.fdiv(f64(1.0), b.fadd(f64(1.0), cx.call("exp", b.fneg(z))))


def bad(b: ir.IRBuilder, err, limit):
    """err != err or err > limit."""
    return b.or_(b.fcmp_unordered("uno", err, err), b.fcmp_ordered(">", err, limit))


def class_error(cx: Cx, y, p):
    """inf when sigmoid(p) is outside [0, 1], else 0 when (y > 0.5) == (q > 0.5), else 1: without exp when the
    process's sigmoid threshold is known (sigmoid_cuts.py)."""
    b, t = cx.b, engine.sigmoid_threshold()
    if t is not None:
        return class_error_cut(b, y, p, t)
    q = sigmoid(cx, p)
    out = b.or_(b.fcmp_ordered(">", q, f64(1.0)), b.fcmp_ordered("<", q, f64(0.0)))
    same = b.icmp_unsigned("==", b.fcmp_ordered(">", y, f64(0.5)), b.fcmp_ordered(">", q, f64(0.5)))
    return b.select(out, f64(math.inf), b.select(same, f64(0.0), f64(1.0)))


def fitness(cx: Cx, loss, n, classify):
    """Accuracy (1 - mean error) on classification tasks, else 1 - (2/pi) atan(rms) (0 when not finite)."""
    b = cx.b
    accuracy = b.fsub(f64(1.0), b.fdiv(loss, n))
    rms = cx.sqrt(b.fdiv(loss, n))
    finite = b.fcmp_ordered("!=", cx.fabs(rms), f64(math.inf))  # false for NaN and inf
    # atan (a libm call) only where its value is used: a finite rms on a regression task
    with b.if_else(b.and_(b.not_(classify), finite)) as (then, otherwise):
        with then:
            computed = b.fsub(f64(1.0), b.fmul(f64(TWO_OVER_PI), cx.call("atan", rms)))
            from_then = b.block
        with otherwise:
            from_otherwise = b.block
    squashed = b.phi(F64)
    squashed.add_incoming(computed, from_then)
    squashed.add_incoming(f64(0.0), from_otherwise)
    return b.select(classify, accuracy, squashed)
