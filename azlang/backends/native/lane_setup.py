"""Native stage: the set-up of a lane-group lockstep call (lanes_simd.LanesSoA): lanes, group memory, masks, streams.

Before its first step a call zeroes each lane's stats, answers what it must know of the program in one pass
(lane_scan.py), zeroes the groups' registers the program can touch, finds whether its lanes hold interleaved
groups in order (then a group loads a step as a few vectors) and gives each group its masks and the addresses
it reads examples from, then runs setup. Nothing here is kept from one call to the next.
"""

from __future__ import annotations

from llvmlite import ir

from azlang.backends.native import abi
from azlang.backends.native.irutil import F64, I64, PTR
from azlang.backends.native.lane_groups import (
    CLS,
    GTX,
    GTY,
    GVX,
    GVY,
    LIVE,
    SEQ,
    TX,
    TY,
    VFAIL,
    VLIVE,
    VX,
    VY,
    XP,
    W,
)
from azlang.backends.native.lane_scan import scan_program
from azlang.backends.native.search_emit import c64

INLINE_ZERO = 2048  # bytes: a group's registers up to this size are zeroed by stores in line (zero_const)
FAR_STREAMS = 512 * 1024  # bytes: the groups' interleaved examples (train and valid, all groups) past this size
# are asked for GROUP_AHEAD steps ahead; smaller ones stay in the caches, and asking costs a probe 5% and a full
# evaluation 5% (the demo: 96 KiB; bench_lanes_call.py)


