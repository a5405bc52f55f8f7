"""Native stage: checks and packing in Python before any native call (bytecode, tasks, options).

Generated code trusts its inputs completely (no bounds checks in the inner loops), so everything that
could make it read or write out of bounds is rejected here with a clear error first: opcodes, register
addresses against the memory shape, OP57/58 indices against every task's F, task array shapes and the
training order.
"""

from __future__ import annotations

import mmap

import numpy as np

from azlang.errors import VerifyError
from azlang.ir.bytecode import Bytecode, to_bytecode
from azlang.ir.nodes import COMPONENTS, MIN_MEMORY, MemoryShape, Program
from azlang.ir.ops import KINDS, NUM_OPS, OPS
from azlang.tasks.task import ACCURACY, RMS_ERROR, Task


class BytecodeError(VerifyError, ValueError):
    """Bytecode that the native evaluator refuses to run (it would address memory outside the shape)."""


# per op: bank of out / in1 / in2 (0 = unused, 1..3 = s, v, m), from the op table
_KIND_CODE = {None: 0, **{k: i + 1 for i, k in enumerate(KINDS)}}
FIELD_KINDS = np.array([[_KIND_CODE[op.out]] + [_KIND_CODE[k] for k in op.ins] + [0] * (2 - op.arity)
                        for op in OPS], dtype=np.int64)  # columns: out, in1, in2
_FIELD_KINDS_LIST = FIELD_KINDS.tolist()
INDEX_SLOTS = {57: (0,), 58: (0, 1)}


def as_bytecode(program, params=None) -> Bytecode:
    if isinstance(program, Bytecode):
        return program
    if isinstance(program, Program):
        return to_bytecode(program, params)
    raise TypeError(f"expected a Program or a Bytecode, got {type(program).__name__}")


def check_shape(shape: MemoryShape) -> MemoryShape:
    if shape.S < MIN_MEMORY.S or shape.V < MIN_MEMORY.V or shape.M < 0:
        raise ValueError(f"memory shape {shape} lacks the reserved registers s0, s1 and v0")
    return shape


def arrays(bc: Bytecode, where: str = "") -> tuple[np.ndarray, np.ndarray]:
    """The code and data arrays as int32 / float64, C-contiguous, after checking their shapes."""
    code, data = np.asarray(bc.code), np.asarray(bc.data)
    if code.dtype.kind not in "iu" or data.dtype.kind != "f":
        raise BytecodeError(f"{where}bytecode arrays must be integer code and float data, "
                            f"got {code.dtype}/{data.dtype}")
    n = sum(bc.sizes)
    if len(bc.sizes) != 3 or code.shape != (n, 4) or data.shape != (n, 3) or min(bc.sizes) < 0:
        raise BytecodeError(f"{where}bytecode shapes {code.shape}/{data.shape} do not match sizes {bc.sizes}")
    return np.ascontiguousarray(code, dtype=np.int32), np.ascontiguousarray(data, dtype=np.float64)


def _where(bc_sizes, row: int) -> str:
    for name, size in zip(COMPONENTS, bc_sizes):
        if row < size:
            return f"{name} instruction {row}"
        row -= size
    return f"row {row}"


def check_rows(code: np.ndarray, data: np.ndarray, shape: MemoryShape, Fs, locate, used=None) -> None:
    """Raise BytecodeError naming the first row that would run out of bounds; `locate(row)` names it. With
    `used` (a bool per row), only those rows are checked (the others are never run: padding)."""
    if len(code) == 0:
        return
    if used is None and len(code) <= 64 and _rows_ok(code.tolist(), data.tolist(), shape, Fs):
        return  # the common small program: plain Python is faster than a dozen tiny NumPy calls
    op = code[:, 0].astype(np.int64) if used is None else np.where(used, code[:, 0], 0)  # NO_OP uses no field
    bad = (op < 0) | (op >= NUM_OPS)
    if bad.any():
        r = int(np.argmax(bad))
        raise BytecodeError(f"{locate(r)}: opcode {int(code[r, 0])} is not in the op table (0..{NUM_OPS - 1})")
    limits = np.array([1 << 31, shape.S, shape.V, shape.M], dtype=np.int64)
    # out, in1, in2 (code's columns 3, 1, 2) of every row against its op's bounds at once (unused: any int32)
    lo, top = np.where(FIELD_KINDS > 0, 0, -(1 << 31)), limits[FIELD_KINDS] - 1  # per op: lo <= address <= top
    addrs = code[:, [3, 1, 2]]
    if addrs.dtype == np.int32:  # compare int32 with int32: no casting pass
        lo, top = lo.astype(np.int32), top.astype(np.int32)
    outside = (addrs < np.take(lo, op, axis=0)) | (addrs > np.take(top, op, axis=0))  # take: 4x faster than []
    if outside.any():
        r, c = (int(x) for x in np.argwhere(outside)[0])
        field, kind = ("out", "in1", "in2")[c], KINDS[FIELD_KINDS[op[r], c] - 1]
        raise BytecodeError(f"{locate(r)}: {OPS[op[r]].name} {field} address {kind}{int(addrs[r, c])} "
                            f"is outside memory {shape}")
    for op_id, slots in INDEX_SLOTS.items():
        rows = np.flatnonzero(op == op_id)
        for slot in slots:
            _check_index(data[rows, slot], rows, Fs, locate)


