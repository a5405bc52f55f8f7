"""Native stage: what runtime code and code generation share without LLVM: the memory layout and libm names.

Split from context.py (the emission context) so that loading compiled code from the object cache, which needs
only these, does not import llvmlite.ir and the IR builders (~7 ms of every native start-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from azlang.ir.nodes import MemoryShape
from azlang.ir.ops import MATRIX, SCALAR, VECTOR

LIBM = ("sin", "cos", "tan", "asin", "acos", "atan", "exp", "log")


def libm_symbol(name: str) -> str:
    return f"azlang_libm_{name}"


@dataclass(frozen=True)
class Layout:
    """Where each bank lives in the memory buffer, in doubles. Vectors start 8-aligned for wide loads."""

    F: int
    shape: MemoryShape

    @property
    def v_off(self) -> int:
        return -(-self.shape.S // 8) * 8

    @property
    def m_off(self) -> int:
        return self.v_off + self.shape.V * self.F

    @property
    def size(self) -> int:
        return self.m_off + self.shape.M * self.F * self.F

    @property
    def scratch(self) -> int:
        """Doubles of scratch a kernel needs (results of ops that must not alias their inputs)."""
        return self.F * self.F + 8

    def base(self, kind: str) -> int:
        return {SCALAR: 0, VECTOR: self.v_off, MATRIX: self.m_off}[kind]

    def stride(self, kind: str) -> int:
        return {SCALAR: 1, VECTOR: self.F, MATRIX: self.F * self.F}[kind]
