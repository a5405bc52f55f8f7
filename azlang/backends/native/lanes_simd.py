"""Native stage: lockstep lanes in struct-of-arrays groups, W tasks per SIMD register (lowering_simd.py).

MEM holds ceil(n/W) groups of W lanes (lane_groups.py), then one group of scratch, n lanes of final memory
(recorded runs) and the groups' state (masks, labels, losses, task pointers). The interpreter runs each
instruction once per group that still has a live lane. The per-step glue works on whole groups too: every
lane of a group loads its example (a padding lane past n loads lane n-1's; a group holding, in order, the tasks
of one interleaved group of NativeEvaluator.order_train loads a step as F + 1 W-vectors), labels, errors and
losses are W-vectors, and only a lane's stop is handled lane by lane. A lane that stopped (or a padding lane) keeps
being computed with whatever its memory holds and nothing reads it: ops address memory by constants only,
never by data. A lane whose validation fails keeps a copy of its memory, put back after the validation (the
predictions it skips in lanes.py must not touch it). Each live lane computes exactly what lanes.py computes
for it, in the same order (same steps, records, fitness). Setups that draw run lane after lane on a one-lane
area (the lanes' Rng use stays in task order) and are scattered into the groups (the set-up: lane_setup.py).
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native import abi, engine
from azlang.backends.native.irutil import F64, I32, I64, PTR, at, transpose, vec
from azlang.backends.native.lane_groups import (
    CLS,
    GTX,
    GTY,
    GVX,
    GVY,
    LIVE,
    LOSS,
    SEQ,
    STATE,
    TX,
    TY,
    VFAIL,
    VLIVE,
    VX,
    VY,
    XP,
    YS,
    GroupMemory,
    W,
)
from azlang.backends.native.lane_setup import GroupSetup
from azlang.backends.native.lanes import PREFETCH_AHEAD, Lanes, interpreter
from azlang.backends.native.lowering_simd import SOA, SCx
from azlang.backends.native.search_emit import c64, cf
from azlang.backends.native.sigmoid_cuts import cannot_fail, class_error_cut, settled
from azlang.backends.native.skeleton import class_error, fitness, prefetch, prefetch_row, sigmoid

GROUP_AHEAD = 4  # steps: an interleaved group's examples are asked for this far ahead (a stream out of cache
# otherwise waits on memory at every step: twice as slow at F=16, 8000 examples)


def group_interpreter(module: ir.Module, layout, name: str, ops: frozenset[int] | None = None) -> ir.Function:
    """lanes.interpreter over groups: `act` lists the groups to run, `stride` is one group's doubles. Compiled
    for size (LanesSoA); with `ops`, for those ops only (kernel.ops_lanes_address)."""
    lower = SOA if ops is None else {k: v for k, v in SOA.items() if k in ops}
    return interpreter(module, layout, name, lower,
                       lambda b, base, scratch, rng, lib: SCx(b, layout, W, base, scratch, lib), small=True,
                       tree=ops is not None)


class LanesSoA(GroupSetup, GroupMemory, Lanes):
    """The lockstep function on struct-of-arrays groups; `interpg` is group_interpreter's function.

    Both are compiled for size (optsize): a call runs 1 to 3 groups, and unrolled group loops (by 8, with
    remainders) only made the code four times larger, its per-call set-up longer and the instruction cache
    miss (an FEC probe: 8% faster, a full evaluation 7%; benchmarks/bench_lanes_call.py). The interpreter is
    inlined where a component runs (a probe calls it 30 times, each call saving and restoring registers and
    passing nine arguments: demo 1.04x, baseline 1.07x whole run; a direct-threaded interpreter over a table
    decoded once per call gave the same, and nothing more when inlined too). The arithmetic is the same
    instructions on the same values, so results keep their bits."""

    def __init__(self, module: ir.Module, name: str, layout, interp1: ir.Function, interpg: ir.Function,
                 regression: bool = False):
        self.regression = regression  # GroupMemory.mask: for tasks that never classify
        super().__init__(module, name, layout, interp1, interpg)
        f = self.f
        f.fn.attributes.add("optsize")
        self.gstride = f.mul(self.mstride, W)
        self.ngroups = f.b.udiv(f.add(self.n, W - 1), c64(W))
        self.spare = f.gep(self.mem, f.mul(self.ngroups, self.gstride), F64)  # the scratch group
        self.final = f.gep(self.spare, self.gstride, F64)  # lane by lane: each lane's memory when it stopped
        self.state = f.gep(self.final, f.mul(self.n, self.mstride), F64)
        self.glist = f.gep(self.state, f.mul(self.ngroups, STATE), F64)  # groups with a live lane
        self.gvlist = f.gep(self.glist, self.ngroups, I64)  # groups with a lane still validating
        self.limit_bits = self.limit_integer()  # what `bad` compares error bits with

    def load_group(self, g, q, train: bool) -> None:
        """Example q of every lane of group g (train: q-th of its sequence) into v0 when read, labels into YS when
        the tasks are not grouped (label_ptr); s0 = 0."""
        f = self.f
        with f.if_else(self.grouped) as (grouped, rows):
            with grouped:  # the labels are read where they are (label_ptr)
                ky, kx = (GTY, GTX) if train else (GVY, GVX)
                with f.if_(self.far):  # 32-byte blocks of labels: within one line
                    prefetch(f.b, self.stream(g, ky, f.add(q, GROUP_AHEAD), 1))
                with f.if_(self.needs_x):
                    self.copy_x(g, self.stream(g, kx, q, self.layout.F))
                    with f.if_(self.far):
                        prefetch_row(f.b, self.stream(g, kx, f.add(q, GROUP_AHEAD), self.layout.F),
                                     self.layout.F * W)
            with rows:
                ys = f.var(ir.Constant(vec(W), [0.0] * W))
                if train:
                    with f.if_else(self.ordered) as (ordered, indexed):
                        with ordered:
                            ys.set(self.labels(g, TY, q))
                        with indexed:
                            ys.set(self.indexed(g, q))
                    xs = self.train_rows(g, q)
                else:
                    ys.set(self.labels(g, VY, q))
                    xs = self.row_addresses(g, VX, q)
                with f.if_(self.needs_x):
                    self.scatter(g, xs)
                self.vst(ys.get(), self.gs(g, YS))
        self.vst(ir.Constant(vec(W), [0.0] * W), self.gmem(g))  # unconditional: a branch here cost more

    def label_ptr(self, g, ky: int, q):
        """Where group g's labels of step q are: in its interleaved label stream, or (tasks not grouped) in YS,
        where load_group put them."""
        return self.f.sel(self.grouped, self.stream(g, ky, q, 1), self.gs(g, YS))

    def stream(self, g, k: int, q, width: int):
        """Step q of group g's interleaved stream k (width W-vectors a step). load_group asks for step
        q + GROUP_AHEAD as it reads step q: a stream longer than the caches would otherwise wait on memory."""
        f = self.f
        return f.gep(f.b.inttoptr(f.ld(self.gs(g, k), 0, I64), PTR), f.mul(q, width * W), F64)

    def copy_x(self, g, block) -> None:
        """The features of an interleaved block into v0 of group g, a W-vector per element."""
        b = self.f.b
        v0 = at(b, self.gmem(g), self.layout.v_off * W)
        for e in range(self.layout.F):
            b.store(self.vld(at(b, block, e * W)), at(b, v0, e * W), align=8)

    def reload_x(self, g, q) -> None:
        """The features of train step q into v0 of group g again (predict wrote v0; learn sees the example; the
        step's lines are in cache since load_group)."""
        f = self.f
        with f.if_else(self.grouped) as (grouped, rows):
            with grouped:
                self.copy_x(g, self.stream(g, GTX, q, self.layout.F))
            with rows:
                self.scatter(g, self.train_rows(g, q))

    def labels(self, g, ky: int, idx):
        """Element idx of label array ky of every lane of group g, as a W-vector. Train arrays in sequence order
        (TASK_ORDERED) are read at idx = q: one stream per lane that the hardware prefetcher follows, no index
        to load first."""
        f, b = self.f, self.f.b
        ys = ir.Constant(vec(W), ir.Undefined)
        for l_ in range(W):
            ys = b.insert_element(ys, f.ld(self.ptr(g, ky, l_), idx, F64), ir.Constant(I32, l_))
        return ys

    def row_addresses(self, g, kx: int, idx):
        """The addresses of row idx of feature array kx of every lane of group g."""
        f = self.f
        return [f.gep(self.ptr(g, kx, l_), f.mul(idx, self.layout.F), F64) for l_ in range(W)]

    def train_rows(self, g, q):
        """The addresses of the train rows of group g at step q: in sequence order, computed; else those the
        step's index loads left in XP."""
        b = self.f.b
        return [b.select(self.ordered, x, self.ptr(g, XP, l_)) for l_, x in enumerate(self.row_addresses(g, TX, q))]

    def indexed(self, g, q):
        """Train labels of group g at step q through each lane's sequence, with prefetches PREFETCH_AHEAD on."""
        f, b, F = self.f, self.f.b, self.layout.F
        ys = ir.Constant(vec(W), ir.Undefined)
        ahead = f.lt(f.add(q, PREFETCH_AHEAD), self.total)
        live = self.mask(g, LIVE)
        for l_ in range(W):
            idx = f.ld(self.ptr(g, SEQ, l_), q)
            x = f.gep(self.ptr(g, TX, l_), f.mul(idx, F), F64)
            ys = b.insert_element(ys, f.ld(self.ptr(g, TY, l_), idx, F64), ir.Constant(I32, l_))
            f.st(self.gs(g, XP + l_), 0, b.ptrtoint(x, I64))
            on = b.and_(ahead, f.ne(b.and_(live, c64(1 << l_)), 0))
            with f.if_(on):  # a live lane asks for its example PREFETCH_AHEAD steps on (rows in random order)
                nxt = f.ld(self.ptr(g, SEQ, l_), f.add(q, PREFETCH_AHEAD))
                with f.if_(self.needs_x):
                    prefetch_row(b, f.gep(self.ptr(g, TX, l_), f.mul(nxt, F), F64), F)
                prefetch(b, f.gep(self.ptr(g, TY, l_), nxt, F64))
        return ys

    def scatter(self, g, xs) -> None:
        """The W feature rows at xs into v0 of group g: loaded as rows, transposed to W-vectors per element."""
        b, F = self.f.b, self.layout.F
        v0 = at(b, self.gmem(g), self.layout.v_off * W)
        for c in range(0, F, W):
            w = min(W, F - c)
            rows = [b.load(at(b, x, c), typ=vec(w), align=8) if w > 1 else
                    b.insert_element(ir.Constant(vec(1), ir.Undefined), b.load(at(b, x, c), typ=F64),
                                     ir.Constant(I32, 0)) for x in xs]
            for k, col in enumerate(transpose(b, rows, w)):
                b.store(col, at(b, v0, (c + k) * W), align=8)

    def run_groups(self, code, data, count, glist, ng) -> None:
        self.f.b.call(self.interpl, [code, data, count, self.mem, self.gstride, glist, ng, self.spare, self.rng])

    def run(self, comp: str, glist, ng) -> None:
        f = self.f
        start = {"predict": self.ns, "learn": f.add(self.ns, self.np)}[comp]
        count = {"predict": self.np, "learn": self.nl}[comp]
        self.run_groups(f.gep(self.code, f.mul(start, 4), I32), f.gep(self.data, f.mul(start, 3), F64), count,
                        glist, ng)

    def compact(self, glist, ng, k: int) -> None:
        """Keep in glist[0:ng] the groups whose mask k is not empty: only after a step in which a lane stopped
        (`stops`, set where a mask loses lanes; cleared here), else the list stands."""
        f = self.f
        with f.if_(f.ne(self.stops.get(), 0)):
            self.stops.set(c64(0))
            kept = f.var(c64(0))
            with f.loop(ng.get()) as a:
                g = f.ld(glist, a)
                with f.if_(f.ne(self.mask(g, k), 0)):
                    f.st(glist, kept.get(), g)
                    kept.set(f.add(kept.get(), 1))
            ng.set(kept.get())

    # --- the loop (set-up: lane_setup.GroupSetup) ---------------------------------------------------------

    def loop(self, row0, remaining, pos):
        f, b = self.f, self.f.b
        self.needs_x = b.or_(self.keeps_memory, self.facts.reads_v0)
        # each step sets s0 to 0 before predict (docs/semantics.md, sections 3.2 and 3.3), which only predict could
        # tell from the last label learn saw, or a kept final memory (needs_x holds that); steps with no features to
        # load, no s0 to clear and no rows to follow (grouped, near streams) run no load_group loop: they read their
        # labels in place
        self.loading = b.or_(b.or_(b.not_(self.grouped), self.far), b.or_(self.needs_x, self.facts.predict_reads_s0))
        n_train = f.ld(row0, abi.TASK_N_TRAIN)
        # one round of training and one of validation (an FEC probe): every lane still recording has recorded at
        # every step before, so a group stores its lanes' errors at the step's index, and each lane's count is
        # set where it stops and after the round (no per-lane counter per step)
        self.at_once = b.and_(self.recording, f.le(remaining, n_train))
        self.stops = f.var(c64(0))  # a lane stopped since the last compact
        ng = f.var(self.ngroups)
        rem = f.var(remaining)
        with f.forever():
            with f.if_(b.or_(f.le(rem.get(), 0), f.le(ng.get(), 0))):
                f.brk()
            r = rem.get()
            k = f.sel(f.lt(n_train, r), n_train, r)
            self.train(k, pos.get(), ng)
            self.counted("train", ng.get(), LIVE, k)
            pos.set(f.add(pos.get(), k))
            rem.set(f.sub(rem.get(), n_train))
            self.validate(row0, ng.get())
        with f.loop(ng.get()) as a:  # the lanes that never failed ran every step
            g = f.ld(self.glist, a)
            self.each(self.mask(g, LIVE), lambda l_: self.finish_lane(f.add(f.mul(g, W), l_), pos.get()))

    def finish_lane(self, lane, steps) -> None:
        self.f.b.store(steps, self.stat(lane, abi.STAT_STEPS))
        self.stopped(lane)

    def train(self, k, pos, ng) -> None:
        f, b = self.f, self.f.b
        with f.loop(k) as j:
            with f.if_(f.le(ng.get(), 0)):
                f.brk()
            q = f.add(pos, j)
            with f.if_(self.loading), f.loop(ng.get()) as a:
                self.load_group(f.ld(self.glist, a), q, True)
            self.run("predict", self.glist, ng.get())
            with f.loop(ng.get()) as a:
                g = f.ld(self.glist, a)
                m, ys = self.gmem(g), self.vld(self.label_ptr(g, GTY, q))
                s1 = at(b, m, W)
                skip, p = self.classified(g, ys, s1)
                err = self.cx.fabs(b.fsub(ys, p))
                live = self.mask(g, LIVE)
                newly = b.and_(b.and_(self.bad(err), live), b.not_(skip))
                with f.if_(f.ne(newly, 0)):  # these lanes stop here: their best fitness stays what it was
                    self.each(newly, lambda l_: self.finish_lane(f.add(f.mul(g, W), l_), f.add(q, 1)))
                    with f.if_(self.at_once):
                        self.counts("train", g, newly, q)
                    self.set_mask(g, LIVE, b.and_(live, b.not_(newly)))
                    self.stops.set(c64(1))
                with f.if_(self.recording), f.if_else(self.at_once) as (once, each):
                    with once:
                        self.records("train", g, q, err)
                    with each:
                        self.each(self.mask(g, LIVE), lambda l_: self.record(
                            "train", f.add(f.mul(g, W), l_), b.extract_element(err, ir.Constant(I32, l_))))
                with f.if_(b.and_(b.not_(self.keeps_v0), self.needs_x)):  # learn sees the features predict saw
                    self.reload_x(g, q)
                self.vst(ys, m)
            self.compact(self.glist, ng, LIVE)
            self.run("learn", self.glist, ng.get())

    def records(self, kind: str, g, q, errs) -> None:
        """at_once: the errors of every lane of group g (stopped and padding lanes too: beyond a lane's count,
        nothing reads them) at index q of their records."""
        f, b = self.f, self.f.b
        buf, stride, _ = self.rec[kind]
        for l_ in range(W):
            at_q = f.add(f.mul(f.add(f.mul(g, W), l_), stride), q)
            f.st(buf, at_q, b.extract_element(errs, ir.Constant(I32, l_)), F64)

    def counts(self, kind: str, g, m, n) -> None:
        """(at_once) The lanes of mask m of group g have recorded n errors."""
        f = self.f
        self.each(m, lambda l_: f.b.store(n, self.stat(f.add(f.mul(g, W), l_), self.rec[kind][2])))

    def counted(self, kind: str, ng, mask: int, n) -> None:
        """at_once, after a round: the lanes of mask `mask` of the first ng groups of glist recorded n errors."""
        f = self.f
        with f.if_(self.at_once), f.loop(ng) as a:
            g = f.ld(self.glist, a)
            self.counts(kind, g, self.mask(g, mask), n)

    def classified(self, g, ys, s1):
        """(skip mask, predictions) of group g: the sigmoid's work only where a live lane classifies, so a
        regression group pays one test for it."""
        f, b = self.f, self.f.b
        skip, p = f.var(c64(0)), f.var(ir.Constant(vec(W), [0.0] * W))
        with f.if_else(f.ne(b.and_(self.mask(g, CLS), self.mask(g, LIVE)), 0)) as (some, none):
            with some:
                skip.set(self.skips(g, ys, s1))
                p.set(self.squash(g, s1, skip.get()))
            with none:
                p.set(self.vld(s1))
        return skip.get(), p.get()

    def skips(self, g, ys, s1):
        """The mask of group g's classification lanes whose sigmoid is dead and whose step cannot fail
        (sigmoid_cuts.py): they keep the logit in s1 and skip exp (0 when recording)."""
        f, b = self.f, self.f.b
        lim = b.insert_element(ir.Constant(vec(W), ir.Undefined), self.limit, ir.Constant(I32, 0))
        lim = b.shuffle_vector(lim, lim, ir.Constant(ir.VectorType(I32, W), [0] * W))
        sure = self.bits(cannot_fail(b, ys, self.vld(s1), lim))
        return b.and_(b.and_(self.mask(g, CLS), sure), f.sel(self.sigmoid_dead, c64(-1), c64(0)))

    def squash(self, g, s1, skip):
        """The predictions s1 of group g, with sigmoid applied in place on the classification lanes (but those
        of mask `skip` and those at the sigmoid's fixed point)."""
        b = self.f.b
        cls = b.and_(b.and_(self.mask(g, CLS), self.mask(g, LIVE)), b.not_(skip))  # a stopped lane's is never read
        same = self.bits(settled(b, self.vld(s1), engine.sigmoid_fixed_point()))  # sigmoid(p) is p: nothing to do
        cls = b.and_(cls, b.not_(same))

        def sig(l_, x):
            y = sigmoid(self.cx, x)
            b.store(y, at(b, s1, l_))  # learn reads the squashed prediction
            return y

        return self.per_lane(cls, lambda: [b.load(at(b, s1, l_), typ=F64) for l_ in range(W)], sig,
                             lambda: self.vld(s1))

    def validate(self, row0, ng) -> None:
        f, b = self.f, self.f.b
        n_valid = f.ld(row0, abi.TASK_N_VALID)
        max_valid = f.ld(self.opts, abi.OPT_MAX_VALID)
        n = f.sel(f.lt(max_valid, 0), n_valid, f.sel(f.lt(max_valid, n_valid), max_valid, n_valid))
        zeros = ir.Constant(vec(W), [0.0] * W)
        with f.loop(ng) as a:
            g = f.ld(self.glist, a)
            f.st(self.gvlist, a, g)
            self.set_mask(g, VLIVE, self.mask(g, LIVE))
            self.set_mask(g, VFAIL, c64(0))
            self.vst(zeros, self.gs(g, LOSS))
        nv = f.var(ng)
        with f.loop(n) as j:
            with f.if_(f.le(nv.get(), 0)):
                f.brk()
            with f.if_(self.loading), f.loop(nv.get()) as a:
                self.load_group(f.ld(self.gvlist, a), j, False)
            self.run("predict", self.gvlist, nv.get())
            with f.loop(nv.get()) as a:
                self.valid_step(f.ld(self.gvlist, a), j)
            self.compact(self.gvlist, nv, VLIVE)
        self.counted("valid", ng, VLIVE, n)
        nvf = b.sitofp(n_valid, F64)
        with f.loop(ng) as a:
            g = f.ld(self.glist, a)
            vfail, loss = self.mask(g, VFAIL), self.vld(self.gs(g, LOSS))
            with f.if_(f.ne(vfail, 0)):  # the predictions after a lane's failure never happened to it
                self.each(vfail, lambda l_: self.keep(f.add(f.mul(g, W), l_), back=True))

            cls = self.mask(g, CLS)

            def fit(l_):
                lane, k = f.add(f.mul(g, W), l_), ir.Constant(I32, l_)
                classify = f.ne(b.and_(cls, c64(1 << l_)), 0)  # a live lane is a task's, not padding
                v = fitness(self.cx, b.extract_element(loss, k), nvf, classify)
                v = f.sel(f.ne(b.and_(vfail, c64(1 << l_)), 0), cf(0.0), v)
                best = f.ld(self.best, lane, F64)
                f.st(self.best, lane, b.select(b.fcmp_ordered(">", v, best), v, best), F64)  # max(best, v)

            with f.if_(self.scoring):
                self.each(self.mask(g, LIVE), fit)

    def valid_step(self, g, j) -> None:
        f, b = self.f, self.f.b
        ys, s1 = self.label_ptr(g, GVY, j), at(b, self.gmem(g), W)
        cls = self.mask(g, CLS)
        d = b.fsub(self.vld(ys), self.vld(s1))
        t = engine.sigmoid_threshold()
        if t is not None:  # the classification error without exp, on all lanes at once (sigmoid_cuts.py)
            ev = f.var(d)
            with f.if_(f.ne(cls, 0)):  # a regression group skips it
                ev.set(b.select(self.lanes_of(cls), class_error_cut(b, self.vld(ys), self.vld(s1), t), d))
            e = ev.get()
        else:
            e = self.per_lane(b.and_(cls, self.mask(g, VLIVE)),
                              lambda: [b.extract_element(d, ir.Constant(I32, l_)) for l_ in range(W)],
                              lambda l_, _: class_error(self.cx, b.load(at(b, ys, l_), typ=F64),
                                                        b.load(at(b, s1, l_), typ=F64)), lambda: d)
        ae = self.cx.fabs(e)
        vl = self.mask(g, VLIVE)
        newly = b.and_(self.bad(ae), vl)
        vl = b.and_(vl, b.not_(newly))
        with f.if_(f.ne(newly, 0)):  # these lanes validate no more: their memory stays as it is now
            self.each(newly, lambda l_: self.keep(f.add(f.mul(g, W), l_)))
            with f.if_(self.at_once):
                self.counts("valid", g, newly, j)
            self.stops.set(c64(1))
            self.set_mask(g, VFAIL, b.or_(self.mask(g, VFAIL), newly))
            self.set_mask(g, VLIVE, vl)
        with f.if_(self.recording), f.if_else(self.at_once) as (once, each):
            with once:
                self.records("valid", g, j, ae)
            with each:
                self.each(vl, lambda l_: self.record("valid", f.add(f.mul(g, W), l_),
                                                     b.extract_element(ae, ir.Constant(I32, l_))))
        with f.if_(self.scoring):  # an FEC probe's fitness is never computed: no loss to sum
            term = b.select(self.lanes_of(cls), e, b.fmul(e, e))
            loss = self.vld(self.gs(g, LOSS))
            self.vst(b.select(self.lanes_of(vl), b.fadd(loss, term), loss), self.gs(g, LOSS))