def _rows_ok(code: list, data: list, shape: MemoryShape, Fs) -> bool:
    """Fast yes/no over small programs; on "no" the vectorised path finds and names the culprit."""
    limits = (0, shape.S, shape.V, shape.M)
    for (op, in1, in2, out), d in zip(code, data):
        if not 0 <= op < NUM_OPS:
            return False
        ko, k1, k2 = _FIELD_KINDS_LIST[op]
        if (ko and not 0 <= out < limits[ko]) or (k1 and not 0 <= in1 < limits[k1]) or (
                k2 and not 0 <= in2 < limits[k2]):
            return False
        if op in INDEX_SLOTS and not all(_index_ok(d[k], F) for k in INDEX_SLOTS[op] for F in Fs):
            return False
    return True


def _index_ok(d: float, F: int) -> bool:
    pos = -d - 1.0 if d < 0 else float(np.float32(F) * np.float32(d))
    return 0 <= pos < F


def _check_index(d: np.ndarray, rows: np.ndarray, Fs, locate) -> None:
    """Every index slot must land in [0, F) for every F it will run with (NaN lands nowhere)."""
    if len(d) == 0:
        return
    for F in Fs:
        with np.errstate(invalid="ignore", over="ignore"):
            frac = np.float32(F) * d.astype(np.float32)
            pos = np.where(d < 0, -d - 1.0, frac.astype(np.float64))
        bad = ~((pos >= 0) & (pos < F))
        if bad.any():
            k = int(np.argmax(bad))
            raise BytecodeError(f"{locate(int(rows[k]))}: index slot {d[k]!r} is outside 0..{F - 1} for F={F}")


def check_bytecode(bc: Bytecode, shape: MemoryShape, Fs) -> tuple[np.ndarray, np.ndarray]:
    code, data = arrays(bc)
    check_rows(code, data, shape, Fs, lambda r: _where(bc.sizes, r))
    return code, data


def check_task(task: Task) -> None:
    """Shapes, dtypes and the training order of one task, so native loops stay inside its arrays."""
    tx, ty, vx, vy = task.train_x, task.train_y, task.valid_x, task.valid_y
    ok = (tx.ndim == 2 and vx.ndim == 2 and tx.shape[1] == vx.shape[1] >= 1 and ty.shape == (tx.shape[0],)
          and vy.shape == (vx.shape[0],) and tx.shape[0] >= 1 and vx.shape[0] >= 1)
    if not ok:
        raise ValueError(f"task {task.name}: inconsistent shapes train {tx.shape}/{ty.shape}, "
                         f"valid {vx.shape}/{vy.shape}")
    for a in (tx, ty, vx, vy):
        if a.dtype != np.float64 or not a.flags.c_contiguous:
            raise ValueError(f"task {task.name}: arrays must be C-contiguous float64")
    if task.eval_type not in (RMS_ERROR, ACCURACY):
        raise ValueError(f"task {task.name}: unknown eval type {task.eval_type!r}")
    if int(task.epochs) < 1:
        raise ValueError(f"task {task.name}: epochs must be at least 1")
    seq = np.asarray(task.train_sequence())
    if seq.shape != (task.n_train * task.epochs,) or (len(seq) and (seq.min() < 0 or seq.max() >= task.n_train)):
        raise ValueError(f"task {task.name}: training order must hold {task.epochs} x {task.n_train} indices "
                         f"in 0..{task.n_train - 1}")


def sequence(task: Task) -> np.ndarray:
    return np.ascontiguousarray(task.train_sequence(), dtype=np.int64)


def limit(x, name: str) -> int:
    if x is None:
        return -1
    if int(x) < 0:
        raise ValueError(f"{name} must be non-negative or None, got {x}")
    return int(x)


def aligned(n: int, dtype=np.float64, zeroed: bool = True) -> np.ndarray:
    """An array of n items (zeroed, or left as allocated for a caller that writes them all) whose data starts on a
    64-byte boundary (full-width vector loads; task arrays so placed are taken in place by the evaluator)."""
    raw = (np.zeros if zeroed else np.empty)(n + 64 // np.dtype(dtype).itemsize, dtype=dtype)
    skip = (-raw.ctypes.data % 64) // raw.itemsize
    return raw[skip:skip + n]


HUGE_PAGE = 1 << 21


def huge(shape: tuple[int, ...], dtype=np.int64) -> np.ndarray:
    """A zeroed array of megabytes touched at random (the FEC cache) in 2 MiB pages where the kernel grants
    them (transparent huge pages on request): a random probe then misses the TLB far less often."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if nbytes < HUGE_PAGE or not hasattr(mmap, "MADV_HUGEPAGE"):
        return np.zeros(shape, dtype)
    m = mmap.mmap(-1, nbytes + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    skip = -np.frombuffer(m, np.uint8, 1).ctypes.data % HUGE_PAGE
    try:
        m.madvise(mmap.MADV_HUGEPAGE)
    except OSError:
        pass  # no transparent huge pages here: ordinary pages
    return np.frombuffer(m, dtype, int(np.prod(shape)), skip).reshape(shape)
