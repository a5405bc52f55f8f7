"""Native stage: one program on many tasks in lockstep (the lanes of the kernel module).

The tasks of a search evaluation all run the same program over the same number of examples, so one
bytecode dispatch can serve all of them: the lane interpreter decodes an instruction once and runs it on
every live lane (each lane is one task with its own memory), and independent lanes overlap in the CPU.
Each lane computes exactly what the one-task skeleton computes, in the same order: a lane whose
prediction error is bad leaves the active list at once (its best fitness stays), a lane whose validation
fails scores 0 for that epoch and trains on. Random ops are allowed in setup only (setups run first, lane
after lane, so a shared Rng is consumed in task order); the caller guarantees that and the equal shapes.
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native import abi, engine
from azlang.backends.native.context import Cx, Layout, Operands, declare_libm
from azlang.backends.native.irutil import F64, I1, I32, I64, PTR, at, for_chunks, load, store
from azlang.backends.native.lowering import LOWER
from azlang.backends.native.search_emit import Fn, c64, cf
from azlang.backends.native.sigmoid_cuts import sigmoid_dead_ir, train_cuts
from azlang.backends.native.skeleton import (
    bad,
    class_error,
    fitness,
    has_random,
    prefetch,
    prefetch_row,
    sigmoid,
    writes_v0,
)
from azlang.ir.ops import OPS

LANE_ARRAYS = 7  # per-lane arrays in the work space: act, vact, xp, ys, best, loss, vfail
ROW_SLOTS = 9  # task-row slots a lane reads (TASK_TRAIN_X .. TASK_CLASSIFY)
assert ROW_SLOTS == abi.TASK_CLASSIFY + 1 and abi.LANE_WORK == LANE_ARRAYS + ROW_SLOTS
PREFETCH_AHEAD = 2  # train steps: a step of all lanes outlasts a load from the last-level cache
INTERP_LANES_TYPE = ir.FunctionType(ir.VoidType(), [PTR, PTR, I64, PTR, I64, PTR, I64, PTR, PTR])
# code, data, n instructions, mem base, mem stride (doubles), active lanes, n active, scratch, rng


def interpreter(module: ir.Module, layout: Layout, name: str, lower: dict = LOWER, make_cx=None,
                small: bool = False, tree: bool = False) -> ir.Function:
    """Per instruction: decode once, then run the op's lowering on every active lane's memory.

    `act` lists lanes (stride: one lane's doubles) or, with the struct-of-arrays lowerings of lanes_simd,
    groups of lanes (stride: one group's doubles); `make_cx(b, base, scratch, rng, lib)` builds the context.
    `small` compiles it for size and into its callers (lanes_simd: see LanesSoA). `tree`: the op is found by
    a binary search of compares over the lowered ops (a handful of them) rather than by a switch's jump table.
    """
    make_cx = make_cx or (lambda b, base, scratch, rng, lib: Cx(b, layout, base, scratch, rng, lib))
    fn = ir.Function(module, INTERP_LANES_TYPE, name)
    fn.linkage = "internal"
    fn.attributes.add("alwaysinline" if small else "noinline")
    if small:
        fn.attributes.add("optsize")
    for k in (3, 7, 8):
        fn.args[k].add_attribute("noalias")
    code, data, n, mem, stride, act, na, scratch, rng = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    loop, step, exit_ = (fn.append_basic_block(x) for x in ("loop", "next", "exit"))
    b.cbranch(b.icmp_signed(">", n, ir.Constant(I64, 0)), loop, exit_)
    b.position_at_end(loop)
    i = b.phi(I64)
    i.add_incoming(ir.Constant(I64, 0), fn.entry_basic_block)
    row = b.gep(code, [b.mul(i, ir.Constant(I64, 4))], source_etype=I32)
    op, in1, in2, out = (b.load(b.gep(row, [ir.Constant(I64, k)], source_etype=I32), typ=I32) for k in range(4))
    d = at(b, data, b.mul(i, ir.Constant(I64, 3)))
    lib = declare_libm(module)
    cases = {opdef.id: fn.append_basic_block(f"op{opdef.id}") for opdef in OPS[1:] if opdef.id in lower}
    if tree and cases:
        _tree(fn, b, op, sorted(cases.items()), step)
    else:
        switch = b.switch(op, step)
        for k, block in cases.items():
            switch.add_case(ir.Constant(I32, k), block)
    for k, block in cases.items():  # an op not in `lower` the caller keeps out (lowering_simd.SOA_FALLBACK)
        opdef = OPS[k]
        b.position_at_end(block)
        head, body = fn.append_basic_block(f"op{opdef.id}.lane"), fn.append_basic_block(f"op{opdef.id}.body")
        b.branch(head)
        b.position_at_end(head)
        a = b.phi(I64)
        a.add_incoming(ir.Constant(I64, 0), block)
        b.cbranch(b.icmp_signed("<", a, na), body, step)
        b.position_at_end(body)
        lane = b.load(b.gep(act, [a], source_etype=I64), typ=I64)
        cx = make_cx(b, at(b, mem, b.mul(lane, stride)), scratch, rng, lib)
        lower[opdef.id](cx, Operands(cx, opdef, out, in1, in2, lambda k, d=d: b.load(at(b, d, k), typ=F64)))
        a.add_incoming(b.add(a, ir.Constant(I64, 1)), b.block)
        b.branch(head)
    b.position_at_end(step)
    nxt = b.add(i, ir.Constant(I64, 1))
    i.add_incoming(nxt, step)
    b.cbranch(b.icmp_signed("<", nxt, n), loop, exit_)
    b.position_at_end(exit_)
    b.ret_void()
    return fn


def _tree(fn: ir.Function, b: ir.IRBuilder, op, cases: list, miss: ir.Block) -> None:
    """Branch to the block of `op` among `cases` (sorted (id, block) pairs) by a balanced binary search: unsigned
    less-than compares, then one equality compare per leaf (any other op goes to `miss`). LLVM keeps it as it
    is (it folds chains of equality compares into a switch, not these)."""
    if len(cases) == 1:
        k, block = cases[0]
        b.cbranch(b.icmp_unsigned("==", op, ir.Constant(I32, k)), block, miss)
        return
    mid = len(cases) // 2
    lo, hi = fn.append_basic_block("lo"), fn.append_basic_block("hi")
    b.cbranch(b.icmp_unsigned("<", op, ir.Constant(I32, cases[mid][0])), lo, hi)
    for half, block in ((cases[:mid], lo), (cases[mid:], hi)):
        b.position_at_end(block)
        _tree(fn, b, op, half, miss)


class Lanes:
    """Emits the exported lockstep function `name(args)`; `interp1` runs one lane (setup), `interpl` many."""

    def __init__(self, module: ir.Module, name: str, layout: Layout, interp1: ir.Function, interpl: ir.Function):
        self.f = f = Fn(module, name, ir.VoidType(), [], export=True)
        self.layout, self.interp1, self.interpl = layout, interp1, interpl
        b = f.b
        self.cx = Cx(b, layout, None, None, None, declare_libm(module))
        self.code, self.data = self.p("CODE"), self.p("DATA")
        self.ns, self.np, self.nl = self.a("NS"), self.a("NP"), self.a("NL")
        self.tasks, self.lane_task, self.n = self.p("TASKS"), self.p("LANE_TASK"), self.a("N")
        self.opts, self.rng, self.mem, self.scratch = self.p("OPTS"), self.p("RNG"), self.p("MEM"), self.p("SCRATCH")
        self.mstride, self.stats, self.fit = self.a("MEM_STRIDE"), self.p("STATS"), self.p("FIT")
        self.rec = {"train": (self.p("REC_TRAIN"), self.a("RT_STRIDE"), abi.STAT_REC_TRAIN),
                    "valid": (self.p("REC_VALID"), self.a("RV_STRIDE"), abi.STAT_REC_VALID)}
        work, n = self.p("WORK"), self.n
        self.act, self.vact, self.xp, self.ys, self.best, self.loss, self.vfail = (
            f.gep(work, f.mul(n, k), I64) for k in range(LANE_ARRAYS))
        self.rows = f.gep(work, f.mul(n, LANE_ARRAYS), I64)  # each lane's copy of its task row
        self.limit = b.bitcast(f.ld(self.opts, abi.OPT_MAX_ABS_ERROR), F64)
        self.recording = f.flag(f.ld(self.opts, abi.OPT_RECORD))
        self.scoring = f.b.not_(f.flag(f.ld(self.opts, abi.OPT_PROBE)))  # an FEC probe needs no fitness
        self.keeps_memory = f.b.and_(self.recording, self.scoring)  # each lane's final memory (lane groups)

    # --- accessors -------------------------------------------------------------------------------------

    def a(self, name: str):
        return self.f.ld(self.f.ctx, abi.L[name])

    def p(self, name: str):
        return self.f.b.inttoptr(self.a(name), PTR)

    def row(self, lane):
        """The lane's copy of the first ROW_SLOTS slots of its task row (one load less per access)."""
        return self.f.gep(self.rows, self.f.mul(lane, ROW_SLOTS), I64)

    def task_row(self, lane):
        """The lane's row of the task table (all TASK_SLOTS slots)."""
        return self.f.gep(self.tasks, self.f.mul(self.f.ld(self.lane_task, lane), abi.TASK_SLOTS), I64)

    def tptr(self, row, slot: int):
        return self.f.b.inttoptr(self.f.ld(row, slot), PTR)

    def lane_mem(self, lane):
        return self.f.gep(self.mem, self.f.mul(lane, self.mstride), F64)

    def stat(self, lane, k: int):
        return self.f.gep(self.stats, self.f.add(self.f.mul(lane, abi.STAT_SLOTS), k), I64)

    def bump(self, lane, k: int):
        """stats[lane][k] += 1, returning the old value."""
        b, p = self.f.b, self.stat(lane, k)
        old = b.load(p, typ=I64)
        b.store(b.add(old, c64(1)), p)
        return old

    def features(self, m, x) -> None:
        b, v0 = self.f.b, at(self.f.b, m, self.layout.v_off)
        for_chunks(b, self.layout.F, lambda off, w: store(b, load(b, x, off, w), v0, off))

    def prefetch(self, row, q) -> None:
        """Ask for the example `PREFETCH_AHEAD` steps on (lanes share the caches: rows come in random order)."""
        f, b = self.f, self.f.b
        with f.if_(f.lt(q, self.total)):
            idx = f.ld(self.tptr(row, abi.TASK_SEQUENCE), q)
            prefetch_row(b, f.gep(self.tptr(row, abi.TASK_TRAIN_X), f.mul(idx, self.layout.F), F64), self.layout.F)
            prefetch(b, f.gep(self.tptr(row, abi.TASK_TRAIN_Y), idx, F64))

    def record(self, kind: str, lane, value) -> None:
        f = self.f
        buf, stride, k = self.rec[kind]
        with f.if_(self.recording):
            f.st(buf, f.add(f.mul(lane, stride), self.bump(lane, k)), value, F64)

    def run(self, comp: str, act, na) -> None:
        f, b = self.f, self.f.b
        start = {"predict": self.ns, "learn": f.add(self.ns, self.np)}[comp]
        count = {"predict": self.np, "learn": self.nl}[comp]
        code, data = f.gep(self.code, f.mul(start, 4), I32), f.gep(self.data, f.mul(start, 3), F64)
        b.call(self.interpl, [code, data, count, self.mem, self.mstride, act, na, self.scratch, self.rng])

    # --- the loop ----------------------------------------------------------------------------------------

    def build(self) -> ir.Function:
        f, b = self.f, self.f.b
        with f.loop(self.n) as lane:
            self.init_lane(lane)
        self.setup()
        row0 = self.row(c64(0))
        total = f.mul(f.ld(row0, abi.TASK_N_TRAIN), f.ld(row0, abi.TASK_EPOCHS))
        max_train = f.ld(self.opts, abi.OPT_MAX_TRAIN)
        remaining = f.sel(f.lt(max_train, 0), total, f.sel(f.lt(max_train, total), max_train, total))
        self.total = total
        self.keeps_v0, dead = self.predict_facts()
        self.sigmoid_dead = b.and_(dead, b.not_(self.recording))  # recorded runs keep the exact path
        pos = f.var(c64(0))
        self.loop(row0, remaining, pos)
        with f.loop(self.n) as lane:
            f.st(self.fit, lane, f.ld(self.best, lane, F64), F64)
        return f.finish()

    def predict_facts(self):
        """(predict leaves v0 as it found it, the sigmoid is dead) as i1s, from scans of the program."""
        b = self.f.b
        pcode = self.f.gep(self.code, self.f.mul(self.ns, 4), I32)
        return b.not_(writes_v0(b, pcode, self.np)), sigmoid_dead_ir(b, self.code, self.ns, self.np, self.nl)

    def reset_lane(self, lane) -> None:
        """A lane's stats and best fitness zeroed."""
        for k in range(abi.STAT_SLOTS):
            self.f.b.store(c64(0), self.stat(lane, k))
        self.f.st(self.best, lane, cf(0.0), F64)

    def init_lane(self, lane) -> None:
        """reset_lane, the lane's place in the active list and its copy of its task row."""
        f = self.f
        self.reset_lane(lane)
        f.st(self.act, lane, lane)
        task_row = self.task_row(lane)
        for k in range(ROW_SLOTS):
            f.st(self.row(lane), k, f.ld(task_row, k))

    def zero(self, m, doubles) -> None:
        memset = self.f.module.declare_intrinsic("llvm.memset", [PTR, I64])
        self.f.b.call(memset, [m, ir.Constant(ir.IntType(8), 0), self.f.mul(doubles, 8), ir.Constant(I1, 0)])

    def setup_lane(self, lane, m) -> None:
        """The setup of one lane on memory m, drawing from the lane's Rng."""
        f = self.f
        f.b.call(self.interp1, [self.code, self.data, self.ns, m, self.scratch,
                                f.gep(self.rng, f.mul(lane, self.a("RNG_STRIDE")), I64)])

    def setup(self) -> None:
        f, b = self.f, self.f.b
        with f.loop(self.n) as lane:
            self.zero(self.lane_mem(lane), c64(self.layout.size))
        with f.if_else(has_random(b, self.code, self.ns)) as (drawing, plain):
            # setups that draw run one after another, in lane order (a shared Rng is consumed in task order)
            with drawing, f.loop(self.n) as lane:
                self.setup_lane(lane, self.lane_mem(lane))
            with plain:
                b.call(self.interpl, [self.code, self.data, self.ns, self.mem, self.mstride, self.act, self.n,
                                      self.scratch, self.rng])

    def loop(self, row0, remaining, pos) -> None:
        """Epochs of training and validation until the budget is spent or every lane stopped."""
        f, b = self.f, self.f.b
        n_train = f.ld(row0, abi.TASK_N_TRAIN)
        na, rem = f.var(self.n), f.var(remaining)
        with f.forever():
            with f.if_(b.or_(f.le(rem.get(), 0), f.le(na.get(), 0))):
                f.brk()
            r = rem.get()
            k = f.sel(f.lt(n_train, r), n_train, r)
            self.train(k, pos.get(), na)
            pos.set(f.add(pos.get(), k))
            rem.set(f.sub(rem.get(), n_train))
            self.validate(row0, na.get())
        with f.loop(na.get()) as i:  # the lanes that never failed ran every step
            b.store(pos.get(), self.stat(f.ld(self.act, i), abi.STAT_STEPS))

    def train(self, k, pos, na) -> None:
        f, b = self.f, self.f.b
        with f.loop(k) as j:
            with f.if_(f.le(na.get(), 0)):
                f.brk()
            with f.loop(na.get()) as i:
                lane = f.ld(self.act, i)
                row = self.row(lane)
                idx = f.ld(self.tptr(row, abi.TASK_SEQUENCE), f.add(pos, j))
                x = f.gep(self.tptr(row, abi.TASK_TRAIN_X), f.mul(idx, self.layout.F), F64)
                f.st(self.xp, lane, b.ptrtoint(x, I64))
                f.st(self.ys, lane, f.ld(self.tptr(row, abi.TASK_TRAIN_Y), idx, F64), F64)
                self.prefetch(row, f.add(f.add(pos, j), PREFETCH_AHEAD))
                m = self.lane_mem(lane)
                self.features(m, x)
                f.st(m, 0, cf(0.0), F64)
            self.run("predict", self.act, na.get())
            kept = f.var(c64(0))
            with f.loop(na.get()) as i:
                lane = f.ld(self.act, i)
                m = self.lane_mem(lane)
                y, classify = f.ld(self.ys, lane, F64), f.flag(f.ld(self.row(lane), abi.TASK_CLASSIFY))
                skip, squash = train_cuts(b, classify, self.sigmoid_dead, y, f.ld(m, 1, F64), self.limit,
                                          engine.sigmoid_fixed_point())
                with f.if_(squash):
                    f.st(m, 1, sigmoid(self.cx, f.ld(m, 1, F64)), F64)
                err = self.cx.fabs(b.fsub(y, f.ld(m, 1, F64)))
                # the lane stops here: its best fitness stays what it was
                with f.if_(b.and_(b.not_(skip), bad(b, err, self.limit))):
                    b.store(f.add(f.add(pos, j), 1), self.stat(lane, abi.STAT_STEPS))  # this step counts
                    f.cont()
                self.record("train", lane, err)
                f.st(self.act, kept.get(), lane)
                kept.set(f.add(kept.get(), 1))
                with f.if_(b.not_(self.keeps_v0)):  # learn sees the features again, as predict saw them
                    self.features(m, b.inttoptr(f.ld(self.xp, lane), PTR))
                f.st(m, 0, f.ld(self.ys, lane, F64), F64)
            na.set(kept.get())
            self.run("learn", self.act, na.get())

    def validate(self, row0, na) -> None:
        f, b = self.f, self.f.b
        n_valid = f.ld(row0, abi.TASK_N_VALID)
        max_valid = f.ld(self.opts, abi.OPT_MAX_VALID)
        n = f.sel(f.lt(max_valid, 0), n_valid, f.sel(f.lt(max_valid, n_valid), max_valid, n_valid))
        with f.loop(na) as i:
            lane = f.ld(self.act, i)
            f.st(self.vact, i, lane)
            f.st(self.loss, lane, cf(0.0), F64)
            f.st(self.vfail, lane, c64(0))
        nv = f.var(na)
        with f.loop(n) as j:
            with f.if_(f.le(nv.get(), 0)):
                f.brk()
            with f.loop(nv.get()) as i:
                lane = f.ld(self.vact, i)
                m = self.lane_mem(lane)
                self.features(m, f.gep(self.tptr(self.row(lane), abi.TASK_VALID_X), f.mul(j, self.layout.F), F64))
                f.st(m, 0, cf(0.0), F64)
            self.run("predict", self.vact, nv.get())
            kept = f.var(c64(0))
            with f.loop(nv.get()) as i:
                lane = f.ld(self.vact, i)
                row = self.row(lane)
                y, p = f.ld(self.tptr(row, abi.TASK_VALID_Y), j, F64), f.ld(self.lane_mem(lane), 1, F64)
                classify = f.flag(f.ld(row, abi.TASK_CLASSIFY))
                e = self.valid_error(classify, y, p)
                ae = self.cx.fabs(e)
                with f.if_(bad(b, ae, self.limit)):
                    f.st(self.vfail, lane, c64(1))
                    f.cont()
                self.record("valid", lane, ae)
                term = b.select(classify, e, b.fmul(e, e))
                f.st(self.loss, lane, b.fadd(f.ld(self.loss, lane, F64), term), F64)
                f.st(self.vact, kept.get(), lane)
                kept.set(f.add(kept.get(), 1))
            nv.set(kept.get())
        nvf = b.sitofp(n_valid, F64)
        with f.if_(self.scoring), f.loop(na) as i:
            lane = f.ld(self.act, i)
            classify = f.flag(f.ld(self.row(lane), abi.TASK_CLASSIFY))
            v = fitness(self.cx, f.ld(self.loss, lane, F64), nvf, classify)
            v = f.sel(f.flag(f.ld(self.vfail, lane)), cf(0.0), v)
            best = f.ld(self.best, lane, F64)
            f.st(self.best, lane, b.select(b.fcmp_ordered(">", v, best), v, best), F64)  # max(best, v)

    def valid_error(self, classify, y, p):
        f, b = self.f, self.f.b
        out = f.var(cf(0.0))
        with f.if_else(classify) as (then, otherwise):
            with then:
                out.set(class_error(self.cx, y, p))
            with otherwise:
                out.set(b.fsub(y, p))
        return out.get()
