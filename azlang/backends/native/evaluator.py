"""Native stage: NativeEvaluator, evaluations of one program or a batch in one native call per batch."""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np

from azlang.backends.native import abi, driver, kernel, pack
from azlang.backends.native.layout import Layout
from azlang.evaluate import DEFAULT_MAX_ABS_ERROR, EvalOptions, Evaluation, TaskResult
from azlang.fitness import MEAN, combine
from azlang.ir.bytecode import Bytecode
from azlang.ir.nodes import MemoryShape
from azlang.rng import Rng
from azlang.tasks.task import ACCURACY, Task

ORDERED_LIMIT = 1 << 28  # bytes of train data order_train copies at most (256 MiB per evaluator)


@dataclass
class BatchResult:
    """fitness (n_programs, n_tasks); train_steps (n_programs, n_tasks); with `record`, per program and task
    the recorded error lists and final memory (as in azlang.evaluate.TaskResult)."""

    fitness: np.ndarray
    train_steps: np.ndarray
    tasks: list[list[TaskResult]] | None = None

    def combined(self, mode: str = MEAN) -> list[float]:
        return [combine(row.tolist(), mode) for row in self.fitness]


class NativeEvaluator:
    """Evaluates programs on a fixed collection of tasks with one memory shape, natively.

    Tasks are checked once here and must not be mutated afterwards. `tier` picks the kernel interpreter
    ("kernel"), the program JIT ("jit") or lets the expected work decide ("auto").
    """

    def __init__(self, tasks: list[Task], shape: MemoryShape, max_abs_error: float = DEFAULT_MAX_ABS_ERROR):
        if not tasks:
            raise ValueError("NativeEvaluator needs at least one task")
        self.tasks, self.shape = list(tasks), pack.check_shape(shape)
        self.max_abs_error = float(max_abs_error)
        for t in self.tasks:
            pack.check_task(t)
        self.Fs = sorted({t.F for t in self.tasks})
        self.layouts = [Layout(t.F, shape) for t in self.tasks]
        self._sequences = [pack.sequence(t) for t in self.tasks]  # kept alive: the table points into them
        self._kernels = {F: kernel.kernel_address(F, shape) for F in self.Fs}
        self._batch = abi.BATCH_CTYPE(driver.batch_address())
        self.table = self._task_table()
        self._ordered: list[np.ndarray] | None = None  # order_train's copies, kept alive: the table points at them
        self._grouped: list[np.ndarray] = []  # and its interleaved copies of groups of tasks
        self.mem = pack.aligned(max(lay.size for lay in self.layouts))
        self.scratch = pack.aligned(max(lay.scratch for lay in self.layouts))
        self._ws = (self.mem.ctypes.data, self.scratch.ctypes.data)  # addresses of the persistent buffers
        self._lock = threading.Lock()  # ctypes drops the GIL: one call at a time may use mem and scratch
        self._steps = (sum(t.n_train * t.epochs for t in self.tasks), sum(t.n_valid * t.epochs for t in self.tasks))

    def _task_table(self) -> np.ndarray:
        """One row per task, filled a column at a time (row by row, the fancy-indexed writes cost more than
        the rest of the set-up: ~1.5 ms of 2.5 for the baseline's 100 final tasks)."""
        self._data = [[line_aligned(a) for a in (t.train_x, t.train_y, t.valid_x, t.valid_y)] + [seq]
                      for t, seq in zip(self.tasks, self._sequences)]  # what the table points at, kept alive
        lanes = {F: kernel.lanes_address(F, self.shape) for F in self.Fs}  # lane groups (lanes_simd.py)
        table = np.zeros((len(self.tasks), abi.TASK_SLOTS), dtype=np.int64)
        table[:, [abi.TASK_TRAIN_X, abi.TASK_TRAIN_Y, abi.TASK_VALID_X, abi.TASK_VALID_Y, abi.TASK_SEQUENCE]] = [
            [a.ctypes.data for a in arrays] for arrays in self._data]
        table[:, [abi.TASK_N_TRAIN, abi.TASK_EPOCHS, abi.TASK_N_VALID, abi.TASK_CLASSIFY, abi.TASK_F,
                  abi.TASK_FN, abi.TASK_LANES_FN]] = [
            [t.n_train, t.epochs, t.n_valid, int(t.eval_type == ACCURACY), t.F, self._kernels[t.F], lanes[t.F]]
            for t in self.tasks]
        return table

    def order_train(self) -> bool:
        """Give every task its train rows and labels in sequence order (TASK_ORDERED), which the lockstep lanes
        then read as one stream per task, without an index to load first or prefetches to ask for: a copy of
        F + 1 doubles per train step, made once and only when all of them fit in ORDERED_LIMIT bytes.

        Each run of SOA_W consecutive tasks of one shape also gets its examples interleaved as a lane group
        reads them (TASK_GROUPED, at lane TASK_GROUP_LANE): the train features per step in sequence order,
        element e of lane l at e * SOA_W + l, then the train labels per step (SOA_W each), then the valid
        features and labels in the same way. Lanes holding such a group in order load a step with F + 1 vector
        loads (no per-lane rows to gather and transpose); labels apart, a program that never reads the
        features does not stream them. A padding lane past the last task reads the last task's examples, as
        the lanes' padding lanes do. Both copies together stay within ORDERED_LIMIT, or the grouped one is left
        out."""
        if self._ordered is None:
            need = sum(len(seq) * (t.F + 1) * 8 for t, seq in zip(self.tasks, self._sequences))
            self._ordered = [] if need > ORDERED_LIMIT else [self._ordered_copy(t, seq)
                                                                for t, seq in zip(self.tasks, self._sequences)]
            if self._ordered:
                self.table[:, abi.TASK_ORDERED] = [a.ctypes.data for a in self._ordered]
                self._group_examples(ORDERED_LIMIT - need)
        return bool(self._ordered)

    @staticmethod
    def _ordered_copy(task: Task, seq: np.ndarray) -> np.ndarray:
        n, F = len(seq), task.F
        out = pack.aligned(n * (F + 1))
        out[:n * F].reshape(n, F)[...] = np.asarray(task.train_x).reshape(-1, F)[seq]
        out[n * F:] = np.asarray(task.train_y)[seq]
        return out

    def _group_examples(self, room: int) -> None:
        """The grouped copies (order_train) of the runs of SOA_W tasks of one shape, in `room` bytes at most."""
        W, n = abi.SOA_W, len(self.tasks)
        runs = []
        for g in range(0, n, W):
            ks = list(range(g, min(g + W, n)))
            shapes = {(self.tasks[k].F, len(self._sequences[k]), self.tasks[k].n_valid) for k in ks}
            if len(shapes) == 1:
                runs.append(ks)
        need = sum((len(self._sequences[ks[0]]) + self.tasks[ks[0]].n_valid) * (self.tasks[ks[0]].F + 1) * W * 8
                   for ks in runs)
        if need > room:
            return
        for ks in runs:
            block = self._grouped_copy([self._ordered[k] for k in ks], [self.tasks[k] for k in ks])
            self._grouped.append(block)
            self.table[ks, abi.TASK_GROUPED] = block.ctypes.data
            self.table[ks, abi.TASK_GROUP_LANE] = [k - ks[0] for k in ks]

    @staticmethod
    def _grouped_copy(ordered: list[np.ndarray], tasks: list[Task]) -> np.ndarray:
        W, F, n_valid = abi.SOA_W, tasks[0].F, tasks[0].n_valid
        n = len(ordered[0]) // (F + 1)
        out = pack.aligned((n + n_valid) * (F + 1) * W)
        tx = out[:n * F * W].reshape(n, F, W)
        ty = out[n * F * W:n * (F + 1) * W].reshape(n, W)
        vx = out[n * (F + 1) * W:(n * (F + 1) + n_valid * F) * W].reshape(n_valid, F, W)
        vy = out[(n * (F + 1) + n_valid * F) * W:].reshape(n_valid, W)
        for lane in range(W):
            k = min(lane, len(tasks) - 1)  # a padding lane: the last task's examples
            tx[:, :, lane] = ordered[k][:n * F].reshape(n, F)
            ty[:, lane] = ordered[k][n * F:]
            vx[:, :, lane] = np.asarray(tasks[k].valid_x).reshape(-1, F)
            vy[:, lane] = np.asarray(tasks[k].valid_y)
        return out

    # --- public API ----------------------------------------------------------------------------------

    def evaluate(self, program, rng: Rng, opts: EvalOptions | None = None, params=None, mode: str = MEAN,
                 tier: str = "auto") -> Evaluation:
        """One program on every task in order (same result as azlang.evaluate.evaluate)."""
        opts = opts or EvalOptions(max_abs_error=self.max_abs_error)
        bc = pack.as_bytecode(program, params)
        if tier == "jit" or (tier == "auto" and self.prefers_jit(bc)):
            res = self._run_jit(bc, rng, opts)
        else:
            res = self.evaluate_batch([bc], rng, opts)
        results = res.tasks[0] if res.tasks else [TaskResult(float(f), int(s))
                                                  for f, s in zip(res.fitness[0], res.train_steps[0])]
        return Evaluation(combine([r.fitness for r in results], mode), results)

    def evaluate_batch(self, programs, rng: Rng, opts: EvalOptions | None = None, lockstep: bool = True) -> BatchResult:
        """Every program on every task, programs in order, one shared random stream, one native call
        (long evaluations on tasks of one shape: one lockstep call per program, unless `lockstep` is off)."""
        from azlang.backends.native.lockstep import batch_lockstep

        opts = opts or EvalOptions(max_abs_error=self.max_abs_error)
        bcs = [pack.as_bytecode(p) for p in programs]
        code, data, progs = self._pack_programs(bcs)  # checks every program first
        res = batch_lockstep(self, bcs, rng, opts) if lockstep else None
        return res if res is not None else self._call(code, data, progs, self.table, rng, opts)

    def prefers_jit(self, bc: Bytecode) -> bool:
        from azlang.backends.native import jit

        return jit.worth_compiling(bc, *self._steps, len(self.Fs))

    # --- internals -----------------------------------------------------------------------------------

    def _pack_programs(self, bcs: list[Bytecode]):
        if not bcs:
            raise ValueError("evaluate_batch needs at least one program")
        arrays = [pack.arrays(bc, f"program {p}: " if len(bcs) > 1 else "") for p, bc in enumerate(bcs)]
        sizes = np.array([bc.sizes for bc in bcs], dtype=np.int64).reshape(-1, 3)
        if len(bcs) == 1:
            starts, (code, data) = np.zeros(1, dtype=np.int64), arrays[0]
        else:
            starts = np.concatenate([[0], np.cumsum(sizes.sum(axis=1))[:-1]])
            code = np.concatenate([a[0] for a in arrays]).reshape(-1, 4)
            data = np.concatenate([a[1] for a in arrays]).reshape(-1, 3)

        def locate(r):
            p = int(np.searchsorted(starts, r, side="right") - 1)
            where = pack._where(bcs[p].sizes, r - int(starts[p]))
            return f"program {p}, {where}" if len(bcs) > 1 else where

        pack.check_rows(code, data, self.shape, self.Fs, locate)
        progs = np.empty((len(bcs), 4), dtype=np.int64)
        progs[:, 0], progs[:, 1:] = starts, sizes
        return code, data, progs

    def _options(self, opts: EvalOptions, table: np.ndarray):
        o = np.zeros(abi.OPT_SLOTS, dtype=np.int64)
        o[abi.OPT_MAX_TRAIN] = pack.limit(opts.max_train, "max_train")
        o[abi.OPT_MAX_VALID] = pack.limit(opts.max_valid, "max_valid")
        o[abi.OPT_MAX_ABS_ERROR] = np.float64(opts.max_abs_error).view(np.int64)
        o[abi.OPT_RECORD] = int(bool(opts.record))
        caps = None
        if opts.record:
            caps = self._record_caps(opts)
            o[abi.OPT_REC_TRAIN_STRIDE], o[abi.OPT_REC_VALID_STRIDE], o[abi.OPT_MEM_STRIDE] = (
                c.sum() for c in caps)
            for slot, c in zip((abi.TASK_REC_TRAIN_OFF, abi.TASK_REC_VALID_OFF, abi.TASK_MEM_OFF), caps):
                table[:, slot] = np.concatenate([[0], np.cumsum(c)[:-1]])
        return o, caps

    def _record_caps(self, opts: EvalOptions):
        """Per task: most train errors, valid errors and memory doubles one evaluation can record."""
        steps = [t.n_train * t.epochs if opts.max_train is None else min(opts.max_train, t.n_train * t.epochs)
                 for t in self.tasks]
        valid = [t.epochs * (t.n_valid if opts.max_valid is None else min(opts.max_valid, t.n_valid))
                 for t in self.tasks]
        return (np.array(steps, dtype=np.int64), np.array(valid, dtype=np.int64),
                np.array([lay.size for lay in self.layouts], dtype=np.int64))

    def _call(self, code, data, progs, table, rng: Rng, opts: EvalOptions) -> BatchResult:
        table = table.copy() if opts.record else table
        o, caps = self._options(opts, table)
        n_prog, n_tasks = len(progs), len(self.tasks)
        fitness = np.zeros((n_prog, n_tasks))
        stats = np.zeros((n_prog, n_tasks, abi.STAT_SLOTS), dtype=np.int64)
        bufs = [pack.aligned(max(1, n_prog * int(c.sum()))) for c in caps] if caps else [None] * 3
        state = np.array([rng.state], dtype=np.uint64)
        ptr = [a.ctypes.data if a is not None else 0 for a in bufs]
        addr = [address(a) for a in (progs, code, data, table, o, state, fitness, stats)]
        with self._lock:
            self._batch(n_prog, addr[0], addr[1], addr[2], n_tasks, addr[3], addr[4], addr[5], *self._ws, addr[6],
                        addr[7], ptr[0], ptr[1], ptr[2])
        rng.state = int(state[0])
        tasks = self._unpack(stats, fitness, bufs, caps, table) if opts.record else None
        return BatchResult(fitness, stats[:, :, abi.STAT_STEPS].copy(), tasks)

    def _unpack(self, stats, fitness, bufs, caps, table) -> list[list[TaskResult]]:
        strides = [int(c.sum()) for c in caps]
        out = []
        for p in range(len(fitness)):
            row = []
            for t, lay in enumerate(self.layouts):
                base = [p * s + int(table[t, slot]) for s, slot in
                        zip(strides, (abi.TASK_REC_TRAIN_OFF, abi.TASK_REC_VALID_OFF, abi.TASK_MEM_OFF))]
                st = stats[p, t]
                tr = bufs[0][base[0]:base[0] + st[abi.STAT_REC_TRAIN]].tolist()
                va = bufs[1][base[1]:base[1] + st[abi.STAT_REC_VALID]].tolist()
                mem = snapshot(bufs[2][base[2]:base[2] + lay.size], lay)
                row.append(TaskResult(float(fitness[p, t]), int(st[abi.STAT_STEPS]), tr, va, mem))
            out.append(row)
        return out

    def _run_jit(self, bc: Bytecode, rng: Rng, opts: EvalOptions) -> BatchResult:
        from azlang.backends.native import jit

        code, data, progs = self._pack_programs([bc])
        table = self.table.copy()
        for t, task in enumerate(self.tasks):
            table[t, abi.TASK_FN] = jit.program_address(bc, task.F, self.shape)
        return self._call(code, data, progs, table, rng, opts)


def line_aligned(a: np.ndarray) -> np.ndarray:
    """`a` itself when it starts on a 64-byte boundary, else an aligned copy: example rows then start where the
    cache lines do (F=16: 2 lines per row, not 3); the values, and so every result, are the same."""
    if a.ctypes.data % 64 == 0:
        return a
    out = pack.aligned(a.size, a.dtype).reshape(a.shape)
    out[...] = a
    return out


def address(a: np.ndarray) -> int:
    """The data address of a C-contiguous array (the ctypes buffer route is 4x faster than `.ctypes`)."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    except (TypeError, ValueError):  # read-only or empty
        return a.ctypes.data


def snapshot(buf: np.ndarray, lay: Layout) -> dict[str, np.ndarray]:
    """Final memory in the layout of numpy_interp.Memory.snapshot() (views into this call's own buffer)."""
    S, V, M, F = lay.shape.S, lay.shape.V, lay.shape.M, lay.F
    return {"s": buf[:S], "v": buf[lay.v_off:lay.v_off + V * F].reshape(V, F),
            "m": buf[lay.m_off:lay.m_off + M * F * F].reshape(M, F, F)}