class GroupSetup:
    """LanesSoA's set-up (uses its f, n, mem, ngroups, gstride, glist, spare, layout, keeps_memory and the
    GroupMemory and Lanes helpers)."""

    def init_lane(self, lane) -> None:
        """reset_lane only: groups keep their own lists and read the task table itself."""
        self.reset_lane(lane)

    def row(self, lane):
        """The lane's row of the task table (a group reads a few slots once per call: no copy)."""
        return self.task_row(lane)

    def predict_facts(self):
        return self.f.b.not_(self.facts.predict_writes_v0), self.facts.sigmoid_dead

    def zero_groups(self) -> None:
        """The groups' memory zeroed: a program that touches no matrix (and whose final memory nobody reads)
        leaves the matrix bank and the padding after it as it finds them, and the group zeroes the rest only."""
        f, b = self.f, self.f.b
        with f.if_else(b.or_(self.facts.uses_matrix, self.keeps_memory)) as (everything, no_matrix):
            with everything:
                self.zero(self.mem, f.mul(self.ngroups, self.gstride))
            with no_matrix, f.loop(self.ngroups) as g:
                self.zero_const(self.gmem(g), self.layout.m_off * W)

    def zero_const(self, m, doubles: int) -> None:
        """`doubles` (a constant) zeroed at m: by stores in line up to INLINE_ZERO bytes (no libc call: a
        probe's groups are a few hundred bytes each), else by memset."""
        if doubles * 8 > INLINE_ZERO:
            self.zero(m, c64(doubles))
            return
        name = "llvm.memset.inline.p0.i64"
        try:
            fn = self.f.module.get_global(name)
        except KeyError:
            fn = ir.Function(self.f.module, ir.FunctionType(ir.VoidType(), [PTR, ir.IntType(8), I64, ir.IntType(1)]),
                             name)
        self.f.b.call(fn, [m, ir.Constant(ir.IntType(8), 0), c64(doubles * 8), ir.Constant(ir.IntType(1), 0)])

    def setup(self) -> None:
        f, b = self.f, self.f.b
        self.facts = scan_program(f, self.code, self.ns, self.np, self.nl)
        self.zero_groups()
        self.grouped = self.lanes_grouped()
        self.far = self.far_streams()
        ordered = f.var(c64(0))  # every lane's task has its train arrays in sequence order (read by rows only)
        with f.if_(b.not_(self.grouped)):
            ordered.set(c64(1))
            with f.loop(self.n) as lane:
                ordered.set(b.and_(ordered.get(), b.zext(f.ne(f.ld(self.task_row(lane), abi.TASK_ORDERED), 0), I64)))
        self.ordered = f.flag(ordered.get())
        with f.loop(self.ngroups) as g:
            f.st(self.glist, g, g)
            live = f.sub(f.b.shl(c64(1), f.sel(f.lt(f.sub(self.n, f.mul(g, W)), W), f.sub(self.n, f.mul(g, W)),
                                                c64(W))), 1)
            cls = f.var(c64(0))
            for l_ in range(W):
                on = b.and_(f.lt(f.add(f.mul(g, W), l_), self.n),
                            f.flag(f.ld(self.row(self.lane(g, l_)), abi.TASK_CLASSIFY)))
                cls.set(b.or_(cls.get(), b.shl(b.zext(on, I64), c64(l_))))
            for k, v in ((LIVE, live), (VLIVE, c64(0)), (VFAIL, c64(0)), (CLS, cls.get())):
                self.set_mask(g, k, v)
            with f.if_else(self.grouped) as (grouped, rows):
                with grouped:  # load_group reads the group's streams only
                    self.group_streams(g)
                with rows:
                    self.lane_pointers(g)
        with f.if_else(self.facts.setup_random) as (drawing, plain):
            with drawing, f.loop(self.n) as lane:  # lane after lane, in task order, then into its group
                self.zero(self.spare, c64(self.layout.size))
                self.setup_lane(lane, self.spare)
                with f.loop(c64(self.layout.size)) as e:
                    f.st(self.el(lane, 0), f.mul(e, W), f.ld(self.spare, e, F64), F64)
            with plain:
                self.run_groups(self.code, self.data, self.ns, self.glist, self.ngroups)

    def lane_pointers(self, g) -> None:
        """Each lane's task pointers in group g's state (a padding lane reads lane n-1's task)."""
        f = self.f
        for l_ in range(W):
            row = self.row(self.lane(g, l_))
            for k, slot in ((SEQ, abi.TASK_SEQUENCE), (TX, abi.TASK_TRAIN_X), (TY, abi.TASK_TRAIN_Y),
                            (VX, abi.TASK_VALID_X), (VY, abi.TASK_VALID_Y)):
                f.st(self.gs(g, k + l_), 0, f.ld(row, slot))
            f.st(self.gs(g, XP + l_), 0, f.ld(row, abi.TASK_TRAIN_X))
            with f.if_(self.ordered):  # rows x[seq[q]] then labels y[seq[q]], q over all steps
                xs = f.ld(row, abi.TASK_ORDERED)
                total = f.mul(f.ld(row, abi.TASK_N_TRAIN), f.ld(row, abi.TASK_EPOCHS))
                f.st(self.gs(g, TX + l_), 0, xs)
                f.st(self.gs(g, TY + l_), 0, f.add(xs, f.mul(total, 8 * self.layout.F)))

    def group_streams(self, g) -> None:
        """The addresses of group g's interleaved train features and labels, valid features and labels."""
        f = self.f
        row = self.task_row(f.mul(g, W))
        base = f.ld(row, abi.TASK_GROUPED)
        steps, n_valid = f.mul(f.ld(row, abi.TASK_N_TRAIN), f.ld(row, abi.TASK_EPOCHS)), f.ld(row, abi.TASK_N_VALID)
        for k, count, width in ((GTX, steps, self.layout.F), (GTY, steps, 1), (GVX, n_valid, self.layout.F),
                                (GVY, n_valid, 1)):
            f.st(self.gs(g, k), 0, base)
            base = f.add(base, f.mul(count, 8 * width * W))

    def far_streams(self):
        """True when the groups' interleaved examples together outgrow FAR_STREAMS (load_group then asks for
        them ahead)."""
        f = self.f
        row = self.task_row(c64(0))
        steps = f.add(f.mul(f.ld(row, abi.TASK_N_TRAIN), f.ld(row, abi.TASK_EPOCHS)), f.ld(row, abi.TASK_N_VALID))
        return f.lt(c64(FAR_STREAMS), f.mul(f.mul(steps, self.ngroups), (self.layout.F + 1) * W * 8))

    def lanes_grouped(self):
        """True when every group's lanes hold, in order, the tasks of one interleaved group (order_train)."""
        f, b = self.f, self.f.b
        ok = f.var(c64(1))
        with f.loop(self.n) as lane:
            row, first = self.task_row(lane), self.task_row(f.mul(b.udiv(lane, c64(W)), W))
            base = f.ld(row, abi.TASK_GROUPED)
            same = b.and_(f.ne(base, 0), f.eq(base, f.ld(first, abi.TASK_GROUPED)))
            here = b.and_(same, f.eq(f.ld(row, abi.TASK_GROUP_LANE), b.urem(lane, c64(W))))
            ok.set(b.and_(ok.get(), b.zext(here, I64)))
        return f.flag(ok.get())
