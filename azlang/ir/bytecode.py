"""IR stage: the compact array form of a program that native code and the search work on.

    code  int32   (n, 4)   op, in1, in2, out          (unused fields 0)
    data  float64 (n, 3)   constants of set ops:
                            OP56      value
                            OP57      index, value
                            OP58      row, col, value
                            OP59-61   low, high
                            OP62-64   mean, sd
    sizes (n_setup, n_predict, n_learn); rows are setup, then predict, then learn.

An index slot holds a fraction f in [0, 1), resolved per task as floor(float32(F) * float32(f)), or an
absolute index i encoded as -(i + 1). Params are substituted; float32 constants are already float32 values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from azlang.ir.nodes import COMPONENTS, Component, Index, Instruction, Program, bind_args
from azlang.ir.ops import OPS


@dataclass(frozen=True, eq=False)
class Bytecode:
    code: np.ndarray
    data: np.ndarray
    sizes: tuple[int, int, int]

    def component(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        k = COMPONENTS.index(name)
        start = sum(self.sizes[:k])
        return self.code[start:start + self.sizes[k]], self.data[start:start + self.sizes[k]]

    def __eq__(self, other) -> bool:
        return (isinstance(other, Bytecode) and self.sizes == other.sizes
                and np.array_equal(self.code, other.code) and np.array_equal(self.data, other.data))

    def __reduce__(self):
        """Pickle as raw bytes: migrations and checkpoints move thousands of programs, and two small ndarray
        pickles per program cost several times the data itself."""
        return _from_bytes, (self.code.astype(np.int32).tobytes(), self.data.astype(np.float64).tobytes(), self.sizes)


def _from_bytes(code: bytes, data: bytes, sizes: tuple[int, int, int]) -> Bytecode:
    return Bytecode(np.frombuffer(code, dtype=np.int32).reshape(-1, 4).copy(),
                    np.frombuffer(data, dtype=np.float64).reshape(-1, 3).copy(), tuple(sizes))


def encode_index(x: Index) -> float:
    if x.fraction:
        return float(x.value)
    if x.value < 0 or x.value != int(x.value):
        raise ValueError(f"an absolute index must be a whole number >= 0, not {x.value}")
    return -(float(x.value) + 1.0)


def decode_index(d: float) -> Index:
    return Index(float(-d - 1.0), False) if d < 0 else Index(float(d), True)


def resolve_index(d: float, F: int) -> int:
    """The element an index slot addresses for feature size F."""
    return int(-d - 1.0) if d < 0 else int(np.float32(F) * np.float32(d))


def _encode_args(ins: Instruction, params: dict[str, float]) -> list[float]:
    out = [encode_index(x) if isinstance(x, Index) else float(x) for x in bind_args(ins, params)]
    return out + [0.0] * (3 - len(out))


def to_bytecode(program: Program, params: dict[str, float] | None = None) -> Bytecode:
    values = program.param_values(params)
    rows, consts = [], []
    for _, _, ins in program.instructions():
        rows.append((ins.op, ins.in1, ins.in2, ins.out))
        consts.append(_encode_args(ins, values))
    code = np.array(rows, dtype=np.int32).reshape(-1, 4)
    data = np.array(consts, dtype=np.float64).reshape(-1, 3)
    return Bytecode(code, data, tuple(len(c) for c in program.components()))


def _decode_args(op: int, d: np.ndarray) -> tuple:
    fields = OPS[op].data_fields
    return tuple(decode_index(d[i]) if f in ("index", "row", "col") else float(d[i]) for i, f in enumerate(fields))


def _instruction(row: np.ndarray, d: np.ndarray) -> Instruction:
    op, in1, in2, out = (int(x) for x in row)
    od = OPS[op]
    in1 = in1 if od.arity >= 1 else 0
    in2 = in2 if od.arity >= 2 else 0
    return Instruction(op, out if od.out else 0, in1, in2, _decode_args(op, d))


def from_bytecode(bc: Bytecode) -> Program:
    comps = []
    for name in COMPONENTS:
        code, data = bc.component(name)
        comps.append(Component(tuple(_instruction(r, d) for r, d in zip(code, data))))
    return Program(*comps)
